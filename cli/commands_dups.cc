// 查重: customer add with the duplicate check, customer duplicates, customer
// merge, and the sync report's possible-duplicate lines (kehu/duplicates.h).
#include <iostream>

#include "commands.h"
#include "kehu/customer_code.h"
#include "kehu/duplicates.h"
#include "kehu/error.h"
#include "kehu/text.h"
#include "output.h"

namespace kehu::cli {
namespace {

// Sync lines shown after the count, before "… and N more".
constexpr std::size_t kSyncLinesShown = 5;

json match_json(const DuplicateMatch& m) {
  return {{"code", m.customer.code},
          {"name", m.customer.fields.value("name", "")},
          {"owner", m.customer.fields.value("owner", "")},
          {"key", m.kind},
          {"value", m.value}};
}

std::string short_label(const Record& r) {
  return (r.code.empty() ? r.id : r.code) + " " + r.fields.value("name", "");
}

}  // namespace

int cmd_customer_add(Context& ctx, const std::vector<std::string>& sets, bool force) {
  if (sets.empty()) {
    throw Error(Errc::usage, tr("nothing to add: give fields with --set FIELD=VALUE", "没有要添加的内容：请用 --set 字段=值 给出字段"));
  }
  auto& rep = ctx.replica();
  const FieldInputs inputs = parse_sets(sets);
  // A code the server would replace at the sync is refused now (walkthrough 15, R15-1).
  const CollectionDef& coll = rep.schema().collection("customers");
  for (const auto& [name, value] : inputs) {
    const FieldDef* f = coll.find(name);
    if (f && f->key == "code") check_chosen_code(fold_fullwidth(trim(value)));
  }
  Record added;
  std::vector<DuplicateMatch> dups;
  // Added and checked in one transaction: a refused add leaves nothing behind
  // (not even a used code).
  rep.batch([&] {
    added = rep.add("customers", inputs);
    dups = rep.find_duplicates(added.fields, added.id);
    if (!dups.empty() && !force) {
      std::string msg = tr("possible duplicate of an existing customer:", "可能与已有客户重复：");
      for (const auto& m : dups) msg += "\n  " + describe_match(m);
      msg += tr("\nuse --force to add anyway", "\n确认要添加，请加 --force");
      throw Error(Errc::validation, msg);
    }
  });
  for (const auto& m : dups) {
    std::cerr << tr("kehu: warning: added although it may duplicate ", "kehu: 警告：已添加，但可能与它重复：")
              << describe_match(m) << '\n';
  }
  if (ctx.json) {
    json j = record_json(added);
    json arr = json::array();
    for (const auto& m : dups) arr.push_back(match_json(m));
    j["possible_duplicates"] = arr;
    print_json(j, std::cout);
  } else {
    std::cout << added.code << '\n';
  }
  return 0;
}

int cmd_customer_duplicates(Context& ctx) {
  auto groups = ctx.replica().duplicate_groups();
  if (ctx.json) {
    json arr = json::array();
    for (const auto& g : groups) {
      json customers = json::array();
      for (const auto& c : g.customers) {
        customers.push_back({{"code", c.code},
                             {"name", c.fields.value("name", "")},
                             {"owner", c.fields.value("owner", "")},
                             {"phone", c.fields.value("phone", "")},
                             {"wechat", c.fields.value("wechat", "")}});
      }
      arr.push_back({{"key", g.kind}, {"value", g.key}, {"customers", customers}});
    }
    print_json(arr, std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  if (groups.empty()) {
    std::cout << (zh ? "没有疑似重复的客户\n" : "no likely duplicates\n");
    return 0;
  }
  for (const auto& g : groups) {
    std::cout << (g.kind == "name" ? (zh ? "名称相近 " : "similar name ")
                                   : (zh ? (g.kind == "phone" ? "同一电话 " : "同一微信 ")
                                         : "same " + g.kind + " "))
              << g.key << ":\n";
    for (const auto& c : g.customers) {
      std::string owner = c.fields.value("owner", "");
      std::cout << "  " << short_label(c) << (owner.empty() ? "" : "  (" + owner + ")") << '\n';
    }
  }
  std::cout << (zh ? "用 `kehu customer merge 保留编号 合并编号` 合并\n"
                   : "merge two with `kehu customer merge KEEP OTHER`\n");
  return 0;
}

int cmd_customer_merge(Context& ctx, const std::string& keep, const std::string& other,
                       bool dry_run, bool force) {
  // Two customers with no name, phone or WeChat in common are no duplicates: a
  // mistyped code moved a colleague's follow-ups onto the wrong customer, and
  // no restore brings them back (walkthrough 10, R10-8).
  auto& rep = ctx.replica();
  const std::optional<Record> a = rep.find_customer(keep), b = rep.find_customer(other);
  if (!force && a && b && a->id != b->id && !shares_duplicate_key(a->fields, b->fields)) {
    const auto named = [](const Record& r) { return r.code + " " + r.fields.value("name", ""); };
    throw Error(Errc::validation,
                tr(named(*b) + " and " + named(*a) + " share no name, phone or WeChat: they do not look like one "
                   "customer, and a merge moves the follow-ups, orders and contacts for good. Check the codes "
                   "(kehu customer duplicates lists likely pairs); to merge them anyway add --force. Nothing was changed",
                   named(*b) + " 与 " + named(*a) + " 没有相同的名称、电话或微信：不像是同一个客户，而合并会把跟进记录、"
                   "订单和联系人永久移过去。请核对编号（kehu customer duplicates 列出疑似重复）；确实要合并请加 "
                   "--force。什么都没有改"));
  }
  MergeReport r = rep.merge_customers(keep, other, dry_run);
  if (ctx.json) {
    json moved = json::object();
    for (const auto& [c, n] : r.moved) moved[c] = n;
    print_json({{"keep", record_json(r.keep)},
                {"other", record_json(r.other)},
                {"moved", moved},
                {"filled", r.filled},
                {"differing", r.differing},
                {"tags_added", r.tags_added},
                {"dry_run", r.dry_run}},
               std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  std::cout << (dry_run ? (zh ? "（试运行，未写入）" : "(dry run, nothing written) ") : "")
            << (zh ? "合并 " : "merged ") << short_label(r.other) << (zh ? " 到 " : " into ")
            << short_label(r.keep) << '\n';
  for (const auto& [c, n] : r.moved) {
    const CollectionDef* coll = ctx.schema().find(c);
    std::cout << (zh ? "  移入 " : "  moved ") << n << " " << (zh && coll ? coll->zh : c) << '\n';
  }
  auto list = [&](const char* what, const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    std::cout << "  " << what;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      std::cout << (i ? ", " : "") << label_of(ctx, "customers", keys[i]) << " (" << keys[i] << ")";
    }
    std::cout << '\n';
  };
  list(zh ? "补全的字段: " : "filled from the other: ", r.filled);
  list(zh ? "保留本客户的值（另一方的值已记入备注）: "
          : "kept this customer's value (the other's is added to the notes): ",
       r.differing);
  if (!r.tags_added.empty()) {
    std::cout << (zh ? "  新增标签: " : "  tags added: ");
    for (std::size_t i = 0; i < r.tags_added.size(); ++i)
      std::cout << (i ? ", " : "") << r.tags_added[i];
    std::cout << '\n';
  }
  if (!dry_run) {
    std::cout << "  " << (r.other.code.empty() ? r.other.id : r.other.code)
              << (zh ? " 已移入回收站（可用 kehu customer restore 恢复）"
                     : " is in the recycle bin (kehu customer restore brings it back)")
              << sales_delete_note(ctx) << '\n';
  }
  return 0;
}

void print_possible_duplicates(const std::vector<std::string>& lines, bool more, bool zh,
                               std::ostream& out) {
  if (lines.empty()) return;
  // The count, then the first few: a first sync after importing a team's sheet
  // can name hundreds of pairs, which `kehu customer duplicates` lists.
  const std::string count = std::to_string(lines.size()) + (more ? "+" : "");
  out << (zh ? "疑似重复: " + count + " 对" : count + " possible duplicates") << '\n';
  for (std::size_t i = 0; i < lines.size() && i < kSyncLinesShown; ++i) out << lines[i] << '\n';
  if (lines.size() > kSyncLinesShown || more) {
    const std::size_t rest = lines.size() > kSyncLinesShown ? lines.size() - kSyncLinesShown : 0;
    out << "… " << (zh ? "还有 " : "and ") << rest << (more ? "+" : "") << (zh ? " 对" : " more")
        << '\n';
  }
  out << (zh ? "用 `kehu customer duplicates` 查看全部，`kehu customer merge` 合并\n"
             : "see them all with `kehu customer duplicates`; merge with `kehu customer merge KEEP "
               "OTHER`\n");
}

}  // namespace kehu::cli
