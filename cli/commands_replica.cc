// init / status / backup / rekey / import / export subcommands.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "kehu/error.h"
#include "kehu/record_name.h"
#include "kehu/schema.h"
#include "kehu/secret_rules.h"
#include "kehu/sheet.h"
#include "output.h"
#include "progress_line.h"

namespace kehu::cli {
namespace {

const char* encoding_name(SourceEncoding e) {
  switch (e) {
    case SourceEncoding::utf8: return "UTF-8";
    case SourceEncoding::utf8_bom: return "UTF-8 (BOM)";
    case SourceEncoding::gb18030: return "GB18030";
  }
  return "?";
}

// Possible duplicates shown in the import summary; the CSV has them all.
constexpr std::size_t kImportDuplicatesShown = 10;

// --header-row N: a sheet row number, 1-based.
std::size_t parse_header_row(const std::string& v) {
  std::size_t n = 0;
  bool ok = !v.empty() && v.size() <= 7;
  for (char c : v) {
    ok &= c >= '0' && c <= '9';
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (!ok || n == 0) {
    throw Error(Errc::usage, tr("--header-row \"" + v +
                                    "\": expected the number of the sheet row that holds the column "
                                    "headers (1, 2, …, as Excel numbers rows)",
                                "--header-row “" + v + "”：应为表头所在行的行号（1、2、…，与 Excel 的行号一致）"));
  }
  return n;
}

// SHEET.duplicates.csv beside the sheet: "客户表.xlsx" -> "客户表.duplicates.csv".
std::string default_duplicates_csv(const std::string& sheet) {
  std::size_t slash = sheet.find_last_of('/');
  std::size_t dot = sheet.find_last_of('.');
  std::string stem = (dot == std::string::npos || (slash != std::string::npos && dot < slash))
                         ? sheet
                         : sheet.substr(0, dot);
  return stem + ".duplicates.csv";
}

std::string dup_line(const PossibleDuplicate& d) {
  std::string why = d.key == "phone"    ? tr("same phone ", "电话相同 ") + d.value
                    : d.key == "wechat" ? tr("same WeChat ", "微信相同 ") + d.value
                                        : tr("similar name", "名称相近");
  const std::string a = std::to_string(d.line), b = std::to_string(d.other_line);
  return tr("line " + a + " " + d.code + " " + d.name + " ~ line " + b + " " + d.other_code + " " + d.other_name +
                " (" + why + ")",
            "第 " + a + " 行 " + d.code + " " + d.name + " ~ 第 " + b + " 行 " + d.other_code + " " +
                d.other_name + "（" + why + "）");
}


}  // namespace

int cmd_init(Context& ctx) {
  const std::string passphrase = ctx.passphrase(tr("New replica passphrase", "新本地副本的口令"), /*confirm=*/true);
  check_new_secret(passphrase, ctx.lang == Lang::zh ? "本地副本口令" : "the replica passphrase", "", ctx.lang);
  auto rep = Replica::create(ctx.db_path, passphrase);
  if (ctx.json) {
    print_json({{"path", rep->path()}, {"device_id", rep->device_id()},
                {"schema_version", rep->schema_version()}},
               std::cout);
  } else {
    std::cout << tr("created encrypted replica " + rep->path() + " (device " + rep->device_id() + ")",
                    "已创建加密的本地副本 " + rep->path() + "（设备 " + rep->device_id() + "）")
              << '\n';
  }
  return 0;
}

int cmd_status(Context& ctx) {
  auto& rep = ctx.replica();
  ReplicaStatus s = rep.status();
  if (rep.meta("token").empty()) s.user.clear();  // logged out, or never logged in
  auto rejected = rep.changes_in_state("rejected");
  auto awaiting = rep.changes_in_state("awaiting");
  auto brief = [&rep](const std::vector<LoggedChange>& changes) {
    json out = json::array();
    for (const auto& c : changes) {
      out.push_back({{"change_id", c.change.change_id}, {"record_id", c.change.record_id},
                     {"code", rep.customer_code_of(c.change)}, {"collection", c.change.collection},
                     {"op", op_name(c.change.op)}, {"typed", typed_values(c.change)}, {"reason", c.reason}});
    }
    return out;
  };
  if (ctx.json) {
    print_json({{"path", s.path},
                {"schema_version", s.schema_version},
                {"device_id", s.device_id},
                {"author", s.author},
                {"server", s.server},
                {"user", s.user},
                {"last_sync", s.last_sync},
                {"pending", s.pending},
                {"rejected", s.rejected},
                {"rejected_changes", brief(rejected)},
                {"awaiting_approval", s.awaiting},
                {"awaiting_changes", brief(awaiting)},
                {"requests_to_decide", std::atoll(ctx.replica().meta("requests_to_decide").c_str())},
                {"conflicts", s.conflicts},
                {"customers", s.customers},
                {"deleted_customers", s.deleted_customers}},
               std::cout);
    return 0;
  }
  bool zh = ctx.lang == Lang::zh;
  std::vector<std::vector<std::string>> rows = {
      {zh ? "副本" : "replica", s.path},
      {zh ? "架构版本" : "schema version", std::to_string(s.schema_version)},
      {zh ? "设备" : "device", s.device_id},
      {zh ? "作者" : "author", s.author},
      {zh ? "服务器" : "server", s.server.empty() ? (zh ? "（未登录）" : "(not logged in)") : s.server},
      {zh ? "用户" : "user", s.user.empty() ? (zh ? "（未登录）" : "(not logged in)") : s.user},
      {zh ? "上次同步" : "last sync", s.last_sync.empty() ? (zh ? "从未" : "never") : show_time(ctx, s.last_sync)},
      {zh ? "待同步修改" : "pending changes", std::to_string(s.pending)},
      {zh ? "被拒修改" : "rejected changes", std::to_string(s.rejected)},
      {zh ? "待审批修改" : "awaiting approval", std::to_string(s.awaiting)},
      {zh ? "未解决冲突" : "open conflicts", std::to_string(s.conflicts)},
      {zh ? "客户" : "customers", std::to_string(s.customers)},
      {zh ? "回收站" : "in recycle bin", std::to_string(s.deleted_customers)},
  };
  // A manager's or admin's: the requests waiting for their decision at the last
  // sync (walkthrough 19, R19-16).
  if (const std::string role = ctx.replica().meta("role"); role == "manager" || role == "admin") {
    const std::string n = ctx.replica().meta("requests_to_decide");
    rows.insert(rows.begin() + 10, {zh ? "待我审批的申请（上次同步时）" : "requests to decide (at last sync)",
                                    n.empty() ? "0" : n});
  }
  std::cout << table(ctx, {zh ? "项目" : "item", zh ? "值" : "value"}, rows);
  auto list = [&](const std::vector<LoggedChange>& changes, const char* label) {
    for (const auto& c : changes) {
      // A wait is said in today's language, whatever the sync that stored it (R12-8).
      const std::string n = std::to_string(c.request);
      const std::string why = c.state == "awaiting" ? (zh ? "等待审批（申请 #" + n + "）" : "awaiting approval (request #" + n + ")")
                                                    : c.reason;
      const std::string code = rep.customer_code_of(c.change);
      std::cout << label << (code.empty() ? c.change.record_id : code) << " "
                << show_word(ctx, op_name(c.change.op)) << (zh ? "：" : ": ") << why << '\n';
    }
  };
  list(rejected, zh ? "被拒：" : "rejected: ");
  list(awaiting, zh ? "待审批：" : "awaiting: ");
  return 0;
}

int cmd_backup(Context& ctx, const std::string& file, bool replace) {
  // As export does: an existing file is kept unless --force (walkthrough 9,
  // R9-10: the refusal had no way forward). The copy is made beside it first,
  // so a failed one leaves the old backup as it was.
  std::error_code ec;
  // Not onto the replica itself, or its journal: with --force that replaced the
  // open database under its own connection, and said "backup written"
  // (walkthrough 17, R17-11).
  const auto same = [&](const std::string& a, const std::string& b) {
    std::error_code e1, e2;
    return std::filesystem::weakly_canonical(a, e1) == std::filesystem::weakly_canonical(b, e2) && !e1 && !e2;
  };
  const std::string own = ctx.replica().path();
  for (const char* tail : {"", "-wal", "-shm", "-journal"}) {
    if (same(file, own + tail)) {
      throw Error(Errc::usage, tr(file + " is this replica's own file: write the backup to another file; nothing "
                                         "was written",
                                  file + " 是本机副本自己的文件：请把备份写到别的文件；什么都没有写入"));
    }
  }
  if (std::filesystem::exists(file, ec)) {
    if (!replace || std::filesystem::is_directory(file, ec)) {
      throw exists_error(file);
    }
    const std::string part = file + ".part";
    std::filesystem::remove(part, ec);
    ctx.replica().backup(part);
    std::filesystem::rename(part, file, ec);
    if (ec) {
      throw Error(Errc::io, tr("cannot move " + part + " to " + file + ": " + ec.message(),
                               "无法把 " + part + " 移动到 " + file + "：" + ec.message()));
    }
  } else {
    ctx.replica().backup(file);
  }
  std::cout << (ctx.lang == Lang::zh ? "已备份到 " : "encrypted backup written to ") << file << '\n';
  return 0;
}

int cmd_rekey(Context& ctx) {
  auto& rep = ctx.replica();
  std::string next;
  if (const char* v = std::getenv("KEHU_NEW_PASSPHRASE"); v && *v) {
    next = v;
  } else {
    next = prompt_secret(tr("New passphrase", "新口令"));
    if (prompt_secret(tr("Repeat new passphrase", "再输入一次新口令")) != next) {
      throw Error(Errc::usage, tr("the two passphrases differ", "两次输入的口令不一样"));
    }
  }
  check_new_secret(next, ctx.lang == Lang::zh ? "新的本地副本口令" : "the new replica passphrase", "", ctx.lang);
  rep.rekey(next);
  std::cout << (ctx.lang == Lang::zh ? "密码已更换\n" : "passphrase changed\n");
  return 0;
}

int cmd_import(Context& ctx, const std::string& file, const ImportArgs& args) {
  ImportOptions opts;
  opts.dry_run = args.dry_run;
  opts.skip_bad = args.skip_bad;
  opts.sheet = args.sheet;
  opts.check_duplicates = !args.force;
  if (!args.header_row.empty()) opts.header_row = parse_header_row(args.header_row);
  const std::string dup_csv =
      args.duplicates_csv.empty() ? default_duplicates_csv(file) : args.duplicates_csv;
  if (dup_csv == file) {
    throw Error(Errc::usage, tr("--duplicates-csv " + dup_csv + ": that is the sheet being imported",
                                "--duplicates-csv " + dup_csv + "：这就是正在导入的表格"));
  }
  for (const auto& m : args.maps) {
    auto eq = m.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      throw Error(Errc::usage, tr("--map \"" + m + "\": expected 列名=FIELD (a column header, a field key or label)",
                                  "--map “" + m + "”：应为 列名=字段（表头列名=字段键或字段名）"));
    }
    opts.map.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  sheet_format(file);  // an unknown extension is a usage error before the replica is opened
  auto& rep = ctx.replica();
  // An auditor writes nothing: said once, before the sheet is read (walkthrough
  // 9, R9-8: every row said it, with advice to use --force or --skip-bad).
  if (rep.meta("role") == "auditor") {
    const std::string user = rep.meta("user").empty() ? rep.meta("replica_user") : rep.meta("user");
    throw Error(Errc::forbidden, tr(user + " is an auditor (role from the last login): an auditor reads and audits "
                                           "but imports nothing; nothing was written",
                                    user + " 是审计员（上次登录时的角色）：审计员只能查看和审计，不能导入；什么都没有写入"));
  }
  ImportReport r;
  {
    ProgressLine line(ProgressKind::import_rows, ctx.lang == Lang::zh);
    if (line.enabled()) opts.progress = [&](std::size_t done, std::size_t total) { line.update(done, total); };
    r = import_sheet(rep, file, opts);
  }
  bool stopped = r.bad_rows > 0 && !opts.skip_bad;
  // The possible duplicates within the sheet, for review, once they are in.
  std::string dup_written, dup_error;
  if (r.written && !r.possible_duplicates.empty()) {
    try {
      write_possible_duplicates_csv(r.possible_duplicates, dup_csv);
      dup_written = dup_csv;
    } catch (const Error& e) {
      dup_error = e.what();
    }
  }
  if (ctx.json) {
    json issues = json::array();
    for (const auto& i : r.issues) {
      issues.push_back({{"line", i.line}, {"field", i.field}, {"value", i.value}, {"reason", i.reason}});
      if (!i.sheet.empty()) issues.back()["sheet"] = i.sheet;
    }
    json child_sheets = json::array();
    for (const auto& c : r.child_sheets) {
      child_sheets.push_back({{"sheet", c.sheet}, {"collection", c.collection}, {"rows", c.rows},
                              {"added", c.added}, {"unchanged", c.unchanged}, {"added_lines", c.added_lines}});
    }
    json changes = json::array();
    for (const auto& c : r.changes) {
      json fields = json::array();
      for (const auto& f : c.fields) {
        fields.push_back({{"field", f.field}, {"before", f.before}, {"after", f.after}, {"pending", f.pending}});
      }
      changes.push_back({{"line", c.line}, {"code", c.code}, {"kind", c.kind}, {"fields", fields}});
    }
    json map = json::object();
    for (const auto& [h, k] : r.column_map) map[h] = k;
    json aliased = json::object();
    for (const auto& [h, k] : r.aliased_columns) aliased[h] = k;
    json dups = json::array();
    for (const auto& d : r.possible_duplicates) {
      dups.push_back({{"line", d.line}, {"code", d.code}, {"name", d.name}, {"key", d.key},
                      {"value", d.value}, {"other_line", d.other_line},
                      {"other_code", d.other_code}, {"other_name", d.other_name}});
    }
    print_json({{"file", file},
                {"format", r.format},
                {"sheet", r.sheet},
                {"encoding", encoding_name(r.encoding)},
                {"rows", r.rows},
                {"created", r.created},
                {"updated", r.updated},
                {"unchanged", r.unchanged},
                {"followups", r.followups},
                {"conflicts", r.conflicts},
                {"skipped_deleted", r.skipped_deleted},
                {"bad_rows", r.bad_rows},
                {"written", r.written},
                {"dry_run", opts.dry_run},
                {"issues", issues},
                {"changes", changes},
                {"column_map", map},
                {"map_remembered", r.map_remembered},
                {"unknown_columns", r.unknown_columns},
                {"header_row", r.header_row},
                {"header_row_given", r.header_row_given},
                {"above_header", r.above_header},
                {"aliased_columns", aliased},
                {"totals_rows", r.totals_rows},
                {"blank_rows", r.blank_rows},
                {"notes", r.notes},
                {"possible_duplicates", dups},
                {"child_sheets", child_sheets},
                {"duplicates_csv", dup_written.empty() ? json() : json(dup_written)}},
               std::cout);
    if (!dup_error.empty()) std::cerr << tr("kehu: warning: ", "kehu: 警告：") << dup_error << '\n';
  } else {
    const bool zh = ctx.lang == Lang::zh;
    auto t = [zh](const char* en, const char* cn) { return zh ? cn : en; };
    if (!r.column_map.empty()) {
      std::cout << (r.map_remembered ? t("using the column map remembered for these headers:", "沿用为这些表头记住的列对应:")
                                     : (opts.dry_run ? t("column map:", "列对应:")
                                                     : t("column map (remembered for these headers):",
                                                         "列对应（已为这些表头记住）:")));
      for (const auto& [h, k] : r.column_map) std::cout << " --map \"" << h << "=" << k << "\"";
      std::cout << '\n';
    }
    // Which row is the header, and what was skipped around the table.
    std::cout << (zh ? "表头在第 " + std::to_string(r.header_row) + " 行"
                     : "header row " + std::to_string(r.header_row))
              << (r.header_row_given ? t(", as --header-row gave", "（由 --header-row 指定）") : "");
    if (!r.above_header.empty()) {
      std::cout << t("; skipped above it:", "；跳过其上方：");
      for (std::size_t i = 0; i < r.above_header.size(); ++i) {
        std::cout << (i ? "," : "") << " "
                  << (r.above_header[i].empty() ? std::string(t("a blank row", "空行")) : "\"" + r.above_header[i] + "\"");
      }
    }
    std::cout << '\n';
    if (!r.aliased_columns.empty()) {
      const CollectionDef& cust = rep.schema().collection("customers");
      std::cout << t("columns read by their common names:", "按常见列名识别的列：");
      const char* sep = " ";
      for (const auto& [h, k] : r.aliased_columns) {
        const FieldDef* f = cust.find(k);
        std::cout << sep << h << " -> " << (f ? f->zh + " (" + k + ")" : k);
        sep = zh ? "；" : "; ";
      }
      std::cout << '\n';
    }
    for (std::size_t line : r.totals_rows) {
      std::cout << (zh ? "第 " + std::to_string(line) + " 行是合计行，不是客户：已跳过\n"
                       : "row " + std::to_string(line) + " is a totals row (合计), not a customer: skipped\n");
    }
    if (r.blank_rows) std::cout << r.blank_rows << t(" blank rows skipped\n", " 个空行已跳过\n");
    for (const auto& n : r.notes) std::cout << t("note: ", "注意: ") << n << '\n';
    for (const auto& c : r.unknown_columns) {
      std::cerr << file << (zh ? ": 列 \"" + c + "\" 对应不到任何字段，未导入（用 --map \"" + c + "=字段\" 指定）\n"
                               : ": column \"" + c + "\" matches no field; not imported (name its field with --map \"" + c +
                                     "=FIELD\")\n");
    }
    for (const auto& i : r.issues) {
      std::cerr << file << (i.sheet.empty() ? "" : "[" + i.sheet + "]") << ":" << i.line << ": " << i.reason << '\n';
    }
    // A dry run lists every update; a real run the rows that need a look.
    for (const auto& c : r.changes) {
      if (!opts.dry_run && c.kind == "update") continue;
      std::ostream& os = opts.dry_run ? std::cout : std::cerr;
      os << file << ":" << c.line << ": " << c.code << ": ";
      if (c.kind == "deleted") {
        os << t("in the recycle bin; row skipped (restore the customer to update it)\n",
                "在回收站中，此行已跳过（恢复该客户后才能更新）\n");
        continue;
      }
      os << (c.kind == "conflict" ? t("conflict: overwrites a local change not yet synced\n", "冲突：会覆盖尚未同步的本地修改\n")
                                  : t("update\n", "更新\n"));
      for (const auto& f : c.fields) {
        os << "    " << f.field << ": \"" << f.before << "\" -> \"" << f.after << "\""
           << (f.pending ? t(" (local change not yet synced)", "（本地修改尚未同步）") : "") << '\n';
      }
    }
    std::cout << file << " (";
    if (r.format == "xlsx") {
      std::cout << (zh ? "xlsx，工作表 \"" : "xlsx, sheet \"") << r.sheet << "\"";
    } else {
      std::cout << encoding_name(r.encoding);
    }
    if (zh) {
      std::cout << "): " << r.rows << " 行，" << r.bad_rows << " 行有错；";
    } else {
      std::cout << "): " << r.rows << (r.rows == 1 ? " row, " : " rows, ") << r.bad_rows << " bad; ";
    }
    if (stopped) {
      // import stops before counting what the good rows would do.
      std::cout << t("nothing written\n", "什么都没有写入\n");
    } else if (zh) {
      std::cout << (r.written ? "" : "试运行，将会：") << "新建 " << r.created << "，更新 " << r.updated << "，不变 "
                << r.unchanged << "，跟进记录 " << r.followups;
      if (r.conflicts) std::cout << "，冲突 " << r.conflicts;
      if (r.skipped_deleted) std::cout << "，在回收站中（跳过）" << r.skipped_deleted;
      std::cout << '\n';
    } else {
      std::cout << (r.written ? "" : "dry run: would be ") << r.created << " created, "
                << r.updated << " updated, " << r.unchanged << " unchanged, " << r.followups
                << " follow-ups";
      if (r.conflicts) std::cout << ", " << r.conflicts << " conflicts";
      if (r.skipped_deleted) std::cout << ", " << r.skipped_deleted << " in the recycle bin (skipped)";
      std::cout << '\n';
    }
    for (const auto& c : r.child_sheets) {
      if (stopped || c.rows == 0) continue;
      std::string lines;
      for (std::size_t i = 0; i < c.added_lines.size() && i < 10; ++i) {
        lines += (i ? ", " : "") + std::to_string(c.added_lines[i]);
      }
      if (c.added_lines.size() > 10) lines += ", …";
      if (zh) {
        std::cout << "工作表“" << c.sheet << "”：" << c.rows << " 行；" << (r.written ? "新增 " : "将新增 ") << c.added
                  << " 条" << collection_noun(c.collection) << (lines.empty() ? "" : "（第 " + lines + " 行）") << "；" << c.unchanged
                  << " 行已在 Kehu 中\n";
      } else {
        std::cout << "sheet \"" << c.sheet << "\": " << c.rows << (c.rows == 1 ? " row; " : " rows; ") << c.added
                  << (r.written ? " added" : " would be added")
                  << (lines.empty() ? "" : " (row" + std::string(c.added_lines.size() == 1 ? " " : "s ") + lines + ")")
                  << "; " << c.unchanged << " already in Kehu\n";
      }
    }
    if (stopped) {
      std::cerr << t("fix the bad rows, or import the good ones with --skip-bad\n",
                     "请改正有错的行，或用 --skip-bad 只导入正确的行\n");
    }
    if (!stopped && !r.possible_duplicates.empty()) {
      const auto& d = r.possible_duplicates;
      if (zh) {
        std::cout << "表内有 " << d.size() << " 对可能重复的客户（各有自己的客户编号），"
                  << (r.written ? "已导入" : "将会导入") << "；请核对";
        if (!dup_written.empty()) std::cout << " " << dup_written << " 或";
        std::cout << "用 `kehu customer duplicates` 查看:\n";
      } else {
        std::cout << d.size() << " possible duplicates within the sheet (rows with their own distinct "
                  << "codes), " << (r.written ? "imported" : "would be imported") << "; review them";
        if (!dup_written.empty()) std::cout << " in " << dup_written << " or";
        std::cout << " with `kehu customer duplicates`:\n";
      }
      for (std::size_t i = 0; i < d.size() && i < kImportDuplicatesShown; ++i) {
        std::cout << "  " << dup_line(d[i]) << '\n';
      }
      if (d.size() > kImportDuplicatesShown) {
        std::cout << (zh ? "  … 另有 " : "  … and ") << d.size() - kImportDuplicatesShown << t(" more", " 对")
                  << (dup_written.empty() ? "" : (zh ? "，见 " : " in ") + dup_written) << '\n';
      }
    }
    if (!dup_error.empty()) {
      std::cerr << (zh ? "kehu: 警告: " : "kehu: warning: ") << dup_error << t("; the list is above\n", "；清单见上方\n");
    }
  }
  return stopped ? 2 : 0;
}

int cmd_export(Context& ctx, const std::string& file, bool replace) {
  sheet_format(file);  // an unknown extension is a usage error before anything is written
  // An existing sheet is often the one the customers came from, with rows the
  // import refused and columns Kehu does not keep (walkthrough 6, R6-7).
  refuse_existing_file(file, replace);
  std::size_t n = 0;
  {
    ProgressLine line(ProgressKind::export_customers, ctx.lang == Lang::zh);
    RowProgress progress;
    if (line.enabled()) progress = [&](std::size_t done, std::size_t total) { line.update(done, total); };
    n = export_sheet(ctx.replica(), file, progress);
  }
  if (ctx.json) {
    print_json({{"file", file}, {"customers", n}}, std::cout);
  } else {
    std::cout << n << (ctx.lang == Lang::zh ? " 个客户已导出到 " : " customers exported to ") << file << '\n';
  }
  return 0;
}

}  // namespace kehu::cli
