// POST /v1/settings: the team's reminder rules (docs/protocol.md "POST
// /v1/settings"), read by every device at `kehu sync` and changed by an admin
// with `kehu rules set`. The values live in the store's settings table under
// keys this file owns:
//
//   "churn_days"  integer 1..3650: a deal customer with no order or follow-up for
//                 this many days is proposed as lost (default 90, reminders.h)
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

  // `body` {} reads; {"churn_days": N} sets (admin only: Error(forbidden) for
  // other roles, Error(validation) for a value out of range). Answers
  // {"churn_days": N} with the value in force.
  json settings(const Session& session, const json& body);

 private:
  Store& store_;
};

}  // namespace kehu::server
