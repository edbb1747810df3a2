// A real kehu-server on 127.0.0.1, set up the way an admin would: `init`,
// `user add` per user (password from KEHU_PASSWORD), then `serve --listen
// 127.0.0.1:0`; the port is read from the line "listening on 127.0.0.1:PORT" it
// prints on stdout. Its stderr (one line per request, with the request's
// duration) goes to DIR/server.log, which the sync benchmarks read to split
// server time from client time.
//
// Not thread-safe. The destructor stops the server (SIGTERM, then SIGKILL).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kehu::bench {

// One line of the server's request log.
struct RequestLogLine {
  std::string method, path;
  int status = 0;
  std::string user;
  double ms = 0;  // handler time as the server measured it
};

class ServerProcess {
 public:
  // Every user the bench makes has this password (≥ 8 characters).
  static constexpr const char* kPassword = "bench-password-42";

  // Runs `kehu-server init --data dir`, or `init --store store_url` when a
  // PostgreSQL URL is given (dir then only holds the logs). Throws
  // Error(internal) if it fails.
  explicit ServerProcess(std::string dir, std::string store_url = {});
  // Another serve process on `first`'s PostgreSQL store (no init, no users of
  // its own), logging to `dir`. REQUIRES: first has a store URL.
  ServerProcess(std::string dir, const ServerProcess& first);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  void add_user(const std::string& name, const std::string& role);
  // `kehu-server user set-regions NAME REGIONS` (comma-separated).
  void set_regions(const std::string& name, const std::string& regions);
  // Environment for the next start() (e.g. KEHU_HTTP_* limits).
  void set_env(std::map<std::string, std::string> env) { env_ = std::move(env); }
  // Starts serving; returns once the port is known (10 s at most, else throws).
  void start();
  void stop();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

  // Peak resident set of the running server so far (VmHWM of /proc/PID/status), kB.
  long vm_hwm_kb() const;
  // CPU time (user + system, all threads) the running server has used so far.
  double cpu_seconds() const;
  // Bytes in the request log so far: a mark to pass to requests_since().
  std::uintmax_t log_mark() const;
  // Request log lines written after `mark`.
  std::vector<RequestLogLine> requests_since(std::uintmax_t mark) const;

 private:
  // {"--data", dir} or {"--store", URL}.
  std::vector<std::string> store_args() const;

  std::string dir_;
  std::map<std::string, std::string> env_;
  std::string store_url_;  // "" for the SQLite store in dir_
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace kehu::bench
