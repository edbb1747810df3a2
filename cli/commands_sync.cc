// login / logout / sync / conflicts subcommands.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "kehu/error.h"
#include "kehu/hlc.h"
#include "kehu/text.h"
#include "kehu/sync/sync_session.h"
#include "output.h"

namespace kehu::cli {
namespace {

sync::SyncOptions sync_options(const NetArgs& net) {
  sync::SyncOptions o;
  o.http.ca_file = net.ca_file;
  o.http.insecure = net.insecure;
  if (::isatty(STDERR_FILENO)) {
    o.progress = [](const std::string& line) { std::cerr << "\r\033[K" << line << std::flush; };
  }
  return o;
}

}  // namespace

int cmd_login(Context& ctx, const std::string& server, const std::string& user, const NetArgs& net) {
  auto& rep = ctx.replica();
  std::string password;
  if (const char* v = std::getenv("KEHU_PASSWORD"); v && *v) {
    password = v;
  } else {
    password = prompt_secret(("Password for " + user).c_str());
  }
  sync::login(rep, server, user, password, sync_options(net));
  std::cout << (ctx.lang == Lang::zh ? "已登录 " : "logged in to ") << server << " as " << user << '\n';
  return 0;
}

int cmd_logout(Context& ctx) {
  sync::logout(ctx.replica());
  std::cout << (ctx.lang == Lang::zh ? "已退出登录\n" : "logged out\n");
  return 0;
}

int cmd_sync(Context& ctx, const NetArgs& net) {
  auto opts = sync_options(net);
  sync::SyncReport r = sync::sync(ctx.replica(), opts);
  if (opts.progress) std::cerr << "\r\033[K";
  if (ctx.json) {
    print_json({{"pushed", r.pushed},
                {"applied", r.applied},
                {"rejected", r.rejected},
                {"pulled_records", r.pulled_records},
                {"pulled_revisions", r.pulled_revisions},
                {"merged", r.merged},
                {"conflicts", r.conflicts},
                {"rejections", r.rejections}},
               std::cout);
    return 0;
  }
  bool zh = ctx.lang == Lang::zh;
  if (zh) {
    std::cout << "推送 " << r.pushed << " 条修改（接受 " << r.applied << "，拒绝 " << r.rejected
              << "）；拉取 " << r.pulled_records << " 条记录、" << r.pulled_revisions << " 个版本；合并 "
              << r.merged << "；冲突 " << r.conflicts << '\n';
  } else {
    std::cout << "pushed " << r.pushed << " changes (" << r.applied << " applied, " << r.rejected
              << " rejected); pulled " << r.pulled_records << " records, " << r.pulled_revisions
              << " revisions; merged " << r.merged << "; conflicts " << r.conflicts << '\n';
  }
  for (const auto& why : r.rejections) std::cout << (zh ? "被拒: " : "rejected: ") << why << '\n';
  if (r.conflicts) {
    std::cout << (zh ? "用 `kehu conflicts` 查看冲突\n" : "see them with `kehu conflicts`\n");
  }
  return 0;
}

int cmd_conflicts(Context& ctx) {
  auto& rep = ctx.replica();
  auto open = rep.open_conflicts();
  if (ctx.json) {
    json arr = json::array();
    for (const auto& oc : open) {
      json j = to_json(oc.conflict);
      j["code"] = oc.code;
      j["record_id"] = oc.record_id;
      j["rev"] = oc.rev;
      j["kept_at"] = hlc_to_iso(oc.conflict.kept_hlc);
      j["lost_at"] = hlc_to_iso(oc.conflict.lost_hlc);
      arr.push_back(j);
    }
    print_json(arr, std::cout);
    return 0;
  }
  bool zh = ctx.lang == Lang::zh;
  if (open.empty()) {
    std::cout << (zh ? "没有未解决的冲突\n" : "no open conflicts\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& oc : open) {
    const Conflict& c = oc.conflict;
    auto rec = rep.get(oc.record_id);
    std::string coll = rec ? rec->collection : "customers";
    const CollectionDef* cd = Schema::builtin().find(coll);
    const FieldDef* f = cd ? cd->find(c.field) : nullptr;
    auto show = [&](const json& v) {
      return f ? display_value(*f, v, ctx.lang) : (v.is_null() ? "" : v.dump());
    };
    rows.push_back({oc.code, label_of(ctx, coll, c.field), c.kind, show(c.kept),
                    c.kept_author + " " + hlc_to_iso(c.kept_hlc), show(c.lost),
                    c.lost_author + " " + hlc_to_iso(c.lost_hlc)});
  }
  std::vector<std::string> header =
      zh ? std::vector<std::string>{"客户", "字段", "类型", "保留值", "保留方", "落选值", "落选方"}
         : std::vector<std::string>{"Customer", "Field", "Kind", "Kept", "Kept by", "Lost", "Lost by"};
  std::cout << render_table(header, rows, 40);
  return 0;
}

int cmd_conflict_resolve(Context& ctx, const std::string& code, const std::string& field,
                         const std::string& keep) {
  ctx.replica().resolve_conflict(code, field, keep);
  std::cout << (ctx.lang == Lang::zh ? "冲突已解决: " : "resolved: ") << code << " " << field
            << " (" << keep << ")\n";
  return 0;
}

}  // namespace kehu::cli
