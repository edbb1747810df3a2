#include "postgres_connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>

namespace kehu::server::pg {

namespace {

// libpq's messages end in a newline (and multi-line ones carry DETAIL/HINT lines
// we keep): trim the trailing whitespace only.
std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string field(const PGresult* r, int code) {
  const char* v = PQresultErrorField(r, code);
  return v ? v : "";
}

}  // namespace

bool is_postgres_url(std::string_view text) {
  return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto start = scheme + 3;
    auto end = out.find_first_of("/?#", start);
    if (end == std::string::npos) end = out.size();
    const auto at = out.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ?password=... or &password=...
  for (std::size_t at = out.find("password="); at != std::string::npos;
       at = out.find("password=", at + 1)) {
    if (at == 0 || (out[at - 1] != '?' && out[at - 1] != '&')) continue;
    const auto value = at + std::strlen("password=");
    auto end = out.find('&', value);
    if (end == std::string::npos) end = out.size();
    out.replace(value, end - value, "***");
  }
  return out;
}

// --- Result ---

void Result::Clear::operator()(pg_result* r) const { PQclear(r); }

Result::Result(pg_result* r) : res_(r) {}

int Result::rows() const { return res_ ? PQntuples(res_.get()) : 0; }

bool Result::is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }

std::string Result::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return std::string(PQgetvalue(res_.get(), row, col),
                     static_cast<std::size_t>(PQgetlength(res_.get(), row, col)));
}

std::int64_t Result::int64(int row, int col) const {
  if (is_null(row, col)) return 0;
  const char* v = PQgetvalue(res_.get(), row, col);
  const char* end = v + PQgetlength(res_.get(), row, col);
  std::int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v, end, out);
  if (ec != std::errc() || ptr != end) {
    throw Error(Errc::storage,
                std::string("PostgreSQL returned \"") + v + "\" where an integer was expected");
  }
  return out;
}

bool Result::boolean(int row, int col) const {
  return !is_null(row, col) && PQgetvalue(res_.get(), row, col)[0] == 't';
}

std::int64_t Result::affected() const {
  const char* n = PQcmdTuples(res_.get());
  return (n && *n) ? std::stoll(n) : 0;
}

std::string Result::status() const { return res_ ? PQcmdStatus(res_.get()) : ""; }

// --- Params ---

Params& Params::text(std::string_view v) {
  if (v.find('\0') != std::string_view::npos) {
    throw Error(Errc::validation,
                "a value holds a NUL character, which the PostgreSQL store cannot keep");
  }
  values_.emplace_back(v);
  null_.push_back(false);
  return *this;
}

Params& Params::text_or_null(std::string_view v) {
  if (!v.empty()) return text(v);
  values_.emplace_back();
  null_.push_back(true);
  return *this;
}

Params& Params::int64(std::int64_t v) {
  values_.push_back(std::to_string(v));
  null_.push_back(false);
  return *this;
}

Params& Params::boolean(bool v) {
  values_.emplace_back(v ? "true" : "false");
  null_.push_back(false);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i)
    out.push_back(null_[i] ? nullptr : values_[i].c_str());
  return out;
}

// --- Connection ---

void Connection::Finish::operator()(pg_conn* c) const { PQfinish(c); }

Connection::Connection(const std::string& url) : display_url_(redact_url(url)) {
  // connect_timeout comes before the URL so the URL's own value wins; the
  // encoding comes after it, so nothing overrides UTF8 (every string in Kehu is).
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", "client_encoding",
                        nullptr};
  const char* values[] = {"10", "kehu-server", url.c_str(), "UTF8", nullptr};
  conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!conn_) throw PgError("", "cannot connect to " + display_url_ + ": out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    throw PgError(
        "", "cannot connect to " + display_url_ + ": " + trimmed(PQerrorMessage(conn_.get())));
  }
}

Connection::~Connection() = default;
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;

bool Connection::broken() const { return !conn_ || PQstatus(conn_.get()) != CONNECTION_OK; }

int Connection::server_version() const { return PQserverVersion(conn_.get()); }

// The one place a libpq result is checked (STYLE.md: one helper per C library).
Result Connection::check(pg_result* raw, const char* what) {
  Result r(raw);
  const ExecStatusType status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  if (!raw) {
    throw PgError("", std::string(what) + ": " + trimmed(PQerrorMessage(conn_.get())) + " (" +
                          display_url_ + ")");
  }
  std::string message = field(raw, PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = trimmed(PQresultErrorMessage(raw));
  if (std::string detail = field(raw, PG_DIAG_MESSAGE_DETAIL); !detail.empty())
    message += " (" + detail + ")";
  if (broken()) message += "; the connection to " + display_url_ + " is lost";
  throw PgError(field(raw, PG_DIAG_SQLSTATE), std::string(what) + ": PostgreSQL: " + message);
}

Result Connection::exec(const char* sql, const char* what) {
  return check(PQexec(conn_.get(), sql), what);
}

Result Connection::run(const char* sql, const Params& params, const char* what) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "kehu_" + std::to_string(prepared_.size() + 1);
    // Parameter types are inferred from the statement (casts in the SQL where
    // the context does not say).
    check(PQprepare(conn_.get(), name.c_str(), sql, params.size(), nullptr), what);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  const std::vector<const char*> values = params.pointers();
  return check(PQexecPrepared(conn_.get(), it->second.c_str(), params.size(), values.data(),
                              nullptr, nullptr,
                              /*resultFormat=*/0),
               what);
}

int Connection::socket() const { return PQsocket(conn_.get()); }

bool Connection::take_notifications(std::string_view channel, std::vector<std::string>& payloads) {
  if (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK) return false;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    if (channel == n->relname) payloads.emplace_back(n->extra ? n->extra : "");
    PQfreemem(n);
  }
  return true;
}

}  // namespace kehu::server::pg
