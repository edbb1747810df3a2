#include "postgres_store.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "crypto.h"
#include "kehu/lang.h"
#include "postgres_store_txn.h"
#include "server_config.h"

namespace kehu::server {

namespace {

// Layout v1, the SQLite store's v1 table for table and column for column
// (sqlite_store.cc), in PostgreSQL's types: INTEGER -> BIGINT, 0/1 flags ->
// BOOLEAN. `user` is a reserved word here, so it is quoted. SQLite's implicit
// rowid gave "insertion order"; here the `pos` identity columns do. The
// revisions table is append-only: the triggers stop a bug (or a careless admin
// with psql) from rewriting history in place; a deliberate tamperer can drop
// them, which is what the hash chain is for.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users(
  name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT false, created_at TEXT NOT NULL);
CREATE TABLE tokens(
  hash TEXT PRIMARY KEY, "user" TEXT NOT NULL, device TEXT NOT NULL,
  expires_at BIGINT NOT NULL);
CREATE INDEX tokens_by_expiry ON tokens(expires_at);
CREATE TABLE results(change_id TEXT PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE records(
  id TEXT PRIMARY KEY, collection TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
  code TEXT UNIQUE, rev BIGINT NOT NULL, deleted BOOLEAN NOT NULL DEFAULT false,
  state TEXT NOT NULL, fields TEXT NOT NULL, updated_seq BIGINT NOT NULL,
  pos BIGINT GENERATED ALWAYS AS IDENTITY);
CREATE INDEX records_by_parent ON records(parent, pos);
CREATE INDEX records_by_collection ON records(collection, pos);
CREATE TABLE revisions(
  seq BIGINT PRIMARY KEY, record_id TEXT NOT NULL, rev BIGINT NOT NULL,
  change_id TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX revisions_by_record ON revisions(record_id, seq);
CREATE FUNCTION kehu_revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'revisions are append-only'; END $$;
CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
  FOR EACH ROW EXECUTE FUNCTION kehu_revisions_append_only();
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
  FOR EACH ROW EXECUTE FUNCTION kehu_revisions_append_only();
CREATE TRIGGER revisions_no_truncate BEFORE TRUNCATE ON revisions
  FOR EACH STATEMENT EXECUTE FUNCTION kehu_revisions_append_only();
CREATE TABLE code_aliases(
  alias TEXT PRIMARY KEY, record_id TEXT NOT NULL, pos BIGINT GENERATED ALWAYS AS IDENTITY);
CREATE INDEX code_aliases_by_record ON code_aliases(record_id, pos);
CREATE TABLE code_serials(month TEXT PRIMARY KEY, next BIGINT NOT NULL);
)sql";

// Layout v2 (as in SQLite): scopes, admin settings, pool claims and change
// requests. Request ids are max + 1 under the writer lock, as SQLite's INTEGER
// PRIMARY KEY gives them, so a rolled-back request leaves no gap.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE users ADD COLUMN regions TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN scope_version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE claims("user" TEXT NOT NULL, day TEXT NOT NULL, record_id TEXT NOT NULL);
CREATE INDEX claims_by_user_day ON claims("user", day);
CREATE TABLE change_requests(
  id BIGINT PRIMARY KEY, change_id TEXT NOT NULL UNIQUE, record_id TEXT NOT NULL,
  collection TEXT NOT NULL, requester TEXT NOT NULL, device TEXT NOT NULL,
  base_rev BIGINT NOT NULL, fields TEXT NOT NULL, status TEXT NOT NULL,
  created_at TEXT NOT NULL, decided_by TEXT, decided_at TEXT, reason TEXT, seq BIGINT);
CREATE INDEX change_requests_by_status ON change_requests(status, id);
)sql";

// Layout v3 (as in SQLite): result senders and expiry, code leases.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE results ADD COLUMN sender TEXT NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX results_by_expiry ON results(expires_at) WHERE expires_at > 0;
CREATE TABLE code_leases(
  month TEXT NOT NULL, first BIGINT NOT NULL, last BIGINT NOT NULL,
  holder TEXT NOT NULL, device TEXT NOT NULL);
CREATE INDEX code_leases_by_holder ON code_leases(holder, device, month);
)sql";

// Layout v4 (as in SQLite): the conflicts a change held for approval settles.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE change_requests ADD COLUMN resolves TEXT NOT NULL DEFAULT '[]';
)sql";

// Layout v5: revisions by record and rev (StoreTxn::revision_at).
constexpr const char* kSchemaV5 = R"sql(
CREATE INDEX revisions_by_record_rev ON revisions(record_id, rev);
)sql";

// Layout v6 (as in SQLite): releases to the pool, for the daily release cap.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE releases("user" TEXT NOT NULL, day TEXT NOT NULL, record_id TEXT NOT NULL);
CREATE INDEX releases_by_user_day ON releases("user", day);
)sql";

// Layout v7 (as in SQLite): the scope index; filled from the revisions a
// store already holds by build_scope_index (scope_index.h), which the setting
// kScopeIndexPending asks for.
// Layout v8: the answers stored for a user that are to be forgotten, counted per push.
// (IF NOT EXISTS: tests move a current store's version back; its "already
// exists" notice is not for the operator.)
constexpr const char* kSchemaV8 = R"sql(
SET client_min_messages = warning;
CREATE INDEX IF NOT EXISTS results_expiring_by_sender ON results(sender) WHERE expires_at > 0;
CREATE INDEX IF NOT EXISTS change_requests_by_requester ON change_requests(requester, created_at);
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens("user", expires_at);
RESET client_min_messages;
)sql";

// Layout v9: the cause a held change came with (IF NOT EXISTS: as v8).
constexpr const char* kSchemaV9 = R"sql(
SET client_min_messages = warning;
ALTER TABLE change_requests ADD COLUMN IF NOT EXISTS cause TEXT NOT NULL DEFAULT '';
RESET client_min_messages;
)sql";

constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE scope_moves(
  customer_id TEXT NOT NULL, seq BIGINT NOT NULL, vals TEXT NOT NULL,
  PRIMARY KEY(customer_id, seq));
-- The place rules changed with it: every device re-pulls its scope under them.
UPDATE users SET scope_version = scope_version + 1;
)sql";
constexpr const char* kScopeIndexPending =
    "INSERT INTO settings(key, value) VALUES('scope_index_pending', 'true') "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";

// PostgreSQL 11 brought EXECUTE FUNCTION in triggers; 10 identity columns.
constexpr int kMinServerVersion = 110000;

void check_server(pg::Connection& c) {
  if (c.server_version() < kMinServerVersion) {
    throw Error(Errc::storage, c.display_url() + " runs PostgreSQL " +
                                   std::to_string(c.server_version() / 10000) +
                                   "; kehu-server needs 11 or later");
  }
  pg::Result enc = c.exec("SHOW server_encoding", "read the database encoding");
  if (enc.text(0, 0) != "UTF8") {
    throw Error(Errc::storage,
                c.display_url() + " has encoding " + enc.text(0, 0) +
                    "; kehu-server needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8')");
  }
}

// The database's layout version: 0 when it has no tables in the current schema.
// Throws Error(storage) for a database with tables but no Kehu metadata.
int stored_version(pg::Connection& c) {
  pg::Result tables = c.run(
      "SELECT count(*), count(*) FILTER (WHERE tablename = 'meta') FROM pg_tables "
      "WHERE schemaname = current_schema()",
      {}, "list the tables");
  if (tables.int64(0, 0) == 0) return 0;
  if (tables.int64(0, 1) == 0) {
    throw Error(Errc::storage, tr(c.display_url() + " holds tables but is not a kehu-server store",
                                  c.display_url() + " 中有表，但不是 kehu-server 的存储"));
  }
  pg::Result v =
      c.run("SELECT value FROM meta WHERE key = 'schema_version'", {}, "read the layout version");
  if (v.rows() == 0) throw Error(Errc::storage, c.display_url() + " has no schema_version");
  return std::stoi(v.text(0, 0));
}

std::string version_text(int v) { return "v" + std::to_string(v); }

// Session settings of every pooled connection: a writer waits for the writer
// lock as long as SQLite's busy timeout lets it.
void setup_session(pg::Connection& c) {
  pg::Params p;
  p.text(std::to_string(config::kBusyTimeoutMs) + "ms");
  c.run("SELECT set_config('lock_timeout', $1, false)", p, "set lock_timeout");
}

}  // namespace

bool PostgresStore::initialise(const std::string& url) {
  pg::Connection c(url);
  check_server(c);
  setup_session(c);
  // The writer lock also serialises two inits, and an init with running servers.
  // If anything below throws, the connection closes and the transaction rolls back.
  PostgresStoreTxn::start(c, TxnMode::write);
  const int version = stored_version(c);
  if (version > static_cast<int>(StoreVersion::current)) {
    throw Error(Errc::storage, c.display_url() + " has layout " + version_text(version) +
                                   ", newer than this kehu-server (" +
                                   version_text(static_cast<int>(StoreVersion::current)) + ")");
  }
  if (version == static_cast<int>(StoreVersion::current)) {
    c.exec("ROLLBACK", "end init");
    return false;
  }
  if (version < static_cast<int>(StoreVersion::v1_initial)) c.exec(kSchemaV1, "create layout v1");
  if (version < static_cast<int>(StoreVersion::v2_scopes))
    c.exec(kSchemaV2, "migrate to layout v2");
  if (version < static_cast<int>(StoreVersion::v3_result_sender))
    c.exec(kSchemaV3, "migrate to layout v3");
  if (version < static_cast<int>(StoreVersion::v4_request_resolves))
    c.exec(kSchemaV4, "migrate to layout v4");
  if (version < static_cast<int>(StoreVersion::v5_revision_by_rev))
    c.exec(kSchemaV5, "migrate to layout v5");
  if (version < static_cast<int>(StoreVersion::v6_releases))
    c.exec(kSchemaV6, "migrate to layout v6");
  if (version < static_cast<int>(StoreVersion::v7_scope_moves)) {
    c.exec(kSchemaV7, "migrate to layout v7");
    if (version > 0) c.exec(kScopeIndexPending, "ask for the scope index");
  }
  if (version < static_cast<int>(StoreVersion::v8_expiring_results_by_sender)) {
    c.exec(kSchemaV8, "migrate to layout v8");
    pg::Params key;
    key.text(kCursorTagKeySetting).text(json(crypto::to_hex(crypto::random_bytes(32))).dump());
    c.run("INSERT INTO settings(key, value) VALUES($1, $2) ON CONFLICT (key) DO NOTHING", key, "the cursor key");
  }
  if (version < static_cast<int>(StoreVersion::v9_request_cause))
    c.exec(kSchemaV9, "migrate to layout v9");
  // Later migrations go here, one `if (version < vN)` block each.
  pg::Params p;
  p.text(std::to_string(static_cast<int>(StoreVersion::current)));
  c.run(
      "INSERT INTO meta(key, value) VALUES('schema_version', $1) "
      "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
      p, "record the layout version");
  pg::Result done = c.exec("COMMIT", "commit init");
  if (done.status() != "COMMIT")
    throw Error(Errc::storage, "init of " + c.display_url() + " was rolled back");
  return true;
}

PostgresStore::PostgresStore(std::string url)
    : pool_(std::move(url), config::kPostgresMaxConnections, config::kBusyTimeoutMs,
            setup_session),
      origin_(crypto::to_hex(crypto::random_bytes(8))) {
  pg::Lease c = pool_.acquire();
  check_server(*c);
  const int version = stored_version(*c);
  if (version == 0) {
    throw Error(Errc::not_found, tr("no kehu-server store in " + c->display_url() + ": run `kehu-server init --store URL` first",
                                    c->display_url() + " 中没有 kehu-server 存储：请先运行 `kehu-server init --store URL`"));
  }
  if (version != static_cast<int>(StoreVersion::current)) {
    throw Error(Errc::storage, c->display_url() + " has layout " + version_text(version) +
                                   ", expected " +
                                   version_text(static_cast<int>(StoreVersion::current)) +
                                   ": run `kehu-server init --store URL` to migrate it");
  }
}

PostgresStore::~PostgresStore() = default;

void PostgresStore::listen(CommitListener listener) {
  const bool listening = static_cast<bool>(listener);
  Store::listen(std::move(listener));
  if (listening) listener_.start([this] { listen_loop(); });
}

void PostgresStore::listen_loop() {
  CommitNotice missed;  // what a gap in listening may have hidden
  missed.revisions = missed.everyone = missed.all_users = true;
  bool connected_before = false;
  while (!listener_.stopping()) {
    try {
      pg::Connection conn(pool_.url());
      conn.exec("LISTEN kehu_commits", "listen");
      if (connected_before) tell(missed);
      connected_before = true;
      std::vector<std::string> payloads;
      while (listener_.wait(conn.socket(), -1)) {
        payloads.clear();
        if (!conn.take_notifications(kNotifyChannel, payloads)) break;
        for (const auto& text : payloads) {
          CommitNotice notice;
          std::string origin;
          if (CommitNotice::from_text(text, notice, origin) && origin != origin_) tell(notice);
        }
      }
      if (listener_.stopping()) return;
      std::fprintf(stderr, "kehu-server: lost the PostgreSQL connection that listens for other servers' commits; "
                           "reconnecting\n");
    } catch (const Error& e) {
      std::fprintf(stderr, "kehu-server: cannot listen for other servers' commits (%s); retrying in 1 s\n", e.what());
    }
    connected_before = true;  // a failed first attempt may have missed some too
    listener_.wait(-1, 1000);
  }
}

std::unique_ptr<StoreTxn> PostgresStore::begin(TxnMode mode) {
  // PostgreSQL's advisory lock is the writers' queue here (roughly in order,
  // across processes); a batch has no lower priority.
  if (mode == TxnMode::batch_write) mode = TxnMode::write;
  // Idle pooled connections may have died (the database restarted, a network
  // blip): each is closed and the next tried, up to a fresh one, so the request
  // never sees it.
  for (std::size_t attempt = 0;; ++attempt) {
    pg::Lease lease = pool_.acquire();
    try {
      PostgresStoreTxn::start(*lease, mode);
    } catch (const pg::PgError& e) {
      if (lease->broken() && attempt < config::kPostgresMaxConnections)
        continue;  // the lease closes it
      if (!lease->broken()) PostgresStoreTxn::abandon(lease);
      if (e.sqlstate() == pg::kLockNotAvailable) {
        throw Error(Errc::storage, "another writer held the store for " +
                                       std::to_string(config::kBusyTimeoutMs / 1000) + " s (" +
                                       e.what() + ")");
      }
      throw;
    }
    return std::make_unique<PostgresStoreTxn>(*this, std::move(lease), mode);
  }
}

}  // namespace kehu::server
