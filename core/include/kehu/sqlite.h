// Thin owners for SQLite (SQLCipher) handles, shared by the replica and the
// server's SQLite store. Every return code goes through check_sqlite().
//
// Not thread-safe: one Database per thread (the server opens one per worker).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace kehu::db {

// PBKDF2 rounds that turn a replica's passphrase into its key: they make
// brute-forcing a stolen laptop's replica expensive. Sanitizer and fuzz builds,
// never shipped, set fewer (CMakeLists.txt): OpenSSL allocates on every round,
// and under ASan the rounds were most of the CI's sanitizer stage.
#ifndef KEHU_REPLICA_KDF_ITER
#define KEHU_REPLICA_KDF_ITER 256000
#endif
inline constexpr int kReplicaKdfIterations = KEHU_REPLICA_KDF_ITER;

// Throws Error(storage) with SQLite's message unless rc is OK, ROW or DONE.
// SQLITE_NOTADB becomes Error(wrong_passphrase).
void check_sqlite(int rc, sqlite3* db, const char* what);

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Bind by 1-based index. Strings are copied (SQLITE_TRANSIENT).
  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Statement& bind_null(int i);
  // Binds an empty string as NULL.
  Statement& bind_text_or_null(int i, std::string_view v);

  // Steps once: true if a row is available.
  bool step();
  // Steps to completion (for INSERT/UPDATE/DELETE).
  void run();
  // Resets and clears bindings so the statement can be reused.
  void reset();

  std::int64_t int64(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Opens (creating when `create`) the file. Does not key it.
  Database(const std::string& path, bool create);
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept = delete;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // SQLCipher: applies the key and Kehu's cipher settings (cipher_page_size 4096,
  // kdf_iter 256000), then reads the schema so a wrong key fails here with
  // Error(wrong_passphrase).
  void key(std::string_view passphrase);

  void exec(const char* sql);
  // A statement compiled once and reused: reset and cleared before it is returned.
  Statement& cached(const std::string& sql);
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }

  std::int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

// A write transaction (BEGIN IMMEDIATE). Rolls back on destruction unless commit()
// was called, so an exception anywhere inside leaves nothing half-written.
class Transaction {
 public:
  explicit Transaction(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace kehu::db
