// A fault-injecting TCP proxy for tests: listens on 127.0.0.1 (a free port) and
// forwards to a server on 127.0.0.1:target_port, breaking some exchanges on
// purpose so the sync client's retry and resume paths run for real.
//
// One exchange per client connection: the proxy reads one request (headers up
// to the blank line, then Content-Length bytes of body), forwards it on a fresh
// upstream connection with "Connection: close" (so the server's answer ends at
// EOF and needs no parsing), reads the whole answer, and forwards it. The answer
// carries the server's "Connection: close", so the client opens a new connection
// for its next request and every request gets its own draw. HTTP is treated
// loosely: only the end of the headers and Content-Length are looked at;
// "Expect: 100-continue" is answered by the proxy itself.
//
// What happens to each connection is drawn, in accept order, from a
// std::mt19937 seeded by the constructor, so a seed and the same sequence of
// client requests give the same faults. Faults (each with its probability; the
// rest passes through):
//   * drop_request:  forward none or only part of the request, then close both
//                    sides (the server never applies it);
//   * drop_response: forward the request, then only part of the answer, close
//                    (the server applied it; the client hears nothing usable);
//   * truncate_body: forward the answer's headers and part of its body, close;
//   * error_before:  answer 500 with a JSON error without contacting the server;
//   * error_after:   forward the request, drop the server's answer, answer 500
//                    ("response lost": the server applied a push the client
//                    believes failed);
//   * delay:         independently of the above, wait 1..max_delay_ms first.
//
// Threads: one accept thread plus one per connection; all I/O is blocking
// sockets with poll() in short slices, so the destructor stops everything
// promptly (closes the listen socket, joins every thread). Every socket wait has
// a hang guard (io_timeout_ms). All traffic stays on 127.0.0.1.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <random>
#include <string>
#include <thread>

namespace kehu::test {

struct FaultOptions {
  double drop_request = 0;
  double drop_response = 0;
  double truncate_body = 0;
  double error_before = 0;
  double error_after = 0;
  double delay = 0;
  int max_delay_ms = 100;
  // error_before answers 429 too_many_pushes with "Retry-After: 1" (a busy
  // server asking for the same request again) instead of a 500.
  bool busy = false;
  // > 0: a link that breaks any answer longer than this many bytes (cut there,
  // then closed), as a slow mobile link whose downloads the server resets.
  std::size_t max_answer_bytes = 0;

  // No faults at all: a plain pass-through proxy.
  static FaultOptions none() { return {}; }
  // Every kind of fault at `rate` (the five kinds split it evenly), plus delays.
  static FaultOptions mixed(double rate, double delay_rate = 0.1);
};

struct FaultStats {
  std::uint64_t connections = 0;
  std::uint64_t passed = 0;
  std::uint64_t dropped_requests = 0;
  std::uint64_t dropped_responses = 0;
  std::uint64_t truncated = 0;
  std::uint64_t errors_before = 0;
  std::uint64_t errors_after = 0;
  std::uint64_t delayed = 0;
  std::uint64_t upstream_failures = 0;  // could not reach the server (it is down)

  std::uint64_t faults() const {
    return dropped_requests + dropped_responses + truncated + errors_before + errors_after;
  }
  std::string describe() const;
};

class FaultProxy {
 public:
  // Starts listening at once. Fails the test (Catch2) if it cannot.
  FaultProxy(int target_port, std::uint32_t seed, FaultOptions options = {});
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Applies to connections accepted from now on.
  void set_options(const FaultOptions& options);
  // Where to forward new connections (e.g. after the server restarted elsewhere).
  void set_target_port(int port) { target_port_ = port; }
  FaultStats stats() const;

  // Hang guard for every wait on a socket.
  static constexpr int io_timeout_ms = 30000;

 private:
  enum class Fault { pass, drop_request, drop_response, truncate_body, error_before, error_after };
  struct Plan {
    Fault fault = Fault::pass;
    int delay_ms = 0;
    double fraction = 0;  // how much of the request/answer/body to forward, in [0, 1)
    bool busy = false;    // error_before is a 429 (FaultOptions::busy)
  };
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void accept_loop();
  Plan draw();
  void serve(int client, Plan plan);
  void count(Fault fault);
  void reap(bool all);

  std::atomic<int> target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;  // guards options_, rng_, stats_, workers_
  FaultOptions options_;
  std::mt19937 rng_;
  FaultStats stats_;
  std::list<Worker> workers_;
  std::thread acceptor_;
};

}  // namespace kehu::test
