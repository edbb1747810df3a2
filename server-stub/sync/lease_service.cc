#include "lease_service.h"

#include "access_policy.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/record.h"
#include "server_config.h"

namespace kehu::server {

json LeaseService::lease(const Session& session, const json& body) {
  if (!AccessPolicy::may_write(session.role)) {
    throw Error(Errc::forbidden, tr(std::string("role ") + role_name(session.role) +
                                        " may not create customers, so it gets no code lease",
                                    role_label(session.role) + "不能新建客户，因此不分配客户编号"));
  }
  auto month = body.find("month");
  auto count = body.find("count");
  if (month == body.end() || !month->is_string()) throw Error(Errc::protocol, tr("lease needs \"month\" (string)", "编号租约需要 \"month\"（字符串）"));
  if (count == body.end() || !count->is_number_integer()) {
    throw Error(Errc::protocol, tr("lease needs \"count\" (integer)", "编号租约需要 \"count\"（整数）"));
  }
  const std::string m = month->get<std::string>();
  const std::int64_t n = count->get<std::int64_t>();
  if (!is_usable_code_month(m)) {
    throw Error(Errc::validation, tr("month \"" + m + "\" is not YYYYMM from 200001 to next month (" +
                                      this_month_local() + " is this month)",
                                  "月份“" + m + "”不是 200001 到下个月之间的 YYYYMM（本月是 " + this_month_local() + "）"));
  }
  if (n < 1 || n > config::kMaxLeaseCount) {
    throw Error(Errc::validation, tr("count " + std::to_string(n) + " is outside 1.." +
                                      std::to_string(config::kMaxLeaseCount),
                                  "count " + std::to_string(n) + " 超出范围 1.." + std::to_string(config::kMaxLeaseCount)));
  }
  auto txn = store_.begin(TxnMode::write);
  if (txn->leased_serials(m, session.user) + n > config::kMaxLeasedPerUserMonth) {
    throw Error(Errc::validation,
                tr(session.user + " already holds leases of " + std::to_string(config::kMaxLeasedPerUserMonth) +
                       " code serials of " + m + " (the most a user gets in a month); new customers get their "
                       "codes from the server at sync",
                   session.user + " 在 " + m + " 已租用 " + std::to_string(config::kMaxLeasedPerUserMonth) +
                       " 个客户编号（每人每月的上限）；新客户将在同步时由服务器编号"));
  }
  const std::int64_t first = txn->reserve_serials(m, n);
  // The serials are this device's: a create that uses one keeps it (code_assigner.h).
  txn->add_lease(m, first, first + n - 1, session.user, session.device);
  txn->commit();
  return {{"month", m}, {"first", first}, {"last", first + n - 1}};
}

}  // namespace kehu::server
