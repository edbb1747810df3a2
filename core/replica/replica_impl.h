// Internal state of a Replica, shared by the replica_*.cc files. Not installed.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <memory>
#include <vector>

#include "customer_index.h"
#include "kehu/hlc.h"
#include "kehu/replica.h"
#include "kehu/sqlite.h"

namespace kehu {

struct Replica::Impl {
  db::Database db;
  CustomerIndex index{db};  // derived from `records`: see customer_index.h for who keeps it current
  std::string passphrase;  // kept for backup(): the copy is keyed like the original
  std::string device_id;
  HybridClock clock;
  int tx_depth = 0;  // > 0 while inside batch(): edits join the open transaction

  Impl(db::Database d, std::string pass) : db(std::move(d)), passphrase(std::move(pass)) {}

  // Runs fn in a transaction, or inside the one batch() opened.
  template <typename Fn>
  auto in_tx(Fn&& fn) {
    if (tx_depth > 0) return fn();
    db::Transaction tx(db);
    ++tx_depth;
    struct Depth {
      int& d;
      ~Depth() { --d; }
    } guard{tx_depth};
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      save_clock();
      tx.commit();
    } else {
      auto result = fn();
      save_clock();
      tx.commit();
      return result;
    }
  }

  // The hybrid clock's last value is persisted once per transaction that used
  // it (write_change marks it), so a restart never issues an older HLC.
  bool clock_dirty = false;
  void save_clock() {
    if (clock_dirty) set_meta("hlc", std::to_string(clock.last()));
    clock_dirty = false;
  }

  std::string meta(std::string_view key);
  void set_meta(std::string_view key, std::string_view value);

  // The built-in schema plus this replica's custom fields (custom_fields.h), built
  // on first use and again after the synced list changes (set_meta). Earlier
  // ones stay alive, so a reference handed out never dangles.
  const Schema& schema();
  std::vector<std::shared_ptr<const Schema>> schemas;
  bool schema_stale = true;

  // Row access.
  std::optional<Record> load(std::string_view id);
  std::optional<Record> load_by_code(std::string_view code);
  // An id, code, or alias. `forward`: a customer merged away is found as the
  // customer it was merged into.
  std::optional<Record> resolve(std::string_view id_or_code, bool forward = false);
  // The customer `r`, merged away, was merged into, following merges of merges
  // (the cause of its delete names it); nullopt when it was not merged away.
  std::optional<Record> merged_into(const Record& r);
  // The rowid of a record in `records` (the customer index's docid); 0 if none.
  std::int64_t rowid_of(std::string_view id);
  // A customer by its docid (customer_index.h); nullopt if that row is no customer.
  // With `pending` (ids of records with pending changes, from pending_ids()) the
  // flag comes from the set instead of one change-log lookup per record.
  std::optional<Record> load_customer_docid(std::int64_t docid,
                                            const std::unordered_set<std::string>* pending = nullptr);
  std::unordered_set<std::string> pending_ids();
  // The view columns (derived fields are not stored here); a customer's index
  // rows follow (customer_index.h).
  void store(const Record& r);
  bool has_pending(const std::string& record_id);
  // Whether a delete (or restore) of the record waits for a manager's approval.
  bool awaits_delete(const std::string& record_id);

  // Writes one local change: the record's new state and its change-log entry.
  // `before` is the state the user saw (nullopt for a create). No-op (returns
  // `before`) when an update changes nothing. `cause`: Change::cause.
  // `resolves`: the conflicts the change settles; such a change is written even
  // when it changes no value (kehu conflicts resolve --keep for the kept side).
  // A change as the change log stores it: its JSON without device_seq (the
  // log's own seq column is the device order).
  static std::string change_log_body(const Change& c);
  // `restated`: fields the user typed with the value they hold while a request
  // of theirs asks for another (field -> the value asked for): written all the
  // same, from the value asked for to the one typed, so the server takes them
  // out of the request (or, approved meanwhile, sets them back).
  Record write_change(const std::optional<Record>& before, Record after, Op op,
                      std::string_view cause = {}, std::vector<ConflictRef> resolves = {},
                      const std::map<std::string, json>& restated = {});
  // What the user's changes waiting for a manager's approval ask for: field ->
  // value (the latest change's, when several ask for one field).
  std::map<std::string, json> awaiting_fields(const std::string& record_id);

  // A new follow-up that is the customer's latest and plans the next one
  // (下次跟进日期) carries its next_date and next_plan to the customer, as an
  // edit of the same user: `kehu due` reminds from the customer's next_date.
  void carry_next_followup(const Record& followup);
  // A follow-up gone to the recycle bin takes its plan with it: the customer's
  // next date, when the follow-up gave it, comes from the latest one left (or is
  // cleared when that one plans nothing).
  void withdraw_next_followup(const Record& removed);
  // Recomputes derived fields of a customer (last_followup_at) from its follow-ups.
  // `unset`: the customer's derived columns are known to be empty still (just
  // inserted), so a customer without follow-ups needs no write.
  void refresh_derived(const std::string& customer_id, bool unset = false);
  // Refuses at once, with the reason, an edit the server would refuse from this
  // device's user and role as of the last login (replica_policy.cc).
  void check_local_policy(const std::optional<Record>& before, const Record& after, const Change& c);
  // Throws Error(forbidden) when the last login was an auditor's: they edit nothing.
  void refuse_auditor();
  // Refuses a salesperson's or manager's new customer outside their regions,
  // or a move out of them (kRegionsMeta; kehu/place.h check_stays_in_regions).
  void check_stays_in_reach(const Record* before, const Record& after);
  // Refuses a salesperson's typed value (even an empty one) for a restricted field.
  void check_typed_restricted(const CollectionDef& coll, const json& values);
  // Marks the conflicts `refs` names on `record_id` (and the field's older ones)
  // settled, or open again (a refused settling).
  void settle_conflicts(const std::string& record_id, const std::vector<ConflictRef>& refs, bool settled);
  // A new customer code for today's month: leased, local, or provisional.
  std::string allocate_code();
  // Frees `code` for `record_id`: another local record holding it gets a new one.
  void take_code(const std::string& code, const std::string& record_id);
  // Rebuilds a record's view from its server state plus its pending changes.
  void rebuild_view(const std::string& record_id);
  // The record a change-log entry is about, if the entry exists.
  std::optional<std::string> record_of_change(const std::string& change_id);
  // Drops customers that left the user's scope, with their child records and
  // everything pulled about them (apply_pulled).
  void drop_customers(const std::vector<std::string>& customer_ids);
  // A record the server never had, with no change pending, leaves the replica
  // (a customer with its children).
  void drop_unsynced(const Record& rec);
  // Drops every pulled record without pending local edits (a scope reset).
  void drop_everything_pulled();
};

// The derived field kept in its own column (never synced, never in `fields`).
inline constexpr const char* kLastFollowupField = "last_followup_at";

// Record <-> JSON of the stored columns. The derived column is folded into
// Record::fields, so callers see one set of fields.
Record record_from_row(db::Statement& st);  // columns: see kRecordColumns
inline constexpr const char* kRecordColumns =
    "id, collection, code, parent, rev, deleted, fields, "
    "EXISTS(SELECT 1 FROM changes c WHERE c.record_id = records.id AND c.state = 'pending'), "
    "last_followup_at";

// Creates or upgrades the replica's tables to `target` (tests stop at an older
// version to make a replica as an older kehu would have).
void migrate(db::Database& db, ReplicaVersion target = ReplicaVersion::current);
int read_schema_version(db::Database& db);

}  // namespace kehu
