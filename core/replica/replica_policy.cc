// What the server would refuse, refused on the device at once (issue 15:
// nothing typed is lost silently). The device knows its user and role from its
// last login; the server stays the authority and checks everything again, so
// this is only about telling the user now instead of after the next sync.
#include "kehu/calendar.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/place.h"
#include "kehu/text.h"
#include "replica_impl.h"

namespace kehu {
namespace {

std::string label(const Record& customer) {
  return customer.code.empty() ? customer.id : customer.code;
}

std::string text(const json& fields, const char* key) {
  auto it = fields.find(key);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A salesperson's edit of a restricted field, refused.
Error restricted_field(const FieldDef& f, const std::string& user) {
  return Error(Errc::forbidden, tr(f.zh + " (" + f.key + ") is restricted: a salesperson (" + user +
                                       ", role sales) may not change it; ask a manager. Nothing was changed",
                                   f.zh + " (" + f.key + ") 是受限字段：销售（" + user +
                                       "）不能修改；请找经理。什么都没有改"));
}

}  // namespace

void Replica::Impl::check_stays_in_reach(const Record* before, const Record& after) {
  const std::string stored = meta(kRegionsMeta);
  if (stored.empty()) return;  // no login or pull has told the regions yet
  const json parsed = json::parse(stored, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return;
  std::vector<std::string> regions;
  for (const auto& r : parsed) {
    if (r.is_string()) regions.push_back(r.get<std::string>());
  }
  const Record& named = before != nullptr ? *before : after;
  std::string who = label(named);
  if (before == nullptr) who = text(after.fields, "name").empty() ? who : text(after.fields, "name");
  check_stays_in_regions(regions, before != nullptr ? &before->fields : nullptr, after.fields, who);
}

void Replica::check_readable(const FieldDef& f) const {
  if (!f.restricted || meta("role") != "sales") return;
  const std::string user = meta("user").empty() ? meta("replica_user") : meta("user");
  throw Error(Errc::validation,
              tr(f.zh + " (" + f.key + ") is restricted: a salesperson's device (" + user + ", role sales) never "
                     "receives its values, so it cannot filter, sort or sum by it, or show its history; ask a manager",
                 f.zh + " (" + f.key + ") 是受限字段：销售（" + user + "）的设备上没有它的值，不能按它筛选、排序、汇总或查看其历史；"
                     "请找经理"));
}

void Replica::Impl::check_typed_restricted(const CollectionDef& coll, const json& values) {
  const std::string role = meta("role"), user = meta("user");
  if (role != "sales") return;
  for (const auto& [key, v] : values.items()) {
    const FieldDef* f = coll.find(key);
    if (f != nullptr && f->restricted) throw restricted_field(*f, user);
  }
}

void Replica::Impl::refuse_auditor() {
  const std::string user = meta("user").empty() ? meta("replica_user") : meta("user");
  if (meta("role") != "auditor" || user.empty()) return;
  throw Error(Errc::forbidden, tr(user + " is an auditor (role from the last login): an auditor reads and "
                                         "audits but edits nothing; nothing was changed",
                                  user + " 是审计员（上次登录时的角色）：审计员只能查看和审计，不能修改；什么都没有改"));
}

void Replica::Impl::check_local_policy(const std::optional<Record>& before, const Record& after,
                                       const Change& c) {
  // A follow-up records contact made. One dated after today became the
  // customer's last follow-up and kept today's real one from setting the next
  // date (walkthrough 13 and 15, R13-2, R15-2): refused, for every role, with
  // where a planned visit goes. An import names the row.
  if (after.collection == "followups") {
    const auto d = c.fields.find("date");
    const std::string today = today_local();
    if (d != c.fields.end() && d->second.new_value.is_string() && d->second.new_value.get<std::string>() > today) {
      const std::string date = d->second.new_value.get<std::string>();
      throw Error(Errc::validation,
                  tr("跟进日期 (date): \"" + date + "\" is after today (" + today +
                         "): a follow-up records contact made; to plan one, set 下次跟进日期 (next_date) on the "
                         "follow-up or the customer",
                     "跟进日期 (date)：“" + date + "”在今天（" + today +
                         "）之后：跟进记录记的是已经做过的跟进；要计划下次跟进，请设置跟进记录或客户的 下次跟进日期"));
    }
  }
  // After a logout the replica is still its user's, with the role of the last
  // login (kehu logout keeps it).
  const std::string role = meta("role"), user = meta("user").empty() ? meta("replica_user") : meta("user");
  if (role.empty() || user.empty()) return;  // never logged in: a standalone replica
  refuse_auditor();
  if (after.collection == "customers" && (role == "sales" || role == "manager")) {
    const auto p = c.fields.find("province");
    if (!before) {
      check_new_customer_province(p == c.fields.end() ? json() : p->second.new_value);
    } else if (p != c.fields.end()) {
      check_province_change(p->second.old_value, p->second.new_value);
    }
    if (const auto city = c.fields.find("city"); city != c.fields.end()) {
      check_city_change(city->second.old_value, city->second.new_value);
    }
    // Only a new customer or a move reads the regions (an import edits every
    // row: no meta read and parse per row for the rest).
    if (!before || c.fields.count("province") || c.fields.count("city")) {
      check_stays_in_reach(before ? &*before : nullptr, after);
      check_city_in_province(after.fields.value("province", json()), after.fields.value("city", json()));
    }
  } else if (after.collection == "customers" && role == "admin" &&
             (c.fields.count("province") || c.fields.count("city"))) {
    // Anywhere, or in no region, but in a real place (the server's rule;
    // walkthrough 19, R19-4).
    if (const auto p = c.fields.find("province"); p != c.fields.end() && p->second.new_value.is_string() &&
                                                  !trim(p->second.new_value.get<std::string>()).empty()) {
      check_new_customer_province(p->second.new_value);
    }
    if (const auto city = c.fields.find("city"); city != c.fields.end()) {
      check_city_change(city->second.old_value, city->second.new_value);
    }
    check_city_in_province(after.fields.value("province", json()), after.fields.value("city", json()));
  }
  if (role != "sales") return;
  const CollectionDef& coll = schema().collection(after.collection);
  for (const auto& [key, fc] : c.fields) {
    const FieldDef* f = coll.find(key);
    if (f == nullptr || f->key != key || !f->restricted || fc.old_value == fc.new_value) continue;
    throw restricted_field(*f, user);
  }
  // The server makes a salesperson's new customer theirs: one made for someone
  // else (a sheet's 业务员 column) would be refused at sync.
  if (!before && after.collection == "customers") {
    auto it = c.fields.find("owner");
    if (it != c.fields.end() && it->second.new_value.is_string() && it->second.new_value != user) {
      const std::string owner = it->second.new_value.get<std::string>();
      throw Error(Errc::forbidden,
                  tr("负责人 (owner) \"" + owner + "\": a salesperson (" + user +
                         ", role sales) creates customers of their own only; leave 负责人 empty or put " + user +
                         ", and ask a manager to reassign it. Nothing was changed",
                     "负责人 (owner)“" + owner + "”：销售（" + user + "）只能新建自己的客户；负责人请留空或填 " + user +
                         "，再请经理转交。什么都没有改"));
    }
  }
  // The customer the edit is about: the record itself or its parent.
  std::optional<Record> customer;
  if (after.collection == "customers") {
    customer = before;  // a new customer has no owner to check yet
  } else if (!after.parent.empty()) {
    customer = load(after.parent);
  }
  // A customer made here and not yet synced has no owner yet: the server makes
  // its sender the owner. Only one the server has can be in the pool.
  if (!customer || customer->collection != "customers" || customer->rev == 0) return;
  const std::string owner = customer->fields.value("owner", "");
  if (owner.empty()) {
    const std::string who = label(*customer);
    throw Error(Errc::forbidden, tr(who + " is in the customer pool (公海): claim it first with "
                                          "`kehu customer claim " + who + "` (needs the network); nothing was changed",
                                    who + " 在公海里：请先用 `kehu customer claim " + who +
                                        "` 认领（需要联网）；什么都没有改"));
  }
  if (after.collection == "customers") {
    auto it = c.fields.find("owner");
    if (it != c.fields.end() && it->second.old_value != it->second.new_value) {
      const std::string who = label(*customer);
      throw Error(Errc::forbidden, tr("负责人 (owner) of " + who +
                                          ": only a manager reassigns customers; release it to the pool with "
                                          "`kehu customer release " + who + " --reason …`",
                                      who + " 的负责人 (owner)：只有经理能转交客户；可以用 `kehu customer release " +
                                          who + " --reason …` 退回公海"));
    }
  }
}

void Replica::check_allowed(std::string_view collection, const std::optional<Record>& before, const json& values,
                            std::string_view parent_id) const {
  Record after;
  if (before) {
    after = *before;
  } else {
    after.collection = std::string(collection);
    after.parent = std::string(parent_id);
  }
  Change c;
  for (const auto& [key, value] : values.items()) {
    json old = before ? before->fields.value(key, json()) : json();
    if (old != value) c.fields[key] = FieldChange{std::move(old), value};
    after.fields[key] = value;
  }
  impl_->check_local_policy(before, after, c);
}

}  // namespace kehu
