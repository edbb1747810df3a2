// Owners for libpq handles (PGconn, PGresult), statement parameters, and the one
// place libpq's return codes are checked (check_result in the .cc). Only the
// PostgreSQL store uses them; nothing outside server-stub/postgres_* includes
// libpq.
//
// Every value travels as a parameter ($1, $2, ...) of a statement prepared once
// per connection: SQL text is only ever constant, never built from values.
//
// Thread-safety: a Connection belongs to one thread at a time (the pool hands it
// out; postgres_pool.h). Result and Params are plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kehu/error.h"

struct pg_conn;
struct pg_result;

namespace kehu::server::pg {

// SQLSTATE codes the store reacts to.
inline constexpr const char* kUniqueViolation = "23505";
inline constexpr const char* kLockNotAvailable = "55P03";  // lock_timeout expired

// A failed PostgreSQL call: Error(storage) with the server's message, plus its
// SQLSTATE ("" when there is none, e.g. the connection is gone).
class PgError : public Error {
 public:
  PgError(std::string sqlstate, const std::string& message)
      : Error(Errc::storage, message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// True for "postgresql://..." and "postgres://..." (libpq's URI forms).
bool is_postgres_url(std::string_view text);
// The URL with its password (user:PASSWORD@ or ?password=) replaced by "***",
// for messages and logs.
std::string redact_url(std::string_view url);

// The rows of one statement (libpq's text format). Move-only.
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* r);
  Result(Result&&) noexcept = default;
  Result& operator=(Result&&) noexcept = default;

  int rows() const;
  bool is_null(int row, int col) const;
  // "" for NULL, like db::Statement::text.
  std::string text(int row, int col) const;
  // 0 for NULL. Throws Error(storage) for a value that is not an integer.
  std::int64_t int64(int row, int col) const;
  // PostgreSQL's boolean text "t" / "f".
  bool boolean(int row, int col) const;
  // Rows an INSERT/UPDATE/DELETE touched (PQcmdTuples).
  std::int64_t affected() const;
  // The command tag, e.g. "COMMIT" or "ROLLBACK".
  std::string status() const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> res_;
};

// Parameters $1..$n in order, in libpq's text format.
class Params {
 public:
  // Throws Error(validation) if `v` holds a NUL byte: PostgreSQL text cannot
  // store one (SQLite can), so refusing is better than silently truncating.
  Params& text(std::string_view v);
  // An empty string binds NULL (db::Statement::bind_text_or_null).
  Params& text_or_null(std::string_view v);
  Params& int64(std::int64_t v);
  Params& boolean(bool v);

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object for PQexecPrepared; valid while it lives.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
};

// One connection to the server. Move-only.
class Connection {
 public:
  // Connects to `url` (a postgresql:// URL) with client_encoding UTF8. Throws
  // Error(storage) naming the URL (without its password) when it cannot.
  explicit Connection(const std::string& url);
  ~Connection();
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;

  // Runs constant SQL without parameters (BEGIN, COMMIT, DDL; several
  // statements may be separated by ';'). Throws PgError.
  Result exec(const char* sql, const char* what);
  // Prepares `sql` on this connection the first time it is seen, then runs it
  // with `params`. Throws PgError naming `what`.
  Result run(const char* sql, const Params& params, const char* what);

  // The connection is unusable (the server went away, or a protocol error):
  // the pool must not hand it out again.
  bool broken() const;
  // The server's major*10000 + minor, e.g. 150018 (PQserverVersion).
  int server_version() const;
  const std::string& display_url() const { return display_url_; }

  // For LISTEN (postgres_store.cc's listener): the socket to poll for input,
  // then the payloads of the notifications that came on `channel`. Returns
  // false when the connection is lost.
  int socket() const;
  bool take_notifications(std::string_view channel, std::vector<std::string>& payloads);

 private:
  Result check(pg_result* r, const char* what);

  struct Finish {
    void operator()(pg_conn* c) const;
  };
  std::unique_ptr<pg_conn, Finish> conn_;
  std::string display_url_;                                // redacted
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
};

}  // namespace kehu::server::pg
