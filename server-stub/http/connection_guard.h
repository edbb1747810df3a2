// One HTTP(S) connection's life on its worker thread, with the limits that keep
// a slow or idle client from holding a worker (http_limits.h, docs/protocol.md
// "Connections"):
//
// - At most `max_connections_per_address` connections per client address. At
//   the cap, a connection of that address that has not sent its whole request
//   for at least kEvictAfter is closed to make room: the one that has waited
//   longest for a request's line and headers, else the one whose body has been
//   coming longest. 64 half-sent requests kept every other client behind the
//   same address (a NAT) out: headers trickled (attacker review 18, A18-2), or
//   whole headers then a trickled body (attacker review 19, A19-1). A request
//   whose body is in is never cut. With none to close, one more is answered
//   503 too_many_connections and closed before any byte of it is read
//   (PeerCounter).
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
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "http_limits.h"

namespace httplib {
class Stream;
}
typedef struct ssl_ctx_st SSL_CTX;

namespace kehu::server {

// Open connections per client address. Thread-safe.
class PeerCounter {
 public:
  using Clock = std::chrono::steady_clock;
  // How long a connection must have waited for a request before a new one of
  // its address may take its place: a flood of fresh connections cannot close
  // each other, and a client's request in flight is never cut.
  static constexpr std::chrono::milliseconds kEvictAfter{1000};

  // Where a connection's request stands.
  enum class Phase {
    served,   // its body is in: handled and answered, never evicted
    headers,  // waiting for a request's line and headers
    body,     // reading the request's body
  };
  // One open connection.
  struct Slot {
    Phase phase = Phase::served;     // guarded by the counter
    Clock::time_point since{};       // ... since it entered `phase`
    std::atomic<bool> evict{false};  // told to close: a newer connection took its place
  };

  explicit PeerCounter(int max_per_address) : max_(max_per_address) {}
  // Counts one more connection from `address`: its slot. At the maximum, one of
  // that address in `headers` (first) or `body` for kEvictAfter or more, the
  // longest there, is told to close and the new one counts in its place; with
  // none, null, and nothing is counted.
  std::shared_ptr<Slot> acquire(const std::string& address);
  // REQUIRES: `slot` came from acquire(address) and is not yet released.
  void release(const std::string& address, const std::shared_ptr<Slot>& slot);
  void set_phase(Slot& slot, Phase phase);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<Slot>>> open_;
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
// Whether the client has closed this thread's connection, or it failed: a
// waiting pull whose device went away stops waiting (attacker review 16,
// A16-6). False on a thread that serves none.
bool peer_gone();

}  // namespace kehu::server
