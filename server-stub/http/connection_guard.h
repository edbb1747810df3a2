// One HTTP(S) connection's life on its worker thread, with the limits that keep
// a slow or idle client from holding a worker (http_limits.h, docs/protocol.md
// "Connections"):
//
// - At most `max_connections_per_address` connections per client address; one
//   more is answered 503 too_many_connections and closed before any byte of it
//   is read (PeerCounter).
// - Header deadline: a request's line and headers must have arrived within
//   header_deadline_seconds of the moment the server began to wait for them
//   (keep-alive idle time and the TLS handshake count too).
// - Body deadline: from begin_body() (the pre-routing handler, after the headers)
//   the body must arrive by body_deadline_seconds + received / min rate (the
//   large-body rate for a body above 1 MiB), and
//   within body_max_seconds however fast it came.
// - No deadline while the route's handler runs; the answer is bounded by the
//   per-send write timeout.
// Every read of the connection goes through this file's Stream, which waits with
// poll() for at most the time left, so a trickle of one byte every few seconds
// cannot reset the clock the way it resets a socket timeout. A connection past
// its deadline is closed, unanswered.
//
// Thread-safety: serve_connection() runs on the connection's worker thread; the
// request-path calls below act on the calling thread's connection (thread_local)
// and do nothing on a thread that serves none.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "http_limits.h"

namespace httplib {
class Stream;
}
typedef struct ssl_ctx_st SSL_CTX;

namespace kehu::server {

// Open connections per client address. Thread-safe.
class PeerCounter {
 public:
  explicit PeerCounter(int max_per_address) : max_(max_per_address) {}
  // Counts one more connection from `address`; false, and not counted, if it has
  // the maximum open already.
  bool acquire(const std::string& address);
  // REQUIRES: a successful acquire(address) not yet released.
  void release(const std::string& address);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int> open_;
  const int max_;
};

// Serves the requests of one connection: `process` (httplib's process_request)
// for each, until the client closes, a deadline passes, `max_requests` were
// served, a handler called close_after_response(), or `listening` becomes -1
// (the server stops). `tls`: the server's context, or null for plain HTTP. Closes
// `sock`. Returns whether the last request was served.
using ProcessRequest = std::function<bool(httplib::Stream&, bool close_connection, bool& connection_closed)>;
bool serve_connection(int sock, SSL_CTX* tls, const HttpLimits& limits, PeerCounter& peers,
                      const std::atomic<int>& listening, std::size_t max_requests, const ProcessRequest& process);

// The request's headers are read: the body deadline starts now. A body above
// config::kLargeBodyBytes must keep the higher large_body_min_bytes_per_second.
void begin_body(std::size_t content_length);
// The connection closes once this request's answer is written (its body may be
// unread, and must not be taken for the next request).
void close_after_response();

}  // namespace kehu::server
