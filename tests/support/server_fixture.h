// Integration-test fixture: a real kehu-server process on 127.0.0.1 with a free
// port and a fresh data directory.
//
// The binary is $KEHU_SERVER_BIN if set, else KEHU_SERVER_BIN_PATH (set by
// tests/CMakeLists.txt to $<TARGET_FILE:kehu-server>). The fixture runs
// `kehu-server init` and `user add` for each of its users, exactly as an admin
// would, then `serve --listen 127.0.0.1:0` and reads the port from the line
// "listening on 127.0.0.1:PORT" the server prints on stdout. The server's stderr
// (one line per request) goes to DIR/server.log, shown when the server fails
// to start and readable with log(). ServeOptions add arguments (--tls-cert and
// --tls-key make it an HTTPS server, base_url() then says https://) and
// environment variables (KEHU_LOGIN_*, KEHU_TOKEN_TTL_SECONDS) to `serve`.
//
// The store is SQLite in the data directory, or a fresh PostgreSQL database
// (postgres_fixture.h) when KEHU_TEST_STORE=postgresql or ServeOptions::store
// says so; the admin commands then get --store URL instead of --data DIR.
//
// Not thread-safe; one fixture per test case.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <csignal>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "postgres_fixture.h"

namespace kehu::test {

using json = nlohmann::json;

// The path of the kehu-server binary under test.
std::string server_binary();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs kehu-server with `args` (and extra environment variables), waits for it.
// "--data DIR" of a live fixture on PostgreSQL becomes "--store URL".
CommandResult run_server_command(const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env = {});

// A JSON answer: HTTP status and body (null when the body is not JSON).
struct Reply {
  int status = 0;
  json body;
};

// Which store the fixture's server runs on.
enum class TestStore {
  from_environment,  // PostgreSQL when KEHU_TEST_STORE=postgresql, else SQLite
  sqlite,
  postgresql,
};

// Extra arguments and environment for `kehu-server serve`.
struct ServeOptions {
  std::vector<std::string> args;              // appended after --listen
  std::map<std::string, std::string> env;     // set in the server's environment
  TestStore store = TestStore::from_environment;
};

class ServerFixture {
 public:
  static constexpr const char* kPassword = "correct horse 42";

  // Users made by the constructor: name -> role.
  static const std::map<std::string, std::string>& users();
  // Regions set by the constructor: zhao manages 江苏, where wang and li sell;
  // customers elsewhere (浙江, ...) are outside every non-admin's scope.
  static const std::map<std::string, std::string>& user_regions();

  // Creates the data directory and the users, and starts the server.
  // Fails the test (Catch2 FAIL) if any step does.
  ServerFixture();
  explicit ServerFixture(ServeOptions serve);
  // Another `serve` process on `first`'s PostgreSQL store (users and data are
  // first's), with a data directory of its own for its log. REQUIRES: first
  // runs on PostgreSQL and outlives this.
  ServerFixture(const ServerFixture& first, ServeOptions serve);
  // Stops the server (SIGTERM) if it runs and removes the data directory.
  ~ServerFixture();
  ServerFixture(const ServerFixture&) = delete;
  ServerFixture& operator=(const ServerFixture&) = delete;

  // Starts `kehu-server serve` on `port`, or on a free port when 0 (a restart
  // on port() keeps the address the replicas have). REQUIRES: not running.
  void start(int port = 0);
  // What the next start() passes to `serve` (e.g. another KEHU_TODAY).
  ServeOptions& serve_options() { return serve_; }
  // Sends `sig`, waits for the process and returns its exit code (128 + signal
  // number if a signal killed it). REQUIRES: running.
  int stop(int sig = SIGTERM);
  bool running() const { return pid_ > 0; }
  // The README's "Restore a backup" on the SQLite store: stops the server,
  // replaces the store by `backup` (its -wal and -shm removed) and starts it
  // again on the same port. REQUIRES: running, not on_postgres().
  void restore_backup(const std::string& backup);

  // The server's own folder (logs; and the SQLite store when on_postgres() is
  // false). run_server_command() replaces "--data" data_dir() by store_args(),
  // so admin commands written for SQLite work on either store.
  const std::string& data_dir() const { return dir_; }
  std::string store_path() const { return dir_ + "/kehu-server.db"; }
  bool on_postgres() const { return !store_url_.empty(); }
  // {"--data", DIR} or {"--store", URL}: what every admin command is given.
  std::vector<std::string> store_args() const;
  // The PostgreSQL database's URL; "" on SQLite.
  const std::string& store_url() const { return store_url_; }
  int port() const { return port_; }
  // The server process (for /proc/PID/status). REQUIRES: running.
  pid_t pid() const { return pid_; }
  // Whether serve was given --tls-cert.
  bool tls() const;
  // "http://127.0.0.1:PORT", or https:// for a TLS server.
  std::string base_url() const;
  // The server's request log so far.
  std::string log() const;

  // A client of base_url(); for a TLS server it does not check the certificate
  // (the tests of certificate checks use the kehu client).
  httplib::Client client() const;
  // Logs `user` in with kPassword and returns the token (REQUIRE 200).
  std::string login(const std::string& user, const std::string& device = "dev-test");
  Reply post(const std::string& path, const json& body, const std::string& token = {});
  Reply post_raw(const std::string& path, const std::string& body, const std::string& token = {});
  Reply get(const std::string& path, const std::string& token = {});

 private:
  std::string dir_;
  ServeOptions serve_;
  std::shared_ptr<PostgresDatabase> db_;  // shared with the other processes on it
  std::string store_url_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Hybrid clock value for "now" plus `ms_ahead` milliseconds (counter 0).
std::int64_t hlc_now(std::int64_t ms_ahead = 0);

// A change as the protocol's push carries it. `fields` maps key -> {old, new}.
json make_change(const std::string& change_id, const std::string& record_id, const std::string& op,
                 std::int64_t base_rev, std::int64_t hlc, const std::string& device,
                 std::int64_t device_seq, const json& fields,
                 const std::string& collection = "customers", const std::string& code = {},
                 const std::string& parent = {});

// The fields of a valid new customer named `name` in 江苏 ({key: {old: null, new: v}}).
json new_customer_fields(const std::string& name);

}  // namespace kehu::test
