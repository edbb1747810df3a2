// login / logout / passwd / sync / conflicts subcommands.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "kehu/error.h"
#include "kehu/hlc.h"
#include "kehu/secret_rules.h"
#include "kehu/text.h"
#include "kehu/sync/sync_session.h"
#include "output.h"
#include "progress_line.h"

namespace kehu::cli {
namespace {

// Throws `code` naming `what` if `path` cannot be read or holds no PEM
// certificate: checked before any network traffic, so a typo is named as such
// and not reported as an untrusted server.
void check_ca_file(const std::string& path, Errc code, const std::string& what, const std::string& fix) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string why = std::strerror(errno);
    throw Error(code, tr(what + " " + path + ": cannot read it (" + why + ")" + fix,
                         what + " " + path + "：无法读取（" + why + "）" + fix));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    throw Error(code, tr(what + " " + path + ": no PEM certificate in it (expected \"-----BEGIN CERTIFICATE-----\")" + fix,
                         what + " " + path + "：里面没有 PEM 证书（应有“-----BEGIN CERTIFICATE-----”）" + fix));
  }
}

// A secret from the environment variable `var`, else from a prompt without echo.
std::string secret(const char* var, const std::string& prompt) {
  if (const char* v = std::getenv(var); v && *v) return v;
  try {
    return prompt_secret(prompt);
  } catch (const Error& e) {
    if (e.code() != Errc::usage) throw;
    throw Error(Errc::usage, tr("no terminal to ask for the " + prompt + ": set " + var,
                                "没有终端可以输入“" + prompt + "”：请设置 " + var));
  }
}

}  // namespace

// The client options for `net`: --ca-file (checked, made absolute) or else, but
// not for login, the CA file remembered at login; --insecure (with a warning on
// stderr). Throws Error(usage) for an unreadable or non-PEM --ca-file,
// Error(io) for a remembered one that is gone.
sync::SyncOptions net_options(Context& ctx, const NetArgs& net, bool login) {
  sync::SyncOptions o;
  if (!net.ca_file.empty()) {
    // Absolute, because login remembers it for later commands run from elsewhere.
    o.http.ca_file = std::filesystem::absolute(net.ca_file).lexically_normal().string();
    check_ca_file(o.http.ca_file, Errc::usage, "--ca-file", "");
  } else if (!login) {
    if (std::string remembered = ctx.replica().meta("ca_file"); !remembered.empty()) {
      check_ca_file(remembered, Errc::io, tr("the CA file remembered at login,", "登录时记下的 CA 文件"),
                    tr("; put it back, or log in again with --ca-file", "；请把它放回原处，或用 --ca-file 重新登录"));
      o.http.ca_file = remembered;
    }
  }
  o.http.insecure = net.insecure;
  if (net.insecure) {
    std::cerr << (ctx.lang == Lang::zh ? "kehu: 警告: --insecure 不检查服务器证书，网络上的任何人都能读取和篡改本次会话；仅用于开发\n"
                                       : "kehu: warning: --insecure: the server's certificate is not checked, so anyone "
                                         "on the network path can read and change this session; for development only\n");
  }
  if (::isatty(STDERR_FILENO)) {
    o.progress = [](const std::string& line) { std::cerr << "\r\033[K" << line << std::flush; };
  }
  return o;
}


int cmd_login(Context& ctx, const std::string& server, const std::string& user, const NetArgs& net) {
  auto& rep = ctx.replica();
  auto opts = net_options(ctx, net, /*login=*/true);
  const std::string password = secret("KEHU_PASSWORD", tr("password for " + user, user + " 的密码"));
  sync::login(rep, server, user, password, opts);
  std::cout << tr("logged in to " + server + " as " + user, "已用 " + user + " 登录 " + server) << '\n';
  return 0;
}

int cmd_logout(Context& ctx, const NetArgs& net) {
  auto& rep = ctx.replica();
  const std::string note = sync::logout(rep, net_options(ctx, net));
  // Nobody is logged in any more: status shows no user. The role stays: the
  // replica is still its user's (login refuses anyone else), and edits made
  // before the next login are checked as that role's, at once, not refused at
  // the next sync (walkthrough 6, R6-5).
  rep.set_meta("user", "");
  bool zh = ctx.lang == Lang::zh;
  if (!note.empty()) std::cerr << (zh ? "kehu: 注意: " : "kehu: note: ") << note << '\n';
  if (const std::int64_t pending = rep.status().pending; pending > 0) {
    std::cerr << (zh ? "kehu: 注意: 还有 " + std::to_string(pending) +
                           " 条修改没有同步，仍在这个副本里；下次登录后运行 `kehu sync` 上传\n"
                     : "kehu: note: " + std::to_string(pending) + (pending == 1 ? " change" : " changes") +
                           " not synced yet " + (pending == 1 ? "stays" : "stay") +
                           " in this replica; run `kehu sync` after the next login\n");
  }
  std::cout << (zh ? "已退出登录\n" : "logged out\n");
  return 0;
}

int cmd_passwd(Context& ctx, const NetArgs& net) {
  auto& rep = ctx.replica();
  const std::string user = rep.meta("user");
  if (user.empty() || rep.meta("token").empty()) {
    throw Error(Errc::unauthorized, tr("not logged in: run `kehu login --server URL --user NAME` first",
                                       "还没有登录：请先运行 `kehu login --server URL --user NAME`"));
  }
  auto opts = net_options(ctx, net);
  const std::string current = secret("KEHU_PASSWORD", tr("current password of " + user, user + " 的当前密码"));
  std::string next;
  if (const char* v = std::getenv("KEHU_NEW_PASSWORD"); v && *v) {
    next = v;
  } else {
    next = secret("KEHU_NEW_PASSWORD", tr("new password of " + user, user + " 的新密码"));
    if (secret("KEHU_NEW_PASSWORD", tr("new password again", "再输入一次新密码")) != next) {
      throw Error(Errc::usage, tr("the two new passwords differ; nothing was changed", "两次输入的新密码不一样；密码没有修改"));
    }
  }
  // The server checks it too; checking here first saves a round trip and answers
  // in the user's language.
  check_new_secret(next, ctx.lang == Lang::zh ? "新密码" : "the new password", user, ctx.lang);
  sync::change_password(rep, current, next, opts);
  std::cout << (ctx.lang == Lang::zh ? "已修改 " + user + " 的密码；其他设备需要重新登录\n"
                                     : "changed the password of " + user + "; other devices must log in again\n");
  return 0;
}

namespace {

json refusals_json(const std::vector<sync::SyncReport::Refusal>& list) {
  json out = json::array();
  for (const auto& x : list) {
    json j = {{"seq", x.seq}, {"code", x.code}, {"collection", x.collection}, {"fields", x.fields},
              {"typed", x.typed},     {"reason", x.reason}};
    if (x.request) j["request"] = x.request;
    out.push_back(std::move(j));
  }
  return out;
}

json forwarded_json(const std::vector<std::pair<std::string, std::string>>& list) {
  json out = json::array();
  for (const auto& [from, to] : list) out.push_back({{"from", from}, {"to", to}});
  return out;
}

// "C202612001 信用等级 (credit_rating): reason", the fields in the user's language.
std::string describe_refusal(const Context& ctx, const sync::SyncReport::Refusal& x) {
  std::string fields;
  for (const auto& key : x.fields) {
    fields += (fields.empty() ? "" : ", ") + label_of(ctx, x.collection, key) + " (" + key + ")";
  }
  std::string out = x.code.empty() ? "#" + std::to_string(x.seq) : x.code;
  if (!fields.empty()) out += " " + fields;
  return out + tr(": ", "：") + x.reason;
}

// Codes as a list in the user's language, the first 20 of them.
std::string listed_codes(const Context& ctx, const std::vector<std::string>& codes) {
  constexpr std::size_t kShown = 20;
  const bool zh = ctx.lang == Lang::zh;
  std::string out;
  for (std::size_t i = 0; i < codes.size() && i < kShown; ++i) out += (i ? (zh ? "、" : ", ") : "") + codes[i];
  if (codes.size() > kShown) out += zh ? " 等" : ", …";
  return out;
}

}  // namespace

namespace {

// 1 when the server refused an edit: the sync ran, but not everything typed is
// on the server, and a script must be able to tell (`git push` does the same).
int sync_exit_code(const sync::SyncReport& r) { return r.rejected > 0 || !r.held_back.empty() ? 1 : 0; }

}  // namespace

int cmd_sync(Context& ctx, const NetArgs& net) {
  auto opts = net_options(ctx, net);
  const bool zh_progress = ctx.lang == Lang::zh;
  ProgressLine push(ProgressKind::push_changes, zh_progress), pull(ProgressKind::pull_revisions, zh_progress);
  if (push.enabled()) {
    opts.counts = [&](ProgressKind kind, std::size_t done, std::size_t total) {
      if (kind == ProgressKind::push_changes) {
        push.update(done, total);
      } else {
        pull.update(done, total);
      }
    };
  }
  sync::SyncReport r = sync::sync(ctx.replica(), opts);
  if (opts.progress) std::cerr << "\r\033[K";
  if (ctx.json) {
    json away_json = json::array();
    for (const auto& [code, owner] : r.reassigned_away) away_json.push_back({{"code", code}, {"owner", owner}});
    print_json({{"pushed", r.pushed},
                {"applied", r.applied},
                {"rejected", r.rejected},
                {"approved", r.approved},
                {"turned_down", r.turned_down},
                {"pulled_records", r.pulled_records},
                {"pulled_revisions", r.pulled_revisions},
                {"merged", r.merged},
                {"conflicts", r.conflicts},
                {"rejections", refusals_json(r.rejections)},
                {"forwarded", forwarded_json(r.forwarded)},
                {"awaiting_approval", refusals_json(r.held)},
                {"possible_duplicates", r.possible_duplicates},
                {"more_possible_duplicates", r.more_possible_duplicates},
                {"server_restored", r.server_restored},
                {"vanished", r.vanished_codes},
                {"to_pool", r.to_pool_codes},
                {"requests_to_decide", r.requests_to_decide},
                {"reassigned_to_you", r.reassigned_to_you},
                {"reassigned_away", away_json},
                {"changed_by_restore", r.changed_by_restore},
                {"withdrawn_by_edit", r.withdrawn_by_edit},
                {"rebased", r.rebased},
                {"held_back", r.held_back_changes},
                {"held_back_reason", r.held_back},
                {"copy_before_restore", r.copy_before_restore}},
               std::cout);
    return sync_exit_code(r);
  }
  bool zh = ctx.lang == Lang::zh;
  // The parenthesis counts what this push sent; requests of earlier syncs a
  // manager decided since are said on a line of their own.
  const std::size_t refused_now = r.rejected - r.turned_down;
  if (zh) {
    std::cout << "推送 " << r.pushed << " 条修改（接受 " << r.applied << "，拒绝 " << refused_now
              << (r.awaiting ? "，待审批 " + std::to_string(r.awaiting) : std::string())
              << (r.partly_awaiting ? "；接受的修改中有 " + std::to_string(r.partly_awaiting) + " 条的部分字段待审批"
                                    : std::string())
              << "）；拉取 " << r.pulled_records << " 条记录、" << r.pulled_revisions << " 个版本；合并 "
              << r.merged << "；冲突 " << r.conflicts << '\n';
  } else {
    auto n = [](std::size_t count, const char* one, const char* many) {
      return std::to_string(count) + " " + (count == 1 ? one : many);
    };
    std::cout << "pushed " << n(r.pushed, "change", "changes") << " (" << r.applied << " applied, " << refused_now
              << " rejected" << (r.awaiting ? ", " + std::to_string(r.awaiting) + " awaiting approval" : std::string())
              << (r.partly_awaiting ? "; " + std::to_string(r.partly_awaiting) + " applied with fields awaiting approval"
                                    : std::string())
              << "); pulled " << n(r.pulled_records, "record", "records") << ", "
              << n(r.pulled_revisions, "revision", "revisions") << "; merged " << r.merged << "; conflicts "
              << r.conflicts << '\n';
  }
  if (r.approved) {
    std::cout << (zh ? "经理已批准 " + std::to_string(r.approved) + " 条之前等待审批的修改\n"
                     : std::to_string(r.approved) + (r.approved == 1 ? " change" : " changes") +
                           " awaiting approval " + (r.approved == 1 ? "was" : "were") + " approved\n");
  }
  if (r.turned_down) {
    std::cout << (zh ? "经理驳回了 " + std::to_string(r.turned_down) + " 条之前等待审批的修改\n"
                     : std::to_string(r.turned_down) + (r.turned_down == 1 ? " change" : " changes") +
                           " awaiting approval " + (r.turned_down == 1 ? "was" : "were") + " turned down by a manager\n");
  }
  for (const auto& x : r.rejections) {
    std::cout << (zh ? "被拒：" : "rejected: ") << describe_refusal(ctx, x) << '\n';
  }
  if (!r.held_back.empty()) {
    const std::string n = std::to_string(r.held_back_changes);
    std::cout << (zh ? n + " 条修改还没有上传（仍在本机）：" + r.held_back + "\n"
                     : n + (r.held_back_changes == 1 ? " change was" : " changes were") +
                           " not sent (still on this device): " + r.held_back + "\n");
  }
  for (const std::int64_t n : r.withdrawn_by_edit) {
    std::cout << (zh ? "申请 #" + std::to_string(n) + " 已撤回：你之后又改了这些字段\n"
                     : "request #" + std::to_string(n) + " withdrawn: you changed those fields again\n");
  }
  if (r.server_restored) {
    // Walkthrough 11, R11-5: the sync said nothing of what the restore took.
    std::cout << (zh ? "服务器的数据从备份恢复过：本机已重新下载全部数据"
                     : "the server's data was restored from a backup: this device pulled it all again");
    if (r.rebased) {
      std::cout << (zh ? "；" + std::to_string(r.rebased) + " 条本机修改按恢复后的数据重新提交"
                       : "; " + std::to_string(r.rebased) + (r.rebased == 1 ? " edit" : " edits") +
                             " of this device sent again on the restored data");
    }
    std::cout << '\n';
    std::cout << (zh ? "恢复前本机数据的加密副本：" + r.copy_before_restore + "（用 `kehu --db 该文件 customer show 编号` 查看）\n"
                     : "an encrypted copy of this device's data from before: " + r.copy_before_restore +
                           " (read it with `kehu --db FILE customer show CODE`)\n");
    if (!r.vanished_codes.empty()) {
      const std::string codes = listed_codes(ctx, r.vanished_codes);
      const std::string n = std::to_string(r.vanished_codes.size());
      const bool one = n == "1";
      // Added after the backup, or given to the user after it (a reassignment,
      // a claim): the device cannot tell, and adding again would duplicate
      // the second kind (walkthrough 18, R18-15).
      // Whom to ask depends on who reads it: a manager or admin is the one a
      // salesperson would ask (walkthrough 19, R19-3).
      const std::string role = ctx.replica().meta("role");
      const bool decides = role == "manager" || role == "admin";
      std::cout << (zh ? "恢复后的服务器上没有这 " + n + " 个客户，或它们已不在你的范围内（备份之后才添加、转给你或认领的）：" +
                             codes + "；它们在上面的副本里。重新录入之前，" +
                             (decides ? std::string("请先用 kehu audit 或管理员的 kehu-server 查一下它们是否仍在服务器上、归别人负责")
                                      : std::string("请先问经理它们是否仍在服务器上、归别人负责")) +
                             "（否则会录重）\n"
                       : n + (one ? " customer" : " customers") + " this device held " + (one ? "is" : "are") +
                             " not on the restored server, or not yours there (added, reassigned to you or claimed "
                             "after the backup): " + codes + "; " + (one ? "it is" : "they are") +
                             " in the copy above. Before adding one again, " +
                             (decides ? std::string("check with kehu audit (or an admin's kehu-server) whether it is on "
                                                    "the server under another owner")
                                      : std::string("ask a manager whether it is on the server under another owner")) +
                             " (adding it would make a duplicate)\n");
    }
    if (!r.changed_by_restore.empty()) {
      const std::string codes = listed_codes(ctx, r.changed_by_restore), n = std::to_string(r.changed_by_restore.size());
      const bool one = n == "1";
      std::cout << (zh ? n + " 个客户在恢复后的服务器上与本机之前的值不同（备份之后的修改没了）：" + codes +
                             "；用上面的副本对照（kehu --db 副本 customer show 编号），需要的话请重新修改\n"
                       : n + (one ? " customer holds" : " customers hold") +
                             " other values on the restored server than this device held (edits after the backup are "
                             "gone): " + codes + "; compare with the copy above (kehu --db COPY customer show CODE) "
                             "and edit again if needed\n");
    }
  }
  if (!r.removed_codes.empty()) {
    std::string codes;
    for (const auto& c : r.removed_codes) codes += (codes.empty() ? "" : zh ? "、" : ", ") + c;
    std::cout << (zh ? "已不在你的范围内（转给了别人、退回公海或移出了你的区域），已从本机移除：" + codes + "\n"
                     : "no longer in your scope (reassigned, returned to the public pool or moved out of your "
                       "regions), removed from this device: " + codes + "\n");
  }
  if (!r.to_pool_codes.empty()) {
    std::string codes;
    for (const auto& c : r.to_pool_codes) codes += (codes.empty() ? "" : zh ? "、" : ", ") + c;
    const std::string n = std::to_string(r.to_pool_codes.size());
    std::cout << (zh ? n + " 个你的客户被退回了公海（见 kehu history 客户编号），任何人都可认领；要收回请 kehu customer claim 客户编号：" +
                           codes + "\n"
                     : n + " of your customers went back to the public pool (kehu history CODE says why); anyone may "
                           "claim them now, you too: kehu customer claim CODE: " + codes + "\n");
  }
  if (!r.reassigned_to_you.empty()) {
    std::string codes;
    for (const auto& c : r.reassigned_to_you) codes += (codes.empty() ? "" : zh ? "、" : ", ") + c;
    const std::string n = std::to_string(r.reassigned_to_you.size());
    std::cout << (zh ? n + " 个客户转给了你（kehu history 客户编号 可看原因）：" + codes + "\n"
                     : n + (r.reassigned_to_you.size() == 1 ? " customer was" : " customers were") +
                           " given to you (kehu history CODE says why): " + codes + "\n");
  }
  if (!r.reassigned_away.empty()) {
    std::string list;
    for (const auto& [code, owner] : r.reassigned_away) list += (list.empty() ? "" : zh ? "、" : ", ") + code + " → " + owner;
    const std::string n = std::to_string(r.reassigned_away.size());
    std::cout << (zh ? n + " 个你的客户已转给别人（kehu history 客户编号 可看原因）：" + list + "\n"
                     : n + " of your customers now " + (r.reassigned_away.size() == 1 ? "belongs" : "belong") +
                           " to a colleague (kehu history CODE says why): " + list + "\n");
  }
  if (r.requests_to_decide > 0) {
    const std::string n = std::to_string(r.requests_to_decide) +
                          (r.requests_to_decide >= sync::SyncReport::kRequestsCounted ? "+" : "");
    std::cout << (zh ? n + " 个修改申请等待你审批：kehu approvals\n"
                     : n + (r.requests_to_decide == 1 ? " change request waits" : " change requests wait") +
                           " for your decision: kehu approvals\n");
  }
  for (const auto& [from, to] : r.forwarded) {
    std::cout << (zh ? from + " 已被合并到 " + to + "：你对它的修改和新记录已记到 " + to + " 上\n"
                     : from + " was merged into " + to + ": your edits and new records of it went to " + to + "\n");
  }
  if (!r.renumbered.empty()) {
    // At most 20 named: an import of hundreds would fill the screen.
    constexpr std::size_t kShown = 20;
    std::string list;
    std::size_t reused = 0;
    for (std::size_t i = 0; i < r.renumbered.size(); ++i) {
      const auto& [sent, given] = r.renumbered[i];
      const auto now_sent = ctx.replica().find_customer(sent), now_given = ctx.replica().find_customer(given);
      const bool other = now_sent && now_given && now_sent->id != now_given->id;
      reused += other ? 1 : 0;
      if (i >= kShown) continue;
      list += (i ? (zh ? "、" : ", ") : "") + sent + " → " + given;
      // A code a restored store handed out again names the other customer now
      // (walkthrough 18, R18-10): said, not "the old code still finds it".
      if (other) {
        list += zh ? "（" + sent + " 现在是另一个客户的编号：服务器从备份恢复过，这个编号又给了别的客户）"
                   : " (" + sent + " now names another customer: the server was restored from a backup and gave "
                         "that code out again)";
      }
    }
    if (r.renumbered.size() > kShown) list += zh ? " 等" : ", …";
    const std::string n = std::to_string(r.renumbered.size());
    // Old codes find their customers on this device only (walkthrough 19,
    // R19-21), and not those given out again (R19-22).
    const std::string tail =
        reused == r.renumbered.size()
            ? tr("; use the new codes from now on", "；今后请用新编号")
        : reused > 0 ? tr("; on this device the other old codes still find their customers (kehu customer show OLD-CODE)",
                          "；在本机上，其他旧编号仍能找到对应的客户（kehu customer show 旧编号）")
                     : tr("; on this device the old codes still find them (kehu customer show OLD-CODE)",
                          "；在本机上用旧编号仍能找到它们（kehu customer show 旧编号）");
    std::cout << (zh ? "服务器给 " + n + " 个新客户换了编号：" + list + tail + "\n"
                     : "the server gave " + n + (r.renumbered.size() == 1 ? " new customer another code: "
                                                                            : " new customers other codes: ") + list +
                           tail + "\n");
  }
  if (!r.rejections.empty()) {
    std::cout << (zh ? "被拒的修改保存在本机：用 `kehu rejected` 查看、改后重新提交或放弃\n"
                     : "refused edits are kept on this device: `kehu rejected` lists them to re-apply or dismiss\n");
  }
  if (!r.held.empty()) {
    std::cout << (zh ? std::to_string(r.held.size()) + " 条修改等待经理审批\n"
                     : std::to_string(r.held.size()) + (r.held.size() == 1 ? " change awaits" : " changes await") +
                           " a manager's approval\n");
    for (const auto& x : r.held) std::cout << "  " << describe_refusal(ctx, x) << '\n';
  }
  print_possible_duplicates(r.possible_duplicates, r.more_possible_duplicates, zh, std::cout);
  if (r.conflicts) {
    std::cout << (zh ? "用 `kehu conflicts` 查看冲突\n" : "see them with `kehu conflicts`\n");
  }
  return sync_exit_code(r);
}

namespace {

// The field's value now, when an edit after the conflict changed it from the
// kept value (never for a delete/edit conflict: `deleted` is no field value).
std::optional<json> changed_since(const std::optional<Record>& rec, const Conflict& c) {
  if (!rec || c.field == kDeletedField) return std::nullopt;
  if (c.kind == "tag") {  // the member's presence, as the conflict's sides hold it
    const bool now = tag_set(rec->fields.value(c.field, json())).count(c.member) > 0;
    if (json(now) == c.kept) return std::nullopt;
    return json(now);
  }
  json now = rec->fields.value(c.field, json());
  if (now == c.kept || (now.is_null() && c.kept.is_string() && c.kept.get<std::string>().empty())) return std::nullopt;
  return now;
}

// A side of a conflict as a person reads it. A tag conflict's sides say whether
// the tag is there: "with tag 重点客户" / "without tag 重点客户" (no quotes: the
// messages quote the side).
std::string show_side(const Context& ctx, const Conflict& c, const FieldDef* f, const std::string& collection,
                      const json& v) {
  if (c.kind == "tag") {
    return v == true ? tr("with tag " + c.member, "有标签 " + c.member)
                     : tr("without tag " + c.member, "没有标签 " + c.member);
  }
  return f ? display_value(*f, v, ctx.lang) : show_value(ctx, collection, c.field, v);
}

}  // namespace

int cmd_conflicts(Context& ctx) {
  auto& rep = ctx.replica();
  auto open = rep.open_conflicts();
  if (ctx.json) {
    json arr = json::array();
    for (const auto& oc : open) {
      json j = to_json(oc.conflict);
      j["code"] = oc.code;
      j["record_id"] = oc.record_id;
      if (auto rec = rep.get(oc.record_id)) j["collection"] = rec->collection;
      j["rev"] = oc.rev;
      j["kept_at"] = hlc_to_iso(oc.conflict.kept_hlc);
      j["lost_at"] = hlc_to_iso(oc.conflict.lost_hlc);
      if (auto rec = rep.get(oc.record_id)) {
        if (std::optional<json> now = changed_since(rec, oc.conflict)) j["current"] = *now;
      }
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
    const CollectionDef* cd = rep.schema().find(coll);
    const FieldDef* f = cd ? cd->find(c.field) : nullptr;
    auto show = [&](const json& v) { return show_side(ctx, c, f, coll, v); };
    const std::string kind = c.kind == "delete_edit" ? tr("deleted while edited", "删除与修改冲突")
                             : c.kind == "tag"       ? tr("tag added and removed", "标签一方加、一方删")
                                                     : tr("both edited", "双方都修改了");
    // A child record is named as `conflicts resolve` takes it: by its short id.
    const std::string subject =
        coll == "customers" ? oc.code : oc.code + " " + collection_noun(coll) + " " + short_id(oc.record_id);
    // A later edit of the field (kept Deal, then set to Intention): the table
    // says what the field holds now, as `approvals` does.
    std::string kept = show(c.kept);
    if (std::optional<json> now = changed_since(rec, c)) {
      // A field cleared since says so, not "changed since to " and nothing (R19-14).
      const std::string v = show(*now);
      kept += ctx.lang == Lang::zh ? (v.empty() ? "（之后已清空）" : "（之后已改为 " + v + "）")
                                   : (v.empty() ? " (cleared since)" : " (changed since to " + v + ")");
    }
    // The two values first: on a narrow terminal the columns on the right give
    // way, and what would be lost must still show.
    // A delete_edit's losing side is the record left live with the edit, which
    // is kept either way: said, not an empty cell (walkthrough 22b, W22-8).
    const std::string lost = c.kind == "delete_edit" ? tr("not deleted (the edit is kept)", "未删除（修改已保留）")
                                                     : show(c.lost);
    rows.push_back({subject, label_of(ctx, coll, c.field), kept, lost,
                    c.kept_author + " " + show_hlc_time(ctx, c.kept_hlc),
                    c.lost_author + " " + show_hlc_time(ctx, c.lost_hlc), kind});
  }
  std::vector<std::string> header =
      zh ? std::vector<std::string>{"客户", "字段", "保留值", "落选值", "保留方", "落选方", "类型"}
         : std::vector<std::string>{"Customer", "Field", "Kept", "Lost", "Kept by", "Lost by", "Kind"};
  std::cout << table(ctx, header, rows, 40, Narrow::blocks);
  return 0;
}

namespace {

// Whether an open conflict is on `field` (a key or a label of the record's collection).
bool conflict_on(const Replica& rep, const OpenConflict& oc, const std::string& collection, const std::string& field) {
  if (field == kDeletedField) return oc.conflict.field == kDeletedField;
  const CollectionDef* cd = rep.schema().find(collection);
  const FieldDef* f = cd ? cd->find(field) : nullptr;
  return f && f->key == oc.conflict.field;
}

// The record whose conflict on `field` the user means by `typed`: the record it
// names (a code, an id, or a child's short id), or, for a customer code, the one
// record of that customer with an open conflict on the field (a follow-up's
// conflict is listed under its customer). Several such records: a usage error
// that lists their short ids.
Record conflict_record(Replica& rep, const std::string& typed, const std::string& field) {
  const Record rec = find_record_ref(rep, typed);
  if (rec.collection != "customers") return rec;
  std::vector<Record> candidates;
  bool on_customer = false;
  for (const auto& oc : rep.open_conflicts()) {
    auto r = rep.get(oc.record_id);
    if (!r || !conflict_on(rep, oc, r->collection, field)) continue;
    if (r->id == rec.id) on_customer = true;
    if (r->parent == rec.id && std::none_of(candidates.begin(), candidates.end(),
                                            [&](const Record& c) { return c.id == r->id; })) {
      candidates.push_back(*r);
    }
  }
  if (on_customer || candidates.empty()) return rec;  // resolve_conflict says what is wrong
  if (candidates.size() > 1) {
    std::string ids;
    for (const auto& c : candidates) ids += (ids.empty() ? "" : ", ") + short_id(c.id);
    throw Error(Errc::usage, tr(typed + " has " + std::to_string(candidates.size()) + " records with an open conflict on " +
                                    field + ": name one by the id `kehu conflicts` shows (" + ids + ")",
                                typed + " 有 " + std::to_string(candidates.size()) + " 条记录在“" + field +
                                    "”上有未解决的冲突：请用 `kehu conflicts` 显示的编号指明一条（" + ids + "）"));
  }
  return candidates.front();
}

}  // namespace

int cmd_conflict_resolve(Context& ctx, const std::string& typed, const std::string& typed_field,
                         const std::string& keep_given) {
  // The delete-edit conflict's field as `kehu conflicts` shows it (已删除,
  // Deleted) or the recycle bin: the key (walkthrough 9, R9-15).
  std::string lowered = typed_field;
  for (char& ch : lowered) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const std::string field =
      lowered == "deleted" || lowered == "recycle bin" || typed_field == "已删除" || typed_field == "回收站"
          ? std::string(kDeletedField)
          : typed_field;
  if (keep_given != "mine" && keep_given != "theirs" && keep_given != "current") {
    throw Error(Errc::usage, tr("--keep must be \"mine\", \"theirs\" or \"current\", not \"" + keep_given + "\"",
                                "--keep 应为 mine（我的）、theirs（对方的）或 current（当前值），不能是“" + keep_given + "”"));
  }
  auto& rep = ctx.replica();
  const Record rec = conflict_record(rep, typed, field);
  const CollectionDef& coll = rep.schema().collection(rec.collection);
  const FieldDef* f = coll.find(field);
  const std::string key = field == kDeletedField ? std::string(kDeletedField) : f ? f->key : field;
  const std::string name = f ? label_of(ctx, rec.collection, f->key) : label_of(ctx, rec.collection, field);
  // The record as the user typed it: its code, or a child's noun and short id.
  const std::string code = rec.collection == "customers" ? rec.code : collection_noun(rec.collection) + " " + short_id(rec.id);
  const bool zh = ctx.lang == Lang::zh;
  std::optional<OpenConflict> newest;  // as Replica::resolve_conflict picks it: one with a side made here first
  for (auto& oc : rep.open_conflicts()) {
    if (oc.record_id != rec.id || oc.conflict.field != key) continue;
    const bool here = oc.conflict.kept_device == rep.device_id() || oc.conflict.lost_device == rep.device_id();
    const bool newest_here = newest && (newest->conflict.kept_device == rep.device_id() ||
                                        newest->conflict.lost_device == rep.device_id());
    if (here || !newest_here) newest = std::move(oc);
  }
  if (!newest && (f || key == kDeletedField)) {
    throw Error(Errc::not_found, tr("no open conflict on " + code + " " + name, code + " 的 " + name + " 上没有未解决的冲突"));
  }
  std::string keep = keep_given;
  std::string value_kept;  // what the field ends up holding, as shown
  if (newest) {
    const Conflict& c = newest->conflict;
    const bool kept_is_mine = c.kept_device == rep.device_id();
    const std::string kept_side = kept_is_mine ? "mine" : "theirs";
    auto show = [&](const json& v) { return show_side(ctx, c, f, rec.collection, v); };
    if (std::optional<json> now = changed_since(rec, c)) {
      // Edited again after the conflict: only the value it holds now may settle
      // it; either side's value would overwrite that later edit.
      const json& chosen = keep == "current" ? *now : (keep == kept_side ? c.kept : c.lost);
      if (chosen != *now) {
        const std::string cmd = "kehu conflicts resolve " + typed + " " + field + " --keep current";
        throw Error(Errc::usage,
                    tr(code + " " + name + (show(*now).empty() ? " was cleared" : " was changed to \"" + show(*now) + "\"") +
                           " after this conflict (kept \"" +
                           show(c.kept) + "\", lost \"" + show(c.lost) + "\"): --keep " + keep +
                           " would overwrite that later edit, so nothing was changed. Keep the value it holds now with `" +
                           cmd + "`; for another value, edit the field first, then settle the conflict with --keep current",
                       code + " 的 " + name + (show(*now).empty() ? " 在这个冲突之后被清空了" : " 在这个冲突之后又改成了“" + show(*now) + "”") +
                           "（保留值“" + show(c.kept) +
                           "”，落选值“" + show(c.lost) + "”）：--keep " + keep +
                           " 会覆盖这次较新的修改，所以什么都没有改。保留当前值请用 `" + cmd +
                           "`；要改成别的值，请先修改这个字段，再用 --keep current 关闭冲突"));
      }
      keep = kept_side;  // settles without writing the field: it keeps its value
      value_kept = show(*now);  // not the kept side's older value (walkthrough 14, R14-3)
    } else {
      if (keep == "current") keep = kept_side;
      // Which value stays, said in words: "theirs" of a conflict neither side
      // of which was made here is the kept one (walkthrough 13, R13-3).
      const bool keeps_kept = (keep == "mine") == kept_is_mine;
      value_kept = show(keeps_kept ? c.kept : c.lost);
    }
  } else if (keep == "current") {
    keep = "theirs";  // resolve_conflict names what is wrong
  }
  rep.resolve_conflict(rec.collection == "customers" ? typed : rec.id, field, keep);
  const std::string how = keep_given == "current" ? (zh ? "保留当前值" : "current")
                          : keep == "mine"        ? (zh ? "保留我的值" : "mine")
                                                  : (zh ? "保留对方的值" : "theirs");
  if (zh) {
    std::cout << "冲突已解决：" << code << " " << name << "（" << how << "）"
              << (newest ? "，保留“" + value_kept + "”" : std::string())
              << "；下次同步后，所有设备上的这个冲突都会关闭\n";
  } else {
    std::cout << "resolved: " << code << " " << name << " (" << how << ")"
              << (newest ? ", keeping \"" + value_kept + "\"" : std::string())
              << "; the next sync closes it on every device\n";
  }
  return 0;
}

}  // namespace kehu::cli
