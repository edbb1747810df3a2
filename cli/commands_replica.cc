// init / status / backup / rekey / import / export subcommands.
#include <iostream>

#include "commands.h"
#include "kehu/error.h"
#include "kehu/secret_rules.h"
#include "kehu/sheet.h"
#include "output.h"

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

}  // namespace

int cmd_init(Context& ctx) {
  const std::string passphrase = ctx.passphrase("New replica passphrase", /*confirm=*/true);
  check_new_secret(passphrase, ctx.lang == Lang::zh ? "副本密码" : "the replica passphrase", "", ctx.lang);
  auto rep = Replica::create(ctx.db_path, passphrase);
  if (ctx.json) {
    print_json({{"path", rep->path()}, {"device_id", rep->device_id()},
                {"schema_version", rep->schema_version()}},
               std::cout);
  } else {
    std::cout << "created encrypted replica " << rep->path() << " (device " << rep->device_id()
              << ")\n";
  }
  return 0;
}

int cmd_status(Context& ctx) {
  auto& rep = ctx.replica();
  ReplicaStatus s = rep.status();
  if (rep.meta("token").empty()) s.user.clear();  // logged out, or never logged in
  auto rejected = rep.changes_in_state("rejected");
  auto awaiting = rep.changes_in_state("awaiting");
  auto brief = [](const std::vector<LoggedChange>& changes) {
    json out = json::array();
    for (const auto& c : changes) {
      out.push_back({{"change_id", c.change.change_id}, {"record_id", c.change.record_id},
                     {"code", c.change.code}, {"reason", c.reason}});
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
  std::cout << render_table({zh ? "项目" : "item", zh ? "值" : "value"}, rows);
  auto list = [&](const std::vector<LoggedChange>& changes, const char* label) {
    for (const auto& c : changes) {
      std::cout << label << (c.change.code.empty() ? c.change.record_id : c.change.code) << " "
                << op_name(c.change.op) << ": " << c.reason << '\n';
    }
  };
  list(rejected, zh ? "被拒: " : "rejected: ");
  list(awaiting, zh ? "待审批: " : "awaiting: ");
  return 0;
}

int cmd_backup(Context& ctx, const std::string& file) {
  ctx.replica().backup(file);
  std::cout << (ctx.lang == Lang::zh ? "已备份到 " : "encrypted backup written to ") << file << '\n';
  return 0;
}

int cmd_rekey(Context& ctx) {
  auto& rep = ctx.replica();
  std::string next;
  if (const char* v = std::getenv("KEHU_NEW_PASSPHRASE"); v && *v) {
    next = v;
  } else {
    next = prompt_secret("New passphrase");
    if (prompt_secret("Repeat new passphrase") != next) throw Error(Errc::usage, "the two passphrases differ");
  }
  check_new_secret(next, ctx.lang == Lang::zh ? "新的副本密码" : "the new replica passphrase", "", ctx.lang);
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
  for (const auto& m : args.maps) {
    auto eq = m.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      throw Error(Errc::usage, "--map \"" + m + "\": expected 列名=FIELD (a column header, a field key or label)");
    }
    opts.map.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  sheet_format(file);  // an unknown extension is a usage error before the replica is opened
  auto& rep = ctx.replica();
  ImportReport r = import_sheet(rep, file, opts);
  bool stopped = r.bad_rows > 0 && !opts.skip_bad;
  if (ctx.json) {
    json issues = json::array();
    for (const auto& i : r.issues) {
      issues.push_back({{"line", i.line}, {"field", i.field}, {"value", i.value}, {"reason", i.reason}});
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
                {"unknown_columns", r.unknown_columns}},
               std::cout);
  } else {
    if (!r.column_map.empty()) {
      std::cout << (r.map_remembered ? "using the column map remembered for these headers:"
                                     : (opts.dry_run ? "column map:" : "column map (remembered for these headers):"));
      for (const auto& [h, k] : r.column_map) std::cout << " --map \"" << h << "=" << k << "\"";
      std::cout << '\n';
    }
    for (const auto& c : r.unknown_columns) std::cerr << file << ": column \"" << c << "\" matches no field; not imported (name its field with --map \"" << c << "=FIELD\")\n";
    for (const auto& i : r.issues) std::cerr << file << ":" << i.line << ": " << i.reason << '\n';
    // A dry run lists every update; a real run the rows that need a look.
    for (const auto& c : r.changes) {
      if (!opts.dry_run && c.kind == "update") continue;
      std::ostream& os = opts.dry_run ? std::cout : std::cerr;
      os << file << ":" << c.line << ": " << c.code << ": ";
      if (c.kind == "deleted") {
        os << "in the recycle bin; row skipped (restore the customer to update it)\n";
        continue;
      }
      os << (c.kind == "conflict" ? "conflict: overwrites a local change not yet synced\n" : "update\n");
      for (const auto& f : c.fields) {
        os << "    " << f.field << ": \"" << f.before << "\" -> \"" << f.after << "\""
           << (f.pending ? " (local change not yet synced)" : "") << '\n';
      }
    }
    std::cout << file << " (";
    if (r.format == "xlsx") {
      std::cout << "xlsx, sheet \"" << r.sheet << "\"";
    } else {
      std::cout << encoding_name(r.encoding);
    }
    std::cout << "): " << r.rows << " rows, " << r.bad_rows << " bad; ";
    if (stopped) {
      // import stops before counting what the good rows would do.
      std::cout << "nothing written\n";
    } else {
      std::cout << (r.written ? "" : "dry run: would be ") << r.created << " created, "
                << r.updated << " updated, " << r.unchanged << " unchanged, " << r.followups
                << " follow-ups";
      if (r.conflicts) std::cout << ", " << r.conflicts << " conflicts";
      if (r.skipped_deleted) std::cout << ", " << r.skipped_deleted << " in the recycle bin (skipped)";
      std::cout << '\n';
    }
    if (stopped) std::cerr << "fix the bad rows, or import the good ones with --skip-bad\n";
  }
  return stopped ? 2 : 0;
}

int cmd_export(Context& ctx, const std::string& file) {
  sheet_format(file);  // an unknown extension is a usage error before anything is written
  std::size_t n = export_sheet(ctx.replica(), file);
  if (ctx.json) {
    print_json({{"file", file}, {"customers", n}}, std::cout);
  } else {
    std::cout << n << (ctx.lang == Lang::zh ? " 个客户已导出到 " : " customers exported to ") << file << '\n';
  }
  return 0;
}

}  // namespace kehu::cli
