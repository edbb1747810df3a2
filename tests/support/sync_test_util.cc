#include "sync_test_util.h"

#include <vector>

namespace kehu::test {

// A salesperson's or manager's new customer needs its province (walkthrough 8, R8-3).
kehu::FieldInputs new_customer(const std::string& name, const std::string& province) {
  return {{"name", name},         {"contact", "张三"}, {"phone", "13800138000"}, {"need", "办公家具"},
          {"type", "intention"}, {"tags", "华东地区;重点客户"}, {"province", province}};
}

std::map<std::string, kehu::json> snapshot(const kehu::Replica& r) {
  std::map<std::string, kehu::json> out;
  for (const char* coll : {"customers", "followups"}) {
    for (bool deleted : {false, true}) {
      kehu::ListQuery q;
      q.collection = coll;
      q.deleted = deleted;
      for (const kehu::Record& rec : r.list(q)) {
        out[rec.id] = {{"code", rec.code}, {"deleted", rec.deleted}, {"fields", rec.fields},
                       {"parent", rec.parent}, {"rev", rec.rev}};
      }
    }
  }
  return out;
}

bool random_edit(kehu::Replica& r, std::mt19937& rng, const std::string& user, int op) {
  static const std::vector<std::string> cities = {"南京", "苏州", "无锡", "常州", "扬州"};  // the customers are in 江苏
  static const std::vector<std::string> stages = {"potential", "contact", "needs", "proposal", "contract", "won"};
  static const std::vector<std::string> tags = {"重点客户", "高预算", "价格敏感", "需要演示"};
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto customers = r.list(kehu::ListQuery{});
  kehu::ListQuery bin;
  bin.deleted = true;
  auto deleted = r.list(bin);
  std::size_t kind = customers.empty() ? 0 : pick(10);
  if (kind == 0) {
    r.add("customers", new_customer("客户" + std::to_string(op)));
  } else if (kind <= 3) {
    const kehu::Record& c = customers[pick(customers.size())];
    std::string city = cities[pick(cities.size())], stage = stages[pick(stages.size())];
    r.edit(c.id, {{"city", city}, {"stage", stage}});
  } else if (kind == 4) {
    const kehu::Record& c = customers[pick(customers.size())];
    std::string t = tags[pick(tags.size())] + ";" + tags[pick(tags.size())];
    r.edit(c.id, {{"tags", t}});
  } else if (kind == 5) {
    r.remove(customers[pick(customers.size())].id);
  } else if (kind == 6 && !deleted.empty()) {
    r.restore(deleted[pick(deleted.size())].id);
  } else if (kind == 7) {
    r.add("followups", {{"date", "2026-11-" + std::to_string(10 + pick(18))},
                        {"person", user}, {"content", "回访 " + std::to_string(op)}},
          customers[pick(customers.size())].code);
  } else if (kind == 8) {
    // Settling a conflict is an edit that syncs like any other (issue 15).
    auto open = r.open_conflicts();
    if (open.empty()) return false;
    const kehu::OpenConflict& picked = open[pick(open.size())];
    // The newest open conflict on the field is the one settled (replica.h).
    const kehu::OpenConflict* oc = &picked;
    for (const auto& o : open) {
      if (o.record_id == picked.record_id && o.conflict.field == picked.conflict.field && o.id > oc->id) oc = &o;
    }
    const bool made_here = oc->conflict.kept_device == r.device_id() || oc->conflict.lost_device == r.device_id();
    r.resolve_conflict(oc->record_id, oc->conflict.field, made_here && pick(2) ? "mine" : "theirs");
  } else {
    return false;
  }
  return true;
}

}  // namespace kehu::test
