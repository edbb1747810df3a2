#include "output.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "kehu/cause_text.h"
#include "kehu/custom_fields.h"
#include "kehu/display_time.h"
#include "kehu/error.h"
#include "kehu/field_type_words.h"
#include "kehu/hlc.h"
#include "kehu/text.h"

namespace kehu::cli {
namespace {

// The columns a list shows per collection: what a salesperson scans the sheet for.
// Custom fields (custom_fields.h) follow the built-in columns. A salesperson
// gets no column for a restricted field: the server never sends them its values.
std::vector<std::string> list_columns(const Schema& schema, const std::string& collection, bool sales) {
  std::vector<std::string> keys;
  if (collection == "customers") {
    keys = {"name", "type", "stage", "contact", "phone", "province", "city", "owner", "last_followup_at"};
  } else if (collection == "followups") {
    keys = {"date", "person", "method", "content", "feedback", "next_date"};
  } else if (collection == "orders") {
    keys = {"order_no", "date", "product", "quantity", "amount", "status"};
  }
  const bool all = keys.empty();
  for (const auto& f : schema.collection(collection).fields) {
    // A child list is of one customer's records: no column for the customer.
    if (sales && f.restricted) continue;
    if ((all && f.type != FieldType::reference) || f.custom) keys.push_back(f.key);
  }
  return keys;
}

// A stored value as a person reads it in a table.
std::string shown(const Context& ctx, const FieldDef& f, const json& v) {
  std::string text = display_value(f, v, ctx.lang);
  return f.type == FieldType::money ? group_thousands(text) : text;
}

}  // namespace

// "1234567.50" → "1,234,567.50": money in tables is read at a glance (sheets,
// --json and exports keep the plain number).
std::string role_shown(const std::string& role) {
  if (message_lang() != Lang::zh) return role;
  static const std::map<std::string, std::string> zh = {
      {"admin", "管理员"}, {"manager", "经理"}, {"sales", "销售"}, {"auditor", "审计员"}};
  auto it = zh.find(role);
  return it == zh.end() ? role : it->second;
}

std::string group_thousands(const std::string& number) {
  std::size_t start = !number.empty() && number[0] == '-' ? 1 : 0;
  std::size_t end = number.find('.');
  if (end == std::string::npos) end = number.size();
  for (std::size_t i = start; i < end; ++i) {
    if (number[i] < '0' || number[i] > '9') return number;  // not a plain number: as it is
  }
  std::string out = number.substr(0, start);
  for (std::size_t i = start; i < end; ++i) {
    if (i > start && (end - i) % 3 == 0) out += ',';
    out += number[i];
  }
  return out + number.substr(end);
}

std::string show_value(const Context& ctx, const std::string& collection, const std::string& key,
                       const json& v) {
  if (key == kDeletedField) {
    if (v.is_null()) return "";
    const bool zh = ctx.lang == Lang::zh;
    return v == true ? (zh ? "在回收站" : "in the recycle bin") : (zh ? "未删除" : "not deleted");
  }
  const CollectionDef* coll = ctx.schema().find(collection);
  const FieldDef* f = coll ? coll->find(key) : nullptr;
  if (!f) return v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : v.dump());
  return shown(ctx, *f, v);
}

std::vector<std::string> in_schema_order(const std::string& collection,
                                         const std::map<std::string, FieldChange>& changes) {
  std::vector<std::string> keys;
  // Custom fields come after the built-in ones in the schema, as they do here.
  if (const CollectionDef* coll = Schema::builtin().find(collection)) {
    for (const auto& f : coll->fields) {
      if (changes.count(f.key)) keys.push_back(f.key);
    }
  }
  for (const auto& [key, fc] : changes) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end() && key != kDeletedField) keys.push_back(key);
  }
  if (changes.count(kDeletedField)) keys.push_back(kDeletedField);
  return keys;
}

std::string sales_delete_note(Context& ctx) {
  if (ctx.replica().meta("role") != "sales") return {};
  return ctx.lang == Lang::zh ? "（客户的受保护字段有值时，同步后删除要经理批准，批准前其他人仍看得到它）"
                              : " (when its protected fields hold values, the delete waits for a manager's approval "
                                "after the sync, and the others keep seeing it until then)";
}

std::vector<std::string> protected_fields(Context& ctx, const std::string& collection) {
  const json all = json::parse(ctx.replica().meta(kProtectedFieldsMeta), nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (!all.is_object()) return out;
  const auto it = all.find(collection);
  if (it == all.end() || !it->is_array()) return out;
  for (const auto& k : *it) {
    if (k.is_string()) out.push_back(k.get<std::string>());
  }
  return out;
}

std::string label_of(const Context& ctx, const std::string& collection, const std::string& key) {
  if (key == kDeletedField) return ctx.lang == Lang::zh ? "已删除" : "Deleted";
  const CollectionDef* coll = ctx.schema().find(collection);
  const FieldDef* f = coll ? coll->find(key) : nullptr;
  return f ? f->label(ctx.lang) : key;
}

json record_json(const Record& r) {
  json j = r.fields;
  j["id"] = r.id;
  if (!r.code.empty()) j["code"] = r.code;
  if (!r.parent.empty()) j["parent"] = r.parent;
  j["rev"] = r.rev;
  j["deleted"] = r.deleted;
  j["pending"] = r.pending;
  return j;
}

std::size_t terminal_columns() {
  if (const char* env = std::getenv("COLUMNS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const unsigned long n = std::strtoul(env, &end, 10);
    if (*end == '\0' && n > 0 && n < 100000) return n;
  }
  winsize ws{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 0;
}

namespace {

// Rows as blocks of "header: value" lines, cells whole (Narrow::blocks).
std::string render_blocks(const Context& ctx, const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows) {
  const std::string colon = ctx.lang == Lang::zh ? "：" : ": ";
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const bool continues = r > 0 && (row.empty() || row[0].empty());
    if (r > 0 && !continues) out += "--\n";
    for (std::size_t j = 0; j < row.size(); ++j) {
      // A cell of several lines goes on under its label, indented; blank
      // lines in it are left out.
      std::string lines;
      for (std::size_t at = 0; at <= row[j].size();) {
        std::size_t nl = row[j].find('\n', at);
        if (nl == std::string::npos) nl = row[j].size();
        const std::string part = trim(std::string_view(row[j]).substr(at, nl - at));
        if (!part.empty()) lines += (lines.empty() ? "" : "\n  ") + part;
        at = nl + 1;
      }
      if (lines.empty()) continue;
      out += (j < header.size() ? header[j] : std::string()) + colon + lines + '\n';
    }
  }
  return out;
}

}  // namespace

std::string table(const Context& ctx, const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows, std::size_t max_cell_width, Narrow narrow) {
  // Output to a pipe or a file (no COLUMNS given): every cell whole, so that a
  // refusal's reason or a list of values is never cut where nothing shows more.
  const std::size_t columns = terminal_columns();
  if (ctx.wide || columns == 0) return render_table(header, rows);
  if (narrow == Narrow::blocks) {
    // When the table is wider than the terminal, the rows whole, one block each.
    std::string full = render_table(header, rows, max_cell_width);
    std::size_t widest = 0;
    for (std::size_t at = 0, nl; (nl = full.find('\n', at)) != std::string::npos; at = nl + 1) {
      widest = std::max(widest, display_width(std::string_view(full).substr(at, nl - at)));
    }
    return widest <= columns ? full : render_blocks(ctx, header, rows);
  }
  std::size_t hidden = 0;
  std::string out = render_table(header, rows, max_cell_width, columns, &hidden);
  if (hidden > 0) {
    out += ctx.lang == Lang::zh ? "（另有 " + std::to_string(hidden) + " 列未显示，--wide 显示全部）\n"
                                : "(" + std::to_string(hidden) + " more column" + (hidden == 1 ? "" : "s") +
                                      " not shown: --wide shows them all)\n";
  }
  return out;
}

Error exists_error(const std::string& file) {
  return Error(Errc::usage, tr(file + " already exists: add --force to replace it, or choose another file name; "
                                      "nothing was written",
                               file + " 已经存在：要覆盖它请加 --force，或换一个文件名；什么都没有写"));
}

void refuse_existing_file(const std::string& file, bool replace) {
  std::error_code ec;
  if (!replace && std::filesystem::exists(file, ec) && !std::filesystem::is_directory(file, ec)) {
    throw exists_error(file);
  }
}

void print_json(const json& j, std::ostream& out) {
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

void print_record(const Context& ctx, const Record& r, std::ostream& out) {
  std::vector<std::vector<std::string>> rows;
  bool zh = ctx.lang == Lang::zh;
  if (!r.code.empty()) rows.push_back({zh ? "客户编号" : "Code", r.code});
  if (r.code.empty()) rows.push_back({"ID", r.id});
  for (const auto& f : ctx.schema().collection(r.collection).fields) {
    if (f.key == "code" || f.key == "customer") continue;
    auto it = r.fields.find(f.key);
    if (it == r.fields.end()) continue;
    rows.push_back({f.label(ctx.lang), shown(ctx, f, *it)});
  }
  rows.push_back({zh ? "版本" : "Rev", std::to_string(r.rev) + (r.pending ? (zh ? "（有未同步修改）" : " (pending changes)") : "")});
  if (r.deleted) rows.push_back({zh ? "状态" : "State", zh ? "在回收站" : "in the recycle bin"});
  out << render_table({zh ? "字段" : "Field", zh ? "值" : "Value"}, rows);
}

std::string show_cause(const Context& ctx, const std::string& cause) { return cause_text(cause, ctx.lang); }

void require_admin(const Replica& rep, const std::string& action_en, const std::string& action_zh,
                   const char* server_command) {
  const std::string user = rep.meta("user"), role = rep.meta("role");
  if (role == "admin") return;
  const std::string shown = role.empty() ? tr("unknown", "未知") : role_shown(role);
  throw Error(Errc::forbidden,
              tr("only an admin may " + action_en + ": this replica is " +
                     (user.empty() ? std::string("not logged in") : "logged in as " + user + " (role " + shown + ")") +
                     "; ask an admin to do it on their own device" +
                     (server_command ? std::string(" (or with `") + server_command + "` on the server)" : ""),
                 "只有管理员可以" + action_zh + "：这个本地副本" +
                     (user.empty() ? std::string("未登录") : "以 " + user + " 登录（角色：" + shown + "）") +
                     "；请管理员在自己的设备上操作" +
                     (server_command ? std::string("（或在服务器上用 `") + server_command + "`）" : "")));
}

void print_records(const Context& ctx, const std::vector<Record>& records, std::ostream& out) {
  if (records.empty()) {
    out << (ctx.lang == Lang::zh ? "（无记录）\n" : "(no records)\n");
    return;
  }
  const std::string& collection = records.front().collection;
  std::vector<std::string> keys = list_columns(ctx.schema(), collection, ctx.role() == "sales");
  std::vector<std::string> header;
  bool coded = collection == "customers";
  if (coded) header.push_back(ctx.lang == Lang::zh ? "客户编号" : "Code");
  // Child records have no code: their short id is what `edit ID` / `delete ID` take.
  if (!coded) header.push_back("ID");
  for (const auto& k : keys) header.push_back(label_of(ctx, collection, k));
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : records) {
    std::vector<std::string> row;
    if (coded) row.push_back(r.code + (r.pending ? "*" : ""));
    if (!coded) row.push_back(short_id(r.id) + (r.pending ? "*" : ""));
    for (const auto& k : keys) row.push_back(show_value(ctx, collection, k, r.fields.value(k, json())));
    rows.push_back(std::move(row));
  }
  out << table(ctx, header, rows, 40);
  bool any_pending = std::any_of(records.begin(), records.end(), [](const Record& r) { return r.pending; });
  out << records.size() << (ctx.lang == Lang::zh ? " 条记录" : records.size() == 1 ? " record" : " records");
  if (any_pending) out << (ctx.lang == Lang::zh ? "（* 有未同步修改）" : " (* = pending changes)");
  out << '\n';
}

void print_list(const Context& ctx, const std::vector<Record>& records, std::ostream& out) {
  if (!ctx.json) {
    print_records(ctx, records, out);
    return;
  }
  json arr = json::array();
  for (const auto& r : records) arr.push_back(record_json(r));
  print_json(arr, out);
}

void print_history(const Context& ctx, const Record& r,
                   const std::vector<Replica::HistoryEntry>& entries, std::ostream& out) {
  if (ctx.json) {
    json arr = json::array();
    for (const auto& e : entries) {
      json j;
      if (e.state == "server") {
        j["rev"] = e.revision.rev;
      } else {
        j["rev"] = e.state;  // "pending" / "acked" / "rejected": not yet a server revision
      }
      j["state"] = e.state;
      j["op"] = op_name(e.revision.op);
      j["author"] = e.revision.author;
      j["device"] = e.revision.device;
      j["at"] = e.revision.at;  // when the server took it (or the device logged it)
      const std::int64_t hlc = e.revision.client_hlc ? e.revision.client_hlc : e.revision.hlc;
      j["edited_at"] = hlc != 0 || e.revision.at.empty() ? hlc_to_iso(hlc) : e.revision.at;  // adopted: filed (R19-2)
      j["hlc"] = e.revision.hlc;
      j["changes"] = field_changes_to_json(e.revision.changes);
      if (!e.revision.cause.empty()) j["cause"] = e.revision.cause;
      if (!e.revision.approved_by.empty()) j["approved_by"] = e.revision.approved_by;
      if (!e.revision.resolves.empty()) j["resolves"] = resolves_to_json(e.revision.resolves);
      json conflicts = json::array();
      for (const auto& c : e.revision.conflicts) conflicts.push_back(to_json(c));
      j["conflicts"] = conflicts;
      if (!e.reason.empty()) j["reason"] = e.reason;
      arr.push_back(j);
    }
    print_json(arr, out);
    return;
  }
  bool zh = ctx.lang == Lang::zh;
  if (entries.empty()) {
    out << (zh ? "（无历史）\n" : "(no history)\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries) {
    std::string rev = e.state == "server" ? std::to_string(e.revision.rev) : show_word(ctx, e.state);
    std::string who = e.revision.author + "@" + e.revision.device.substr(0, 8);
    // When the edit was made, by the device's clock: an edit made offline at
    // 11:31 and synced at 11:33 shows 11:31 (--json has both).
    // A request adopted from another device of the user has no clock of this
    // one: the time the server filed it (walkthrough 19, R19-2).
    const std::int64_t hlc = e.revision.client_hlc ? e.revision.client_hlc : e.revision.hlc;
    const std::string edited = hlc != 0 || e.revision.at.empty() ? show_hlc_time(ctx, hlc) : show_time(ctx, e.revision.at);
    std::string cause = show_cause(ctx, e.revision.cause);
    if (!e.revision.approved_by.empty()) {
      cause += (cause.empty() ? "" : "; ") + std::string(zh ? "批准：" : "approved by ") + e.revision.approved_by;
    }
    if (!cause.empty()) cause = zh ? "（" + cause + "）" : " (" + cause + ")";
    bool first = true;
    auto add = [&](const std::string& field, const std::string& change) {
      rows.push_back({first ? rev : "", first ? edited : "", first ? who : "",
                      first ? show_word(ctx, op_name(e.revision.op)) + cause : "", field, change});
      first = false;
    };
    for (const std::string& key : in_schema_order(r.collection, e.revision.changes)) {
      const FieldChange& fc = e.revision.changes.at(key);
      add(label_of(ctx, r.collection, key),
          show_value(ctx, r.collection, key, fc.old_value) + " → " +
              show_value(ctx, r.collection, key, fc.new_value));
    }
    for (const auto& [field, text] : conflict_cells(ctx, e.revision)) add(field, text);
    // A revision whose every field the role may not read (an admin's edit of
    // 信用等级) arrives with none: said, not an empty row (walkthrough 13, R13-11).
    if (first) add("", e.state == "server" ? (zh ? "（无权查看的字段）" : "(fields you may not see)") : "");
    if (e.state == "awaiting") {
      // Waiting for a manager, not refused; said in today's language, whatever
      // the language of the sync that stored the reason (walkthrough 12, R12-7).
      const auto hash = e.reason.find('#');
      std::string request;
      for (std::size_t i = hash == std::string::npos ? e.reason.size() : hash + 1;
           i < e.reason.size() && e.reason[i] >= '0' && e.reason[i] <= '9'; ++i) {
        request += e.reason[i];
      }
      rows.back()[5] += request.empty() ? (zh ? "  [待审批]" : "  [awaiting approval]")
                                        : (zh ? "  [待审批：申请 #" : "  [awaiting approval: request #") + request + "]";
    } else if (!e.reason.empty()) {
      rows.back()[5] += (zh ? "  [被拒：" : "  [rejected: ") + e.reason + "]";
    }
  }
  std::vector<std::string> header = zh ? std::vector<std::string>{"版本", "修改时间", "作者", "操作", "字段", "旧值 → 新值"}
                                       : std::vector<std::string>{"Rev", "Edited", "Author", "Op", "Field", "Old → New"};
  out << table(ctx, header, rows, 60, Narrow::blocks);
}

std::vector<std::pair<std::string, std::string>> conflict_cells(const Context& ctx, const Revision& rev) {
  const bool zh = ctx.lang == Lang::zh;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& c : rev.conflicts) {
    out.emplace_back(label_of(ctx, rev.collection, c.field),
                     (zh ? "冲突：保留 " : "conflict: kept ") + show_value(ctx, rev.collection, c.field, c.kept) +
                         " (" + c.kept_author + ")" + (zh ? "，落选 " : ", lost ") +
                         show_value(ctx, rev.collection, c.field, c.lost) + " (" + c.lost_author + ")");
  }
  // A ref closes the field's conflicts up to its rev (protocol.md); a revision
  // that lists the field's conflicts too recorded them anew: no one settled them
  // (walkthrough 22b, W22-7).
  for (const auto& ref : rev.resolves) {
    const bool again = std::any_of(rev.conflicts.begin(), rev.conflicts.end(),
                                   [&](const Conflict& c) { return c.field == ref.field; });
    const std::string n = std::to_string(ref.rev);
    out.emplace_back(label_of(ctx, rev.collection, ref.field),
                     again ? (zh ? "第 " + n + " 版及之前的冲突：已在上面重新记录" : "conflicts up to rev " + n + ": recorded again above")
                           : (zh ? "解决了第 " + n + " 版及之前的冲突" : "settled the conflicts up to rev " + n));
  }
  return out;
}

std::string show_word(const Context& ctx, const std::string& word) {
  if (ctx.lang != Lang::zh) return word;
  static const std::map<std::string, std::string> zh = {
      {"create", "新建"},         {"update", "修改"},     {"delete", "删除"},   {"restore", "恢复"},
      {"pending", "待同步"},      {"acked", "已送达"},    {"rejected", "被拒"}, {"approved", "已批准"},
      {"awaiting", "待审批"},
      {"open", "未解决"},         {"resolved", "已解决"},
  };
  auto it = zh.find(word);
  return it == zh.end() ? field_type_word(word, ctx.lang) : it->second;
}

std::string show_time(const Context& ctx, const std::string& iso) { return display_time(iso, ctx.utc); }

std::string show_hlc_time(const Context& ctx, std::int64_t hlc) {
  return hlc == 0 ? std::string() : show_time(ctx, hlc_to_iso(hlc));
}

}  // namespace kehu::cli
