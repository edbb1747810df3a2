// POST /v1/audit (docs/protocol.md): the revisions that match a filter, newest
// first, paged.
//
//   {"user": "wang", "since": "2026-11-01", "until": "2026-11-30",
//    "customer": "C202611001", "limit": 100, "cursor": "1187"}   (all optional)
//
// answers {"revisions": [...], "next_cursor": "1150", "more": true}: each
// revision in pull's wire form plus "code", its customer's current code. The
// cursor is the seq of the last revision sent; the next page holds older ones.
//
// Who may ask: manager, auditor and admin; sales gets Error(forbidden). A
// manager sees only revisions of customers in scope (AccessPolicy), decided on
// the customers' current state as pull decides it.
//
// Cost: with a customer filter, the revisions of the customer and its child
// records are read through the record index (memory: that customer's history).
// Otherwise the log is read newest first in chunks of kScanChunk by seq (primary
// key), each body parsed unless the author prefilter (AuditFilter::may_match)
// rejects it; a filter that matches little reads the whole log once per query,
// in constant memory. An index on author and time would need columns the
// revision table does not have (SQLite 3.15 has no JSON1 to index the body).
//
// Thread-safety: one AuditService serves all request threads.
#pragma once

#include <cstdint>

#include "kehu/record.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

class AuditService {
 public:
  // Revisions read per store call when scanning the whole log.
  static constexpr std::int64_t kScanChunk = 500;

  // Reads KEHU_AUDIT_SCAN_BUDGET (revisions one page may examine) and
  // KEHU_PULL_MAX_BYTES (the page's byte cap, as pull's) from the environment,
  // for tests; the defaults are config::kAuditScanBudget and config::kMaxPullBytes.
  explicit AuditService(Store& store);

  // Throws Error(forbidden) for sales, Error(validation) for a filter member of
  // the wrong type or value (the message names the member and the value) or an
  // unknown member, Error(not_found) for a customer code that no customer in the
  // session's scope holds, Error(protocol) for a cursor this server did not make.
  json query(const Session& session, const json& body);

 private:
  Store& store_;
  std::int64_t scan_budget_;
  std::size_t max_bytes_;
};

}  // namespace kehu::server
