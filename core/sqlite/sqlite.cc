#include "kehu/sqlite.h"

#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::db {
namespace {

// Kehu's cipher settings, applied right after the key on every connection. Page
// size 4096 is about 3x faster than SQLCipher 3's default 1024 here; the KDF
// iteration count is kReplicaKdfIterations.
const std::string kCipherSettings =
    "PRAGMA cipher_page_size = 4096; PRAGMA kdf_iter = " + std::to_string(kReplicaKdfIterations) + ";";

// Keys `db` and reads the schema, which decrypts page 1. Returns the SQLite code
// of the first failure: SQLITE_NOTADB when the key is wrong; SQLITE_ROW on success.
int key_and_read(sqlite3* db, std::string_view passphrase) {
  int rc = sqlite3_key(db, passphrase.data(), static_cast<int>(passphrase.size()));
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, kCipherSettings.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return rc;
  sqlite3_stmt* st = nullptr;
  rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc;
}

bool on_read_only_file_system(const std::string& file) {
  struct statvfs st {};
  const std::string dir = std::filesystem::path(file).parent_path().string();
  return statvfs(dir.empty() ? "." : dir.c_str(), &st) == 0 && (st.f_flag & ST_RDONLY) != 0;
}

// What the user can do about the errors a disk causes, naming the file; "" for
// the others. SQLite rolls the statement's transaction back on each of them, so
// nothing of the operation is kept.
std::string disk_advice(int rc, sqlite3* db) {
  const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
  const std::string file = name && *name ? name : "";
  const std::string where = file.empty() ? tr("the database", "数据库") : file;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return tr("the disk holding " + where + " is full: nothing of this operation was written; free some space and try again",
                "存放 " + where + " 的磁盘满了：这次操作什么都没有写入；请腾出空间后再试");
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      if (!file.empty() && on_read_only_file_system(file)) {
        return tr(where + " is on a read-only file system: kehu writes its journal next to it even to read; "
                          "remount it read-write or copy the replica to a writable place (nothing was changed)",
                  where + " 在只读文件系统上：kehu 即使只读也要在旁边写日志文件；"
                          "请以读写方式重新挂载，或把本地副本复制到可写的位置（什么都没有改）");
      }
      if ((rc & 0xff) == SQLITE_READONLY) {
        return tr(where + " cannot be written (read-only file); nothing was changed", where + " 无法写入（只读文件）；什么都没有改");
      }
      return "";
    case SQLITE_IOERR:
      return tr("the disk reported an I/O error on " + where + "; the operation was rolled back",
                "磁盘在 " + where + " 上报告了读写错误；这次操作已撤销");
    default:
      return "";
  }
}

}  // namespace

void check_sqlite(int rc, sqlite3* db, const char* what) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if ((rc & 0xff) == SQLITE_NOTADB) throw Error(Errc::wrong_passphrase, msg);
  if (std::string advice = disk_advice(rc, db); !advice.empty()) throw Error(Errc::io, advice + " (" + msg + ")");
  throw Error(Errc::storage, msg);
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  check_sqlite(sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr),
               db, "prepare");
}

Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, std::int64_t v) {
  check_sqlite(sqlite3_bind_int64(stmt_, i, v), db_, "bind");
  return *this;
}

Statement& Statement::bind(int i, std::string_view v) {
  check_sqlite(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT),
               db_, "bind");
  return *this;
}

Statement& Statement::bind_null(int i) {
  check_sqlite(sqlite3_bind_null(stmt_, i), db_, "bind");
  return *this;
}

Statement& Statement::bind_text_or_null(int i, std::string_view v) {
  return v.empty() ? bind_null(i) : bind(i, v);
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  check_sqlite(rc, db_, "step");
  return rc == SQLITE_ROW;
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Database::Database(const std::string& path, bool create) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error(rc == SQLITE_CANTOPEN ? Errc::not_found : Errc::storage, msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_extended_result_codes(db_, 0);
}

Database::Database(Database&& o) noexcept
    : db_(o.db_), path_(std::move(o.path_)), cache_(std::move(o.cache_)) {
  o.db_ = nullptr;
}

Database::~Database() {
  cache_.clear();  // statements must be finalised before the connection closes
  sqlite3_close(db_);
}

void Database::key(std::string_view passphrase) {
  const std::string wrong_key = tr("cannot open replica " + path_ + ": wrong passphrase, or the file is not a Kehu replica",
                                   "无法打开本地副本 " + path_ + "：口令不对，或者这个文件不是 Kehu 本地副本");
  // A WAL left behind by a process that died with the file open is checkpointed
  // into the file and deleted by a read-write connection when it closes, even one
  // that could not decrypt a single page (SQLite 3.15 has no
  // SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE). A wrong key must change nothing, so when
  // there is a WAL the key is first tried on a read-only connection, which
  // cannot write. Any other outcome there is left to the real connection below.
  if (::access((path_ + "-wal").c_str(), F_OK) == 0) {
    sqlite3* ro = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &ro, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc == SQLITE_OK) rc = key_and_read(ro, passphrase);
    sqlite3_close(ro);
    if ((rc & 0xff) == SQLITE_NOTADB) throw Error(Errc::wrong_passphrase, wrong_key);
  }
  // The first read decrypts page 1: a wrong key fails here, before anything is written.
  int rc = key_and_read(db_, passphrase);
  if (rc != SQLITE_ROW) {
    if ((rc & 0xff) == SQLITE_NOTADB) throw Error(Errc::wrong_passphrase, wrong_key);
    check_sqlite(rc, db_, "open");
  }
}

void Database::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (rc == SQLITE_NOTADB) throw Error(Errc::wrong_passphrase, msg);
    throw Error(Errc::storage, std::string("exec: ") + msg);
  }
}

Statement& Database::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  } else {
    it->second->reset();
  }
  return *it->second;
}

std::int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace kehu::db
