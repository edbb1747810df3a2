// The encrypted local replica: one SQLCipher file per salesperson's device.
//
// It holds the records the user may see, the change log of local edits not yet
// accepted by the server, the server revisions pulled so far (so history works
// offline), open conflicts, and a little metadata (device id, clock, server,
// token, pull cursor, code leases).
//
// Every edit runs in one transaction that writes the record's new state and a
// change-log entry (change id, base rev, fields old -> new, op, hybrid-clock time,
// device, author). A change-log entry not yet confirmed by the server *is* the
// record's pending local revision: history() shows it as "pending".
//
// Thread-safety: a Replica is used by one thread at a time. Several processes may
// open the same file; SQLite's locking (WAL mode) serialises their writes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kehu/duplicates.h"
#include "kehu/record.h"
#include "kehu/reminders.h"
#include "kehu/schema.h"

namespace kehu {

namespace db {
class Database;
}

// Schema versions of the replica file, one value per migration (see migrations.cc).
enum class ReplicaVersion : int {
  v1_initial = 1,
  v2_derived_column = 2,  // last_followup_at moves out of the synced fields JSON
  v3_change_requests = 3,  // changes.request: the approval request of an awaiting change
  v4_customer_index = 4,   // customer_index, customer_facets, customer_text (FTS4 pairs)
  v5_duplicate_keys = 5,   // customer_keys: phone / WeChat / name keys of live customers (duplicates.h)
  v6_code_order = 6,       // records_code_order: codes by month, then serial as a number (customer_code.h)
  v7_conflict_sides = 7,   // conflicts.n: more than one conflict per revision and field
  current = v7_conflict_sides,
};

// (field key or Chinese/English label, raw text as typed). Order matters only for
// error messages: the first bad field is reported.
using FieldInputs = std::vector<std::pair<std::string, std::string>>;

struct ListQuery {
  std::string collection = "customers";
  std::vector<std::pair<std::string, std::string>> where;  // FIELD=VALUE, value as typed
  std::string search;      // substring of name, contact, need, notes, code, phone
  std::string parent;      // child records of this customer id
  bool deleted = false;    // list the recycle bin instead of live records
  std::string sort;        // field key; "-key" for descending; default: code / date
  bool pinyin = false;     // text sorts in pinyin order (安 < 北 < 张), not by code point
  std::size_t limit = 0;   // 0 = all
  std::size_t offset = 0;  // matches skipped before the first returned (the next page)
  // Customers only (Error(usage) for other collections). Values are validated:
  // Error(usage) naming the flag, the value and what is allowed.
  std::vector<std::string> tags;      // --tag: every one of these tags is on the customer
  std::optional<std::string> region;  // --region: "PROVINCE" or "PROVINCE/CITY"
  std::optional<std::string> owner;   // --owner: 负责人, exactly
  bool pool = false;                  // --pool: the public pool (公海), no 负责人 (not with owner)
  std::optional<std::string> stage;   // --stage: 销售阶段, key or label
  std::optional<std::int64_t> stale_days;  // --stale: last follow-up this many days ago or more, or never
  std::string today;  // "YYYY-MM-DD" that --stale counts from; empty: today_local()
};

// A change-log entry and where it stands.
struct LoggedChange {
  std::int64_t seq = 0;     // local order (also the device_seq sent to the server)
  Change change;
  std::string state;        // "pending" | "acked" | "rejected" | "awaiting" (approval)
  std::string reason;       // why the server refused it
  std::string at;           // local time it was made
  std::int64_t request = 0; // "awaiting": the server's change request that holds it
};

// A record as the server sent it on pull.
struct PulledRecord {
  std::string id, collection, code, parent;
  std::int64_t rev = 0;
  bool deleted = false;
  json fields = json::object();
  std::vector<std::string> old_codes;  // provisional / replaced codes that still find it
};

struct OpenConflict {
  std::int64_t id = 0;
  std::string record_id;
  std::string code;  // the customer code (of the record or its parent)
  std::int64_t rev = 0;
  Conflict conflict;
};

struct ReplicaStatus {
  std::string path;
  int schema_version = 0;
  std::string device_id;
  std::string author;
  std::string server, user, last_sync;
  std::int64_t pending = 0, rejected = 0, awaiting = 0, conflicts = 0;
  std::int64_t customers = 0, deleted_customers = 0;
};

class Replica {
 public:
  // Creates a new encrypted replica. Throws Error(exists) if the file exists.
  static std::unique_ptr<Replica> create(const std::string& path, std::string_view passphrase);
  // Opens an existing replica, migrating an older schema version in place.
  // Throws Error(not_found) if missing, Error(wrong_passphrase) if the key is wrong
  // (nothing in the file is changed in that case).
  static std::unique_ptr<Replica> open(const std::string& path, std::string_view passphrase);
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  const std::string& path() const;
  int schema_version() const;
  std::string device_id() const;
  // The name stamped on local edits (the logged-in user; "local" before login).
  std::string author() const;
  // The field schema this replica validates and displays with: the built-in
  // collections plus the custom fields the team's admin added (synced).
  const Schema& schema() const;

  // ---- Edits. Each validates everything first (Error(validation), nothing
  // written), then commits atomically. Inside batch() they join its transaction.

  // Adds a record. For child collections `parent_code` names the customer (code or
  // id). Customers get a new code unless one is given in `inputs`.
  Record add(std::string_view collection, const FieldInputs& inputs,
             std::string_view parent_code = {});
  // Sets fields; empty text clears a field. Returns the new state.
  Record edit(std::string_view id_or_code, const FieldInputs& inputs);
  // Same with already-normalised values (import, conflict resolution, revert).
  // `cause` says why, when the edit was not typed by hand ("revert to rev 3"); it
  // travels with the change and the server copies it into the revision.
  Record edit_values(std::string_view id_or_code, const json& values, std::string_view cause = {});
  Record add_values(std::string_view collection, json values, std::string_view parent_code = {});
  // Throws Error(forbidden), as edit_values / add_values would, when the role of
  // the last login may not set `values` on `before` (on a new record of
  // `collection` under the customer with id `parent_id` when `before` is empty).
  // Writes nothing: an import checks each row with it before writing any.
  void check_allowed(std::string_view collection, const std::optional<Record>& before, const json& values,
                     std::string_view parent_id = {}) const;
  // Throws Error(validation) when the role of the last login never receives
  // `field`'s values (a restricted field for sales): a filter, sort or sum by
  // it would work on values this device does not have (walkthrough 10, R10-12).
  void check_readable(const FieldDef& field) const;
  // Moves a record to the recycle bin / brings it back. Both are revisions.
  Record remove(std::string_view id_or_code);
  Record restore(std::string_view id_or_code);

  // Runs fn inside one transaction: all edits in it commit together or not at all.
  void batch(const std::function<void()>& fn);

  // ---- Reads.
  std::optional<Record> get(std::string_view id) const;
  // A customer by code, by a former (provisional) code, or by id.
  std::optional<Record> find_customer(std::string_view code_or_id) const;
  // The same, except that a customer merged into another (kehu customer merge;
  // the cause of its delete names the other) is found as that one, following
  // merges of merges, as long as it is live. customer list --search does the same.
  std::optional<Record> find_customer_forwarded(std::string_view code_or_id) const;
  // Like find_customer/get but throws Error(not_found) naming what was asked.
  Record require(std::string_view id_or_code) const;
  // The code of the customer a record is about: its own, or its parent's; empty
  // for a record this replica does not hold.
  std::string customer_code_of(std::string_view record_id) const;
  // The code of the customer `change` is for (its record, or the parent of a
  // child record that is gone, such as a refused follow-up), else the code the
  // change carried (walkthrough 19, R19-1).
  std::string customer_code_of(const Change& change) const;
  std::vector<Record> list(const ListQuery& q) const;
  // Revisions of a record, newest first: unconfirmed local changes first (rev 0,
  // state pending/rejected), then server revisions. With `field`, only those that
  // changed it (key or label).
  struct HistoryEntry {
    Revision revision;
    std::string state;  // "server" | "pending" | "acked" | "rejected"
    std::string reason;
  };
  std::vector<HistoryEntry> history(std::string_view id_or_code, std::string_view field = {}) const;
  ReplicaStatus status() const;
  // Streaming reads for reports (reports.h; replica_scan.cc): one query, one row
  // at a time. Every live record of `collection` (derived fields folded in, no
  // pending flag), in storage order.
  void for_each_record(std::string_view collection,
                       const std::function<void(const Record&)>& fn) const;
  // The same with only the fields in `keys` parsed into Record::fields (the rest
  // of the stored JSON is skipped unparsed: reports read a few fields of each).
  void for_each_record(std::string_view collection, const std::vector<std::string>& keys,
                       const std::function<void(const Record&)>& fn) const;
  // Revisions of `collection`'s records whose stored JSON contains `contains`
  // (a cheap pre-filter; empty: all): pulled server revisions, then local
  // change-log entries not rejected (as revisions with rev 0, `at` local).
  void for_each_revision(std::string_view collection, std::string_view contains,
                         const std::function<void(const Revision&)>& fn) const;

  // ---- Duplicate check and merge (duplicates.h; replica_dups.cc).
  // Live customers other than `except_id` that share a phone, WeChat or name
  // key with `fields` (stored values), one entry per (customer, key), by code.
  std::vector<DuplicateMatch> find_duplicates(const json& fields, std::string_view except_id = {}) const;
  // Every key shared by two live customers or more (one pass over the index).
  std::vector<DuplicateGroup> duplicate_groups() const;
  // Pairs of live customers sharing a key where one of them is in `ids`: at most
  // `limit` (0: all), by code; `*truncated` (if given) tells whether there were
  // more. A key held by n customers makes n(n-1)/2 pairs, so callers that only
  // show a few (sync) bound the work and the memory with `limit`.
  std::vector<DuplicatePair> duplicates_involving(const std::vector<std::string>& ids,
                                                  std::size_t limit = 0,
                                                  bool* truncated = nullptr) const;
  // Ids of the customers whose create is still in the change log (pending).
  std::vector<std::string> pending_customer_creates() const;
  // Merges OTHER into KEEP in one transaction (see duplicates.h, MergeReport):
  // children re-pointed, empty fields filled, tags united, OTHER to the recycle
  // bin. Error(validation) for a customer into itself, a deleted one, or a
  // record that is no customer. `dry_run`: the report only, nothing written.
  MergeReport merge_customers(std::string_view keep, std::string_view other, bool dry_run = false);

  // ---- Reminders and rules (reminders.h; replica_due.cc). `today` is
  // "YYYY-MM-DD" (Error(usage) otherwise); `days` 0..kMaxRuleDays.
  DueReport due(std::string_view today, std::int64_t days) const;
  std::vector<DueItem> churn_candidates(std::string_view today) const;
  // Sets type = lost on every churn candidate, each as one edit whose change
  // carries churn_cause(); all in one transaction. Returns the candidates with
  // their new state.
  std::vector<DueItem> apply_churn(std::string_view today);
  // The churn threshold in days: the admin's setting as last synced, or
  // kDefaultChurnDays. set_churn_days() checks the range only (Error(validation));
  // who may change it is decided by the caller (the CLI, the server).
  std::int64_t churn_days() const;
  void set_churn_days(std::int64_t days);

  // ---- Maintenance.
  // A consistent encrypted copy with the same passphrase, safe while others write.
  void backup(const std::string& dest_path);
  void rekey(std::string_view new_passphrase);
  // Moves the WAL into the main file (tests scan the file for plaintext after it).
  void checkpoint();

  // ---- Metadata (server URL, token, user, cursor, ...).
  std::string meta(std::string_view key) const;
  void set_meta(std::string_view key, std::string_view value);

  // ---- Sync gateway: used by kehu_sync, never by the CLI directly.
  // Pending changes in local order, after `after_seq`, at most `limit`.
  std::vector<LoggedChange> pending_changes(std::int64_t after_seq, std::size_t limit) const;
  // All change-log entries in a state ("pending", "rejected"), for status output.
  std::vector<LoggedChange> changes_in_state(std::string_view state) const;
  // Records the server's answer to one pushed change. `final_code` replaces a
  // provisional customer code (the old one stays findable).
  void mark_accepted(const std::string& change_id, std::int64_t rev,
                     const std::string& final_code);
  void mark_rejected(const std::string& change_id, const std::string& reason);
  // A customer the server no longer has at all (restored from a backup taken
  // before it was added): it leaves the device with its children, revisions
  // and conflicts; its and its children's changes not yet refused are refused
  // with `reason` and stay in the log with what was typed (`kehu rejected`).
  void forget_customer(const std::string& customer_id, const std::string& reason);
  // The server had every value of the change already ("noop": no revision will
  // ever carry it): it leaves the change log now.
  void mark_unchanged(const std::string& change_id);
  // Pending changes made on a revision the server no longer has (its store was
  // restored from a backup): each is based on the revision the replica now
  // holds, under a new change id, to be pushed again. Returns how many were.
  std::size_t rebase_changes(const std::vector<std::string>& change_ids);
  // The server took `fields` out of the user's requests on the record (a later
  // change of theirs named them): the same for the changes awaiting approval
  // here; one left with no field leaves the log.
  // Returns the request numbers of the waiting changes it emptied (withdrawn).
  std::vector<std::int64_t> narrow_awaiting(const std::string& record_id, const std::vector<std::string>& fields);
  // A change awaiting approval whose request the server does not know as its
  // own (its store was restored from a backup, and the id is gone or another's):
  // pending again under a new change id, to be pushed again. The new id.
  std::string requeue_awaiting(const std::string& change_id);
  // The server made the change a request for a manager's approval (protected
  // fields): it leaves the record's view until approved.
  void mark_awaiting(const std::string& change_id, std::int64_t request_id);
  // A manager decided: an approved change leaves the log (the server's revision,
  // pulled next, records it with requester and approver); a rejected one is kept
  // as rejected with `reason`.
  // The server applied `change_id` but holds its protected `fields` for a
  // manager's approval (request `request_id`): they stay in the log as a change
  // of their own, awaiting, while the rest is accepted.
  void hold_for_approval(const std::string& change_id, std::int64_t request_id,
                         const std::vector<std::string>& fields);
  // A change of this user's that another of their devices sent, which the
  // server holds for a manager's approval (request `request_id`, made at
  // `at`): awaiting here too, so that every device of the user shows it in
  // status, `customer show` and history (walkthrough 17, R17-18). It is never
  // sent from here; decided, it leaves or is refused as the sender's is.
  // Nothing is done when the request or the change is here already, or the
  // record is not. Returns whether it was added.
  bool adopt_awaiting(const Change& change, std::int64_t request_id, const std::string& at);
  void mark_decided(const std::string& change_id, bool approved, const std::string& reason);

  // ---- Refused edits (kehu rejected): kept with what was typed until the user
  // re-applies them in another form or dismisses them.
  // Writes the refused change `seq` again as a new edit of the record as it is
  // now: its typed values, without the fields in `drop`, with `replace` typed
  // instead. The refused entry leaves the log in the same transaction.
  // Error(not_found) when `seq` is not a refused change.
  Record reapply_rejected(std::int64_t seq, const FieldInputs& replace, const std::vector<std::string>& drop);
  // Forgets the refused change `seq`: what it typed is gone from this device.
  void dismiss_rejected(std::int64_t seq);
  // Applies one pulled page in one transaction: records (replacing local copies
  // without pending changes, re-applying pending edits on top of the others),
  // their revisions (conflicts become open conflicts) and the new cursor.
  // Before them, in the same transaction: with `reset`, every record and
  // revision held so far is dropped (the user's scope changed; the server sends
  // it again from the start); the customers in `removed` left the user's scope
  // and are dropped with their child records, revisions and conflicts. Local
  // changes stay in the change log either way: nothing typed is lost.
  // Returns how many records are shown with local pending edits on top.
  std::size_t apply_pulled(const std::vector<PulledRecord>& records,
                           const std::vector<Revision>& revisions, const std::string& cursor,
                           const std::vector<std::string>& removed = {}, bool reset = false);
  // Customer-code serials leased from the server for month "YYYYMM": [first, last].
  void add_code_lease(const std::string& month, std::int64_t first, std::int64_t last);
  std::int64_t leased_codes_left(const std::string& month) const;
  // Feeds a server clock reading into the hybrid clock.
  void observe_clock(std::int64_t hlc);

  // ---- Conflicts.
  std::vector<OpenConflict> open_conflicts() const;
  // Keeps one side of the newest open conflict on (customer, field): "mine" is the
  // side made on this device, "theirs" the other. Writes an edit when the kept
  // value differs from the current one. Throws Error(not_found) if none is open.
  void resolve_conflict(std::string_view code, std::string_view field, std::string_view keep);

 private:
  struct Impl;
  explicit Replica(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kehu
