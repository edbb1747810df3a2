// POST /v1/push (docs/protocol.md): applies a batch of changes, each in its own
// store transaction, and answers one result per change in the batch's order.
//
// For one change, in one write transaction:
//   1. idempotency: a change_id answered before gets that answer again, with
//      "duplicate": true, and nothing else happens;
//   2. authorise and validate (ChangeValidator), check the record exists for
//      update/delete/restore (else not_found) and a child's parent exists;
//   3. clamp the hlc (ServerClock), set the author to the session user;
//   4. merge (kehu::sync::apply_change), check required fields of a new record;
//   5. give a new customer its final code (CodeAssigner);
//   6. append the hash-chained revision (hash_chain.h), save the record, store
//      the result under the change_id, commit.
// A change refused for validation, forbidden, not_found or a malformed member is
// answered "rejected" with the reason, and that answer is stored too (if the
// change had an id), so a retry gets the same answer. A failure a retry may fix
// (storage busy, a bug) is not stored: it propagates, and the results of the
// changes before it in the batch are already committed.
//
// Thread-safety: one PushService serves all request threads.
#pragma once

#include <string>

#include "kehu/error.h"
#include "kehu/record.h"
#include "server_clock.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

class PushService {
 public:
  PushService(Store& store, ServerClock& clock) : store_(store), clock_(clock) {}

  // `body` is {"device": ..., "changes": [...]}. Returns {"results": [...]}.
  // Throws Error(protocol) when "changes" is missing or not an array. The caller
  // enforces the batch-size limit. Throws Error(storage) / Error(internal) as above.
  json push(const Session& session, const json& body);

  // The result of one change (a JSON object as docs/protocol.md shows).
  json apply(const Session& session, const json& change, const std::string& batch_device);

  // Applies a change the server makes itself (a claim, a release, a
  // reassignment, an approved request) inside the caller's transaction, after
  // the caller's own authorisation: scope checks are skipped, field rules and the
  // merge are not. The revision's author is `author`, its device "server", its
  // hlc the server clock; the change's cause is kept. Returns the "applied"
  // result. Throws Error for a change the rules refuse.
  json apply_server_change(StoreTxn& txn, const Session& author, Change change);

 private:
  // Steps 2-6 inside `txn`; returns the "applied" result. Throws Error for refusals.
  // `trusted` skips the scope checks, for changes the server makes itself after
  // its own authorisation (apply_server_change).
  json apply_new(StoreTxn& txn, const Session& session, Change& change, std::int64_t client_hlc,
                 bool trusted);
  // Stores and returns a "rejected" result, unless another request answered the
  // same change_id meanwhile.
  json store_rejection(const Change& change, const Error& error);

  Store& store_;
  ServerClock& clock_;
};

}  // namespace kehu::server
