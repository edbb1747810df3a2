#include "rules_service.h"

#include "kehu/error.h"
#include "kehu/reminders.h"

namespace kehu::server {
namespace {

constexpr const char* kChurnDaysKey = "churn_days";

std::int64_t churn_days(StoreTxn& txn) {
  auto v = txn.get_setting(kChurnDaysKey);
  return v && v->is_number_integer() ? v->get<std::int64_t>() : kDefaultChurnDays;
}

}  // namespace

json RulesService::settings(const Session& session, const json& body) {
  if (!body.is_object()) throw Error(Errc::protocol, "the settings body must be a JSON object");
  auto it = body.find(kChurnDaysKey);
  if (it == body.end()) {
    auto txn = store_.begin(TxnMode::read);
    return {{kChurnDaysKey, churn_days(*txn)}};
  }
  if (session.role != Role::admin) {
    throw Error(Errc::forbidden, std::string("role ") + role_name(session.role) +
                                     " may not change the rules; an admin may");
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
      it->get<std::int64_t>() > kMaxRuleDays) {
    throw Error(Errc::validation, "churn_days " + it->dump() +
                                      ": expected a whole number of days from 1 to " +
                                      std::to_string(kMaxRuleDays));
  }
  auto txn = store_.begin(TxnMode::write);
  txn->put_setting(kChurnDaysKey, it->get<std::int64_t>());
  const std::int64_t now = churn_days(*txn);
  txn->commit();
  return {{kChurnDaysKey, now}};
}

}  // namespace kehu::server
