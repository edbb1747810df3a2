// The server's store, seen through a narrow interface so that the merge and
// protocol code never sees SQL, and a PostgreSQL store can be added later
// (DESIGN.md "Where it scales") without touching them.
//
// Everything goes through a StoreTxn: one snapshot for reads, one atomic unit for
// writes. SqliteStore (sqlite_store.h) is the implementation used today.
//
// Data kept (one row or object per item):
//   users        name, role, password hash (see password.h), disabled flag
//   tokens       SHA-256 of a bearer token, its user, device and expiry
//   results      the JSON result the server answered for a change_id (idempotency)
//   records      a record's id, collection, parent, code, rev, per-field versions
//                (sync::RecordState) and its flat values for pull
//   revisions    the hash-chained log of accepted changes, ordered by seq
//   code aliases old customer codes (provisional or replaced) -> record id
//   code serials per month YYYYMM, the next customer-code serial to hand out
//   settings     admin settings by key (claim cap, protected fields), JSON text
//   claims       who claimed which pool customer on which day (the daily cap)
//   requests     change requests: protected-field edits awaiting a manager
//   scope moves  a customer's owner, province and city after each revision
//                that set them (derived from the revisions; rebuilt on migration)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "commit_notice.h"
#include "kehu/record.h"
#include "kehu/sync/merge.h"
#include "role.h"

namespace kehu::server {

struct User {
  std::string name;
  Role role = Role::sales;
  std::string password_hash;  // encoded as password.h describes; never the password
  bool disabled = false;
  std::string created_at;     // ISO 8601 UTC
  // Territory (sales) or regions (manager): "省" or "省/市", e.g. "江苏", "浙江/杭州".
  std::vector<std::string> regions;
  // Bumped whenever role or regions change, so a device's next pull re-sends its
  // scope from scratch (pull_service.h).
  std::int64_t scope_version = 0;
};

// A protected-field edit by a sales user, waiting for a manager (approval_service.h).
struct ChangeRequest {
  std::int64_t id = 0;
  std::string change_id;    // of the pushed change it came from
  std::string record_id;
  std::string collection;
  std::string requester;
  std::string device;
  std::int64_t base_rev = 0;
  json fields = json::object();  // {field: {"old": ..., "new": ...}} (field_changes_to_json)
  std::vector<ConflictRef> resolves;  // the conflicts the held values settle, once approved
  std::string cause;        // the change's own cause ("merged into K"), carried into the approval's
  std::string status = "pending";  // "pending" | "approved" | "rejected"
  std::string created_at;
  std::string decided_by, decided_at, reason;
  std::int64_t seq = 0;     // the revision that applied it, once approved
};

struct Token {
  std::string hash;             // hex SHA-256 of the bearer token
  std::string user;
  std::string device;
  std::int64_t expires_at = 0;  // Unix seconds
};

// The current state of a record as pull shows it.
struct RecordView {
  std::string id, collection, parent, code;
  std::int64_t rev = 0;
  bool deleted = false;
  json fields = json::object();       // flat values, nulls omitted, no "deleted"
  // The same values as stored JSON text; set only by find_record_text, which
  // leaves `fields` empty.
  std::string fields_text;
  std::vector<std::string> old_codes;  // aliases, oldest first
};

// One link of the revision log as stored. `body` is the canonical JSON of the
// revision without "hash" and "prev_hash" (hash_chain.h says how it is hashed).
struct StoredRevision {
  std::int64_t seq = 0;
  std::string record_id;
  std::int64_t rev = 0;
  std::string change_id;
  std::string body;
  std::string prev_hash;
  std::string hash;
};

// The answer the server gave to a change, and the user who sent it: a change id
// belongs to that user, and a replay by anyone else is refused (push_service.cc).
// `sender` is empty for results stored before layout v3.
struct StoredResult {
  std::string sender;
  json result;
};

enum class TxnMode {
  read,   // a consistent snapshot; write calls throw Error(internal)
  write,  // exclusive among writers; readers keep their snapshots
  // A write of a push batch: a write that waits behind the short writes
  // (logins, leases, claims) waiting with it (writer_gate.h); it holds the
  // writer for its time budget at most.
  batch_write,
};

// One transaction. Rolls back on destruction unless commit() was called, so an
// exception anywhere leaves nothing half-written.
//
// Every call may throw Error(storage) when the underlying database fails.
// Thread-safety: a StoreTxn belongs to the thread that began it.
class StoreTxn {
 public:
  virtual ~StoreTxn() = default;
  // Makes the writes durable. The transaction may not be used afterwards.
  // Then tells the store's commit listener (Store::listen) what changed, if
  // anything a waiting pull cares about did.
  virtual void commit() = 0;

  // What this transaction changed, for its commit notice (commit_notice.h).
  // The backends note revisions, accounts and settings themselves; the code
  // that writes a revision notes whose scope it touched.
  void note_scope(const json& customer_values);
  // note_scope() of the customer `id` as it is now, read once per
  // transaction: a push of 500 follow-ups of a few customers reads a few.
  void note_customer(const std::string& id);
  // A revision no customer's scope covers was written.
  void note_everyone() { notice_.everyone = true; }
  const CommitNotice& notice() const { return notice_; }

  // --- users ---
  // Throws Error(exists) if the name is taken.
  virtual void add_user(const User& user) = 0;
  virtual std::optional<User> find_user(std::string_view name) = 0;
  // Replaces role, password hash, disabled flag, regions and scope version.
  // Throws Error(not_found).
  virtual void update_user(const User& user) = 0;
  virtual std::vector<User> list_users() = 0;

  // --- tokens ---
  virtual void put_token(const Token& token) = 0;
  virtual std::optional<Token> find_token(std::string_view hash) = 0;
  virtual void delete_token(std::string_view hash) = 0;
  // Deletes every token whose expires_at <= now (Unix seconds).
  virtual void delete_expired_tokens(std::int64_t now) = 0;
  // Deletes every token of `user` (password change, disable).
  virtual void delete_user_tokens(std::string_view user) = 0;
  // Deletes the tokens of `user` but `keep`: the one whose hash is `newest`
  // and those that expire last (of equal times, the latest written).
  virtual void trim_user_tokens(std::string_view user, std::int64_t keep, std::string_view newest) = 0;

  // --- change results (idempotency) ---
  virtual std::optional<StoredResult> find_result(std::string_view change_id) = 0;
  // Stores what the server answered `sender` for change_id, to be forgotten at
  // `expires_at` (Unix seconds; 0: never). Throws Error(storage) if a result for
  // change_id exists already.
  virtual void put_result(std::string_view change_id, std::string_view sender, std::int64_t expires_at,
                          const json& result) = 0;
  // Forgets every result whose expires_at is in (0, now].
  virtual void delete_expired_results(std::int64_t now) = 0;
  // How many results stored for `sender` are to be forgotten (expires_at > 0).
  virtual std::int64_t count_expiring_results(std::string_view sender) = 0;

  // --- records ---
  // The record's state; a state with rev 0 (exists() == false) if there is none.
  virtual sync::RecordState load_record(std::string_view id) = 0;
  virtual std::optional<RecordView> find_record_view(std::string_view id) = 0;
  // The same, with the values left as their stored text (`fields_text`) and not
  // parsed: for a caller that passes them on unchanged (pull).
  virtual std::optional<RecordView> find_record_text(std::string_view id) = 0;
  // Inserts or replaces the record, including its code (which must be free:
  // Error(storage) otherwise) and its flat values. `seq` is the revision that
  // produced this state.
  virtual void save_record(const sync::RecordState& state, std::int64_t seq) = 0;
  // How many records the store holds, of every collection.
  virtual std::int64_t count_records() = 0;
  // Whether the triggers that make revisions append-only are all in place.
  virtual bool revisions_guarded() = 0;

  // --- revisions ---
  // The seq the next appended revision must carry: 1 + the greatest so far.
  virtual std::int64_t next_seq() = 0;
  // The hash of the revision with the greatest seq; 64 zeros if there is none.
  virtual std::string last_hash() = 0;
  virtual void append_revision(const StoredRevision& rev) = 0;
  // All revisions of one record, newest first.
  virtual std::vector<StoredRevision> revisions_of(std::string_view record_id) = 0;
  // At most `limit` revisions of `record_id` with seq below `before`, newest first.
  virtual std::vector<StoredRevision> revisions_before(std::string_view record_id, std::int64_t before,
                                                       std::int64_t limit) = 0;
  // At most `limit` revisions with seq below `before`, newest first, of the
  // customer `customer_id` and of the records whose parent it is now (its
  // follow-ups, orders, ...): one page of a customer's audit trail.
  virtual std::vector<StoredRevision> customer_revisions_before(std::string_view customer_id, std::int64_t before,
                                                                std::int64_t limit) = 0;
  // The revision of `record_id` with rev `rev`, if any (one index read).
  virtual std::optional<StoredRevision> revision_at(std::string_view record_id, std::int64_t rev) = 0;
  // Ids of the records of `collection`, in insertion order.
  virtual std::vector<std::string> record_ids(std::string_view collection) = 0;
  // Ids of the records whose parent is `parent_id` (a customer's follow-ups, ...),
  // never a customer's: a customer has no parent, whatever an old store holds.
  virtual std::vector<std::string> child_ids(std::string_view parent_id) = 0;
  // The same children placed after `after` in insertion order (0: all), each
  // with its place: a number that only grows, so a reader can resume after the
  // last one it took however the list changed meanwhile.
  struct ChildRef {
    std::string id;
    std::int64_t place = 0;
  };
  virtual std::vector<ChildRef> children_after(std::string_view parent_id, std::int64_t after) = 0;
  // Revisions with seq > after, oldest first, at most `limit`.
  virtual std::vector<StoredRevision> revisions_since(std::int64_t after, std::int64_t limit) = 0;
  // Calls fn for every revision in seq order, one at a time (constant memory),
  // until fn returns false.
  virtual void for_each_revision(const std::function<bool(const StoredRevision&)>& fn) = 0;

  // --- the scope index (layout v7) ---
  // A customer's owner, province and city after each of its revisions that set
  // one of them, its create included: `values` is the JSON text of an object of
  // those fields, nulls left out (scope_index.h writes and reads it). Pull decides
  // scope from it in one read per customer, however long the history.
  virtual void add_scope_move(std::string_view customer_id, std::int64_t seq, const std::string& values) = 0;
  // The values of the customer's newest move at or before `seq`; none when it
  // did not exist then.
  virtual std::optional<std::string> scope_at(std::string_view customer_id, std::int64_t seq) = 0;
  // Its moves after `after`, newest first, at most `limit`: (seq, values).
  struct ScopeMove {
    std::int64_t seq = 0;
    std::string values;
  };
  virtual std::vector<ScopeMove> scope_moves_after(std::string_view customer_id, std::int64_t after,
                                                   std::int64_t limit) = 0;

  // --- customer codes ---
  // The id of the record holding `code` as its code or as an alias, if any.
  virtual std::optional<std::string> code_holder(std::string_view code) = 0;
  // Makes `alias` find `record_id`. Throws Error(storage) if the alias is held.
  virtual void add_code_alias(std::string_view alias, std::string_view record_id) = 0;
  // Aliases of a record, oldest first.
  virtual std::vector<std::string> code_aliases(std::string_view record_id) = 0;
  // Reserves `count` consecutive serials of `month` (YYYYMM) never handed out
  // before and returns the first. Serials start at 1.
  virtual std::int64_t reserve_serials(std::string_view month, std::int64_t count) = 0;
  // Makes sure reserve_serials(month, ...) never returns `serial` or below.
  virtual void advance_serials_past(std::string_view month, std::int64_t serial) = 0;
  // Records that serials first..last of `month` were leased to `holder`'s `device`.
  virtual void add_lease(std::string_view month, std::int64_t first, std::int64_t last,
                         std::string_view holder, std::string_view device) = 0;
  // Whether serial of `month` lies in a lease of `holder`'s `device`.
  virtual bool holds_lease(std::string_view month, std::int64_t serial, std::string_view holder,
                           std::string_view device) = 0;
  // How many serials of `month` all of `holder`'s leases hold.
  virtual std::int64_t leased_serials(std::string_view month, std::string_view holder) = 0;

  // --- settings ---
  virtual std::optional<json> get_setting(std::string_view key) = 0;
  virtual void put_setting(std::string_view key, const json& value) = 0;

  // --- public-pool claims ---
  virtual void add_claim(std::string_view user, std::string_view day, std::string_view record_id) = 0;
  // How many customers `user` claimed on `day` ("YYYY-MM-DD").
  virtual std::int64_t count_claims(std::string_view user, std::string_view day) = 0;
  // Releases to the pool, for the daily release cap (layout v6).
  virtual void add_release(std::string_view user, std::string_view day, std::string_view record_id) = 0;
  // How many customers `user` released on `day` ("YYYY-MM-DD").
  virtual std::int64_t count_releases(std::string_view user, std::string_view day) = 0;

  // --- change requests ---
  // Stores a new request and returns its id (ignores request.id).
  virtual std::int64_t add_request(const ChangeRequest& request) = 0;
  virtual std::optional<ChangeRequest> find_request(std::int64_t id) = 0;
  // At most `limit` requests in `status` ("" = any) with id above `after`,
  // oldest first.
  virtual std::vector<ChangeRequest> list_requests(std::string_view status, std::int64_t after,
                                                   std::int64_t limit) = 0;
  // How many of `requester`'s requests are pending.
  virtual std::int64_t count_pending_requests(std::string_view requester) = 0;
  // How many requests `requester` filed at or after `since` (ISO 8601 UTC), whatever became of them.
  virtual std::int64_t count_requests_since(std::string_view requester, std::string_view since) = 0;
  // `requester`'s pending requests about `record_id`, oldest first.
  virtual std::vector<ChangeRequest> pending_requests(std::string_view requester, std::string_view record_id) = 0;
  // Replaces status, decided_by, decided_at, reason, seq, fields and resolves
  // (a request narrowed by its requester's later edit). Throws Error(not_found).
  virtual void update_request(const ChangeRequest& request) = 0;

 protected:
  CommitNotice notice_;
  std::set<std::string> noted_customers_;  // note_customer()
};

// A store: a factory of transactions.
// Thread-safety: begin() may be called from any number of threads at once; each
// transaction is then confined to its thread. Writers are serialised.
class Store {
 public:
  using CommitListener = std::function<void(const CommitNotice&)>;
  virtual ~Store() = default;
  // Starts a transaction. A write transaction waits for other writers (bounded by a
  // busy timeout, then Error(storage)).
  virtual std::unique_ptr<StoreTxn> begin(TxnMode mode) = 0;

  // Hears of every committed transaction with a non-empty notice: on the
  // committing thread, after the commit; with PostgreSQL also of those other
  // server processes committed (LISTEN/NOTIFY), on a thread of the store's.
  // `listener` must not throw and must not begin a transaction; an empty one
  // ends the listening (it is not called after this returns).
  virtual void listen(CommitListener listener) {
    std::lock_guard<std::mutex> lock(listen_mu_);
    listener_ = std::move(listener);
  }
  // For the backends' transactions, once committed.
  void tell(const CommitNotice& notice) const {
    if (notice.empty()) return;
    std::lock_guard<std::mutex> lock(listen_mu_);
    if (listener_) listener_(notice);
  }

 private:
  mutable std::mutex listen_mu_;
  CommitListener listener_;
};

}  // namespace kehu::server
