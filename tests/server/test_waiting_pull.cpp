// Waiting pulls (issue 16, docs/protocol.md "Waiting pulls"): POST /v1/pull
// with "wait" is held until a commit in the caller's scope lands, and answered
// then; a commit outside it leaves it waiting; the server's capacity, a
// revoked token, a disabled user and a stopping server each end it at once.
//
// "At once" is checked against the wait asked for (20 s) with a wide margin:
// answered within half of it means it was woken, not timed out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.h"

using kehu::test::hlc_now;
using kehu::test::json;
using kehu::test::make_change;
using kehu::test::new_customer_fields;
using kehu::test::Reply;
using kehu::test::run_server_command;
using kehu::test::ServeOptions;
using kehu::test::ServerFixture;
using kehu::test::TestStore;

namespace {

constexpr int kWait = 20;
using Clock = std::chrono::steady_clock;

// The cursor after everything `token`'s user may pull now.
std::string cursor_at_end(ServerFixture& s, const std::string& token) {
  std::string cursor = "0";
  for (;;) {
    Reply r = s.post("/v1/pull", {{"cursor", cursor}, {"limit", 5000}}, token);
    INFO(r.body.dump());
    REQUIRE(r.status == 200);
    cursor = r.body["next_cursor"].get<std::string>();
    if (!r.body["more"].get<bool>()) return cursor;
  }
}

struct Waited {
  Reply reply;
  double seconds = 0;
};

// A waiting pull from `cursor`, on a thread of its own.
std::future<Waited> wait_pull(ServerFixture& s, const std::string& token, const std::string& cursor,
                              int wait = kWait) {
  return std::async(std::launch::async, [&s, token, cursor, wait] {
    const auto start = Clock::now();
    Waited w;
    w.reply = s.post("/v1/pull", {{"cursor", cursor}, {"wait", wait}}, token);
    w.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return w;
  });
}

// Gives the waiters started just before the time to reach the server and wait.
// Too short only weakens a check (the commit would come before the wait, and
// the first look would find it), never fails a right server.
void settle_in() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }

// Creates a customer as `token`'s user with these extra fields; REQUIRE
// applied. Returns its code.
std::string create(ServerFixture& s, const std::string& token, const std::string& id, const json& extra,
                   int seq) {
  json fields = new_customer_fields("客户 " + id);
  for (auto& [k, v] : extra.items()) fields[k] = {{"old", nullptr}, {"new", v}};
  Reply r = s.post("/v1/push",
                   {{"device", "dev-root"},
                    {"changes", json::array({make_change("c-" + id, id, "create", 0, hlc_now(), "dev-root", seq,
                                                         fields)})}},
                   token);
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  REQUIRE(r.body["results"][0]["status"] == "applied");
  return r.body["results"][0].value("code", id);
}

bool pulled(const json& body, const std::string& id) {
  for (const auto& rec : body.value("records", json::array())) {
    if (rec.value("id", "") == id) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("waiting pull: a commit in the caller's scope answers it at once, one outside does not",
          "[server][waiting]") {
  ServerFixture s;
  const std::string root = s.login("root", "dev-root");
  const std::string wang = s.login("wang", "dev-wang");
  const std::string cursor = cursor_at_end(s, wang);

  SECTION("in scope: answered with the new customer") {
    auto waiting = wait_pull(s, wang, cursor);
    settle_in();
    create(s, root, "near-1", {{"owner", "wang"}}, 1);
    const Waited w = waiting.get();
    INFO(w.reply.body.dump());
    REQUIRE(w.reply.status == 200);
    CHECK(pulled(w.reply.body, "near-1"));
    CHECK(w.seconds < kWait / 2);
  }
  SECTION("out of scope: still waiting, then an empty page past it") {
    auto waiting = wait_pull(s, wang, cursor, 3);
    settle_in();
    create(s, root, "far-1", {{"province", "浙江"}, {"owner", "qian"}}, 1);
    const Waited w = waiting.get();
    INFO(w.reply.body.dump());
    REQUIRE(w.reply.status == 200);
    CHECK(w.seconds >= 2.5);
    CHECK(w.reply.body["records"].empty());
    CHECK(w.reply.body["revisions"].empty());
    // The cursor moved past what wang may not see: the next wait does not look at it again.
    CHECK(w.reply.body["next_cursor"] != cursor);
  }
  SECTION("an admin waits for everything") {
    const std::string admin_cursor = cursor_at_end(s, root);
    auto waiting = wait_pull(s, root, admin_cursor);
    settle_in();
    create(s, root, "far-2", {{"province", "浙江"}, {"owner", "qian"}}, 1);
    const Waited w = waiting.get();
    REQUIRE(w.reply.status == 200);
    CHECK(pulled(w.reply.body, "far-2"));
    CHECK(w.seconds < kWait / 2);
  }
  SECTION("a commit by another process on the file (kehu-server customer reassign) answers it too") {
    const std::string code = create(s, root, "far-3", {{"province", "浙江"}, {"owner", "qian"}}, 1);
    const std::string after = cursor_at_end(s, wang);
    auto waiting = wait_pull(s, wang, after);
    settle_in();
    auto r = run_server_command({"customer", "reassign", code, "wang", "--reason", "接手", "--data",
                                 s.data_dir()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const Waited w = waiting.get();
    INFO(w.reply.body.dump());
    REQUIRE(w.reply.status == 200);
    CHECK(pulled(w.reply.body, "far-3"));
    CHECK(w.seconds < kWait / 2);
  }
}

TEST_CASE("waiting pull: \"wait\" must be a whole number of seconds", "[server][waiting]") {
  ServerFixture s;
  const std::string wang = s.login("wang");
  for (const json& bad : {json(-1), json(1.5), json("10"), json(true)}) {
    Reply r = s.post("/v1/pull", {{"cursor", "0"}, {"wait", bad}}, wang);
    INFO(bad.dump() << " " << r.body.dump());
    CHECK(r.status == 400);
    CHECK(r.body["error"]["code"] == "protocol");
    CHECK_THAT(r.body["error"]["message"].get<std::string>(), Catch::Contains("wait"));
  }
  // Without news and with wait 0 it answers at once, as without "wait".
  Reply r = s.post("/v1/pull", {{"cursor", cursor_at_end(s, wang)}, {"wait", 0}}, wang);
  CHECK(r.status == 200);
}

TEST_CASE("waiting pull: past the capacity the answer is 503 with Retry-After, per user 429",
          "[server][waiting]") {
  ServeOptions o;
  o.env["KEHU_HTTP_MAX_WAITING_PULLS"] = "3";
  ServerFixture s(o);
  const std::string wang = s.login("wang", "a"), li = s.login("li", "b"), zhao = s.login("zhao", "c");
  const std::string root = s.login("root", "d");
  std::vector<std::future<Waited>> held;
  for (const auto& token : {wang, li, zhao}) held.push_back(wait_pull(s, token, cursor_at_end(s, token), 5));
  settle_in();
  httplib::Client c = s.client();
  httplib::Headers h = {{"Authorization", "Bearer " + root}};
  auto res = c.Post("/v1/pull", h, json({{"cursor", "0"}, {"wait", 5}}).dump(), "application/json");
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 503);
  CHECK(json::parse(res->body)["error"]["code"] == "too_many_waiting");
  CHECK(!res->get_header_value("Retry-After").empty());
  // The answer the client falls back to: a pull without waiting still works.
  CHECK(s.post("/v1/pull", {{"cursor", "0"}}, root).status == 200);
  for (auto& f : held) CHECK(f.get().reply.status == 200);
  // Freed once they were answered.
  CHECK(s.post("/v1/pull", {{"cursor", cursor_at_end(s, root)}, {"wait", 1}}, root).status == 200);
}

TEST_CASE("waiting pull: one user may hold 8 at most", "[server][waiting]") {
  ServerFixture s;
  const std::string wang = s.login("wang");
  const std::string cursor = cursor_at_end(s, wang);
  std::vector<std::future<Waited>> held;
  for (int i = 0; i < 9; ++i) held.push_back(wait_pull(s, wang, cursor, 4));
  int answered = 0, refused = 0;
  for (auto& f : held) {
    const Waited w = f.get();
    INFO(w.reply.body.dump());
    if (w.reply.status == 200) {
      ++answered;
    } else {
      CHECK(w.reply.status == 429);
      CHECK(w.reply.body["error"]["code"] == "too_many_waiting");
      ++refused;
    }
  }
  CHECK(answered == 8);
  CHECK(refused == 1);
}

TEST_CASE("waiting pull: a revoked token, a disabled user and a stopping server end it at once",
          "[server][waiting]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-1");
  const std::string cursor = cursor_at_end(s, wang);

  SECTION("the token is logged out") {
    auto waiting = wait_pull(s, wang, cursor);
    settle_in();
    REQUIRE(s.post("/v1/logout", json::object(), wang).status == 200);
    const Waited w = waiting.get();
    INFO(w.reply.body.dump());
    CHECK(w.reply.status == 401);
    CHECK(w.seconds < kWait / 2);
  }
  SECTION("the user is disabled by kehu-server user disable, another process") {
    auto waiting = wait_pull(s, wang, cursor);
    settle_in();
    auto r = run_server_command({"user", "disable", "wang", "--data", s.data_dir()});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const Waited w = waiting.get();
    INFO(w.reply.body.dump());
    CHECK(w.reply.status == 403);
    CHECK(w.seconds < kWait / 2);
  }
  SECTION("another token of the same user stays valid and keeps waiting") {
    const std::string other = s.login("wang", "dev-2");
    auto waiting = wait_pull(s, other, cursor, 3);
    settle_in();
    REQUIRE(s.post("/v1/logout", json::object(), wang).status == 200);
    const Waited w = waiting.get();
    CHECK(w.reply.status == 200);
    CHECK(w.seconds >= 2.5);
  }
  SECTION("the server stops") {
    auto waiting = wait_pull(s, wang, cursor);
    settle_in();
    CHECK(s.stop() == 0);
    const Waited w = waiting.get();
    // Answered (an empty page) or cut as the process ends; either way not held.
    CHECK(w.seconds < kWait / 2);
    if (w.reply.status != 0) CHECK(w.reply.status == 200);
  }
}

TEST_CASE("waiting pull: a push from another device is answered while many wait", "[server][waiting]") {
  // Issue 16: idle waiters must not starve the others. 40 of them, 8 for each
  // of five users, hold workers while wang's device pushes and pulls.
  ServerFixture s;
  std::vector<std::future<Waited>> held;
  for (const char* user : {"li", "zhao", "audit", "sun", "qian"}) {
    for (int i = 0; i < 8; ++i) {
      const std::string token = s.login(user, std::string(user) + "-" + std::to_string(i));
      held.push_back(wait_pull(s, token, cursor_at_end(s, token), 8));
    }
  }
  settle_in();
  const std::string wang = s.login("wang", "dev-wang");
  create(s, wang, "busy-1", {{"owner", "wang"}}, 1);
  Reply r = s.post("/v1/pull", {{"cursor", "0"}}, wang);
  CHECK(r.status == 200);
  CHECK(pulled(r.body, "busy-1"));
  // Every one of them may see a 江苏 customer: li and zhao by their region,
  // the auditor and the admins all of them. Each got it.
  int woken = 0;
  for (auto& f : held) {
    const Waited w = f.get();
    CHECK(w.reply.status == 200);
    if (pulled(w.reply.body, "busy-1")) ++woken;
  }
  CHECK(woken == 40);
}

TEST_CASE("pg: a waiting pull on one server process wakes for a commit on another", "[server][waiting][pg]") {
  ServeOptions o;
  o.store = TestStore::postgresql;
  ServerFixture first(o);
  ServerFixture second(first, ServeOptions{});
  const std::string wang = second.login("wang", "dev-wang");
  const std::string root = first.login("root", "dev-root");
  auto waiting = wait_pull(second, wang, cursor_at_end(second, wang));
  settle_in();
  create(first, root, "pg-near-1", {{"owner", "wang"}}, 1);
  const Waited w = waiting.get();
  INFO(w.reply.body.dump());
  REQUIRE(w.reply.status == 200);
  CHECK(pulled(w.reply.body, "pg-near-1"));
  CHECK(w.seconds < kWait / 2);
  // And a token revoked on the first process ends a wait on the second.
  auto again = wait_pull(second, wang, cursor_at_end(second, wang));
  settle_in();
  REQUIRE(first.post("/v1/logout", json::object(), wang).status == 200);
  const Waited ended = again.get();
  CHECK(ended.reply.status == 401);
  CHECK(ended.seconds < kWait / 2);
}

TEST_CASE("waiting pull: attacker review 16's holes stay closed", "[server][waiting][security]") {
  SECTION("A16-1: one address's waiting pulls leave room under its connection cap") {
    ServeOptions o;
    o.env["KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS"] = "8";  // 6 of them may wait
    ServerFixture s(o);
    const std::string wang = s.login("wang");
    const std::string cursor = cursor_at_end(s, wang);
    std::vector<std::future<Waited>> held;
    for (int i = 0; i < 7; ++i) held.push_back(wait_pull(s, wang, cursor, 4));
    int refused = 0;
    for (auto& f : held) {
      const Waited w = f.get();
      INFO(w.reply.body.dump());
      if (w.reply.status != 200) {
        CHECK(w.reply.status == 503);
        CHECK(w.reply.body["error"]["code"] == "too_many_waiting");
        ++refused;
      }
    }
    CHECK(refused == 1);
  }
  SECTION("A16-4: a token that expires while it waits gets no data after") {
    ServeOptions o;
    o.env["KEHU_TOKEN_TTL_SECONDS"] = "3";
    ServerFixture s(o);
    const std::string wang = s.login("wang");
    auto waiting = wait_pull(s, wang, cursor_at_end(s, wang), 15);
    std::this_thread::sleep_for(std::chrono::seconds(4));
    const std::string root = s.login("root", "dev-root");
    create(s, root, "after-expiry", {{"owner", "wang"}}, 1);
    const Waited w = waiting.get();
    INFO(w.reply.body.dump());
    CHECK(w.reply.status == 401);
    CHECK_FALSE(pulled(w.reply.body, "after-expiry"));
  }
  SECTION("A16-7: a waiting pull's body is small") {
    ServerFixture s;
    const std::string wang = s.login("wang");
    Reply r = s.post("/v1/pull", {{"cursor", "0"}, {"wait", 5}, {"pad", std::string(8000, 'x')}}, wang);
    CHECK(r.status == 413);
    CHECK(r.body["error"]["code"] == "too_large");
  }
  SECTION("A16-6: a device that hangs up stops waiting at once") {
    ServerFixture s;
    const std::string wang = s.login("wang");
    const std::string cursor = cursor_at_end(s, wang);
    const std::string body = json({{"cursor", cursor}, {"wait", 60}}).dump();
    const std::string request = "POST /v1/pull HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + wang +
                                "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    for (int i = 0; i < 8; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      REQUIRE(fd >= 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<std::uint16_t>(s.port()));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
      REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::close(fd);
    }
    // Their 8 slots come free within a second or two, not after 60 s.
    bool waited = false;
    for (int i = 0; i < 30 && !waited; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      waited = s.post("/v1/pull", {{"cursor", cursor}, {"wait", 1}}, wang).status == 200;
    }
    CHECK(waited);
  }
}
