// audit / revert subcommands.
//
// `kehu audit` asks the server (POST /v1/audit, docs/protocol.md) as the
// logged-in user. `kehu revert` works offline on the pulled revisions in the
// replica and writes one ordinary edit whose cause names the revision.
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <set>

#include "commands.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/schema.h"
#include "kehu/sync/sync_session.h"
#include "kehu/text.h"
#include "output.h"

namespace kehu::cli {
namespace {

std::string utc_iso(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// --since / --until as the server takes them. A day (YYYY-MM-DD, or "today") is
// a day of the local calendar, as salespeople date their work, so it becomes the
// UTC instants of its first or last local second; YYYY-MM-DDTHH:MM:SSZ is sent
// as it is (the server checks it).
std::string time_bound(const char* option, const std::string& text, bool end_of_day) {
  if (text.size() == 20 && text[10] == 'T' && text.back() == 'Z') return text;
  // A day as people type it everywhere else: 2026/12/1, 2026年12月1日,
  // full-width digits (walkthrough 15, R15-10); what no date reader takes falls
  // through to the message below.
  // It names the rule a day breaks ("there is no month 13"; walkthrough 16, R16-14).
  // read_day answers YYYY-MM-DD, a day that exists.
  const std::string day = read_day(option, text);
  const int y = std::stoi(day.substr(0, 4)), m = std::stoi(day.substr(5, 2)), d = std::stoi(day.substr(8, 2));
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_hour = end_of_day ? 23 : 0;
  tm.tm_min = end_of_day ? 59 : 0;
  tm.tm_sec = end_of_day ? 59 : 0;
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  // A local time a clock change skips moves on: refused, not read as another.
  if (t != static_cast<std::time_t>(-1) && tm.tm_year == y - 1900 && tm.tm_mon == m - 1 && tm.tm_mday == d) {
    return utc_iso(t);
  }
  throw Error(Errc::validation,
              tr(std::string(option) + " \"" + text +
                     "\" is not a date: expected YYYY-MM-DD (a local day that exists), "
                     "today, or YYYY-MM-DDTHH:MM:SSZ (UTC)",
                 std::string(option) + " “" + text +
                     "”不是日期：应为 YYYY-MM-DD（本地时区里存在的一天）、today，或 YYYY-MM-DDTHH:MM:SSZ（UTC）"));
}

// The "Record" column: what the revision was about within its customer.
std::string record_cell(const json& rev) {
  const std::string collection = rev.value("collection", "");
  // A child record as `kehu conflicts` names it: its noun and the short id its
  // list and `history ID` show (a customer: its code is the column before).
  std::string out = collection_noun(collection);
  if (collection != "customers") out += " " + short_id(rev.value("record_id", ""));
  return out + " r" + std::to_string(rev.value("rev", std::int64_t{0}));
}

std::string cause_cell(const Context& ctx, const json& rev) {
  std::string out = show_cause(ctx, rev.value("cause", ""));
  const std::string by = rev.value("approved_by", "");
  if (!by.empty()) {
    out += (out.empty() ? "" : ctx.lang == Lang::zh ? "；" : "; ") +
           std::string(ctx.lang == Lang::zh ? "批准：" : "approved by ") + by;
  }
  return out;
}

void print_audit(const Context& ctx, const json& revisions, std::ostream& out) {
  const bool zh = ctx.lang == Lang::zh;
  if (revisions.empty()) {
    out << (zh ? "（没有符合条件的修改）\n" : "(no matching revisions)\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const json& rev : revisions) {
    const Revision r = revision_from_json(rev);
    bool first = true;
    auto add = [&](const std::string& field, const std::string& change) {
      rows.push_back({first ? show_time(ctx, r.at) : "", first ? r.author : "", first ? rev.value("code", "") : "",
                      first ? record_cell(rev) : "", field, change,
                      first ? cause_cell(ctx, rev) : ""});
      first = false;
    };
    for (const std::string& key : in_schema_order(r.collection, r.changes)) {
      const FieldChange& fc = r.changes.at(key);
      add(label_of(ctx, r.collection, key), show_value(ctx, r.collection, key, fc.old_value) +
                                                " → " +
                                                show_value(ctx, r.collection, key, fc.new_value));
    }
    // A resolution that kept the value stored changes no field (walkthrough 16, R16-6).
    for (const auto& [field, text] : conflict_cells(ctx, r)) add(field, text);
    if (first) add("", show_word(ctx, op_name(r.op)));
  }
  const std::vector<std::string> header =
      zh ? std::vector<std::string>{"时间", "用户",        "客户",     "记录",
                                    "字段", "旧值 → 新值", "原因/批准"}
         : std::vector<std::string>{"Time",  "User",      "Customer",      "Record",
                                    "Field", "Old → New", "Cause/approver"};
  out << table(ctx, header, rows, 40, Narrow::blocks);
}

// A server revision's number as --to-rev names it in messages.
std::string rev_range(const std::string& what, std::int64_t first, std::int64_t last) {
  const std::string a = std::to_string(first), b = std::to_string(last);
  return first == last ? tr(what + " has only revision " + a, what + " 只有版本 " + a)
                       : tr(what + " has revisions " + a + " to " + b, what + " 有版本 " + a + " 到 " + b);
}

// Fields a revert leaves alone: fixed at creation, derived by Kehu, or the link
// to the parent customer. The recycle bin has its own commands (delete/restore),
// and so has a customer's owner (claim, release, reassign): a revert past a
// claim must not hand the customer back to the pool.
bool revertible(const CollectionDef& coll, const std::string& key) {
  if (key == kDeletedField || key == "code" || key == coll.parent_field) return false;
  if (coll.name == "customers" && key == "owner") return false;
  const FieldDef* f = coll.find(key);
  return f == nullptr || !f->derived;
}

}  // namespace

int cmd_audit(Context& ctx, const AuditArgs& args, const NetArgs& net) {
  json filter = json::object();
  if (!args.user.empty()) filter["user"] = args.user;
  if (!args.since.empty()) filter["since"] = time_bound("--since", args.since, false);
  if (!args.until.empty()) filter["until"] = time_bound("--until", args.until, true);
  if (!args.customer.empty()) filter["customer"] = canonical_code(fold_fullwidth(trim(args.customer)));
  if (args.limit < 1) {
    throw Error(Errc::validation, tr("--limit " + std::to_string(args.limit) + ": expected a positive number",
                                     "--limit " + std::to_string(args.limit) + "：应为正整数"));
  }
  auto& rep = ctx.replica();
  const auto opts = net_options(ctx, net);
  json revisions = json::array();
  bool more = true;
  std::string cursor = "0";
  while (more && static_cast<std::int64_t>(revisions.size()) < args.limit) {
    filter["cursor"] = cursor;
    filter["limit"] = args.limit - static_cast<std::int64_t>(revisions.size());
    json page = sync::request(rep, opts, "/v1/audit", filter, tr("audit", "查看审计日志"));
    for (auto& r : page.value("revisions", json::array())) revisions.push_back(std::move(r));
    more = page.value("more", false);
    cursor = page.value("next_cursor", cursor);
  }
  if (ctx.json) {
    print_json(revisions, std::cout);
    return 0;
  }
  print_audit(ctx, revisions, std::cout);
  const bool zh = ctx.lang == Lang::zh;
  std::cout << revisions.size() << (zh ? " 个修改" : revisions.size() == 1 ? " revision" : " revisions");
  if (more)
    std::cout << (zh ? "（还有更早的：加大 --limit）" : " (older ones follow: raise --limit)");
  std::cout << '\n';
  return 0;
}

int cmd_revert(Context& ctx, const std::string& code, std::int64_t to_rev,
               const std::string& field) {
  auto& rep = ctx.replica();
  const Record now = rep.require(code);
  const CollectionDef& coll = rep.schema().collection(now.collection);
  const std::string only = field.empty() ? std::string() : coll.field(field).key;
  const std::string name = now.code.empty() ? now.id : now.code;

  // Server revisions, oldest first (history() lists newest first).
  std::vector<Revision> revs;
  for (auto& e : rep.history(now.id)) {
    if (e.state == "server") revs.push_back(std::move(e.revision));
  }
  std::reverse(revs.begin(), revs.end());
  if (revs.empty()) {
    throw Error(Errc::validation, tr("--to-rev " + std::to_string(to_rev) + ": " + name +
                                         " has no server revisions yet; run `kehu sync` first",
                                     "--to-rev " + std::to_string(to_rev) + "：" + name +
                                         " 还没有服务器版本；请先运行 `kehu sync`"));
  }
  const std::int64_t last = revs.back().rev;
  if (to_rev < 1 || to_rev > last) {
    const std::string n = std::to_string(to_rev);
    throw Error(Errc::validation, tr("--to-rev " + n + ": no revision " + n + " of " + name + "; ",
                                     "--to-rev " + n + "：" + name + " 没有版本 " + n + "；") +
                                      rev_range(name, 1, last));
  }
  // The values at rev N are the creation's values with every change up to N
  // applied; that needs every revision from 1 to N.
  json then = json::object();
  std::int64_t expected = 1;
  for (const Revision& r : revs) {
    if (r.rev > to_rev) break;
    if (r.rev != expected) {
      const std::string n = std::to_string(expected);
      throw Error(Errc::not_found, tr("this replica lacks revision " + n + " of " + name +
                                          "; run `kehu sync` and try again",
                                      "本地副本缺少 " + name + " 的版本 " + n + "；请运行 `kehu sync` 后再试"));
    }
    ++expected;
    for (const auto& [key, fc] : r.changes) {
      if (fc.new_value.is_null()) {
        then.erase(key);
      } else {
        then[key] = fc.new_value;
      }
    }
  }

  json values = json::object();
  std::map<std::string, FieldChange> reverted;
  std::set<std::string> keys;
  for (const auto& [k, v] : then.items()) keys.insert(k);
  for (const auto& [k, v] : now.fields.items()) keys.insert(k);
  for (const std::string& key : keys) {
    if (!revertible(coll, key) || (!only.empty() && key != only)) continue;
    const json old_value = now.fields.value(key, json()), new_value = then.value(key, json());
    if (old_value == new_value) continue;
    values[key] = new_value;
    reverted[key] = FieldChange{old_value, new_value};
  }
  const bool zh = ctx.lang == Lang::zh;
  if (values.empty()) {
    if (ctx.json) {
      print_json(
          {{"code", now.code}, {"id", now.id}, {"to_rev", to_rev}, {"changes", json::object()}},
          std::cout);
    } else {
      const std::string rev = std::to_string(to_rev);
      const std::string label = only.empty() ? "" : label_of(ctx, now.collection, only);
      if (zh) {
        std::cout << name << (label.empty() ? "" : " 的" + label) << "已与版本 " << rev
                  << " 相同，未作修改\n";
      } else {
        std::cout << name
                  << (label.empty() ? " already has the values"
                                    : ": " + label + " already has its value")
                  << " of rev " << rev << ": nothing to revert\n";
      }
    }
    return 0;
  }
  const Record after = rep.edit_values(now.id, values, "revert to rev " + std::to_string(to_rev));
  if (ctx.json) {
    json j = record_json(after);
    j["to_rev"] = to_rev;
    j["changes"] = field_changes_to_json(reverted);
    print_json(j, std::cout);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const std::string& key : in_schema_order(now.collection, reverted)) {
    const FieldChange& fc = reverted.at(key);
    rows.push_back({label_of(ctx, now.collection, key),
                    show_value(ctx, now.collection, key, fc.old_value) + " → " +
                        show_value(ctx, now.collection, key, fc.new_value)});
  }
  std::cout << (zh ? "已将 " + name + " 恢复到版本 " + std::to_string(to_rev) + "（同步后生效）:\n"
                   : "reverted " + name + " to rev " + std::to_string(to_rev) +
                         " (shared at the next sync):\n");
  std::cout << table(ctx, zh ? std::vector<std::string>{"字段", "当前 → 恢复为"}
                               : std::vector<std::string>{"Field", "Now → Reverted to"},
                            rows, 60);
  return 0;
}

}  // namespace kehu::cli
