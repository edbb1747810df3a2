// Replica schema versions and their migrations.
//
// PRAGMA user_version holds the ReplicaVersion of the file. Each migration moves
// exactly one version up and runs in the same transaction as the version bump, so
// a crash leaves the file at one version or the next, never between.
#include <cstdlib>
#include <string>

#include "customer_index.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "replica_impl.h"

namespace kehu {
namespace {

// Version 1: records (view + last server state), change log, server revisions,
// conflicts, code aliases and leases, metadata.
const char* const kV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records(
  id TEXT PRIMARY KEY,
  collection TEXT NOT NULL,
  code TEXT UNIQUE,
  parent TEXT,
  rev INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  fields TEXT NOT NULL,
  server_fields TEXT,
  server_deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX records_collection ON records(collection, deleted);
CREATE INDEX records_parent ON records(parent, collection);
CREATE TABLE code_aliases(alias TEXT PRIMARY KEY, record_id TEXT NOT NULL);
CREATE TABLE code_leases(month TEXT NOT NULL, next INTEGER NOT NULL, last INTEGER NOT NULL);
CREATE TABLE changes(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  change_id TEXT NOT NULL UNIQUE,
  record_id TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  reason TEXT,
  at TEXT NOT NULL,
  rev INTEGER);
CREATE INDEX changes_record ON changes(record_id, state);
CREATE INDEX changes_state ON changes(state, seq);
CREATE TABLE revisions(
  record_id TEXT NOT NULL,
  rev INTEGER NOT NULL,
  seq INTEGER,
  change_id TEXT,
  body TEXT NOT NULL,
  PRIMARY KEY(record_id, rev));
CREATE TABLE conflicts(
  id INTEGER PRIMARY KEY,
  record_id TEXT NOT NULL,
  rev INTEGER NOT NULL,
  field TEXT NOT NULL,
  body TEXT NOT NULL,
  resolved INTEGER NOT NULL DEFAULT 0,
  UNIQUE(record_id, rev, field));
)sql";

// Version 2: derived fields (last_followup_at) get a column of their own, so a
// pulled server state can replace `fields` without losing what the replica
// computed, and without re-reading every customer's follow-ups.
const char* const kV2 = "ALTER TABLE records ADD COLUMN last_followup_at TEXT;";

// Version 3: a change awaiting a manager's approval remembers its request id.
const char* const kV3 = "ALTER TABLE changes ADD COLUMN request INTEGER;";

// Version 4: the customer index for list filters, --search and reminders
// (customer_index.h describes the tables). Filled from `records` by its data step.
const char* const kV4 = R"sql(
CREATE TABLE customer_index(
  docid INTEGER PRIMARY KEY,
  in_bin INTEGER NOT NULL DEFAULT 0,
  next_date TEXT,
  birthday TEXT,
  created_at TEXT,
  last_followup_at TEXT);
CREATE VIRTUAL TABLE customer_terms USING fts4(terms);
)sql";

// Version 5: the duplicate keys of live customers (duplicate_index.h), filled
// from `records` by its data step.
const char* const kV5 = R"sql(
CREATE TABLE customer_keys(
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  docid INTEGER NOT NULL,
  region TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(kind, key, docid)) WITHOUT ROWID;
CREATE INDEX customer_keys_docid ON customer_keys(docid);
)sql";

// Version 6: codes in the order they were made (code_sort_key in
// customer_code.h): C202611999 before C2026111000, which text order puts between
// C202611100 and C202611101. list() walks it for a page in code order.
const char* const kV6 =
    "CREATE INDEX IF NOT EXISTS records_code_order ON records(substr(code, 1, 7), length(code), code) "
    "WHERE code IS NOT NULL;";

// Version 7: a revision may record more than one conflict on a field (the
// sides of tags members, or every value that lost to the kept one, merge.h):
// n numbers them within (record_id, rev, field).
const char* const kV7 = R"sql(
CREATE TABLE conflicts_v7(
  id INTEGER PRIMARY KEY,
  record_id TEXT NOT NULL,
  rev INTEGER NOT NULL,
  field TEXT NOT NULL,
  n INTEGER NOT NULL DEFAULT 0,
  body TEXT NOT NULL,
  resolved INTEGER NOT NULL DEFAULT 0,
  UNIQUE(record_id, rev, field, n));
INSERT INTO conflicts_v7(id, record_id, rev, field, body, resolved)
  SELECT id, record_id, rev, field, body, resolved FROM conflicts;
DROP TABLE conflicts;
ALTER TABLE conflicts_v7 RENAME TO conflicts;
)sql";

// v4 runs before customer_keys exists.
void index_customers(db::Database& db) { CustomerIndex(db, /*with_keys=*/false).rebuild(); }

void index_duplicate_keys(db::Database& db) { DuplicateIndex(db).rebuild(); }

// Moves last_followup_at out of each customer's fields JSON into the new column
// (SQLite 3.15 has no JSON1, so this step is C++).
void move_derived_to_column(db::Database& db) {
  auto sel = db.prepare("SELECT id, fields FROM records WHERE collection = 'customers'");
  auto upd = db.prepare("UPDATE records SET fields = ?, last_followup_at = ? WHERE id = ?");
  while (sel.step()) {
    json fields = json::parse(sel.text(1));
    auto it = fields.find("last_followup_at");
    if (it == fields.end()) continue;
    std::string date = it->is_string() ? it->get<std::string>() : std::string();
    fields.erase(it);
    upd.reset();
    upd.bind(1, fields.dump()).bind_text_or_null(2, date).bind(3, sel.text(0)).run();
  }
}

struct Migration {
  ReplicaVersion to;
  const char* sql;
  void (*data_step)(db::Database&);  // runs after sql, in the same transaction; may be null
};

// One entry per ReplicaVersion after 0 (an empty file), in order.
const Migration kMigrations[] = {
    {ReplicaVersion::v1_initial, kV1, nullptr},
    {ReplicaVersion::v2_derived_column, kV2, move_derived_to_column},
    {ReplicaVersion::v3_change_requests, kV3, nullptr},
    {ReplicaVersion::v4_customer_index, kV4, index_customers},
    {ReplicaVersion::v5_duplicate_keys, kV5, index_duplicate_keys},
    {ReplicaVersion::v6_code_order, kV6, nullptr},
    {ReplicaVersion::v7_conflict_sides, kV7, nullptr},
};

}  // namespace

int read_schema_version(db::Database& db) {
  auto& st = db.cached("PRAGMA user_version");
  st.step();
  int v = static_cast<int>(st.int64(0));
  st.reset();
  return v;
}

namespace {

// What the customer index holds changed without a new table: its rules have a
// number of their own, in `meta`, and an index made by older rules is rebuilt
// once. 1: provinces and cities indexed canonically (kehu/place.h), so that
// --region 江苏 finds 江苏省 too.
constexpr int kCustomerIndexRules = 1;
constexpr const char* kCustomerIndexRulesKey = "customer_index_rules";

void refresh_customer_index(db::Database& db, int version) {
  if (version < static_cast<int>(ReplicaVersion::v4_customer_index)) return;
  auto rules = [&] {
    auto st = db.prepare("SELECT value FROM meta WHERE key = ?");
    st.bind(1, std::string(kCustomerIndexRulesKey));
    return st.step() ? std::atoi(st.text(0).c_str()) : 0;
  };
  if (rules() >= kCustomerIndexRules) return;
  db::Transaction tx(db);
  if (rules() >= kCustomerIndexRules) return;  // another process did it meanwhile
  CustomerIndex(db, version >= static_cast<int>(ReplicaVersion::v5_duplicate_keys)).rebuild();
  auto put = db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
  put.bind(1, std::string(kCustomerIndexRulesKey)).bind(2, std::to_string(kCustomerIndexRules)).run();
  tx.commit();
}

}  // namespace

void migrate(db::Database& db, ReplicaVersion target) {
  int version = read_schema_version(db);
  if (version > static_cast<int>(ReplicaVersion::current)) {
    throw Error(Errc::storage,
                tr("replica " + db.path() + " has schema version " + std::to_string(version) +
                       ", newer than this kehu (" + std::to_string(static_cast<int>(ReplicaVersion::current)) +
                       "): upgrade kehu",
                   "本地副本 " + db.path() + " 的结构版本为 " + std::to_string(version) + "，比当前 kehu 支持的（" +
                       std::to_string(static_cast<int>(ReplicaVersion::current)) + "）更新：请升级 kehu"));
  }
  for (const auto& m : kMigrations) {
    if (static_cast<int>(m.to) <= version) continue;
    if (static_cast<int>(m.to) > static_cast<int>(target)) break;
    db::Transaction tx(db);
    db.exec(m.sql);
    if (m.data_step) m.data_step(db);
    db.exec(("PRAGMA user_version = " + std::to_string(static_cast<int>(m.to))).c_str());
    tx.commit();
    version = static_cast<int>(m.to);
  }
  refresh_customer_index(db, version);
}

}  // namespace kehu
