#include "code_assigner.h"

#include "kehu/record.h"

#include "customer_code.h"

namespace kehu::server {

bool CodeAssigner::held_by_other(std::string_view code, std::string_view record_id) {
  auto holder = txn_.code_holder(code);
  return holder && *holder != record_id;
}

CodeAssignment CodeAssigner::assign(std::string_view record_id, std::string_view requested) {
  if (auto parsed = parse_customer_code(requested); parsed && !held_by_other(requested, record_id)) {
    txn_.advance_serials_past(parsed->month, parsed->serial);
    return {std::string(requested), {}};
  }
  const std::string month = code_month(requested).value_or(this_month_local());
  // The counter only moves forward and kept codes move it past themselves, so the
  // first candidate is free; the loop guards against codes that arrived as aliases.
  std::string code;
  do {
    code = format_customer_code(month, txn_.reserve_serials(month, 1));
  } while (txn_.code_holder(code));
  CodeAssignment out{code, {}};
  if (!requested.empty() && !txn_.code_holder(requested)) out.alias = std::string(requested);
  return out;
}

}  // namespace kehu::server
