#include "code_assigner.h"

#include "kehu/record.h"

#include "kehu/customer_code.h"
#include "server_config.h"

namespace kehu::server {

bool CodeAssigner::held_by_other(std::string_view code, std::string_view record_id) {
  auto holder = txn_.code_holder(code);
  return holder && *holder != record_id;
}

bool CodeAssigner::may_keep(const CustomerCode& code, const CodeSender& sender) {
  if (!is_usable_code_month(code.month)) return false;
  if (sender.may_choose && code.serial <= config::kMaxChosenSerial) return true;
  return txn_.holds_lease(code.month, code.serial, sender.user, sender.device);
}

bool CodeAssigner::may_alias(std::string_view code, const CodeSender& sender) {
  if (code.empty() || txn_.code_holder(code)) return false;
  if (sender.may_choose) return true;
  // A provisional code "P" + YYYYMM + "-" + the device's first 4 characters + "-" + counter.
  const std::string tag = "-" + std::string(sender.device.substr(0, 4)) + "-";
  return code.size() > 7 + tag.size() && code[0] == 'P' && code.substr(7, tag.size()) == tag;
}

CodeAssignment CodeAssigner::assign(std::string_view record_id, std::string_view requested,
                                    const CodeSender& sender) {
  if (auto parsed = parse_customer_code(requested);
      parsed && !held_by_other(requested, record_id) && may_keep(*parsed, sender)) {
    txn_.advance_serials_past(parsed->month, parsed->serial);
    return {std::string(requested), {}};
  }
  std::string month = code_month(requested).value_or(std::string());
  if (!is_usable_code_month(month)) month = this_month_local();
  // The counter only moves forward and kept codes move it past themselves, so the
  // first candidate is free; the loop guards against codes that arrived as aliases.
  std::string code;
  do {
    code = format_customer_code(month, txn_.reserve_serials(month, 1));
  } while (txn_.code_holder(code));
  CodeAssignment out{code, {}};
  if (may_alias(requested, sender)) out.alias = std::string(requested);
  return out;
}

}  // namespace kehu::server
