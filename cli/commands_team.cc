// Team commands that need the server at once (docs/protocol.md "Teams"): the
// public pool (claim, release), reassignment, and change requests (approvals,
// approve, reject). Each asks the server, then syncs, so the replica shows the
// result straight away.
#include <iostream>
#include <optional>

#include "commands.h"
#include "kehu/cause_text.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/sync/sync_session.h"
#include "kehu/text.h"
#include "output.h"

namespace kehu::cli {
namespace {

// The code to send the server for a typed one (c202611001, a full-width or an
// old provisional code): the replica's when it has the customer, else the
// canonical spelling (a pool customer may not be in the replica yet).
std::string server_code(Context& ctx, const std::string& typed) {
  if (auto r = ctx.replica().find_customer_forwarded(typed); r && !r->code.empty()) {
    // A customer merged into another: the server acts on that one; said so (W22-6).
    if (auto own = ctx.replica().find_customer(typed); own && own->id != r->id && !ctx.json) {
      std::cout << (ctx.lang == Lang::zh ? own->code + " 已合并到 " + r->code + "，以下针对 " + r->code + "\n"
                                         : own->code + " was merged into " + r->code + "; acting on " + r->code + "\n");
    }
    return r->code;
  }
  const std::string code = canonical_code(fold_fullwidth(trim(typed)));
  // Not a customer this device holds, nor a code's shape: a mistyped argument.
  if (!parse_customer_code(code)) {
    throw Error(Errc::usage, tr("\"" + typed + "\" is not a customer code (like C202612001)",
                                "“" + typed + "”不是客户编号（应如 C202612001）"));
  }
  return code;
}

// Runs one server action, syncs, and prints `done` (or the answer with --json).
// Returns the server's answer. `push_first`: edits typed before the action are
// pushed before it (a release or reassignment would leave the user's own edits
// of the customer, made while it was theirs, refused as no longer theirs).
json act(Context& ctx, const std::string& path, const json& body, const std::string& what,
         const std::string& done, bool push_first = false) {
  auto& rep = ctx.replica();
  const sync::SyncOptions opts = net_options(ctx, NetArgs{});
  json answer;
  try {
    if (push_first && rep.status().pending > 0) sync::sync(rep, opts);
    answer = sync::request(rep, opts, path, body, what);
  } catch (const Error& e) {
    // The server decides these at once (two people may claim the same customer):
    // unlike an edit, they cannot wait offline for the next sync.
    if (e.code() != Errc::network) throw;
    throw Error(Errc::network, tr(what + " needs the network: the server decides it at once, so it " +
                                      "cannot wait for the next sync; try again when online (" + e.what() + ")",
                                  what + "需要联网：这由服务器当场决定，不能等到下次同步；请联网后再试（" +
                                      e.what() + "）"));
  }
  sync::sync(rep, opts);
  if (ctx.json) {
    print_json(answer, std::cout);
  } else {
    std::cout << done << '\n';
  }
  return answer;
}

// One line per field ("电话 (phone): old → new"), so a long change is shown whole.
// A field changed since the request says so, with today's value (`changed`).
std::vector<std::string> show_fields(const Context& ctx, const std::string& collection, const json& fields,
                                     const json& changed = json::object()) {
  std::vector<std::string> out;
  const bool zh = ctx.lang == Lang::zh;
  for (const auto& [key, fc] : field_changes_from_json(fields)) {
    std::string line = label_of(ctx, collection, key) + ": " + show_value(ctx, collection, key, fc.old_value) +
                       " → " + show_value(ctx, collection, key, fc.new_value);
    if (auto now = changed.find(key); now != changed.end()) {
      const std::string v = show_value(ctx, collection, key, *now);
      line += zh ? (v.empty() ? "（申请后已清空）" : "（申请后已改为 " + v + "）")
                 : (v.empty() ? " (cleared since)" : " (changed since to " + v + ")");
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace

// Why the server withdrew or narrowed a request, in Chinese (push_service.h withdraw_requests).
static std::string withdrawn_reason_zh(const std::string& reason) {
  const auto after = [&](const std::string& head) {
    return reason.rfind(head, 0) == 0 ? std::optional<std::string>(reason.substr(head.size())) : std::nullopt;
  };
  if (reason == "restored") return "申请人已恢复记录";
  if (reason == "released to the public pool") return "已退回公海";
  if (reason == "superseded by a later edit") return "申请人之后又改了这些字段";
  if (auto n = after("superseded by ")) return "被申请 " + *n + " 取代";
  if (auto n = after("reassigned to ")) return "已转给 " + *n;
  // "narrowed TIME: type, stage taken out by a later edit" (a pending request).
  if (auto rest = after("narrowed ")) {
    const auto colon = rest->find(": ");
    const auto tail = rest->rfind(" taken out by a later edit");
    if (colon != std::string::npos && tail != std::string::npos && tail > colon) {
      return rest->substr(0, colon) + " 缩小：申请人之后又改了 " + rest->substr(colon + 2, tail - colon - 2);
    }
  }
  return reason;
}

int cmd_claim(Context& ctx, const std::string& typed) {
  const std::string code = server_code(ctx, typed);
  const bool zh = ctx.lang == Lang::zh;
  act(ctx, "/v1/customers/" + code + "/claim", json::object(), tr("claim " + code, "认领 " + code),
      zh ? "已从公海认领 " + code : "claimed " + code + " from the public pool");
  return 0;
}

// The change requests of the customer's former owner that a release or a
// reassignment withdrew (the server's answer "withdrawn").
static void say_withdrawn(const Context& ctx, const json& answer, const std::string& owner) {
  const json ids = answer.value("withdrawn", json::array());
  if (ctx.json || !ids.is_array() || ids.empty()) return;
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "#" : ", #") + id.dump();
  std::cout << (ctx.lang == Lang::zh
                    ? owner + " 对它的 " + std::to_string(ids.size()) + " 条待审批申请已撤回（" + list + "）\n"
                    : std::to_string(ids.size()) + " pending change request(s) of " + owner + " on it withdrawn (" +
                          list + ")\n");
}

int cmd_release(Context& ctx, const std::string& typed, const std::string& reason) {
  const std::string code = server_code(ctx, typed);
  const bool zh = ctx.lang == Lang::zh;
  const json answer = act(ctx, "/v1/customers/" + code + "/release", {{"reason", reason}},
                          tr("release " + code, "退回 " + code),
                          zh ? "已将 " + code + " 退回公海" : "released " + code + " to the public pool",
                          /*push_first=*/true);
  say_withdrawn(ctx, answer, zh ? "负责人" : "its owner");
  return 0;
}

int cmd_reassign(Context& ctx, const std::string& typed, const std::string& owner,
                 const std::string& reason) {
  const std::string code = server_code(ctx, typed);
  const bool zh = ctx.lang == Lang::zh;
  const json answer = act(ctx, "/v1/customers/" + code + "/reassign", {{"owner", owner}, {"reason", reason}},
                          tr("reassign " + code, "转交 " + code),
                          zh ? code + " 已转给 " + owner : code + " now belongs to " + owner, /*push_first=*/true);
  say_withdrawn(ctx, answer, zh ? "原负责人" : "its former owner");
  return 0;
}

int cmd_approvals(Context& ctx, bool all) {
  // The server answers a page at a time (docs/protocol.md): read them all.
  json requests = json::array();
  for (std::int64_t after = 0;;) {
    json answer = sync::request(ctx.replica(), net_options(ctx, NetArgs{}), "/v1/approvals",
                                {{"status", all ? "all" : "pending"}, {"after", after}},
                                tr("list change requests", "列出修改申请"));
    for (auto& r : answer["requests"]) requests.push_back(std::move(r));
    const std::int64_t next = answer.value("next_after", after);
    if (!answer.value("more", false) || next <= after) break;
    after = next;
  }
  if (ctx.json) {
    print_json(requests, std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  if (requests.empty()) {
    std::cout << (zh ? "没有待审批的修改\n" : "no change requests\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : requests) {
    const std::string collection = r.value("collection", "customers");
    std::string status = r.value("status", "");
    if (zh) {
      status = status == "pending"     ? "待审批"
               : status == "approved"  ? "已批准"
               : status == "rejected"  ? "已驳回"
               : status == "withdrawn" ? "已撤回"
                                       : status;
    }
    if (!r.value("decided_by", "").empty()) status += " (" + r.value("decided_by", "") + ")";
    std::string reason = r.value("reason", "");
    if (zh && (r.value("status", "") == "withdrawn" || r.value("status", "") == "pending")) {
      reason = withdrawn_reason_zh(reason);
    }
    // Waiting, yet no longer approvable: why, before anyone tries (walkthrough 16, R16-10).
    if (const std::string blocked = r.value("blocked", ""); !blocked.empty()) {
      status = zh ? "待审批，已不能批准" : "pending, can no longer be approved";
      reason = blocked;
    }
    std::vector<std::string> lines =
        show_fields(ctx, collection, r.value("fields", json::object()), r.value("changed_since", json::object()));
    // What approving does beside the fields: a merge's delete forwards to the
    // survivor (attacker review 22b, A22b-2).
    if (const std::string cause = r.value("cause", ""); !cause.empty()) {
      lines.push_back((zh ? "起因：" : "cause: ") + cause_text(cause, ctx.lang));
    }
    if (lines.empty()) lines.emplace_back();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const bool first = i == 0;
      rows.push_back({first ? std::to_string(r.value("id", 0)) : "", first ? r.value("customer", "") : "",
                      first ? r.value("requester", "") : "", lines[i], first ? status : "",
                      first ? show_time(ctx, r.value("created_at", "")) : "", first ? reason : ""});
    }
  }
  std::cout << table(ctx, zh ? std::vector<std::string>{"编号", "客户", "申请人", "修改", "状态", "提交时间", "原因"}
                               : std::vector<std::string>{"ID", "Customer", "Requester", "Change", "Status",
                                                          "Requested", "Reason"},
                            rows, 200, Narrow::blocks);
  return 0;
}

int cmd_decide(Context& ctx, const std::string& typed, bool approve, const std::string& reason) {
  const bool zh = ctx.lang == Lang::zh;
  // "#6", as every listing writes a request (walkthrough 13, R13-6).
  const std::string id = !typed.empty() && typed[0] == '#' ? typed.substr(1) : typed;
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw Error(Errc::usage, tr("change request id \"" + id + "\" is not a number (see `kehu approvals`)",
                                "修改申请编号“" + id + "”不是数字（见 `kehu approvals`）"));
  }
  if (!approve) {
    act(ctx, "/v1/approvals/" + id + "/reject", {{"reason", reason}}, tr("reject request #" + id, "驳回申请 #" + id),
        zh ? "已驳回 #" + id : "rejected request #" + id);
    return 0;
  }
  const json answer = act(ctx, "/v1/approvals/" + id + "/approve", json::object(),
                          tr("approve request #" + id, "批准申请 #" + id), zh ? "已批准 #" + id : "approved request #" + id);
  if (ctx.json) return 0;
  // A field changed after the request: the approved value won, and the value it
  // replaced is kept as a conflict. Say so, so nobody's edit goes unnoticed.
  const std::string collection = answer["request"].value("collection", "customers");
  const std::string code = answer["request"].value("customer", "");
  for (const auto& k : answer["result"].value("conflicts", json::array())) {
    const std::string field = k.value("field", "");
    const std::string lost = show_value(ctx, collection, field, k.value("lost", json()));
    const std::string who = k.value("lost_author", "");
    std::cout << (zh ? "注意：" + label_of(ctx, collection, field) + " 在申请后被 " + who + " 改为 " + lost +
                           "；批准的值已生效，被替换的值作为冲突保留，见 `kehu conflicts`（" + code + "）"
                     : "note: " + label_of(ctx, collection, field) + " was changed to " + lost + " by " + who +
                           " after the request; the approved value applies, and the value it replaced is kept " +
                           "as a conflict: see `kehu conflicts` (" + code + ")")
              << '\n';
  }
  return 0;
}

}  // namespace kehu::cli
