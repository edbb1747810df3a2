#include "fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <string_view>

namespace kehu::test {

namespace {

using Clock = std::chrono::steady_clock;

// Poll slice: how quickly a blocked worker notices the proxy is stopping.
constexpr int kSliceMs = 50;
// Requests larger than this are not something the sync client sends.
constexpr std::size_t kMaxRequestBytes = 64u * 1024 * 1024;

// Closes the descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// One connection's I/O: every wait is cut into slices so a stopping proxy or
// the hang guard ends it.
class Io {
 public:
  Io(const std::atomic<bool>& stopping)
      : stopping_(stopping), deadline_(Clock::now() + std::chrono::milliseconds(FaultProxy::io_timeout_ms)) {}

  bool wait(int fd, short events) const {
    while (!stopping_.load()) {
      if (Clock::now() > deadline_) return false;
      pollfd p{fd, events, 0};
      int r = ::poll(&p, 1, kSliceMs);
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }

  // Appends what arrives to `out`. Returns the byte count; 0 at EOF, -1 on error.
  ssize_t read_some(int fd, std::string& out) const {
    if (!wait(fd, POLLIN)) return -1;
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) out.append(buf, static_cast<std::size_t>(n));
      return n;
    }
  }

  bool send_all(int fd, std::string_view data) const {
    while (!data.empty()) {
      if (!wait(fd, POLLOUT)) return false;
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void sleep(int ms) const {
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (!stopping_.load() && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(ms, kSliceMs)));
    }
  }

 private:
  const std::atomic<bool>& stopping_;
  Clock::time_point deadline_;
};

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
}

// The value of header `name` (given with its colon, lower case) in a header block.
std::optional<std::string> header_value(std::string_view headers, std::string_view name) {
  std::size_t at = 0;
  while (at < headers.size()) {
    std::size_t eol = headers.find("\r\n", at);
    if (eol == std::string_view::npos) eol = headers.size();
    std::string_view line = headers.substr(at, eol - at);
    if (iequals_prefix(line, name)) {
      std::string_view v = line.substr(name.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return std::string(v);
    }
    at = eol + 2;
  }
  return std::nullopt;
}

struct Request {
  std::string head;  // request line and headers, up to and including the blank line
  std::string body;
};

// Reads one request from the client. nullopt if the client went away first.
std::optional<Request> read_request(const Io& io, int fd) {
  std::string data;
  std::size_t head_end = std::string::npos;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > 1024 * 1024 || io.read_some(fd, data) <= 0) return std::nullopt;
  }
  head_end += 4;
  Request req;
  req.head = data.substr(0, head_end);
  std::size_t length = 0;
  if (auto cl = header_value(req.head, "content-length:")) {
    try {
      length = std::stoul(*cl);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (length > kMaxRequestBytes) return std::nullopt;
  if (auto expect = header_value(req.head, "expect:");
      expect && iequals_prefix(*expect, "100-continue") && data.size() == head_end && length > 0) {
    if (!io.send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return std::nullopt;
  }
  while (data.size() < head_end + length) {
    if (io.read_some(fd, data) <= 0) return std::nullopt;
  }
  req.body = data.substr(head_end, length);
  return req;
}

// The request as forwarded: hop-by-hop headers replaced by "Connection: close",
// so the server's answer ends when it closes the connection.
std::string upstream_bytes(const Request& req) {
  std::string out;
  std::size_t at = 0;
  const std::string_view head = req.head;
  const std::size_t end = head.size() - 2;  // the blank line's CRLF
  while (at < end) {
    std::size_t eol = head.find("\r\n", at);
    std::string_view line = head.substr(at, eol + 2 - at);
    if (!(iequals_prefix(line, "connection:") || iequals_prefix(line, "keep-alive:") ||
          iequals_prefix(line, "expect:") || iequals_prefix(line, "proxy-connection:"))) {
      out.append(line);
    }
    at = eol + 2;
  }
  out += "Connection: close\r\n\r\n";
  out += req.body;
  return out;
}

std::string injected_500() {
  const std::string body =
      R"({"error":{"code":"internal","message":"injected by the test's fault proxy"}})";
  return "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

std::string injected_429() {
  const std::string body =
      R"j({"error":{"code":"too_many_pushes","message":"busy, injected by the test's fault proxy"}})j";
  return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

int connect_local(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

FaultOptions FaultOptions::mixed(double rate, double delay_rate) {
  FaultOptions o;
  o.drop_request = o.drop_response = o.truncate_body = o.error_before = o.error_after = rate / 5;
  o.delay = delay_rate;
  return o;
}

std::string FaultStats::describe() const {
  std::ostringstream s;
  s << connections << " connections: " << passed << " passed, " << dropped_requests
    << " requests dropped, " << dropped_responses << " responses dropped, " << truncated
    << " bodies truncated, " << errors_before << " 500s before the server, " << errors_after
    << " 500s after it (response lost), " << delayed << " delayed, " << upstream_failures
    << " upstream failures";
  return s.str();
}

FaultProxy::FaultProxy(int target_port, std::uint32_t seed, FaultOptions options)
    : target_port_(target_port), options_(options), rng_(seed) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listen_fd_ >= 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listen_fd_, 64) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  reap(true);
}

void FaultProxy::set_options(const FaultOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  options_ = options;
}

FaultStats FaultProxy::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

FaultProxy::Plan FaultProxy::draw() {
  // Always three draws per connection, so the sequence does not depend on the options.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double kind = unit(rng_), delay = unit(rng_), fraction = unit(rng_);
  Plan p;
  p.fraction = fraction < 1.0 ? fraction : 0.0;
  const FaultOptions& o = options_;
  p.busy = o.busy;
  double edge = 0;
  for (auto [prob, fault] : {std::pair{o.drop_request, Fault::drop_request},
                             std::pair{o.drop_response, Fault::drop_response},
                             std::pair{o.truncate_body, Fault::truncate_body},
                             std::pair{o.error_before, Fault::error_before},
                             std::pair{o.error_after, Fault::error_after}}) {
    edge += prob;
    if (kind < edge) {
      p.fault = fault;
      break;
    }
  }
  if (delay < o.delay) {
    // Spread over 1..max_delay_ms by the same draw (it is uniform below o.delay).
    p.delay_ms = 1 + static_cast<int>(delay / o.delay * std::max(0, o.max_delay_ms - 1));
  }
  ++stats_.connections;
  if (p.delay_ms > 0) ++stats_.delayed;
  return p;
}

void FaultProxy::accept_loop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, kSliceMs);
    if (r <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    Plan plan = draw();
    Worker& w = workers_.emplace_back();
    w.thread = std::thread([this, client, plan, &w] {
      serve(client, plan);
      w.done = true;
    });
    reap(false);
  }
}

// Joins finished workers (all of them when `all`). Called with mu_ held unless `all`.
void FaultProxy::reap(bool all) {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (all || it->done.load()) {
      if (it->thread.joinable()) it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultProxy::count(Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (fault) {
    case Fault::pass: ++stats_.passed; break;
    case Fault::drop_request: ++stats_.dropped_requests; break;
    case Fault::drop_response: ++stats_.dropped_responses; break;
    case Fault::truncate_body: ++stats_.truncated; break;
    case Fault::error_before: ++stats_.errors_before; break;
    case Fault::error_after: ++stats_.errors_after; break;
  }
}

void FaultProxy::serve(int client_fd, Plan plan) {
  Fd client(client_fd);
  Io io(stopping_);
  std::optional<Request> req = read_request(io, client.get());
  if (!req) return;
  if (plan.delay_ms > 0) io.sleep(plan.delay_ms);
  const std::string up_bytes = upstream_bytes(*req);

  if (plan.fault == Fault::error_before) {
    io.send_all(client.get(), plan.busy ? injected_429() : injected_500());
    count(plan.fault);
    return;
  }
  Fd upstream(connect_local(target_port_.load()));
  if (upstream.get() < 0) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.upstream_failures;
    return;  // the client sees the connection close with no answer
  }
  if (plan.fault == Fault::drop_request) {
    auto part = static_cast<std::size_t>(plan.fraction * static_cast<double>(up_bytes.size()));
    io.send_all(upstream.get(), std::string_view(up_bytes).substr(0, part));
    count(plan.fault);
    return;  // both sides closed: the server never sees a whole request
  }
  if (!io.send_all(upstream.get(), up_bytes)) return;
  std::string answer;
  for (;;) {
    ssize_t n = io.read_some(upstream.get(), answer);
    if (n == 0) break;   // the server closed: the answer is complete
    if (n < 0) return;   // server gone or hang guard: the client sees a close
  }
  upstream.reset();

  std::string_view out = answer;
  switch (plan.fault) {
    case Fault::drop_response:
      out = out.substr(0, static_cast<std::size_t>(plan.fraction * static_cast<double>(out.size())));
      break;
    case Fault::truncate_body: {
      std::size_t head = answer.find("\r\n\r\n");
      head = head == std::string::npos ? 0 : head + 4;
      const std::size_t body = answer.size() - head;
      out = out.substr(0, head + static_cast<std::size_t>(plan.fraction * static_cast<double>(body)));
      break;
    }
    case Fault::error_after: {
      const std::string fake = injected_500();
      io.send_all(client.get(), fake);
      count(plan.fault);
      return;
    }
    default: break;
  }
  std::size_t max_answer = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    max_answer = options_.max_answer_bytes;
  }
  if (max_answer > 0 && out.size() > max_answer) {
    out = out.substr(0, max_answer);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.truncated;
  }
  io.send_all(client.get(), out);
  count(plan.fault);
}

}  // namespace kehu::test
