// POST /v1/settings: the team's reminder rules (docs/protocol.md "POST
// /v1/settings"), read by every device at `kehu sync` and changed by an admin
// with `kehu rules set`. The values live in the store's settings table under
// keys this file owns:
//
//   "churn_days"  integer 1..3650: a deal customer with no order or follow-up for
//                 this many days is proposed as lost (default 90, reminders.h)
//   "stage_probability"  {"contact": 10, ...}: win percent per open sales stage
//                 (defaults in reports.h), for `kehu report forecast`
//   "targets"     [{"owner", "period", "amount" (fen)}]: sales targets, for
//                 `kehu report targets` and `forecast`
//
// Thread-safety: stateless over the Store; one call per request thread.
#pragma once

#include "kehu/record.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

class RulesService {
 public:
  explicit RulesService(Store& store) : store_(store) {}

  // `body` {} reads; {"churn_days": N}, {"stage_probability": {STAGE: P, ...}}
  // (merged into the values in force) and {"target": {"owner", "period",
  // "amount"}} (amount null: removes that owner's target for the period) set,
  // together in one transaction (admin only: Error(forbidden) for other roles,
  // Error(validation) for a bad value, nothing written). Answers every rule in
  // force: {"churn_days", "stage_probability", "targets"}.
  json settings(const Session& session, const json& body);

 private:
  Store& store_;
};

}  // namespace kehu::server
