#include "lease_service.h"

#include "access_policy.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/record.h"
#include "server_config.h"

namespace kehu::server {

json LeaseService::lease(const Session& session, const json& body) {
  if (!AccessPolicy::may_write(session.role)) {
    throw Error(Errc::forbidden, std::string("role ") + role_name(session.role) +
                                     " may not create customers, so it gets no code lease");
  }
  auto month = body.find("month");
  auto count = body.find("count");
  if (month == body.end() || !month->is_string()) throw Error(Errc::protocol, "lease needs \"month\" (string)");
  if (count == body.end() || !count->is_number_integer()) {
    throw Error(Errc::protocol, "lease needs \"count\" (integer)");
  }
  const std::string m = month->get<std::string>();
  const std::int64_t n = count->get<std::int64_t>();
  if (!is_usable_code_month(m)) {
    throw Error(Errc::validation, "month \"" + m + "\" is not YYYYMM from 200001 to next month (" +
                                      this_month_local() + " is this month)");
  }
  if (n < 1 || n > config::kMaxLeaseCount) {
    throw Error(Errc::validation, "count " + std::to_string(n) + " is outside 1.." +
                                      std::to_string(config::kMaxLeaseCount));
  }
  auto txn = store_.begin(TxnMode::write);
  const std::int64_t first = txn->reserve_serials(m, n);
  // The serials are this device's: a create that uses one keeps it (code_assigner.h).
  txn->add_lease(m, first, first + n - 1, session.user, session.device);
  txn->commit();
  return {{"month", m}, {"first", first}, {"last", first + n - 1}};
}

}  // namespace kehu::server
