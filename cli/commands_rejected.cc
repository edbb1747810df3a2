// `kehu rejected`: edits the server refused (or a manager turned down), kept on
// the device with what was typed, to re-apply in another form or to dismiss.
#include <iostream>

#include "commands.h"
#include "kehu/cause_text.h"
#include "kehu/error.h"
#include "kehu/text.h"
#include "output.h"

namespace kehu::cli {
namespace {

// The customer a refused change was for; the code the change carried when the
// customer has left the device (reassigned, moved out of the user's regions).
std::string code_of(const Replica& rep, const Change& c) { return rep.customer_code_of(c); }

}  // namespace

int cmd_rejected(Context& ctx) {
  auto& rep = ctx.replica();
  const auto refused = rep.changes_in_state("rejected");
  if (ctx.json) {
    json arr = json::array();
    for (const auto& lc : refused) {
      arr.push_back({{"seq", lc.seq},
                     {"record_id", lc.change.record_id},
                     {"code", code_of(rep, lc.change)},
                     {"collection", lc.change.collection},
                     {"op", op_name(lc.change.op)},
                     {"typed", typed_values(lc.change)},
                     {"cause", lc.change.cause},
                     {"reason", lc.reason},
                     {"at", lc.at}});
    }
    print_json(arr, std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  if (refused.empty()) {
    std::cout << (zh ? "（没有被拒的修改）\n" : "(no refused edits)\n");
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& lc : refused) {
    const Change& c = lc.change;
    bool first = true;
    auto add = [&](const std::string& field, const std::string& typed) {
      rows.push_back({first ? std::to_string(lc.seq) : "", first ? code_of(rep, c) : "",
                      first ? show_time(ctx, lc.at) : "", field, typed, first ? lc.reason : ""});
      first = false;
    };
    for (const std::string& key : in_schema_order(c.collection, c.fields)) {
      const FieldChange& fc = c.fields.at(key);
      if (fc.old_value == fc.new_value || key == kDeletedField) continue;
      add(label_of(ctx, c.collection, key), show_value(ctx, c.collection, key, fc.new_value));
    }
    // A merge's delete says so: rejecting it leaves the customer where it was,
    // and what the merge moved stays on the survivor (walkthrough 22b, W22-5).
    if (first) {
      add("", show_word(ctx, op_name(c.op)) + (c.cause.empty() ? "" : " (" + cause_text(c.cause, ctx.lang) + ")"));
    }
  }
  const std::vector<std::string> header =
      zh ? std::vector<std::string>{"编号", "客户", "时间", "字段", "输入的值", "被拒原因"}
         : std::vector<std::string>{"#", "Customer", "At", "Field", "Typed", "Why refused"};
  std::cout << table(ctx, header, rows, 50, Narrow::blocks);
  std::cout << (zh ? "改后重新提交：kehu rejected retry 编号 [--set 字段=值] [--drop 字段]；放弃：kehu rejected dismiss 编号\n"
                   : "re-apply: kehu rejected retry # [--set FIELD=VALUE] [--drop FIELD]; forget: kehu rejected dismiss #\n");
  return 0;
}

int cmd_rejected_retry(Context& ctx, std::int64_t seq, const std::vector<std::string>& sets,
                       const std::vector<std::string>& drop) {
  auto& rep = ctx.replica();
  // An edit of a record that has left the device (reassigned, moved out of the
  // user's regions, lost with a server's restore), or a new follow-up of such
  // a customer, has nothing to apply to: said with the code and why it left,
  // not an id (walkthrough 17, R17-4: "it goes at the next sync", refused again).
  for (const auto& lc : rep.changes_in_state("rejected")) {
    if (lc.seq != seq) continue;
    const bool gone = lc.change.op == Op::create ? !lc.change.parent.empty() && !rep.get(lc.change.parent)
                                                 : !rep.get(lc.change.record_id);
    if (!gone) break;
    std::string code = code_of(rep, lc.change);
    if (code.empty()) code = tr("its customer", "它的客户");
    const std::string n = std::to_string(seq);
    throw Error(Errc::forbidden,
                tr(code + " is no longer yours to edit (it has left this device: reassigned, outside your regions, "
                          "or not on the server since its restore from a backup), so refused edit #" + n +
                       " cannot be re-applied; forget it with `kehu rejected dismiss " + n +
                       "`, or ask a manager to make the change",
                   code + " 已不在你的负责范围内（本机已没有这个客户：已转给别人、不在你的区域，或服务器从备份恢复后已没有它），被拒的修改 #" +
                       n + " 无法重新提交；用 `kehu rejected dismiss " + n + "` 放弃，或请经理处理"));
  }
  Record r = rep.reapply_rejected(seq, parse_sets(sets), drop);
  if (ctx.json) {
    print_json(record_json(r), std::cout);
    return 0;
  }
  std::cout << (ctx.lang == Lang::zh ? "已重新提交被拒的修改 #" : "re-applied refused edit #") << seq
            << (ctx.lang == Lang::zh ? "；下次同步时推送\n" : "; it goes to the server at the next sync\n");
  return 0;
}

int cmd_rejected_dismiss(Context& ctx, std::int64_t seq) {
  ctx.replica().dismiss_rejected(seq);
  std::cout << (ctx.lang == Lang::zh ? "已放弃被拒的修改 #" : "dismissed refused edit #") << seq << '\n';
  return 0;
}

}  // namespace kehu::cli
