// Reliability under faults, crashes and hostile input.
//
//  * Replicas sync through a fault-injecting proxy (fault_proxy.h) that drops
//    requests and responses, truncates bodies, delays, and answers 500 before or
//    after the server has applied a push. Afterwards, with the faults off, every
//    replica equals the server, nothing is pending, every change made is exactly
//    one server revision, no record was created twice, codes are unique and the
//    hash chain verifies.
//  * The server is killed (SIGKILL) in the middle of a device's pushes and
//    restarted: the same checks hold after the device syncs again.
//  * Hostile bodies (garbage, truncated or deeply nested JSON, huge strings,
//    wrong types in every member, bad cursors and limits) get 4xx JSON errors and
//    the server keeps serving; the CSV importer throws kehu::Error on bad bytes.
//
// Every randomised case prints its seed (INFO), and a seed reproduces the run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <typeinfo>

#include "cli_runner.h"
#include "fault_proxy.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/sheet.h"
#include "kehu/sync/http_client.h"
#include "kehu/sync/sync_session.h"
#include "kehu/text.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using kehu::json;
using kehu::Replica;
using kehu::test::FaultOptions;
using kehu::test::FaultProxy;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;

namespace {

std::string server_url(const ServerFixture& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }

// Short timeouts, small pages (so faults land in the middle of a sync), few
// quick retries: a sync through the faulty proxy fails often, and is run again.
kehu::sync::SyncOptions fault_sync_options() {
  kehu::sync::SyncOptions o;
  o.http.connect_timeout_s = 2;
  o.http.timeout_s = 5;
  o.push_page = 7;
  o.pull_page = 11;
  o.max_attempts = 3;
  o.backoff_initial_ms = 5;
  o.backoff_max_ms = 40;
  return o;
}

// Runs sync until one completes. A sync that gives up with a network or server
// error is what a user would run again; any other error fails the test.
// Returns how many syncs failed first.
int sync_until_done(Replica& r, const kehu::sync::SyncOptions& o, int max_tries = 50) {
  for (int i = 0; i < max_tries; ++i) {
    try {
      kehu::sync::sync(r, o);
      return i;
    } catch (const kehu::Error& e) {
      if (e.code() != kehu::Errc::network && e.code() != kehu::Errc::server) {
        FAIL("sync failed with " << kehu::errc_name(e.code()) << ": " << e.what());
      }
    }
  }
  FAIL("no sync completed in " << max_tries << " tries");
  return max_tries;
}

// One device: an encrypted replica logged in at `url` (the proxy or the server).
struct Device {
  std::string path, user;
  std::unique_ptr<Replica> replica;
  Device(const ScratchDir& dir, const std::string& url, const std::string& who, const std::string& file)
      : path(dir.file(file + ".db")), user(who) {
    replica = Replica::create(path, "pass-" + who);
    kehu::sync::login(*replica, url, who, ServerFixture::kPassword, fault_sync_options());
  }
};

std::set<std::string> pending_ids(const Replica& r) {
  std::set<std::string> out;
  for (const auto& lc : r.pending_changes(0, 1000000)) out.insert(lc.change.change_id);
  return out;
}

// The server's state as a fresh admin replica pulls it, checked against the
// change ids the devices made: each is exactly one server revision (nothing
// lost, nothing applied twice, nothing else), each record was created once and
// its revisions are 1..rev, customer codes are unique, the hash chain verifies.
std::map<std::string, json> check_server(ServerFixture& server, const ScratchDir& dir,
                                         const std::set<std::string>& made, const std::string& name) {
  Device fresh(dir, server_url(server), "root", name);
  sync_until_done(*fresh.replica, fault_sync_options(), 3);
  auto truth = kehu::test::snapshot(*fresh.replica);
  const std::string token = server.login("root", "dev-check");
  std::map<std::string, int> seen;
  std::set<std::string> codes;
  for (const auto& [id, rec] : truth) {
    INFO("record " << id << " " << rec.dump());
    auto hist = server.get("/v1/records/" + id + "/history", token);
    REQUIRE(hist.status == 200);
    const json& revs = hist.body["revisions"];
    int creates = 0;
    std::set<std::int64_t> numbers;
    for (const auto& rev : revs) {
      ++seen[rev["change_id"].get<std::string>()];
      creates += rev["op"] == "create";
      numbers.insert(rev["rev"].get<std::int64_t>());
    }
    CHECK(creates == 1);
    CHECK(numbers.size() == revs.size());
    CHECK(static_cast<std::int64_t>(revs.size()) == rec["rev"].get<std::int64_t>());
    if (!rec["parent"].get<std::string>().empty()) continue;  // a follow-up
    CHECK(codes.insert(rec["code"].get<std::string>()).second);
  }
  for (const auto& id : made) {
    INFO("change " << id);
    CHECK(seen[id] == 1);
  }
  CHECK(seen.size() == made.size());
  auto verify = kehu::test::run_server_command({"audit", "verify", "--data", server.data_dir()});
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  return truth;
}

// ---------------------------------------------------------------------------
// Random edits on several replicas, synced through the faulty proxy.

void sync_through_faults(std::uint32_t seed, int ops, int devices, double fault_rate) {
  INFO("seed " << seed << " (this seed reproduces the run)");
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  ServerFixture server;
  ScratchDir dir;
  FaultProxy proxy(server.port(), seed);  // no faults while the devices log in
  const std::vector<std::string> users = {"qian", "sun", "root"};  // writers who see every record
  std::vector<std::unique_ptr<Device>> devs;
  for (int i = 0; i < devices; ++i) {
    devs.push_back(std::make_unique<Device>(dir, proxy.url(), users[i % 3], "dev" + std::to_string(i)));
  }
  const auto opts = fault_sync_options();
  proxy.set_options(FaultOptions::mixed(fault_rate));

  std::set<std::string> made;
  int failed_syncs = 0;
  for (int op = 0; op < ops; ++op) {
    Device& d = *devs[pick(devs.size())];
    auto before = pending_ids(*d.replica);
    if (!kehu::test::random_edit(*d.replica, rng, d.user, op)) {
      failed_syncs += sync_until_done(*d.replica, opts);
      continue;
    }
    for (const auto& id : pending_ids(*d.replica)) {
      if (!before.count(id)) made.insert(id);
    }
  }
  for (auto& d : devs) failed_syncs += sync_until_done(*d->replica, opts);
  const auto stats = proxy.stats();
  INFO(stats.describe() << "; " << failed_syncs << " syncs failed and were run again");

  // Faults off: everyone syncs twice, and nothing may fail now.
  proxy.set_options(FaultOptions::none());
  for (int round = 0; round < 2; ++round) {
    std::vector<std::size_t> order(devs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (auto i : order) {
      auto report = kehu::sync::sync(*devs[i]->replica, opts);
      CHECK(report.rejected == 0);
    }
  }
  CHECK(stats.faults() > 0);  // the run did meet faults

  auto truth = check_server(server, dir, made, "truth");
  for (auto& d : devs) {
    INFO("device " << d->path);
    CHECK(d->replica->status().pending == 0);
    CHECK(d->replica->changes_in_state("rejected").empty());
    CHECK(kehu::test::snapshot(*d->replica) == truth);
  }
}

// ---------------------------------------------------------------------------
// kill -9 of the server while a device pushes.

void kill_server_during_push(std::uint32_t seed, int customers, int kills) {
  INFO("seed " << seed << " (this seed reproduces the run)");
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  ServerFixture server;
  ScratchDir dir;
  auto opts = fault_sync_options();
  opts.max_attempts = 2;
  Device wang(dir, server_url(server), "wang", "wang");
  Replica& rep = *wang.replica;
  kehu::sync::sync(rep, opts);  // the lease of codes

  // A few hundred pending changes: new customers, edits and deletes of them,
  // follow-ups under them.
  rep.batch([&] {
    for (int i = 0; i < customers; ++i) rep.add("customers", kehu::test::new_customer("批量客户" + std::to_string(i)));
    auto list = rep.list(kehu::ListQuery{});
    for (int i = 0; i < customers / 4; ++i) {
      rep.edit(list[pick(list.size())].id, {{"city", "苏州"}, {"stage", i % 2 ? "proposal" : "needs"}});
    }
    for (int i = 0; i < 10; ++i) {
      rep.add("followups", {{"date", "2026-11-20"}, {"person", "wang"}, {"content", "回访 " + std::to_string(i)}},
              list[pick(list.size())].code);
    }
    for (int i = 0; i < 5; ++i) rep.remove(list[static_cast<std::size_t>(i)].id);
  });
  const std::set<std::string> made = pending_ids(rep);
  REQUIRE(made.size() >= static_cast<std::size_t>(customers));

  for (int k = 0; k < kills; ++k) {
    const auto pending = static_cast<std::size_t>(rep.status().pending);
    // Kill once the sync has started pushing the page that reaches `target`.
    const std::size_t target = pending == 0 ? 0 : pick(pending);
    std::mutex mu;
    std::condition_variable cv;
    std::size_t pushing = 0;
    bool finished = false;
    auto o = opts;
    o.progress = [&](const std::string& line) {
      if (line.rfind("pushing ", 0) != 0) return;
      std::lock_guard<std::mutex> lock(mu);
      pushing = std::stoul(line.substr(8));
      cv.notify_all();
    };
    std::thread syncer([&] {
      try {
        kehu::sync::sync(rep, o);
      } catch (const kehu::Error&) {
        // Expected when the kill lands mid-sync; checked below by the outcome.
      }
      std::lock_guard<std::mutex> lock(mu);
      finished = true;
      cv.notify_all();
    });
    {
      std::unique_lock<std::mutex> lock(mu);
      // Hang guard only.
      cv.wait_for(lock, std::chrono::seconds(60), [&] { return finished || pushing >= target; });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pick(25)));
    CHECK(server.stop(SIGKILL) == 128 + SIGKILL);
    syncer.join();
    server.start();  // on a new port: log in again, as a user would
    kehu::sync::login(rep, server_url(server), "wang", ServerFixture::kPassword, opts);
  }
  sync_until_done(rep, opts, 5);
  kehu::sync::sync(rep, opts);
  CHECK(rep.status().pending == 0);
  CHECK(rep.changes_in_state("rejected").empty());

  auto truth = check_server(server, dir, made, "truth");
  CHECK(kehu::test::snapshot(rep) == truth);
  std::size_t customers_seen = 0;
  for (const auto& [id, rec] : truth) customers_seen += rec["parent"].get<std::string>().empty();
  CHECK(customers_seen == static_cast<std::size_t>(customers));
}

}  // namespace

TEST_CASE("faults: an answer cut off anywhere is a network error and never a short answer", "[faults]") {
  // libcurl takes a connection closed in the middle of the headers for a whole
  // answer without a body; the client must not hand that on as HTTP 200.
  ServerFixture server;
  const std::string token = server.login("wang", "dev-cut");
  for (auto [name, options] : {std::pair{"drop_response", FaultOptions{.drop_response = 1}},
                               std::pair{"truncate_body", FaultOptions{.truncate_body = 1}},
                               std::pair{"drop_request", FaultOptions{.drop_request = 1}}}) {
    FaultProxy proxy(server.port(), 99, options);
    kehu::sync::HttpOptions http;
    http.connect_timeout_s = 2;
    http.timeout_s = 5;
    kehu::sync::HttpClient client(proxy.url(), http);
    client.set_token(token);
    for (int i = 0; i < 40; ++i) {
      INFO(name << " #" << i);
      try {
        auto r = client.post("/v1/pull", {{"cursor", "0"}, {"limit", 3}});
        FAIL("a cut answer came back as HTTP " << r.status << " " << r.body.dump());
      } catch (const kehu::Error& e) {
        CHECK(e.code() == kehu::Errc::network);
      }
    }
    CHECK(proxy.stats().faults() == 40);
  }
}

TEST_CASE("faults: syncs converge through dropped or truncated or delayed or failed exchanges (a few seeds)",
          "[faults]") {
  for (std::uint32_t seed : {11u, 12u, 13u}) sync_through_faults(seed, 80, 3, 0.35);
}

TEST_CASE("faults: syncs converge through dropped or truncated or delayed or failed exchanges (many seeds)",
          "[faults][.slow]") {
  for (std::uint32_t seed = 1000; seed < 1030; ++seed) {
    sync_through_faults(seed, 150, 2 + static_cast<int>(seed % 2), seed % 3 == 0 ? 0.5 : 0.3);
  }
}

TEST_CASE("faults: the server killed mid-push loses and duplicates nothing (a few kills)", "[faults][crash]") {
  for (std::uint32_t seed : {21u, 22u, 23u}) kill_server_during_push(seed, 200, 2);
}

TEST_CASE("faults: the server killed mid-push loses and duplicates nothing (many kills)",
          "[faults][crash][.slow]") {
  for (std::uint32_t seed = 2000; seed < 2015; ++seed) kill_server_during_push(seed, 400, 4);
}

// ---------------------------------------------------------------------------
// Hostile input to the server.

namespace {

// A 4xx answer with the protocol's JSON error.
void check_refused(const kehu::test::Reply& r, const std::string& what) {
  INFO(what << " -> HTTP " << r.status << " " << r.body.dump().substr(0, 300));
  CHECK(r.status >= 400);
  CHECK(r.status < 500);
  CHECK(r.body.is_object());
  CHECK((r.body.contains("error") && r.body["error"].is_object() && r.body["error"]["code"].is_string() &&
         r.body["error"]["message"].is_string()));
}

// Any answer but a 5xx or a dropped connection, with a JSON object body (for
// bodies that may well be valid, e.g. a pull with unknown members).
void check_answered(const kehu::test::Reply& r, const std::string& what) {
  INFO(what << " -> HTTP " << r.status << " " << r.body.dump().substr(0, 300));
  CHECK(r.status >= 200);
  CHECK(r.status < 500);
  CHECK(r.body.is_object());
}

// A push of one change: 200 with one result, applied or rejected with an error
// code of the protocol's table (never a 5xx, never a dropped connection).
void check_push_answer(const kehu::test::Reply& r, const std::string& what) {
  INFO(what << " -> HTTP " << r.status << " " << r.body.dump().substr(0, 300));
  REQUIRE(r.status == 200);
  REQUIRE(r.body["results"].is_array());
  REQUIRE(r.body["results"].size() == 1);
  const json& res = r.body["results"][0];
  if (res["status"] == "applied") return;
  CHECK(res["status"] == "rejected");
  static const std::set<std::string> codes = {"protocol", "validation", "not_found", "forbidden"};
  CHECK(codes.count(res["error"]["code"].get<std::string>()) == 1);
}

// The server still answers a normal request.
void check_serving(ServerFixture& server, const std::string& token) {
  auto r = server.post("/v1/pull", {{"cursor", "0"}, {"limit", 5}}, token);
  INFO(r.body.dump().substr(0, 300));
  REQUIRE(r.status == 200);
  CHECK(r.body["revisions"].is_array());
}

// Sends raw bytes on a TCP connection to the server, reads whatever comes back
// (a hang guard of 5 s), closes.
void send_raw(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
  ::close(fd);
}

std::string random_bytes(std::mt19937& rng, std::size_t max_len) {
  std::string s(std::uniform_int_distribution<std::size_t>(0, max_len)(rng), '\0');
  for (auto& c : s) c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
  return s;
}

std::string nested(std::size_t depth, char open = '[', char close = ']', const std::string& inner = "") {
  return std::string(depth, open) + inner + std::string(depth, close);
}

// {"a":{"a":…{}…}}
std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(depth, '}');
  return s;
}

}  // namespace

TEST_CASE("faults: hostile bodies get 4xx JSON errors and the server keeps serving", "[faults][hostile]") {
  const std::uint32_t seed = 4242;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  ServerFixture server;
  const std::string token = server.login("wang", "dev-hostile");
  const std::vector<std::string> endpoints = {"/v1/login", "/v1/push", "/v1/pull", "/v1/leases"};
  const std::string deep = nested(100000);

  SECTION("garbage, truncated and deeply nested bodies") {
    for (const auto& ep : endpoints) {
      for (int i = 0; i < 25; ++i) check_refused(server.post_raw(ep, random_bytes(rng, 2000), token), ep + " garbage");
      if (ep != "/v1/pull") check_refused(server.post_raw(ep, "", token), ep + " empty body");  // pull: from 0
      check_refused(server.post_raw(ep, std::string(100000, '['), token), ep + " 100000 [");
      check_refused(server.post_raw(ep, deep, token), ep + " 100000 nested arrays");
      check_refused(server.post_raw(ep, nested_objects(100000), token), ep + " 100000 nested objects");
      // Nesting a request may have: refused by login, push and leases, ignored by pull.
      check_answered(server.post_raw(ep, nested_objects(60), token), ep + " 60 nested objects");
      check_refused(server.post_raw(ep, "\"just a string\"", token), ep + " a string");
      check_refused(server.post_raw(ep, "[1,2,3]", token), ep + " an array");
      check_refused(server.post_raw(ep, "{\"a\":1}\x01garbage", token), ep + " trailing garbage");
    }
    const std::string push = json{{"device", "dev-h"},
                                  {"changes", json::array({kehu::test::make_change(
                                                  kehu::new_uuid(), kehu::new_uuid(), "create", 0,
                                                  kehu::test::hlc_now(), "dev-h", 1,
                                                  kehu::test::new_customer_fields("截断公司"))})}}
                                 .dump();
    for (int i = 0; i < 40; ++i) {
      const std::size_t cut = std::uniform_int_distribution<std::size_t>(0, push.size() - 1)(rng);
      check_refused(server.post_raw("/v1/push", push.substr(0, cut), token), "push cut at " + std::to_string(cut));
    }
    // Deep nesting inside an otherwise well-formed request. (A field value nested
    // 100000 deep used to overflow a server worker's stack: the whole server died.)
    check_refused(server.post_raw("/v1/push", "{\"changes\":" + deep + "}", token), "changes nested 100000 deep");
    for (const std::string member : {"change_id", "op", "base_rev", "fields"}) {
      std::string change = R"({"change_id":"deep-)" + member + R"(","record_id":"deep-)" + member +
                           R"(","collection":"customers","op":"create","base_rev":0,"hlc":)" +
                           std::to_string(kehu::test::hlc_now()) + R"(,"device":"dev-h","device_seq":1})";
      change.insert(1, "\"" + member + "\":" + deep + ",");  // the first of two: JSON keeps the last
      change.pop_back();
      change += ",\"" + member + "\":" + deep + "}";
      check_refused(server.post_raw("/v1/push", "{\"changes\":[" + change + "]}", token), member + " nested deep");
    }
    for (const std::string key : {"deleted", "name", "tags", "budget", "next_date", "no_such_field"}) {
      for (const std::string side : {"old", "new"}) {
        const std::string other = side == "old" ? "new" : "old";
        const std::string change = R"({"change_id":")" + kehu::new_uuid() + R"(","record_id":")" + kehu::new_uuid() +
                                   R"(","collection":"customers","op":"create","base_rev":0,"hlc":)" +
                                   std::to_string(kehu::test::hlc_now()) +
                                   R"(,"device":"dev-h","device_seq":1,"fields":{")" + key + R"(":{")" + side +
                                   R"(":)" + deep + R"(,")" + other + R"(":null}}})";
        check_refused(server.post_raw("/v1/push", "{\"changes\":[" + change + "]}", token),
                      key + "." + side + " nested 100000 deep");
      }
    }
    check_refused(server.post_raw("/v1/pull", "{\"cursor\":" + deep + "}", token), "cursor nested 100000 deep");
    check_refused(server.post_raw("/v1/login", "{\"user\":" + nested_objects(100000) + ",\"password\":\"x\"}"),
                  "user nested 100000 deep");
    check_serving(server, token);
  }

  SECTION("every member of a push change with the wrong type") {
    const std::vector<json> bad = {42, -1, 1.5, 1e300, "x", "", true, nullptr, json::array(),
                                   json::object(), json::array({1, 2}), json{{"a", 1}},
                                   json::parse(nested(40))};
    const json base = kehu::test::make_change("", "", "create", 0, kehu::test::hlc_now(), "dev-h", 1,
                                              kehu::test::new_customer_fields("类型公司"));
    int seq = 1;
    for (const auto& [member, good] : base.items()) {
      for (const auto& value : bad) {
        json change = base;
        change["change_id"] = kehu::new_uuid();
        change["record_id"] = kehu::new_uuid();
        change["device_seq"] = ++seq;
        change[member] = value;
        check_push_answer(server.post("/v1/push", {{"device", "dev-h"}, {"changes", json::array({change})}}, token),
                          member + " = " + value.dump().substr(0, 40));
      }
    }
    // An integer member that is not an integer is refused, not truncated.
    for (const char* member : {"base_rev", "hlc", "device_seq"}) {
      for (const json& value : {json(1.5), json(1e300), json("7")}) {
        json change = base;
        change["change_id"] = kehu::new_uuid();
        change["record_id"] = kehu::new_uuid();
        change[member] = value;
        auto r = server.post("/v1/push", {{"device", "dev-h"}, {"changes", json::array({change})}}, token);
        check_push_answer(r, std::string(member) + " = " + value.dump());
        CHECK(r.body["results"][0]["status"] == "rejected");
        CHECK(r.body["results"][0]["error"]["code"] == "protocol");
      }
    }
    // Wrong shapes and values inside "fields", unknown ops, unknown fields.
    const std::vector<std::pair<std::string, json>> fields = {
        {"name", 42},
        {"name", json{{"old", nullptr}, {"new", 42}}},
        {"name", json{{"old", nullptr}, {"new", json{{"a", 1}}}}},
        {"name", json{{"old", nullptr}, {"new", json::parse(nested(50))}}},
        {"name", json{{"old", json::parse(nested(50))}, {"new", "旧值很深"}}},
        {"name", json{{"old", nullptr}, {"new", std::string(5u << 20, 'A')}}},
        {"phone", json{{"old", nullptr}, {"new", "not a phone"}}},
        {"tags", json{{"old", nullptr}, {"new", "重点客户"}}},
        {"tags", json{{"old", nullptr}, {"new", json::array({1, json::array()})}}},
        {"tags", json{{"old", nullptr}, {"new", json::parse(nested(50))}}},
        {"deleted", json{{"old", false}, {"new", "yes"}}},
        {"deleted", json{{"old", false}, {"new", json::parse(nested(50))}}},
        {"budget", json{{"old", nullptr}, {"new", 1e300}}},
        {"budget", json{{"old", nullptr}, {"new", -9223372036854775807LL - 1}}},
        {"next_date", json{{"old", nullptr}, {"new", "2026-02-30"}}},
        {"no_such_field", json{{"old", nullptr}, {"new", "x"}}},
        {"", json{{"old", nullptr}, {"new", "x"}}},
    };
    for (const auto& [key, value] : fields) {
      json change = base;
      change["change_id"] = kehu::new_uuid();
      change["record_id"] = kehu::new_uuid();
      change["device_seq"] = ++seq;
      change["fields"][key] = value;
      check_push_answer(server.post("/v1/push", {{"device", "dev-h"}, {"changes", json::array({change})}}, token),
                        "field " + key + " = " + value.dump().substr(0, 40));
    }
    for (const std::string& op : std::vector<std::string>{"explode", "", "CREATE", "update ", std::string("delete\0", 7)}) {
      json change = base;
      change["change_id"] = kehu::new_uuid();
      change["record_id"] = kehu::new_uuid();
      change["op"] = op;
      auto r = server.post("/v1/push", {{"device", "dev-h"}, {"changes", json::array({change})}}, token);
      check_push_answer(r, "op " + op);
      CHECK(r.body["results"][0]["status"] == "rejected");
    }
    // The batch itself malformed.
    for (const json& changes : {json("x"), json(1), json::object(), json(nullptr)}) {
      check_refused(server.post("/v1/push", {{"changes", changes}}, token), "changes = " + changes.dump());
    }
    json many = json::array();
    for (int i = 0; i < 1001; ++i) many.push_back(1);
    check_refused(server.post("/v1/push", {{"changes", many}}, token), "1001 changes");
    check_serving(server, token);
  }

  SECTION("bad cursors, limits, leases, ids and tokens") {
    for (const json& limit : {json(-1), json(0), json(-9223372036854775807LL), json(1.5), json("10"),
                              json(true), json::array(), json::object(), json(1e300)}) {
      check_refused(server.post("/v1/pull", {{"cursor", "0"}, {"limit", limit}}, token), "limit " + limit.dump());
    }
    for (const json& cursor : {json("abc"), json("-1"), json("1e5"), json(" 1"), json("1 "), json("0x10"),
                               json("99999999999999999999999"), json(1.5), json(true), json::array(),
                               json::object(), json(std::string(1 << 20, '9'))}) {
      check_refused(server.post("/v1/pull", {{"cursor", cursor}}, token), "cursor " + cursor.dump().substr(0, 40));
    }
    // A limit beyond the cap is lowered, not refused.
    CHECK(server.post("/v1/pull", {{"cursor", "0"}, {"limit", 9223372036854775807LL}}, token).status == 200);
    for (const json& body : {json{{"month", "202613"}, {"count", 10}}, json{{"month", "abcdef"}, {"count", 10}},
                             json{{"month", "202611"}, {"count", -1}}, json{{"month", "202611"}, {"count", 0}},
                             json{{"month", "202611"}, {"count", 101}}, json{{"month", "202611"}, {"count", "5"}},
                             json{{"month", 202611}, {"count", 5}}, json{{"month", nullptr}}, json::object()}) {
      check_refused(server.post("/v1/leases", body, token), "lease " + body.dump());
    }
    for (const std::string& id : {std::string("no-such-record"), std::string(10000, 'x'), std::string("%00%ff"),
                                  std::string("..%2F..%2Fetc")}) {
      check_refused(server.get("/v1/records/" + id + "/history", token), "history of " + id.substr(0, 40));
    }
    check_refused(server.get("/v1/no/such/endpoint", token), "unknown endpoint");
    check_refused(server.post("/v1/pull", json::object(), "not-a-token"), "bad token");
    check_refused(server.post("/v1/pull", json::object(), std::string(100000, 'f')), "huge token");
    check_refused(server.post("/v1/pull", json::object()), "no token");
    check_refused(server.post("/v1/login", {{"user", std::string(1 << 20, 'u')}, {"password", "x"}}), "huge user");
    check_refused(server.post("/v1/login", {{"user", "wang"}, {"password", 42}}), "password not a string");
    check_serving(server, token);
  }

  SECTION("a body above the limit, and garbage below HTTP") {
    auto r = server.post_raw("/v1/push", std::string(33u << 20, ' '), token);
    INFO("HTTP " << r.status);
    // The server may close the connection as it refuses: then no answer arrives.
    CHECK((r.status == 413 || r.status == 0));
    if (r.status == 413) check_refused(r, "33 MiB body");
    for (int i = 0; i < 10; ++i) send_raw(server.port(), random_bytes(rng, 3000));
    send_raw(server.port(), "POST /v1/push HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"changes\":");
    send_raw(server.port(), "POST /v1/push HTTP/1.1\r\nContent-Length: -5\r\n\r\n{}");
    send_raw(server.port(), "POST /v1/push HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n{}");
    send_raw(server.port(), "POST /v1/push HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n");
    send_raw(server.port(), "GET /v1/pull HTTP/1.1\r\nX: " + std::string(200000, 'a') + "\r\n\r\n");
    send_raw(server.port(), "POST /v1/push HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n0123456789");
    check_serving(server, token);
  }

  // Whatever came before, a normal push still applies and the chain verifies.
  json change = kehu::test::make_change(kehu::new_uuid(), kehu::new_uuid(), "create", 0, kehu::test::hlc_now(),
                                        "dev-ok", 1, kehu::test::new_customer_fields("正常公司"));
  auto ok = server.post("/v1/push", {{"device", "dev-ok"}, {"changes", json::array({change})}}, token);
  REQUIRE(ok.status == 200);
  CHECK(ok.body["results"][0]["status"] == "applied");
  auto verify = kehu::test::run_server_command({"audit", "verify", "--data", server.data_dir()});
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
}

// ---------------------------------------------------------------------------
// Hostile sheets.

namespace {

// Runs `fn`; it may return or throw kehu::Error, nothing else.
template <typename F>
void returns_or_throws_kehu_error(F&& fn, const std::string& what) {
  try {
    fn();
  } catch (const kehu::Error&) {
  } catch (const std::exception& e) {
    FAIL(what << ": threw " << typeid(e).name() << ": " << e.what());
  } catch (...) {
    FAIL(what << ": threw something that is not a std::exception");
  }
}

// Text made of CSV's special characters, Chinese, and random bytes.
std::string csv_noise(std::mt19937& rng, std::size_t max_len) {
  static const std::vector<std::string> atoms = {"\"", "\"\"", ",", "\n", "\r\n", "\r", "客户名称", "联系电话",
                                                 "a", " ", "\xEF\xBB\xBF", "\xE4\xB8", "\xFF", "\x81\x30"};
  std::string s;
  const std::size_t n = std::uniform_int_distribution<std::size_t>(0, max_len)(rng);
  for (std::size_t i = 0; i < n; ++i) {
    if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
      s += static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    } else {
      s += atoms[std::uniform_int_distribution<std::size_t>(0, atoms.size() - 1)(rng)];
    }
  }
  return s;
}

}  // namespace

TEST_CASE("faults: the CSV reader and importer refuse bad bytes with kehu::Error", "[faults][hostile]") {
  const std::uint32_t seed = 777;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  for (int i = 0; i < 3000; ++i) {
    const std::string bytes = i % 2 ? csv_noise(rng, 200) : random_bytes(rng, 400);
    returns_or_throws_kehu_error([&] { kehu::parse_csv(bytes); }, "parse_csv #" + std::to_string(i));
    returns_or_throws_kehu_error([&] { kehu::parse_csv(kehu::decode_sheet_bytes(bytes).utf8); },
                                 "decode + parse #" + std::to_string(i));
  }
  // An unterminated quote is an error naming the line, never a silent row.
  for (const std::string text : {"a,\"b\n", "客户名称,联系电话\n\"明达,13800138000\n", "\"", "x\n\n\"\"\"",
                                 "a,b\r\n\"c\"\"\r\n"}) {
    INFO(text);
    CHECK_THROWS_AS(kehu::parse_csv(text), kehu::Error);
  }
  CHECK_THROWS_AS(kehu::decode_sheet_bytes("\xFF\xFF\xFF\xFF"), kehu::Error);

  ScratchDir dir;
  auto replica = Replica::create(dir.file("import.db"), "pass-import");
  const std::string file = dir.file("sheet.csv");
  auto import = [&](const std::string& bytes, bool dry_run) {
    kehu::test::write_bytes(file, bytes);
    kehu::ImportOptions o;
    o.dry_run = dry_run;
    return kehu::import_csv(*replica, file, o);
  };
  for (int i = 0; i < 200; ++i) {
    const std::string bytes = i % 2 ? "客户名称,联系电话,备注\n" + csv_noise(rng, 300) : random_bytes(rng, 2000);
    returns_or_throws_kehu_error([&] { import(bytes, i % 4 < 2); }, "import #" + std::to_string(i));
  }
  const std::vector<std::string> malformed = {
      "客户名称,联系电话\n\"明达医疗,13800138000\n",           // quote never closed
      "客户名称,联系电话\n明达医疗,13800138000\n\"东方,\"\"x\n",  // closed by an escaped quote
      "\"客户名称,联系电话\n明达医疗,13800138000\n",           // in the header
      std::string("\xFF\xFE\xFF\xFF\x00\x00", 6),               // neither UTF-8 nor GB18030
      "",                                                       // no header
      "\xEF\xBB\xBF",                                           // only a BOM
      "foo,bar\n1,2\n",                                         // no column maps to a field
  };
  const auto customers_before = replica->status().customers;
  for (const auto& bytes : malformed) {
    INFO("sheet: " << bytes);
    CHECK_THROWS_AS(import(bytes, false), kehu::Error);
  }
  CHECK(replica->status().customers == customers_before);  // nothing half-written
}

TEST_CASE("faults: a server that stays busy is waited for as it asks and named in the user's words",
          "[faults]") {
  ServerFixture server;
  ScratchDir dir;
  FaultOptions busy;
  busy.error_before = 1;
  busy.busy = true;  // every request: 429 with Retry-After: 1
  FaultProxy proxy(server.port(), 7, busy);
  auto rep = Replica::create(dir.file("w.db"), "pass-wang");
  kehu::sync::login(*rep, server_url(server), "wang", ServerFixture::kPassword, fault_sync_options());
  rep->set_meta("server", proxy.url());
  rep->add("customers", kehu::test::new_customer("忙碌服务器客户"));
  auto opts = fault_sync_options();  // 3 attempts, backoff 5..40 ms
  const auto start = std::chrono::steady_clock::now();
  try {
    kehu::sync::sync(*rep, opts);
    FAIL("a sync through a server answering 429 to everything succeeded");
  } catch (const kehu::Error& e) {
    CHECK(e.code() == kehu::Errc::server);
    CHECK_THAT(e.what(), Catch::Contains("failed after 3 attempts") && Catch::Contains("run `kehu sync` again") &&
                             !Catch::Contains("/v1/"));
  }
  // Two waits of the server's Retry-After (1 s each), not the client's 5..40 ms.
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(1900));
  CHECK(rep->status().pending == 1);  // nothing lost
  // An online command is told to run itself again, not `kehu sync`.
  try {
    kehu::sync::request(*rep, opts, "/v1/customers/C202612001/claim", kehu::json::object(), "claim C202612001");
    FAIL("a claim through a busy server succeeded");
  } catch (const kehu::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("claim C202612001 failed after 3 attempts") &&
                             Catch::Contains("run the same command again later") && !Catch::Contains("kehu sync"));
  }
}

TEST_CASE("faults: a push page stays under 512 KiB of JSON however long the notes", "[faults]") {
  // A5-3: a 500-change page of long notes was a 1.6 MB body, cut at every sync
  // on an uplink slower than the server's large-body rate.
  ServerFixture server;
  ScratchDir dir;
  std::uint64_t requests[2] = {0, 0};
  for (int big = 0; big < 2; ++big) {
    FaultProxy proxy(server.port(), 11, FaultOptions::none());
    Device d(dir, proxy.url(), "wang", big ? "long-notes" : "short-notes");
    auto opts = fault_sync_options();
    opts.push_page = 500;
    opts.pull_page = 500;
    kehu::sync::sync(*d.replica, opts);  // the lease of codes
    const std::string note = big ? std::string(1900, 'x') : std::string("短");  // 2000 bytes at most
    d.replica->batch([&] {
      for (int i = 0; i < 400; ++i) {
        auto c = kehu::test::new_customer((big ? "长备注客户" : "短备注客户") + std::to_string(i));
        c.push_back({"notes", note});
        d.replica->add("customers", c);
      }
    });
    const std::uint64_t before = proxy.stats().connections;
    kehu::sync::sync(*d.replica, opts);
    CHECK(d.replica->status().pending == 0);
    requests[big] = proxy.stats().connections - before;
  }
  INFO("short notes: " << requests[0] << " requests, long notes: " << requests[1]);
  // 400 changes of ~2.2 KB are ~0.9 MB: two pages where the short notes take one.
  CHECK(requests[1] >= requests[0] + 1);
}

TEST_CASE("faults: a link that breaks large answers still syncs: pull pages get smaller after a break",
          "[faults]") {
  // A6-3: a device whose downloads break past some size (the server resets a
  // reader slower than 16 KiB/s) asked for the same page again and again and
  // never synced. After a break the client now asks for smaller pages
  // ("max_bytes"), down to 64 KiB.
  ServerFixture server;
  ScratchDir dir;
  Device wang(dir, server_url(server), "wang", "wang");
  kehu::sync::sync(*wang.replica, fault_sync_options());  // the lease of codes
  const auto customer = wang.replica->add("customers", kehu::test::new_customer("慢速链路客户"));
  // Text that does not compress (answers are gzipped): letters from an LCG.
  std::uint32_t lcg = 12345;
  auto noise = [&](std::size_t n) {
    std::string s;
    for (std::size_t k = 0; k < n; ++k) s += static_cast<char>('a' + ((lcg = lcg * 1103515245u + 12345u) >> 16) % 26);
    return s;
  };
  wang.replica->batch([&] {
    for (int i = 0; i < 300; ++i) {
      wang.replica->add("followups",
                        {{"date", "2026-11-20"}, {"person", "wang"},
                         {"content", "回访 " + std::to_string(i) + " " + noise(1500)}},
                        customer.code);
    }
  });
  kehu::sync::sync(*wang.replica, fault_sync_options());
  FaultOptions slow;
  slow.max_answer_bytes = 200 * 1024;  // every answer longer than this breaks
  FaultProxy proxy(server.port(), 11, slow);
  Device root(dir, server_url(server), "root", "root");
  root.replica->set_meta("server", proxy.url());
  auto opts = fault_sync_options();
  opts.pull_page = 500;  // pages by bytes, as kehu's default does
  opts.max_attempts = 6;
  kehu::sync::sync(*root.replica, opts);
  INFO(proxy.stats().describe());
  CHECK(proxy.stats().truncated >= 1);  // the link did break
  kehu::ListQuery followups;
  followups.collection = "followups";
  CHECK(root.replica->list(followups).size() == 300);
}
