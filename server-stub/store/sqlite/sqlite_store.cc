#include "sqlite_store.h"

#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "crypto.h"
#include "private_temp.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/sqlite.h"
#include "server_config.h"
#include "sqlite_store_txn.h"

namespace kehu::server {

namespace {

// Layout v1. The revisions table is append-only: the triggers stop a bug (or a
// careless admin with the sqlite shell) from rewriting history in place; a
// deliberate tamperer can drop them, which is what the hash chain is for.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users(
  name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE tokens(
  hash TEXT PRIMARY KEY, user TEXT NOT NULL, device TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE INDEX tokens_by_expiry ON tokens(expires_at);
CREATE TABLE results(change_id TEXT PRIMARY KEY, result TEXT NOT NULL);
CREATE TABLE records(
  id TEXT PRIMARY KEY, collection TEXT NOT NULL, parent TEXT NOT NULL DEFAULT '',
  code TEXT UNIQUE, rev INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL, fields TEXT NOT NULL, updated_seq INTEGER NOT NULL);
CREATE INDEX records_by_parent ON records(parent);
CREATE TABLE revisions(
  seq INTEGER PRIMARY KEY, record_id TEXT NOT NULL, rev INTEGER NOT NULL,
  change_id TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX revisions_by_record ON revisions(record_id, seq);
CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
  BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
  BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;
CREATE TABLE code_aliases(alias TEXT PRIMARY KEY, record_id TEXT NOT NULL);
CREATE INDEX code_aliases_by_record ON code_aliases(record_id);
CREATE TABLE code_serials(month TEXT PRIMARY KEY, next INTEGER NOT NULL);
)sql";

// Layout v2: scopes (regions per user, a scope version that forces a fresh pull
// when they change), admin settings, pool claims and change requests.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE users ADD COLUMN regions TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN scope_version INTEGER NOT NULL DEFAULT 0;
CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE claims(user TEXT NOT NULL, day TEXT NOT NULL, record_id TEXT NOT NULL);
CREATE INDEX claims_by_user_day ON claims(user, day);
CREATE TABLE change_requests(
  id INTEGER PRIMARY KEY, change_id TEXT NOT NULL UNIQUE, record_id TEXT NOT NULL,
  collection TEXT NOT NULL, requester TEXT NOT NULL, device TEXT NOT NULL,
  base_rev INTEGER NOT NULL, fields TEXT NOT NULL, status TEXT NOT NULL,
  created_at TEXT NOT NULL, decided_by TEXT, decided_at TEXT, reason TEXT, seq INTEGER);
CREATE INDEX change_requests_by_status ON change_requests(status, id);
)sql";

// Layout v3: the user a change id belongs to, when its result may be
// forgotten, and who holds which leased code serials.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE results ADD COLUMN sender TEXT NOT NULL DEFAULT '';
ALTER TABLE results ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX results_by_expiry ON results(expires_at) WHERE expires_at > 0;
CREATE TABLE code_leases(
  month TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
  holder TEXT NOT NULL, device TEXT NOT NULL);
CREATE INDEX code_leases_by_holder ON code_leases(holder, device, month);
)sql";

// Layout v4: the conflicts a change held for approval settles (JSON array of
// {"rev", "field"}), written with its values when it is approved.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE change_requests ADD COLUMN resolves TEXT NOT NULL DEFAULT '[]';
)sql";

// Layout v5: revisions by record and rev (StoreTxn::revision_at).
constexpr const char* kSchemaV5 = R"sql(
CREATE INDEX revisions_by_record_rev ON revisions(record_id, rev);
)sql";

// Layout v6: releases to the pool, for the daily release cap.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE releases(user TEXT NOT NULL, day TEXT NOT NULL, record_id TEXT NOT NULL);
CREATE INDEX releases_by_user_day ON releases(user, day);
)sql";

// Layout v7: the scope index (StoreTxn::scope_at). A store with revisions
// already gets it filled from them by build_scope_index (scope_index.h), which
// the setting kScopeIndexPending asks for.
constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE scope_moves(
  customer_id TEXT NOT NULL, seq INTEGER NOT NULL, vals TEXT NOT NULL,
  PRIMARY KEY(customer_id, seq)) WITHOUT ROWID;
-- The place rules changed with it (江蘇, 苏 and 南京市鼓楼区 read as 江苏 and 南京):
-- every device re-pulls its scope under them.
UPDATE users SET scope_version = scope_version + 1;
)sql";
// Layout v8: the answers stored for a user that are to be forgotten, counted
// per push (IF NOT EXISTS: tests move a current store's version back).
constexpr const char* kSchemaV8 = R"sql(
CREATE INDEX IF NOT EXISTS results_expiring_by_sender ON results(sender) WHERE expires_at > 0;
CREATE INDEX IF NOT EXISTS change_requests_by_requester ON change_requests(requester, created_at);
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens(user, expires_at);
)sql";
// Layout v9: the cause a held change came with.
constexpr const char* kSchemaV9 = R"sql(
ALTER TABLE change_requests ADD COLUMN cause TEXT NOT NULL DEFAULT '';
)sql";
constexpr const char* kScopeIndexPending =
    "INSERT OR REPLACE INTO settings(key, value) VALUES('scope_index_pending', 'true')";

// The file's layout version: 0 for an empty file. Throws Error(storage) for a
// file with tables but no Kehu metadata.
int stored_version(db::Database& db) {
  db::Statement tables = db.prepare("SELECT count(*) FROM sqlite_master");
  tables.step();
  if (tables.int64(0) == 0) return 0;
  db::Statement meta = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'meta'");
  meta.step();
  if (meta.int64(0) == 0) {
    throw Error(Errc::storage, tr(db.path() + " is an SQLite file but not a kehu-server store",
                                  db.path() + " 是 SQLite 文件，但不是 kehu-server 的存储"));
  }
  db::Statement v = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!v.step()) throw Error(Errc::storage, tr(db.path() + " has no schema_version", db.path() + " 中没有 schema_version"));
  return std::stoi(v.text(0));
}

void configure(db::Database& db) {
  // synchronous=NORMAL is safe in WAL mode (no corruption on power loss) and
  // avoids an fsync per commit.
  db.exec("PRAGMA synchronous = NORMAL");
  std::string busy = "PRAGMA busy_timeout = " + std::to_string(config::kBusyTimeoutMs);
  db.exec(busy.c_str());
}

// Owns a raw sqlite3 handle for the backup destination (db::Database would
// apply settings the destination must not get before the copy).
struct Sqlite3Closer {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using RawDb = std::unique_ptr<sqlite3, Sqlite3Closer>;

}  // namespace

bool SqliteStore::initialise(const std::string& path) {
  db::Database db(path, /*create=*/true);
  configure(db);
  int version = stored_version(db);
  if (version > static_cast<int>(StoreVersion::current)) {
    throw Error(Errc::storage, tr(path + " has layout v" + std::to_string(version) + ", newer than this kehu-server (v" +
                                      std::to_string(static_cast<int>(StoreVersion::current)) + ")",
                                  path + " 的存储格式为 v" + std::to_string(version) + "，比此 kehu-server（v" +
                                      std::to_string(static_cast<int>(StoreVersion::current)) + "）更新"));
  }
  if (version == static_cast<int>(StoreVersion::current)) return false;
  // WAL is a property of the file: set once here, every later connection uses it.
  db.exec("PRAGMA journal_mode = WAL");
  db::Transaction txn(db);
  if (version < static_cast<int>(StoreVersion::v1_initial)) {
    db.exec(kSchemaV1);
  }
  if (version < static_cast<int>(StoreVersion::v2_scopes)) {
    db.exec(kSchemaV2);
  }
  if (version < static_cast<int>(StoreVersion::v3_result_sender)) {
    db.exec(kSchemaV3);
  }
  if (version < static_cast<int>(StoreVersion::v4_request_resolves)) {
    db.exec(kSchemaV4);
  }
  if (version < static_cast<int>(StoreVersion::v5_revision_by_rev)) {
    db.exec(kSchemaV5);
  }
  if (version < static_cast<int>(StoreVersion::v6_releases)) {
    db.exec(kSchemaV6);
  }
  if (version < static_cast<int>(StoreVersion::v7_scope_moves)) {
    db.exec(kSchemaV7);
    if (version > 0) db.exec(kScopeIndexPending);
  }
  if (version < static_cast<int>(StoreVersion::v8_expiring_results_by_sender)) {
    db.exec(kSchemaV8);
    db::Statement key = db.prepare("INSERT OR IGNORE INTO settings(key, value) VALUES(?, ?)");
    key.bind(1, kCursorTagKeySetting).bind(2, json(crypto::to_hex(crypto::random_bytes(32))).dump()).run();
  }
  if (version < static_cast<int>(StoreVersion::v9_request_cause)) {
    // SQLite has no ADD COLUMN IF NOT EXISTS; tests move a current store's version back.
    // (pragma_table_info() is SQLite 3.16; SQLCipher 3.4 is 3.15.)
    db::Statement columns = db.prepare("PRAGMA table_info(change_requests)");
    bool has = false;
    while (columns.step()) has = has || columns.text(1) == "cause";
    if (!has) db.exec(kSchemaV9);
  }
  // Later migrations go here, one `if (version < vN)` block each.
  db::Statement set = db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)");
  set.bind(1, std::to_string(static_cast<int>(StoreVersion::current))).run();
  txn.commit();
  return true;
}

SqliteStore::SqliteStore(std::string path) : path_(std::move(path)) {
  if (!std::filesystem::exists(path_)) {
    throw Error(Errc::not_found, tr("no store at " + path_ + ": run `kehu-server init` first",
                                    path_ + " 没有存储：请先运行 `kehu-server init`"));
  }
  int version = stored_version(connection());
  if (version != static_cast<int>(StoreVersion::current)) {
    throw Error(Errc::storage, tr(path_ + " has layout v" + std::to_string(version) + ", expected v" +
                                      std::to_string(static_cast<int>(StoreVersion::current)) +
                                      ": run `kehu-server init` to migrate it",
                                  path_ + " 的存储格式为 v" + std::to_string(version) + "，应为 v" +
                                      std::to_string(static_cast<int>(StoreVersion::current)) +
                                      "：请运行 `kehu-server init` 进行迁移"));
  }
}

SqliteStore::~SqliteStore() {
  listener_.stop();  // before the socket it reads is closed
  if (notice_socket_ >= 0) ::close(notice_socket_);
  // Only the socket this process bound (a successor may have bound the name since).
  struct stat st {};
  if (notice_socket_ >= 0 && ::stat((path_ + ".notify").c_str(), &st) == 0 && st.st_ino == notice_inode_) {
    ::unlink((path_ + ".notify").c_str());
  }
}

namespace {

// The address of the notice socket of the store at `path`; false when the
// path is too long for one (the commits of other processes then go unheard
// until a waiting pull's deadline).
bool notice_address(const std::string& path, sockaddr_un& addr) {
  const std::string name = path + ".notify";
  addr = sockaddr_un{};
  addr.sun_family = AF_UNIX;
  if (name.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, name.c_str(), name.size() + 1);
  return true;
}

}  // namespace

void SqliteStore::listen(CommitListener listener) {
  const bool listening = static_cast<bool>(listener);
  Store::listen(std::move(listener));
  if (!listening || listener_.running()) return;
  sockaddr_un addr;
  if (!notice_address(path_, addr)) {
    std::fprintf(stderr, "kehu-server: %s.notify is too long a socket path: waiting pulls hear of commits by "
                         "other kehu-server commands only at their deadline\n", path_.c_str());
    return;
  }
  // Another `serve` on this file holds it: leave it be (attacker review 16,
  // A16-3: a second serve took it over, and the first one's exit removed it).
  // This one's waiting pulls then hear of other processes' commits at their
  // deadline; each look checks its token again all the same.
  {
    const int probe = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const bool taken = probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    if (probe >= 0) ::close(probe);
    if (taken) {
      std::fprintf(stderr, "kehu-server: another kehu-server serves %s and hears the other commands' commits "
                           "(%s): this one's waiting pulls hear of them at their deadline\n",
                   path_.c_str(), addr.sun_path);
      return;
    }
  }
  notice_socket_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (notice_socket_ < 0) {
    throw Error(Errc::io, std::string("cannot create the notice socket: ") + std::strerror(errno));
  }
  ::unlink(addr.sun_path);  // left by a server that was killed
  const mode_t old_mask = ::umask(0077);
  const int bound = ::bind(notice_socket_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::umask(old_mask);
  if (bound != 0) {
    throw Error(Errc::io, std::string("cannot bind ") + addr.sun_path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::stat(addr.sun_path, &st) == 0) notice_inode_ = st.st_ino;
  listener_.start([this] { listen_loop(); });
}

void SqliteStore::listen_loop() {
  std::string buffer(8192, '\0');
  while (listener_.wait(notice_socket_, -1)) {
    const ssize_t n = ::recv(notice_socket_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n <= 0) continue;
    CommitNotice notice;
    std::string origin;
    // What is not a notice is dropped: only this user can send here, but a
    // stray script must not make every waiting pull look again in a loop (A16-2).
    if (CommitNotice::from_text(buffer.substr(0, static_cast<std::size_t>(n)), notice, origin)) tell(notice);
  }
}

void SqliteStore::committed(const CommitNotice& notice) const {
  if (notice.empty()) return;
  if (notice_socket_ >= 0) {
    tell(notice);
    return;
  }
  // Another process may be serving this file: best effort, never blocking (a
  // serve that is not running, or is busy, misses nothing it would need: its
  // waiting pulls still answer at their deadline).
  sockaddr_un addr;
  if (!notice_address(path_, addr)) return;
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  const std::string text = notice.to_text("");
  (void)::sendto(fd, text.data(), text.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::close(fd);
}

db::Database& SqliteStore::connection() {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = connections_[std::this_thread::get_id()];
  if (!slot) {
    auto db = std::make_unique<db::Database>(path_, /*create=*/false);
    configure(*db);
    slot = std::move(db);
  }
  return *slot;
}

std::unique_ptr<StoreTxn> SqliteStore::begin(TxnMode mode) {
  WriterGate::Pass writer;
  if (mode != TxnMode::read) {
    writer = gate_.enter(mode == TxnMode::batch_write, std::chrono::milliseconds(config::kBusyTimeoutMs));
    mode = TxnMode::write;
    if (!writer) {
      throw Error(Errc::storage, tr("the store is busy: another write took longer than " +
                                        std::to_string(config::kBusyTimeoutMs / 1000) + " s; retry later",
                                    "存储繁忙：另一个写入超过了 " + std::to_string(config::kBusyTimeoutMs / 1000) +
                                        " 秒；请稍后再试"));
    }
  }
  return std::make_unique<SqliteStoreTxn>(*this, connection(), mode, std::move(writer));
}

std::vector<std::string> SqliteStore::integrity_problems() {
  std::vector<std::string> out;
  try {
    db::Statement check = connection().prepare("PRAGMA integrity_check(10)");
    while (check.step()) {
      std::string line = check.text(0);
      if (line != "ok") out.push_back(std::move(line));
    }
  } catch (const Error& e) {
    // A page too damaged for the check to walk stops it with SQLITE_CORRUPT.
    if (e.code() != Errc::storage) throw;
    out.push_back(e.what());
  }
  return out;
}

void SqliteStore::backup_to(const std::string& dest) {
  db::Database& src = connection();
  // A copy cut short is removed with its folder: it holds the store's users and customers.
  PrivateTemp partial(dest);
  const std::string& tmp = partial.path();
  {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(tmp.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    RawDb out(raw);
    db::check_sqlite(rc, raw, ("cannot create " + tmp).c_str());
    sqlite3_backup* b = sqlite3_backup_init(out.get(), "main", src.handle(), "main");
    if (!b) db::check_sqlite(sqlite3_errcode(out.get()), out.get(), "backup");
    // One step of -1 pages copies everything under a single read snapshot, so the
    // copy is consistent even while writers commit (WAL readers don't block them).
    rc = sqlite3_backup_step(b, -1);
    int finish = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) db::check_sqlite(rc, out.get(), "backup");
    db::check_sqlite(finish, out.get(), "backup");
  }
  partial.commit();
}

}  // namespace kehu::server
