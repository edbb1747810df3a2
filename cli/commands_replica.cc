// init / status / backup / rekey / import / export subcommands.
#include <iostream>

#include "commands.h"
#include "kehu/error.h"
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
  auto rep = Replica::create(ctx.db_path, ctx.passphrase("New replica passphrase", /*confirm=*/true));
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
      {zh ? "用户" : "user", s.user},
      {zh ? "上次同步" : "last sync", s.last_sync.empty() ? (zh ? "从未" : "never") : s.last_sync},
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
  rep.rekey(next);
  std::cout << (ctx.lang == Lang::zh ? "密码已更换\n" : "passphrase changed\n");
  return 0;
}

int cmd_import(Context& ctx, const std::string& file, bool dry_run, bool skip_bad) {
  auto& rep = ctx.replica();
  ImportReport r = import_csv(rep, file, ImportOptions{dry_run, skip_bad});
  bool stopped = r.bad_rows > 0 && !skip_bad;
  if (ctx.json) {
    json issues = json::array();
    for (const auto& i : r.issues) {
      issues.push_back({{"line", i.line}, {"field", i.field}, {"value", i.value}, {"reason", i.reason}});
    }
    print_json({{"file", file},
                {"encoding", encoding_name(r.encoding)},
                {"rows", r.rows},
                {"created", r.created},
                {"updated", r.updated},
                {"unchanged", r.unchanged},
                {"followups", r.followups},
                {"bad_rows", r.bad_rows},
                {"written", r.written},
                {"dry_run", dry_run},
                {"issues", issues},
                {"unknown_columns", r.unknown_columns}},
               std::cout);
  } else {
    for (const auto& c : r.unknown_columns) std::cerr << file << ": column \"" << c << "\" matches no field; not imported\n";
    for (const auto& i : r.issues) std::cerr << file << ":" << i.line << ": " << i.reason << '\n';
    std::cout << file << " (" << encoding_name(r.encoding) << "): " << r.rows << " rows, "
              << r.bad_rows << " bad; ";
    if (stopped) {
      // import_csv stops before counting what the good rows would do.
      std::cout << "nothing written\n";
    } else {
      std::cout << (r.written ? "" : "dry run: would be ") << r.created << " created, "
                << r.updated << " updated, " << r.unchanged << " unchanged, " << r.followups
                << " follow-ups\n";
    }
    if (stopped) std::cerr << "fix the bad rows, or import the good ones with --skip-bad\n";
  }
  return stopped ? 2 : 0;
}

int cmd_export(Context& ctx, const std::string& file) {
  std::size_t n = export_csv(ctx.replica(), file);
  if (ctx.json) {
    print_json({{"file", file}, {"customers", n}}, std::cout);
  } else {
    std::cout << n << (ctx.lang == Lang::zh ? " 个客户已导出到 " : " customers exported to ") << file << '\n';
  }
  return 0;
}

}  // namespace kehu::cli
