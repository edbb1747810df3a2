#include "connection_guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "kehu/record.h"

namespace kehu::server {

namespace {

using Clock = std::chrono::steady_clock;

// The deadlines of the connection this thread serves.
struct ConnectionState {
  const HttpLimits* limits = nullptr;  // null: this thread serves no connection
  int sock = -1;
  PeerCounter* peers = nullptr;        // its address's count, and its place in it
  PeerCounter::Slot* slot = nullptr;
  Clock::time_point header_deadline{};
  bool in_body = false;
  Clock::time_point body_start{};
  std::size_t body_bytes = 0;
  std::size_t body_length = 0;  // Content-Length: once that much is read, the request is served
  bool large_body = false;   // above config::kLargeBodyBytes: the higher minimum rate
  bool expired = false;      // a deadline passed: close, answer nothing more
  bool close_after = false;  // close_after_response()
  // The answer being written: it must be read as fast as a body must arrive
  // (a 10 s grace, then 16 KiB/s), or the connection is cut (attacker review 5,
  // A5-10: a client reading a few bytes every 20 s held a worker and ~10 MB of
  // answer for as long as it liked). A read from the client starts a new one.
  bool answering = false;
  Clock::time_point answer_start{};
  std::size_t answer_bytes = 0;
  bool answer_expired = false;  // reset, not closed: the bytes queued for it are dropped
};
thread_local ConnectionState t_conn;

Clock::time_point read_deadline() {
  if (!t_conn.in_body) return t_conn.header_deadline;
  const auto& l = *t_conn.limits;
  const std::size_t rate = t_conn.large_body ? l.large_body_min_bytes_per_second : l.body_min_bytes_per_second;
  const auto earned = std::chrono::milliseconds(t_conn.body_bytes * 1000 / rate);
  // The rate earns time, but never past the body's whole limit (a body trickled
  // at the minimum rate held its bytes of the budget for half an hour).
  return std::min(t_conn.body_start + std::chrono::seconds(l.body_deadline_seconds) + earned,
                  t_conn.body_start + std::chrono::seconds(std::max(l.body_max_seconds, l.body_deadline_seconds)));
}

// A newer connection of the address took this one's place (PeerCounter).
bool evicted() { return t_conn.slot != nullptr && t_conn.slot->evict.load(); }

// Waits until `sock` has `events` or `deadline` passes (or the connection is
// evicted, seen within a second). 1 ready, 0 deadline, -1 error.
int wait_for(int sock, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || evicted()) return 0;
    pollfd p{sock, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n > 0) return 1;
    if (n < 0 && errno != EINTR) return -1;
  }
}

// Reads wait for the current deadline; past it the connection is expired.
int wait_to_read(int sock) {
  const int r = wait_for(sock, POLLIN, read_deadline());
  if (r == 0) t_conn.expired = true;
  return r;
}

// One send waits at most kWriteTimeoutSeconds, and never past the answer's
// deadline: its start plus the grace plus what the bytes the client took so far
// earned. Taken, not sent: the kernel's send buffer (4 MB) holds bytes the
// client has not read (SIOCOUTQ: those not yet acknowledged).
Clock::time_point write_deadline(int sock) {
  const Clock::time_point now = Clock::now();
  const Clock::time_point one_send = now + std::chrono::seconds(config::kWriteTimeoutSeconds);
  if (t_conn.limits == nullptr) return one_send;
  if (!t_conn.answering) {
    t_conn.answering = true;
    t_conn.answer_start = now;
    t_conn.answer_bytes = 0;
  }
  const auto& l = *t_conn.limits;
  std::size_t taken = t_conn.answer_bytes;
  int queued = 0;
  if (::ioctl(sock, SIOCOUTQ, &queued) == 0 && queued > 0) taken -= std::min(taken, static_cast<std::size_t>(queued));
  const auto earned = std::chrono::milliseconds(taken * 1000 / l.body_min_bytes_per_second);
  return std::min(one_send, t_conn.answer_start + std::chrono::seconds(l.body_deadline_seconds) + earned);
}

// Waits until `sock` has `events` (POLLOUT, or POLLIN for a TLS write), the
// deadline taken again each second: it moves on as the client reads.
// 1 ready, 0 deadline, -1 error.
int wait_to_write(int sock, short events = POLLOUT) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(write_deadline(sock) - Clock::now()).count();
    if (left <= 0) {
      t_conn.expired = t_conn.answer_expired = true;
      return 0;
    }
    pollfd p{sock, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n > 0) return 1;
    if (n < 0 && errno != EINTR) return -1;
  }
}

void count_written(ssize_t n) {
  if (n > 0) t_conn.answer_bytes += static_cast<std::size_t>(n);
}

void count_read(ssize_t n) {
  if (n <= 0) return;
  t_conn.answering = false;  // the client sends: a new request, a new answer
  if (!t_conn.in_body) return;
  const bool was_short = t_conn.body_bytes < t_conn.body_length;
  t_conn.body_bytes += static_cast<std::size_t>(n);
  if (was_short && t_conn.body_bytes >= t_conn.body_length && t_conn.peers != nullptr) {
    t_conn.peers->set_phase(*t_conn.slot, PeerCounter::Phase::served);
  }
}

void address_of(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int rc = peer ? getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len)
                      : getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  ip.clear();
  port = 0;
  if (rc != 0) return;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

class PlainStream : public httplib::Stream {
 public:
  explicit PlainStream(int sock) : sock_(sock) {}
  bool is_readable() const override { return wait_to_read(sock_) > 0; }
  bool is_writable() const override { return wait_to_write(sock_) > 0; }
  ssize_t read(char* ptr, size_t size) override {
    if (wait_to_read(sock_) <= 0) return -1;
    ssize_t n;
    do {
      n = ::recv(sock_, ptr, size, 0);
    } while (n < 0 && errno == EINTR);
    count_read(n);
    return n;
  }
  // Never blocks in send(): a blocking send of a whole answer went on as long
  // as the client took a few bytes now and then, past every deadline. What
  // fits is sent, and the caller writes the rest (each time with the deadline
  // the bytes read so far earned).
  ssize_t write(const char* ptr, size_t size) override {
    for (;;) {
      if (!is_writable()) return -1;
      const ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      count_written(n);
      return n;
    }
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, false, ip, port); }
  int socket() const override { return sock_; }

 private:
  int sock_;
};

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// TLS over a non-blocking socket: OpenSSL never blocks inside a record, so the
// deadlines hold for a client that trickles a TLS record too.
class TlsStream : public httplib::Stream {
 public:
  TlsStream(int sock, SSL* ssl) : sock_(sock), ssl_(ssl) {}
  bool is_readable() const override { return SSL_pending(ssl_) > 0 || wait_to_read(sock_) > 0; }
  bool is_writable() const override { return wait_to_write(sock_) > 0; }
  ssize_t read(char* ptr, size_t size) override {
    const int want = static_cast<int>(std::min<size_t>(size, 1 << 30));
    for (;;) {
      const int n = SSL_read(ssl_, ptr, want);
      if (n > 0) {
        count_read(n);
        return n;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_ZERO_RETURN) return 0;
      if (err == SSL_ERROR_WANT_READ) {
        if (wait_to_read(sock_) <= 0) return -1;
      } else if (err == SSL_ERROR_WANT_WRITE) {
        if (wait_for(sock_, POLLOUT, read_deadline()) <= 0) return -1;
      } else {
        ERR_clear_error();
        return -1;
      }
    }
  }
  // Partial writes (SSL_MODE_ENABLE_PARTIAL_WRITE): a record at a time, so the
  // answer deadline follows the bytes the client took, as for plain sockets.
  ssize_t write(const char* ptr, size_t size) override {
    const int want = static_cast<int>(std::min<size_t>(size, 1 << 30));
    for (;;) {
      const int n = SSL_write(ssl_, ptr, want);
      if (n > 0) {
        count_written(n);
        return n;
      }
      const int err = SSL_get_error(ssl_, n);
      const short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
      if (ev == 0) {
        ERR_clear_error();
        return -1;
      }
      if (wait_to_write(sock_, ev) <= 0) return -1;
    }
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(sock_, false, ip, port); }
  int socket() const override { return sock_; }

 private:
  int sock_;
  SSL* ssl_;
};

// The TLS handshake within the header deadline.
bool tls_accept(int sock, SSL* ssl) {
  for (;;) {
    const int rc = SSL_accept(ssl);
    if (rc == 1) return true;
    const int err = SSL_get_error(ssl, rc);
    const short ev = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (ev == 0 || wait_for(sock, ev, t_conn.header_deadline) <= 0) {
      ERR_clear_error();
      return false;
    }
  }
}

// Waits until a request starts (or TLS has bytes buffered). false: the header
// deadline passed, the client closed, or the server stops.
bool wait_for_request(int sock, SSL* ssl, const std::atomic<int>& listening) {
  if (ssl && SSL_pending(ssl) > 0) return true;
  while (listening.load() != -1) {
    const auto slice = std::min(t_conn.header_deadline, Clock::now() + std::chrono::milliseconds(100));
    const int r = wait_for(sock, POLLIN, slice);
    if (r != 0) return r > 0;
    if (Clock::now() >= t_conn.header_deadline || evicted()) return false;
  }
  return false;
}

// Refuses a connection over the per-address cap. Plain HTTP gets a JSON 503 (the
// client may not read it: the unread request makes the close a reset); TLS is
// closed without a handshake, which would cost the server more than the answer.
void refuse(int sock, bool tls, const std::string& address, int max) {
  const std::string line = now_iso8601() + " refused connection from " + address + ": " + std::to_string(max) +
                           " open already\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  if (tls) return;
  const std::string body = R"({"error":{"code":"too_many_connections","message":"more than )" +
                           std::to_string(max) + R"( connections open from )" + address + R"("}})";
  const std::string answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                             "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(sock, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) return;
}

// After a refusal sent before the body was read: reads and drops what the client
// still sends, for at most 2 s and 64 MiB, so that a client writing its body
// reads the answer instead of a reset (SIGPIPE/EPIPE). Bounded, so it cannot be
// used to hold the worker.
void linger(httplib::Stream& stream) {
  t_conn.in_body = false;
  t_conn.header_deadline = Clock::now() + std::chrono::seconds(2);
  char buf[64 * 1024];
  for (std::size_t dropped = 0; dropped < (64u << 20);) {
    const ssize_t n = stream.read(buf, sizeof buf);
    if (n <= 0) break;
    dropped += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::shared_ptr<PeerCounter::Slot> PeerCounter::acquire(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slots = open_[address];
  // Those told to close are on their way out (within a second): not counted.
  int staying = 0;
  Slot* oldest = nullptr;
  const Clock::time_point now = Clock::now();
  // Headers before bodies: a body in progress is the later part of a request.
  auto before = [](const Slot& a, const Slot& b) {
    if (a.phase != b.phase) return a.phase == Phase::headers;
    return a.since < b.since;
  };
  for (const auto& s : slots) {
    if (s->evict.load()) continue;
    ++staying;
    if (s->phase != Phase::served && now - s->since >= kEvictAfter && (oldest == nullptr || before(*s, *oldest))) {
      oldest = s.get();
    }
  }
  if (staying >= max_) {
    if (oldest == nullptr) {
      if (slots.empty()) open_.erase(address);
      return nullptr;
    }
    oldest->phase = Phase::served;
    oldest->evict = true;
  }
  slots.push_back(std::make_shared<Slot>());
  return slots.back();
}

void PeerCounter::release(const std::string& address, const std::shared_ptr<Slot>& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = open_.find(address);
  if (it == open_.end()) return;
  std::erase(it->second, slot);
  if (it->second.empty()) open_.erase(it);
}

void PeerCounter::set_phase(Slot& slot, Phase phase) {
  std::lock_guard<std::mutex> lock(mu_);
  if (slot.evict.load()) return;
  slot.phase = phase;
  slot.since = Clock::now();
}

bool serve_connection(int sock, SSL_CTX* tls, const HttpLimits& limits, PeerCounter& peers,
                      const std::atomic<int>& listening, std::size_t max_requests, const ProcessRequest& process) {
  std::string address;
  int port = 0;
  address_of(sock, true, address, port);
  bool served = false, reset = false;
  const std::shared_ptr<PeerCounter::Slot> slot = peers.acquire(address);
  if (!slot) {
    refuse(sock, tls != nullptr, address, limits.max_connections_per_address);
  } else {
    t_conn = ConnectionState{};
    t_conn.limits = &limits;
    t_conn.sock = sock;
    t_conn.peers = &peers;
    t_conn.slot = slot.get();
    peers.set_phase(*slot, PeerCounter::Phase::headers);  // the TLS handshake and the first request
    t_conn.header_deadline = Clock::now() + std::chrono::seconds(limits.header_deadline_seconds);
    SslPtr ssl;
    std::unique_ptr<httplib::Stream> stream;
    if (tls) {
      ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
      ssl.reset(SSL_new(tls));
      if (ssl) SSL_set_mode(ssl.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      if (ssl && SSL_set_fd(ssl.get(), sock) == 1 && tls_accept(sock, ssl.get())) {
        stream = std::make_unique<TlsStream>(sock, ssl.get());
      }
    } else {
      stream = std::make_unique<PlainStream>(sock);
    }
    for (std::size_t left = max_requests; stream && left > 0; --left) {
      // Each request's headers get their own deadline, counted from here.
      t_conn.in_body = false;
      t_conn.body_bytes = 0;
      t_conn.large_body = false;
      t_conn.header_deadline = Clock::now() + std::chrono::seconds(limits.header_deadline_seconds);
      peers.set_phase(*slot, PeerCounter::Phase::headers);
      if (!wait_for_request(sock, ssl.get(), listening)) break;
      bool closed = false;
      served = process(*stream, left == 1, closed);
      if (!served || closed || t_conn.expired || t_conn.close_after) break;
    }
    if (stream && t_conn.close_after && !t_conn.expired) linger(*stream);
    if (ssl && !t_conn.expired) SSL_shutdown(ssl.get());
    reset = t_conn.answer_expired;
    t_conn = ConnectionState{};
    peers.release(address, slot);
  }
  if (reset) {
    // A reset: after a close the kernel would go on feeding the slow reader
    // the megabytes still queued for it.
    const struct ::linger now{1, 0};
    ::setsockopt(sock, SOL_SOCKET, SO_LINGER, &now, sizeof now);
  } else {
    ::shutdown(sock, SHUT_RDWR);
  }
  ::close(sock);
  return served;
}

void begin_body(std::size_t content_length) {
  if (!t_conn.limits) return;
  // The headers are in; a request whose body is in too is never evicted.
  if (t_conn.peers != nullptr) {
    t_conn.peers->set_phase(*t_conn.slot, content_length > 0 ? PeerCounter::Phase::body : PeerCounter::Phase::served);
  }
  t_conn.in_body = true;
  t_conn.large_body = content_length > config::kLargeBodyBytes;
  t_conn.body_start = Clock::now();
  t_conn.body_bytes = 0;
  t_conn.body_length = content_length;
}

void close_after_response() { t_conn.close_after = true; }

bool peer_gone() {
  if (t_conn.limits == nullptr || t_conn.sock < 0) return false;
  pollfd p{t_conn.sock, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace kehu::server
