// POST /v1/leases (docs/protocol.md): reserves a block of customer-code serials
// of one month for the calling device, so it can create customers with final
// codes while offline. Blocks never overlap, with each other or with serials the
// server gave at push time (both come from the month's one counter, advanced in
// a write transaction). Serials a device was leased but never used stay unused.
//
// Thread-safety: one LeaseService serves all request threads.
#pragma once

#include "kehu/record.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

class LeaseService {
 public:
  explicit LeaseService(Store& store) : store_(store) {}

  // `body` is {"month": "202611", "count": 10}. Returns {"month", "first", "last"}.
  // Throws Error(forbidden) for a role that may not write, Error(protocol) for
  // missing or mistyped members, Error(validation) for a month that is not
  // YYYYMM or a count outside 1..config::kMaxLeaseCount.
  json lease(const Session& session, const json& body);

 private:
  Store& store_;
};

}  // namespace kehu::server
