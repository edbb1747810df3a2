// The HTTP layer under attack, from raw sockets on loopback against a real
// kehu-server: slow and idle connections (connection_guard.h) and compressed or
// oversized bodies (body_decoder.h, the pre-routing checks of http_server.cc).
// Deadlines are shortened through the KEHU_HTTP_* environment (http_limits.h) so
// each case takes a few seconds; time bounds are generous (a noisy 2-core box).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "kehu/record.h"
#include "server_fixture.h"

using kehu::test::hlc_now;
using kehu::test::json;
using kehu::test::make_change;
using kehu::test::new_customer_fields;
using kehu::test::ServeOptions;
using kehu::test::ServerFixture;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A TCP connection to 127.0.0.1:port, from `from` (any 127.x.y.z) if given.
int connect_to(int port, const char* from = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  if (from) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, from, &local.sin_addr);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close first; what it answered is checked
    sent += static_cast<std::size_t>(n);
  }
}

// What the server sends until it closes the connection or `limit_s` passes.
// `closed` says whether it closed (EOF or reset).
std::string read_until_close(int fd, double limit_s, bool* closed = nullptr) {
  std::string out;
  const auto start = Clock::now();
  if (closed) *closed = false;
  for (;;) {
    const double left = limit_s - seconds_since(start);
    if (left <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

// The status code of a raw HTTP answer, 0 if there is none.
int status_of(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) return 0;
  return std::atoi(answer.substr(9, 3).c_str());
}

// Connections that send a request's headers one line at a time, one line per
// `every` to each, until stopped: the slow-headers attack.
class SlowClients {
 public:
  SlowClients(int port, const std::vector<std::string>& sources, std::chrono::milliseconds every) {
    for (const auto& from : sources) {
      const int fd = connect_to(port, from.empty() ? nullptr : from.c_str());
      send_all(fd, "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      fds_.push_back(fd);
    }
    trickler_ = std::thread([this, every] {
      int line = 0;
      while (!stop_) {
        for (int fd : fds_) send_all(fd, "X-Slow-" + std::to_string(line) + ": x\r\n");
        ++line;
        for (auto waited = std::chrono::milliseconds(0); waited < every && !stop_; waited += std::chrono::milliseconds(50)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  }
  ~SlowClients() {
    stop();
    for (int fd : fds_) ::close(fd);
  }
  void stop() {
    stop_ = true;
    if (trickler_.joinable()) trickler_.join();
  }
  // How many of the connections the server has closed, waiting at most `limit_s`.
  std::size_t closed_by_server(double limit_s) {
    const auto start = Clock::now();
    std::size_t closed = 0;
    for (int fd : fds_) {
      bool c = false;
      read_until_close(fd, std::max(0.05, limit_s - seconds_since(start)), &c);
      if (c) ++closed;
    }
    return closed;
  }
  std::size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread trickler_;
};

// One sync's worth of HTTP from a fresh connection: login, push one new
// customer, pull. Returns the seconds it took; REQUIREs every answer is 200.
double timed_sync(ServerFixture& s, const std::string& id) {
  const auto start = Clock::now();
  httplib::Client c("127.0.0.1", s.port());
  c.set_connection_timeout(20);
  c.set_read_timeout(20);
  auto login = c.Post("/v1/login", json{{"user", "wang"}, {"password", ServerFixture::kPassword}}.dump(),
                      "application/json");
  REQUIRE(login);
  REQUIRE(login->status == 200);
  const std::string token = json::parse(login->body)["token"];
  httplib::Headers auth{{"Authorization", "Bearer " + token}};
  const json change = make_change("create-" + id, id, "create", 0, hlc_now(), "dev-sec", 1,
                                  new_customer_fields("客户 " + id));
  auto pushed = c.Post("/v1/push", auth, json{{"device", "dev-sec"}, {"changes", {change}}}.dump(),
                       "application/json");
  REQUIRE(pushed);
  REQUIRE(pushed->status == 200);
  auto pulled = c.Post("/v1/pull", auth, json{{"cursor", "0"}}.dump(), "application/json");
  REQUIRE(pulled);
  REQUIRE(pulled->status == 200);
  return seconds_since(start);
}

// The server's peak resident memory (VmHWM) in kB.
long peak_rss_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// `size` zero bytes, gzip-compressed (about size / 1030 bytes).
std::string gzip_zeros(std::size_t size) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  const std::string zeros(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  std::size_t left = size;
  do {
    const std::size_t n = std::min(left, zeros.size());
    left -= n;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(n);
    const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0);
  } while (left > 0);
  deflateEnd(&z);
  return out;
}

std::string request(const std::string& method, const std::string& path, const std::string& headers,
                    const std::string& body) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

ServeOptions short_deadlines(std::map<std::string, std::string> extra = {}) {
  ServeOptions o;
  o.env = {{"KEHU_HTTP_HEADER_DEADLINE_SECONDS", "2"},
           {"KEHU_HTTP_BODY_DEADLINE_SECONDS", "2"},
           {"KEHU_HTTP_BODY_MIN_BYTES_PER_SECOND", "1024"}};
  for (auto& [k, v] : extra) o.env[k] = v;
  return o;
}

}  // namespace

TEST_CASE("a sync is not delayed by 20 connections that trickle their headers", "[server][security]") {
  ServerFixture s(short_deadlines());
  SlowClients slow(s.port(), std::vector<std::string>(20), std::chrono::milliseconds(500));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all 20 are being served
  const double took = timed_sync(s, "slow-20");
  std::printf("sync with 20 slow connections open: %.3f s\n", took);
  CHECK(took < 10.0);  // the attack held every sync for as long as it trickled
  // The header deadline (2 s here) closes every trickling connection.
  CHECK(slow.closed_by_server(6.0) == slow.size());
}

TEST_CASE("a sync is not delayed by 200 slow connections from 200 addresses", "[server][security]") {
  ServerFixture s(short_deadlines());
  std::vector<std::string> sources;
  for (int i = 2; i <= 201; ++i) sources.push_back("127.0.0." + std::to_string(i));
  SlowClients slow(s.port(), sources, std::chrono::milliseconds(500));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double took = timed_sync(s, "slow-200");
  std::printf("sync with 200 slow connections open: %.3f s\n", took);
  CHECK(took < 10.0);
  CHECK(slow.closed_by_server(8.0) == slow.size());
}

TEST_CASE("connections over the per-address cap are refused at once", "[server][security]") {
  ServerFixture s(short_deadlines({{"KEHU_HTTP_HEADER_DEADLINE_SECONDS", "20"},
                                   {"KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "4"}}));
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(connect_to(s.port(), "127.0.0.1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int extra = connect_to(s.port(), "127.0.0.1");
  const auto start = Clock::now();
  bool closed = false;
  const std::string answer = read_until_close(extra, 3.0, &closed);
  INFO(answer);
  CHECK(closed);
  CHECK(seconds_since(start) < 2.0);
  CHECK((answer.empty() || status_of(answer) == 503));
  ::close(extra);
  // Another address is not affected.
  const int other = connect_to(s.port(), "127.0.0.9");
  send_all(other, request("POST", "/v1/login", "", R"({"user":"wang","password":"x"})"));
  const std::string other_answer = read_until_close(other, 5.0);
  CHECK(status_of(other_answer) == 401);
  ::close(other);
  for (int fd : held) ::close(fd);
}

TEST_CASE("at the per-address cap, a connection that waits for its request makes room for a new one",
          "[server][security]") {
  // Attacker review 18, A18-2: 64 half-sent requests, renewed as the header
  // deadline cut them, kept every other client of the address (a NAT) out.
  // Review 19, A19-1: the same with whole headers and a trickled body.
  std::string half_sent = "POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\n";  // and no more
  // An idle keep-alive (the answered ones below) goes before a body in
  // progress: with bodies, only the first round closes a half-sent one.
  int closed_at_least = 3;
  SECTION("the headers are not all sent") {}
  SECTION("the headers are sent, the body is not") {
    half_sent += "Content-Type: application/json\r\nContent-Length: 16384\r\n\r\n{\"user\":";
    closed_at_least = 1;
  }
  ServerFixture s(short_deadlines({{"KEHU_HTTP_HEADER_DEADLINE_SECONDS", "20"},
                                   {"KEHU_HTTP_BODY_DEADLINE_SECONDS", "20"},
                                   {"KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "4"}}));
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect_to(s.port(), "127.0.0.1"));
    send_all(held.back(), half_sent);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past PeerCounter::kEvictAfter
  // Each kept open (keep-alive), so that the next one finds the cap reached again.
  std::vector<int> served;
  for (int round = 0; round < 3; ++round) {
    served.push_back(connect_to(s.port(), "127.0.0.1"));
    send_all(served.back(), request("POST", "/v1/login", "", R"({"user":"wang","password":"x"})"));
    const std::string answer = read_until_close(served.back(), 1.0);
    INFO(answer);
    CHECK(status_of(answer) == 401);  // answered, not 503 too_many_connections
  }
  for (int fd : served) ::close(fd);
  // The half-sent ones were closed to make room, the oldest first.
  int closed_by_server = 0;
  for (int fd : held) {
    bool closed = false;
    read_until_close(fd, 1.0, &closed);
    closed_by_server += closed ? 1 : 0;
    ::close(fd);
  }
  CHECK(closed_by_server >= closed_at_least);
}

TEST_CASE("a body that trickles below the minimum rate is cut at its deadline", "[server][security]") {
  ServerFixture s(short_deadlines());
  const std::string token = s.login("wang");
  const int fd = connect_to(s.port());
  send_all(fd, "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                   "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{");
  const auto start = Clock::now();
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    for (int i = 0; i < 40 && !done; ++i) {  // 10 bytes every 250 ms: 40 B/s
      send_all(fd, "          ");
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  bool closed = false;
  read_until_close(fd, 9.0, &closed);
  const double took = seconds_since(start);
  done = true;
  trickle.join();
  ::close(fd);
  CHECK(closed);
  CHECK(took < 8.0);  // deadline 2 s + 40 B / 1 KiB/s; a socket timeout would wait 60 s per byte
}

TEST_CASE("a body without Content-Length is refused, not read until the client closes", "[server][security]") {
  ServerFixture s(short_deadlines());
  const int fd = connect_to(s.port());
  send_all(fd, "POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\r\n{\"user\":");
  bool closed = false;
  const std::string answer = read_until_close(fd, 4.0, &closed);
  ::close(fd);
  INFO(answer);
  CHECK(status_of(answer) == 411);
  CHECK(answer.find("length_required") != std::string::npos);
}

TEST_CASE("a gzip bomb is refused with 413 without being inflated", "[server][security]") {
  ServerFixture s(short_deadlines({{"KEHU_HTTP_BODY_DEADLINE_SECONDS", "30"}}));
  const std::string token = s.login("wang");
  const long rss_before = peak_rss_kb(s.pid());

  SECTION("the 199 KB login bomb: refused from its headers") {
    const std::string bomb = gzip_zeros(200u << 20);
    const int fd = connect_to(s.port());
    const auto start = Clock::now();
    send_all(fd, "POST /v1/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Content-Encoding: gzip\r\nContent-Length: " + std::to_string(bomb.size()) + "\r\n\r\n");
    bool closed = false;
    const std::string answer = read_until_close(fd, 5.0, &closed);
    ::close(fd);
    INFO(answer);
    CHECK(status_of(answer) == 413);
    CHECK(answer.find("too_large") != std::string::npos);
    CHECK(closed);  // its body is never read as a next request
    CHECK(seconds_since(start) < 3.0);
  }
  SECTION("a 10 KB login body that inflates to 10 MiB") {
    const std::string bomb = gzip_zeros(10u << 20);
    REQUIRE(bomb.size() < 16 * 1024);
    const int fd = connect_to(s.port());
    send_all(fd, request("POST", "/v1/login", "Content-Type: application/json\r\nContent-Encoding: gzip\r\n", bomb));
    const std::string answer = read_until_close(fd, 5.0);
    ::close(fd);
    INFO(answer);
    CHECK(status_of(answer) == 413);
    CHECK(answer.find("too_large") != std::string::npos);
  }
  SECTION("an authenticated push that inflates to 200 MiB") {
    const std::string bomb = gzip_zeros(200u << 20);
    const int fd = connect_to(s.port());
    const auto start = Clock::now();
    send_all(fd, request("POST", "/v1/push",
                         "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n"
                                                            "Content-Encoding: gzip\r\n",
                         bomb));
    const std::string answer = read_until_close(fd, 15.0);
    ::close(fd);
    const long rss_after = peak_rss_kb(s.pid());
    std::printf("gzip bomb (200 MiB in %zu bytes) to /v1/push: %.3f s, server VmHWM %ld kB -> %ld kB\n",
                bomb.size(), seconds_since(start), rss_before, rss_after);
    INFO(answer);
    CHECK(status_of(answer) == 413);
    CHECK(answer.find("too_large") != std::string::npos);
    CHECK(rss_after < rss_before + 100 * 1024);  // the bomb made it grow past 800 MB
  }
}

namespace {

// `data` compressed in one go: window_bits 15 + 16 gives gzip, 15 zlib ("deflate").
std::string compressed(const std::string& data, int window_bits) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST_CASE("a compressed body must be what its Content-Encoding says", "[server][security]") {
  ServerFixture s;
  const std::string token = s.login("wang");
  auto send = [&](const std::string& encoding, const std::string& body) {
    const int fd = connect_to(s.port());
    send_all(fd, request("POST", "/v1/pull",
                         "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n"
                                                            "Connection: close\r\nContent-Encoding: " + encoding + "\r\n",
                         body));
    const std::string answer = read_until_close(fd, 5.0);
    ::close(fd);
    return answer;
  };
  const std::string pull = R"({"cursor":"0","limit":10})";
  CHECK(status_of(send("gzip", compressed(pull, 15 + 16))) == 200);
  CHECK(status_of(send("deflate", compressed(pull, 15))) == 200);
  const std::string gzip_as_deflate = send("deflate", compressed(pull, 15 + 16));
  INFO(gzip_as_deflate);
  CHECK(status_of(gzip_as_deflate) == 400);
  CHECK(gzip_as_deflate.find("not valid deflate data") != std::string::npos);
  CHECK(status_of(send("gzip", compressed(pull, 15))) == 400);
}

TEST_CASE("bodies are checked before they are read: token, encoding, length", "[server][security]") {
  ServerFixture s(short_deadlines({{"KEHU_HTTP_BODY_DEADLINE_SECONDS", "30"}}));
  SECTION("no token: 401 from the headers, the 30 MiB body is never awaited") {
    const int fd = connect_to(s.port());
    send_all(fd, "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Content-Length: 31457280\r\n\r\n");
    bool closed = false;
    const std::string answer = read_until_close(fd, 5.0, &closed);
    ::close(fd);
    INFO(answer);
    CHECK(status_of(answer) == 401);
    CHECK(closed);
  }
  SECTION("no token on a path outside /v1/: 401 from the headers too, the body never read") {
    // The attacker's review: /nope, / and //v1/push read 32 MiB bodies before a 404.
    for (const char* path : {"/nope", "/", "//v1/push", "/V1/push"}) {
      INFO(path);
      const int fd = connect_to(s.port());
      send_all(fd, std::string("POST ") + path +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: 31457280\r\n\r\n");
      bool closed = false;
      const std::string answer = read_until_close(fd, 5.0, &closed);
      ::close(fd);
      INFO(answer);
      CHECK(status_of(answer) == 401);
      CHECK(closed);
    }
  }
  SECTION("an unknown Content-Encoding is 415") {
    const std::string token = s.login("wang");
    const int fd = connect_to(s.port());
    send_all(fd, request("POST", "/v1/pull",
                         "Authorization: Bearer " + token + "\r\nContent-Encoding: compress\r\n", "{}"));
    const std::string answer = read_until_close(fd, 5.0);
    ::close(fd);
    INFO(answer);
    CHECK(status_of(answer) == 415);
    CHECK(answer.find("unsupported_encoding") != std::string::npos);
  }
  SECTION("a chunked body is 411") {
    const std::string token = s.login("wang");
    const int fd = connect_to(s.port());
    send_all(fd, "POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                     "\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
    const std::string answer = read_until_close(fd, 5.0);
    ::close(fd);
    INFO(answer);
    CHECK(status_of(answer) == 411);
  }
  SECTION("an honest gzip body is still accepted") {
    const std::string token = s.login("wang");
    httplib::Client c("127.0.0.1", s.port());
    c.set_compress(true);
    auto r = c.Post("/v1/pull", httplib::Headers{{"Authorization", "Bearer " + token}},
                    json{{"cursor", "0"}, {"limit", 10}}.dump(), "application/json");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
}

TEST_CASE("a Content-Length that is not a number of bytes is 400 - not 413", "[server][security]") {
  // The third attacker's review (F16): "-1" and "+26" were answered 413 "above 33554432 bytes".
  ServerFixture s(short_deadlines());
  const std::string token = s.login("wang");
  for (const char* length : {"-1", "+26", "1e3", "0x10"}) {
    INFO(length);
    const int fd = connect_to(s.port());
    send_all(fd, std::string("POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ") + token +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + length + "\r\n\r\n{}");
    const std::string answer = read_until_close(fd, 5.0);
    ::close(fd);
    INFO(answer);
    CHECK(status_of(answer) == 400);
    CHECK(answer.find("Content-Length") != std::string::npos);
  }
}

namespace {

// A pull's request line and headers up to its Content-Length value.
std::string pull_head(const std::string& token) {
  return "POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
         "\r\nContent-Type: application/json\r\nContent-Length: ";
}

// Seven users' 32 MiB bodies, stalled after their first KiB: 224 MiB of the
// 256 MiB budget held (one large body per user). Their connections.
std::vector<int> stall_large_uploads(ServerFixture& s) {
  std::vector<int> stalled;
  for (const char* user : {"root", "zhao", "wang", "li", "audit", "qian", "sun"}) {
    const int fd = connect_to(s.port());
    send_all(fd, pull_head(s.login(user)) + "33554432\r\n\r\n" + std::string(1024, ' '));
    stalled.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all 7 are being read
  return stalled;
}

}  // namespace

TEST_CASE("bodies are charged to the budget while they arrive: stalled uploads cannot pass it", "[server][security]") {
  // The third attacker's review (F3): a body was charged only once httplib had
  // all of it; 128 stalled 32 MiB uploads held 4.2 GB beside the 256 MiB budget.
  // Now each is charged from its Content-Length before it is read, and a large
  // one must leave 32 MiB of the budget to small requests. (One large body per
  // user: seven users hold one each.)
  ServerFixture s(short_deadlines({{"KEHU_HTTP_BODY_DEADLINE_SECONDS", "120"}}));
  const std::vector<int> stalled = stall_large_uploads(s);
  // An eighth large body would leave less than 32 MiB: 503 busy, at once, unread.
  const std::string root2 = s.login("root", "dev-2");
  const int fd = connect_to(s.port());
  send_all(fd, pull_head(root2) + "2097152\r\n\r\n");
  bool closed = false;
  const std::string answer = read_until_close(fd, 5.0, &closed);
  ::close(fd);
  INFO(answer);
  CHECK((status_of(answer) == 503 || status_of(answer) == 429));
  CHECK(answer.find("Retry-After: 1") != std::string::npos);
  // A small request still passes.
  const std::string wang = s.login("wang");
  CHECK(s.post("/v1/pull", {{"cursor", "0"}, {"limit", 10}}, wang).status == 200);
  // The stalled uploads give their share back when their connections end.
  for (int f : stalled) ::close(f);
  bool freed = false;
  for (int i = 0; i < 50 && !freed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int again = connect_to(s.port());
    send_all(again, pull_head(root2) + "2097152\r\n\r\n" + std::string(2097150, ' ') + "{}");
    freed = status_of(read_until_close(again, 10.0)) == 200;
    ::close(again);
  }
  CHECK(freed);
}

TEST_CASE("a Range header is ignored: no answer is cut into parts, each a copy", "[server][security]") {
  // A15-1: 40 ranges of "0-" made one 8.4 MB pull page a 336 MB multipart answer.
  ServerFixture s;
  const std::string wang = s.login("wang");
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 40; ++i) ranges += ",0-";
  for (const std::string& path : {std::string("/v1/pull"), std::string("/v1/nope")}) {
    INFO(path);
    const int fd = connect_to(s.port());
    send_all(fd, request("POST", path,
                         "Authorization: Bearer " + wang + "\r\nContent-Type: application/json\r\nRange: " + ranges +
                             "\r\nConnection: close\r\n",
                         "{\"cursor\":\"0\"}"));
    const std::string answer = read_until_close(fd, 10.0);
    ::close(fd);
    CHECK(status_of(answer) == (path == "/v1/pull" ? 200 : 404));
    CHECK(answer.find("multipart") == std::string::npos);
    CHECK(answer.find("Content-Type: application/json") != std::string::npos);
    CHECK(answer.find("Content-Range") == std::string::npos);
  }
}

TEST_CASE("a large answer is charged to the budget while it is written", "[server][security]") {
  // A13-8: answers were charged to nothing; 60 slow readers of 8.5 MB pull pages
  // held about 1 GB beside the 256 MiB budget. An answer above 64 KiB now holds
  // its bytes until it is written, as a body does while it arrives, and one above
  // 1 MiB must leave 32 MiB of the budget free.
  ServerFixture s(short_deadlines({{"KEHU_HTTP_BODY_DEADLINE_SECONDS", "120"}}));
  const std::string root = s.login("root", "dev-root");
  json changes = json::array();
  for (int i = 0; i < 700; ++i) {
    json f = new_customer_fields("长备注客户 " + std::to_string(i));
    f["notes"] = {{"old", nullptr}, {"new", std::string(1990, 'n')}};
    changes.push_back(make_change(kehu::new_uuid(), kehu::new_uuid(), "create", 0, hlc_now(i), "dev-root", i + 1, f));
  }
  REQUIRE(s.post("/v1/push", {{"device", "dev-root"}, {"changes", changes}}, root).status == 200);
  const json big = {{"cursor", "0"}, {"limit", 1000}}, small = {{"cursor", "0"}, {"limit", 10}};
  // The large page passes while the budget is free (about 1.5 MB).
  kehu::test::Reply whole = s.post("/v1/pull", big, root);
  REQUIRE(whole.status == 200);
  REQUIRE(whole.body.dump().size() > (1u << 20));
  const std::vector<int> stalled = stall_large_uploads(s);
  // 32 MiB left: the page is built, and not sent, as it would leave less. (A
  // loaded machine may read the stalled heads later than the helper waits:
  // asked again until they are, for a few seconds.)
  kehu::test::Reply busy = s.post("/v1/pull", big, root);
  for (int i = 0; i < 40 && busy.status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    busy = s.post("/v1/pull", big, root);
  }
  INFO(busy.body.dump().substr(0, 300));
  CHECK(busy.status == 503);
  CHECK(busy.body["error"]["code"] == "busy");
  CHECK_THAT(busy.body["error"]["message"].get<std::string>(), Catch::Matchers::Contains("large answers"));
  // A small page still passes.
  CHECK(s.post("/v1/pull", small, root).status == 200);
  for (int f : stalled) ::close(f);
  bool freed = false;
  for (int i = 0; i < 50 && !freed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    freed = s.post("/v1/pull", big, root).status == 200;
  }
  CHECK(freed);
}

TEST_CASE("one user cannot hold the body budget: a share per user and a slice kept for small bodies", "[server][security]") {
  // The fourth attacker's review (N4): one auditor token's 7 stalled 32 MiB and
  // 32 stalled 1 MiB uploads held the whole budget; every login, pull and push
  // of everyone was answered 503 for as long as the attacker liked.
  ServerFixture s(short_deadlines({{"KEHU_HTTP_BODY_DEADLINE_SECONDS", "120"}}));
  std::map<std::string, std::string> tokens;
  for (const char* user : {"root", "zhao", "wang", "li", "audit", "qian", "sun"}) tokens[user] = s.login(user);
  std::vector<int> stalled;
  auto stall = [&](const std::string& user, std::size_t length) {
    const int fd = connect_to(s.port());
    send_all(fd, "POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + tokens[user] +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(length) +
                     "\r\n\r\n ");
    stalled.push_back(fd);
    return fd;
  };
  auto refused = [&](const std::string& user, std::size_t length) {
    const int fd = stall(user, length);
    stalled.pop_back();
    const std::string answer = read_until_close(fd, 5.0);
    ::close(fd);
    return answer;
  };
  const std::size_t large = 32u << 20;
  const std::size_t small = 1u << 20;  // 1 MiB: the largest "small" body
  stall("wang", large);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {  // a second large body of the same user: 429, naming the limit and the user
    const std::string answer = refused("wang", large);
    INFO(answer);
    CHECK(status_of(answer) == 429);
    CHECK(answer.find("too_many_uploads") != std::string::npos);
    CHECK(answer.find("Retry-After: 1") != std::string::npos);
    CHECK(answer.find("wang") != std::string::npos);
  }
  // Six other users take a large body each: 224 MiB held in all with wang's.
  for (const char* user : {"root", "zhao", "li", "audit", "qian", "sun"}) stall(user, large);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the large ones first: they need 32 MiB free
  // 4 MiB of 1 MiB bodies from wang (his share) and from five others: 248 MiB
  // held, 8 MiB left.
  for (int i = 0; i < 4; ++i) stall("wang", small);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    const std::string answer = refused("wang", small);
    INFO(answer);
    CHECK(status_of(answer) == 429);
    CHECK(answer.find("4 MiB") != std::string::npos);
  }
  for (const char* user : {"root", "zhao", "li", "audit", "qian"}) {
    for (int i = 0; i < 4; ++i) stall(user, small);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // None of them was answered: all are held.
  for (int f : stalled) {
    pollfd p{f, POLLIN, 0};
    const bool answered = ::poll(&p, 1, 0) != 0;
    INFO((answered ? read_until_close(f, 1.0) : std::string()));
    CHECK(!answered);
  }
  {  // a 1 MiB body must leave the last 8 MiB to bodies of up to 64 KiB
    const std::string answer = refused("sun", small);
    INFO(answer);
    CHECK(status_of(answer) == 503);
    CHECK(answer.find("busy") != std::string::npos);
    CHECK(answer.find("Retry-After: 1") != std::string::npos);
  }
  // Logins, pulls and small pushes of everyone still pass.
  CHECK(s.post("/v1/login", {{"user", "zhao"}, {"password", ServerFixture::kPassword}, {"device", "d2"}}).status ==
        200);
  CHECK(s.post("/v1/pull", {{"cursor", "0"}, {"limit", 10}}, tokens["sun"]).status == 200);
  const json push = {{"changes", json::array({make_change("n4-c1", "n4-1", "create", 0, hlc_now(), "dev-test", 1, new_customer_fields("N4"))})}};
  CHECK(s.post("/v1/push", push, tokens["sun"]).status == 200);
  for (int f : stalled) ::close(f);
}

TEST_CASE("a large body must keep the large-body rate: a trickle is cut", "[server][security]") {
  // N4: a body above 1 MiB kept its reservation at 16 KiB/s for up to 300 s. A
  // body above 1 MiB must now arrive at 256 KiB/s on average after the grace;
  // here it comes at 8 KiB/s - far above the 1 KiB/s asked of small bodies.
  ServerFixture s(short_deadlines());
  const std::string token = s.login("wang");
  const int fd = connect_to(s.port());
  send_all(fd, "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                   "\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{" +
                   std::string(65535, ' '));
  const auto start = Clock::now();
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    for (int i = 0; i < 80 && !done; ++i) {  // 2 KiB every 250 ms
      send_all(fd, std::string(2048, ' '));
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  bool closed = false;
  read_until_close(fd, 15.0, &closed);
  done = true;
  trickle.join();
  ::close(fd);
  CHECK(closed);  // at 16 KiB/s for all bodies it stayed open for 2 s + 64 s
  CHECK(seconds_since(start) < 15.0);
}

TEST_CASE("a body has a whole time limit however fast it comes", "[server][security]") {
  // F3: the deadline grew with every byte, so a 32 MiB body at the minimum rate
  // held its worker and its bytes for 34 minutes.
  // (The large-body rate is lowered to the small one: only the whole limit cuts.)
  ServerFixture s(short_deadlines({{"KEHU_HTTP_BODY_MAX_SECONDS", "3"},
                                   {"KEHU_HTTP_LARGE_BODY_MIN_BYTES_PER_SECOND", "1024"}}));
  const std::string token = s.login("wang");
  const int fd = connect_to(s.port());
  send_all(fd, "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                   "\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n{");
  const auto start = Clock::now();
  std::atomic<bool> done{false};
  std::thread sender([&] {  // 16 KiB every 100 ms: 160 KiB/s, far above the 1 KiB/s minimum
    const std::string chunk(16 * 1024, ' ');
    while (!done && seconds_since(start) < 20) {
      send_all(fd, chunk);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  bool closed = false;
  read_until_close(fd, 15.0, &closed);
  const double took = seconds_since(start);
  done = true;
  sender.join();
  ::close(fd);
  CHECK(closed);
  CHECK(took < 10.0);
}

TEST_CASE("the request log shows a client's text escaped: no forged lines, no terminal codes", "[server][security]") {
  ServerFixture s;
  const int fd = connect_to(s.port());
  send_all(fd, "GET /v1/x%0A2026-01-01T00:00:00Z%20POST%20/v1/push%20200%20user=root%1B[2J HTTP/1.1\r\n"
               "Host: 127.0.0.1\r\nAuthorization: bearer nope\r\nConnection: close\r\n\r\n");
  const std::string answer = read_until_close(fd, 5.0);
  ::close(fd);
  INFO(answer);
  // "bearer" in lower case is the Bearer scheme (RFC 9110): the token is judged.
  CHECK(status_of(answer) == 401);
  CHECK(answer.find("malformed token") != std::string::npos);  // past the scheme
  const std::string log = s.log();
  INFO(log);
  CHECK(log.find("\n2026-01-01T00:00:00Z POST") == std::string::npos);
  CHECK(log.find('\x1b') == std::string::npos);
  CHECK(log.find("/v1/x\\x0a2026-01-01T00:00:00Z\\x20POST") != std::string::npos);
}

TEST_CASE("an answer read below the minimum rate is cut at its deadline", "[server][security]") {
  // A5-10: a client that read its pull answer a few bytes every 20 s held a
  // worker and ~10 MB of answer for as long as it liked (each send waited up
  // to 60 s, and every few bytes read let one more through). An answer must now
  // be read as a body must arrive: 2 s of grace here, then 1 KiB/s.
  ServerFixture s(short_deadlines());
  const std::string root = s.login("root");
  // ~5 MB of revisions: more than the socket buffers hold.
  for (int batch = 0; batch < 12; ++batch) {
    json changes = json::array();
    for (int i = 0; i < 200; ++i) {
      json f = new_customer_fields("慢读客户" + std::to_string(batch) + "-" + std::to_string(i));
      f["notes"] = {{"old", nullptr}, {"new", std::string(1900, 'n')}};
      char id[64];
      std::snprintf(id, sizeof id, "5e0d0000-0000-4000-8000-%06d%06d", batch, i);
      changes.push_back(make_change(kehu::new_uuid(), id, "create", 0, hlc_now(), "dev-slow", 1 + batch * 200 + i, f));
    }
    auto r = s.post("/v1/push", {{"changes", changes}}, root);
    REQUIRE(r.status == 200);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  const int small = 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);  // before connect: a small window
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(s.port()));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  send_all(fd, request("POST", "/v1/pull", "Authorization: Bearer " + root + "\r\nContent-Type: application/json\r\n",
                       R"({"cursor":"0","limit":5000})"));
  // 100 bytes every 250 ms (400 B/s) for at most 30 s.
  std::size_t got = 0;
  bool closed = false;
  for (int i = 0; i < 120 && !closed; ++i) {
    char buf[100];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
    if (n > 0) got += static_cast<std::size_t>(n);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ::close(fd);
  INFO("read " << got << " bytes");
  CHECK(closed);               // cut; before, the answer went on at the reader's pace
  CHECK(got < 4 * 1024 * 1024);  // not the whole answer
}
