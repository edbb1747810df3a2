#include "rules_service.h"

#include <optional>
#include <vector>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/reminders.h"
#include "kehu/reports.h"

namespace kehu::server {
namespace {

constexpr const char* kChurnDaysKey = "churn_days";
constexpr const char* kStageProbabilityKey = "stage_probability";
constexpr const char* kTargetsKey = "targets";
constexpr const char* kTargetKey = "target";

std::int64_t churn_days(StoreTxn& txn) {
  auto v = txn.get_setting(kChurnDaysKey);
  return v && v->is_number_integer() ? v->get<std::int64_t>() : kDefaultChurnDays;
}

json stage_probability(StoreTxn& txn) {
  StageProbabilities p = default_stage_probabilities();
  auto v = txn.get_setting(kStageProbabilityKey);
  if (v && v->is_object()) {
    for (const auto& [k, n] : stage_probabilities_from_json(*v)) p[k] = n;
  }
  json out = json::object();
  for (const auto& [k, n] : p) out[k] = n;
  return out;
}

std::vector<SalesTarget> targets(StoreTxn& txn) {
  auto v = txn.get_setting(kTargetsKey);
  return v && v->is_array() ? targets_from_json(*v) : std::vector<SalesTarget>{};
}

json answer(StoreTxn& txn) {
  return {{kChurnDaysKey, churn_days(txn)},
          {kStageProbabilityKey, stage_probability(txn)},
          {kTargetsKey, targets_to_json(targets(txn))}};
}

}  // namespace

json RulesService::settings(const Session& session, const json& body) {
  if (!body.is_object()) throw Error(Errc::protocol, tr("the settings body must be a JSON object", "设置的请求体必须是 JSON 对象"));
  auto churn = body.find(kChurnDaysKey);
  auto probs = body.find(kStageProbabilityKey);
  auto target = body.find(kTargetKey);
  if (churn == body.end() && probs == body.end() && target == body.end()) {
    auto txn = store_.begin(TxnMode::read);
    return answer(*txn);
  }
  if (session.role != Role::admin) {
    throw Error(Errc::forbidden, tr(std::string("role ") + role_name(session.role) + " may not change the rules; an admin may",
                                    role_label(session.role) + "不能修改规则；管理员可以"));
  }
  // Everything is checked before anything is written.
  if (churn != body.end() &&
      (!churn->is_number_integer() || churn->get<std::int64_t>() < 1 ||
       churn->get<std::int64_t>() > kMaxRuleDays)) {
    throw Error(Errc::validation, tr("churn_days " + churn->dump() + ": expected a whole number of days from 1 to " +
                                      std::to_string(kMaxRuleDays),
                                  "churn_days " + churn->dump() + "：应为 1 到 " + std::to_string(kMaxRuleDays) +
                                      " 之间的整数天数"));
  }
  StageProbabilities new_probs;
  if (probs != body.end()) new_probs = stage_probabilities_from_json(*probs);
  std::optional<SalesTarget> new_target;
  bool remove_target = false;
  if (target != body.end()) {
    if (!target->is_object()) throw Error(Errc::validation, tr("target must be an object", "target 必须是对象"));
    json t = *target;
    remove_target = !t.contains("amount") || t["amount"].is_null();
    if (remove_target) t["amount"] = 0;
    new_target = targets_from_json(json::array({t})).front();
  }
  auto txn = store_.begin(TxnMode::write);
  if (churn != body.end()) txn->put_setting(kChurnDaysKey, churn->get<std::int64_t>());
  if (probs != body.end()) {
    json merged = stage_probability(*txn);
    for (const auto& [k, n] : new_probs) merged[k] = n;
    txn->put_setting(kStageProbabilityKey, merged);
  }
  if (new_target) {
    std::vector<SalesTarget> all = targets(*txn);
    std::erase_if(all, [&](const SalesTarget& t) {
      return t.owner == new_target->owner && t.period == new_target->period;
    });
    if (!remove_target) all.push_back(*new_target);
    txn->put_setting(kTargetsKey, targets_to_json(all));
  }
  json out = answer(*txn);
  txn->commit();
  return out;
}

}  // namespace kehu::server
