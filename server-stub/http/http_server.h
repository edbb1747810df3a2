// kehu-server's HTTP(S) front: the /v1/ routes of docs/protocol.md over
// cpp-httplib, with bearer-token authentication, JSON errors and one log line
// per request on stderr:
//
//   2026-11-27T11:04:17Z POST /v1/push 200 user=wang 12ms
//
// Every route but POST /v1/login and /v1/logout needs a valid token
// (Authenticator; logout needs only a well-formed one, see docs), checked from
// the headers before the body is read. Bodies need a Content-Length (411) and
// are limited to config::kMaxBodyBytes (413) as sent and again once inflated
// (gzip, deflate, br; others 415; body_decoder.h); a login body to
// config::kMaxLoginBodyBytes. JSON only (400 otherwise). Responses are
// compressed when the client sends Accept-Encoding (cpp-httplib). Slow and idle
// connections are bounded by connection_guard.h. Exceptions from the services
// are answered in one place, http_errors.h.
//
// Thread-safety: run() serves on an ElasticPool of workers, one per connection; stop() may be called
// from any other thread (not from a signal handler).
#pragma once

#include <memory>
#include <string>

#include "audit_service.h"
#include "auth.h"
#include "commit_feed.h"
#include "http_limits.h"
#include "lease_service.h"
#include "pull_service.h"
#include "push_service.h"
#include "rules_service.h"
#include "schema_service.h"
#include "server_clock.h"
#include "store.h"
#include "team_service.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace kehu::server {

class ReadSlots;

struct ListenOptions {
  std::string host = "127.0.0.1";
  int port = 8080;          // 0: pick a free port
  std::string tls_cert;     // PEM files; both set -> HTTPS, both empty -> HTTP
  std::string tls_key;
  HttpLimits limits;        // deadlines, per-address cap, workers (http_limits.h)
  // SO_REUSEPORT: several processes share the port (the kernel spreads the
  // connections). Off by default, so a second server on a port in use fails.
  bool reuse_port = false;
};

class HttpServer {
 public:
  // REQUIRES: store and clock outlive the server.
  // Throws Error(usage) if only one of tls_cert / tls_key is given, Error(io) if
  // they cannot be loaded (naming the file and the problem, tls_files.h).
  // `auth`: token lifetime and login throttling (auth_settings.h).
  HttpServer(Store& store, ServerClock& clock, ListenOptions options, AuthSettings auth = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket and returns its port (the chosen one for port 0).
  // Throws Error(io) if the address cannot be bound.
  int bind();
  // Serves until stop(). REQUIRES: bind() succeeded. Returns false if the
  // server failed rather than was stopped.
  bool run();
  // Makes run() return after the requests in flight are answered; waiting
  // pulls are answered at once.
  void stop();
  // Pulls waiting now (for tests and the benchmark's report).
  std::size_t waiting_pulls() const { return feed_.waiting(); }

 private:
  using Route = std::function<json(const Session&, const httplib::Request&)>;
  // Before the body is read: encodings, lengths, the token. Sets the answer and
  // returns true if the request is refused.
  bool refuse_before_body(const httplib::Request& req, httplib::Response& res);
  // Wraps a route: authenticates, runs it, adds server_hlc, answers errors.
  void handle_authenticated(const httplib::Request& req, httplib::Response& res, const Route& route);
  // The session of the request's bearer token (throws Error(auth)); logged.
  Session authenticate(const httplib::Request& req);
  void handle_login(const httplib::Request& req, httplib::Response& res);
  void install_routes();
  void install_team_routes();
  // POST `pattern` through handle_authenticated.
  void post(const char* pattern, Route route);

  // Answers POST /v1/pull, waiting for news when asked to (commit_feed.h).
  void handle_pull(const httplib::Request& req, httplib::Response& res);

  ListenOptions options_;
  Store& store_;
  ServerClock& clock_;
  CommitFeed feed_;  // before the services: the store tells it of commits until ~HttpServer
  Authenticator auth_;
  PushService push_;
  PullService pull_;
  LeaseService leases_;
  AuditService audit_;
  TeamService team_;
  RulesService rules_;
  SchemaService schema_;
  std::unique_ptr<ReadSlots> reads_;  // config::kMaxReadsPerUser (read_slots.h)
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace kehu::server
