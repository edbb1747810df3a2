// POST /v1/push (docs/protocol.md): applies a batch of changes in one store
// transaction and answers one result per change in the batch's order.
//
// For each change, in the batch's write transaction:
//   1. idempotency: a change_id answered before gets that answer again, with
//      "duplicate": true, and nothing else happens; a change id belongs to the
//      user who sent it first, and anyone else's replay is refused;
//   2. authorise and validate (ChangeValidator, scope), check the record exists
//      for update/delete/restore (else not_found) and a child's parent exists;
//   3. clamp the hlc (ServerClock), set the author to the session user;
//   4. merge (kehu::sync::apply_change), check required fields of a new record;
//      a sales change whose merge writes a protected field of an existing
//      record, whatever its op, becomes a change request instead;
//   5. give a new customer its final code (CodeAssigner);
//   6. append the hash-chained revision (hash_chain.h), save the record, store
//      the result under the change_id.
// Every refusal (validation, forbidden, not_found, a malformed member) is found
// in steps 1-4, before the change writes anything; it is answered "rejected"
// with the reason, and that answer is stored too (if the change had an id), so a
// retry gets the same answer. A failure a retry may fix (storage busy, a bug)
// propagates and rolls the whole batch back; the client sends it again, and the
// changes answered before are applied once (idempotency).
//
// Thread-safety: one PushService serves all request threads.
#pragma once

#include <string>

#include "kehu/error.h"
#include <functional>
#include <mutex>
#include <set>

#include "http_errors.h"
#include "kehu/record.h"
#include "server_clock.h"
#include "session.h"
#include "store.h"
#include "write_budget.h"

namespace kehu::server {

// The reason of a request whose every field the requester edited again.
inline constexpr const char* kSupersededByEdit = "superseded by a later edit";

// Refuses `owner` as a customer's new owner unless it names an active user
// whose role may change customers: the rule of `/reassign`, and of an owner
// edit pushed by a manager or an admin. Throws Error(validation).
void require_assignable_owner(StoreTxn& txn, const std::string& owner);

// Withdraws `requester`'s pending change requests on `record_id` that `which`
// picks (every one when it is empty), as decided by `by` for `reason` ("released
// to the public pool", "superseded by #7", kSupersededByEdit: stored as they
// are, shown in the user's language by kehu). Returns their ids.
std::vector<std::int64_t> withdraw_requests(StoreTxn& txn, const std::string& requester, const std::string& record_id,
                                            const std::string& by, const std::string& reason,
                                            const std::function<bool(const ChangeRequest&)>& which = {});
// The pending requests of a customer's former owner on it and its children,
// once it left their hands (released, reassigned): approved later, one changed
// the next owner's customer without a word (walkthrough 10, R10-13). Their ids.
json withdraw_owners_requests(StoreTxn& txn, const std::string& customer_id, const std::string& owner,
                              const std::string& by, const std::string& reason);

// The live customer that `customer`, merged away (kehu customer merge), forwards
// to, following merges of merges; nullopt when it is not merged away, or when
// the customer it was merged into is in the recycle bin too.
std::optional<sync::RecordState> survivor_of(StoreTxn& txn, const sync::RecordState& customer);
// The live customer a merge's delete of `gone` names in `cause` ("merged into
// KEEP", as pushed or as approved: a code, an alias or an id), followed through
// merges of merges; nullopt when there is none, or when it would be `gone`
// itself (A merged into B, then B into A).
std::optional<sync::RecordState> merge_target(StoreTxn& txn, const sync::RecordState& gone, const std::string& cause);

class PushService {
 public:
  // The batch's time budget under the write lock is config::kPushBatchBudgetMs,
  // or KEHU_PUSH_BATCH_BUDGET_MS from the environment (tests).
  // `limit_writes`: users' writes come out of their write budget (the HTTP
  // server); the console's commands (kehu-server pool recycle, customer
  // reassign) are the server admin's, on the server, and are not limited
  // (attacker review 16: a recycle of more than one budget did nothing).
  PushService(Store& store, ServerClock& clock, bool limit_writes = true);

  // `body` is {"device": ..., "changes": [...]}. Returns {"results": [...]},
  // one per change in order, up to the change where the batch's time budget ran
  // out; then "deferred": N says the last N changes were not looked at (the
  // client sends them again; docs/protocol.md).
  // Throws Error(protocol) when "changes" is missing or not an array. The caller
  // enforces the batch-size limit. Throws Error(storage) / Error(internal) as above.
  // One push per user at a time in this process (attacker review 4, N2: 24
  // parallel batches of one user kept the write lock busy and starved every
  // other writer): a second one while the first runs is answered at once, before
  // it queues for the write lock, with HttpError 429 too_many_pushes
  // (Retry-After: 1); the client sends it again.
  // A user whose write budget (write_budget.h) is spent gets HttpError 429
  // too_many_changes with the seconds until the next change in Retry-After; a
  // batch that spends it on the way answers up to there and defers the rest.
  // apply_server_change() spends the author's budget too, and throws the same.
  json push(const Session& session, const json& body);


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
  // Moves the children still on `gone`, merged into `keep`, to `keep`: one
  // revision each, by the merger, with the merge's cause.
  void move_children(StoreTxn& txn, const Session& session, const sync::RecordState& gone,
                     const sync::RecordState& keep);
  // Puts on `keep` the edits of `gone` that the merge's delete `merge` had not
  // seen (made on another device, pushed before it): as a forwarded edit, on
  // `keep`'s rev at the merge, at each edit's own clock.
  void carry_unseen_edits(StoreTxn& txn, const Session& session, const sync::RecordState& gone,
                          const Change& merge, const sync::RecordState& keep);
  // The result of one change of a batch (a JSON object as docs/protocol.md
  // shows), stored under its change_id in `txn`; raises `latest_hlc` to the
  // change's clock when it applies.
  // `may_keep`: how many more answers that expire may be stored for the user.
  json apply(StoreTxn& txn, const Session& session, const json& change, std::int64_t& latest_hlc,
             std::int64_t& may_keep);

  Store& store_;
  ServerClock& clock_;
  long batch_budget_ms_;
  WriteBudget writes_;  // accepted changes per user (config::kWriteBurstChanges)
  bool limit_writes_;
  // HttpError 429 too_many_changes for `user`, naming the limits; `pushed`: the
  // changes wait on the device (a push), else nothing was done (a claim, ...).
  HttpError write_limit_reached(const std::string& user, bool pushed);
  std::mutex in_flight_mu_;
  std::set<std::string> in_flight_;  // users with a push running
};

}  // namespace kehu::server
