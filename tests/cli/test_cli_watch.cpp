// kehu sync --watch (issue 16): continuous sync in the foreground. The team's
// edits arrive with no sync typed, an edit made here goes at once, a server
// that goes away and comes back is found again, and SIGTERM stops it cleanly.
//
// "Arrives" is polled for up to 15 s: the watch learns of it through a waiting
// pull at once, so the margin is for a loaded machine, not the design.
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include <csignal>

#include "replica_cli.h"
#include "server_fixture.h"

using kehu::test::CliResult;
using kehu::test::ReplicaCli;
using kehu::test::ServerFixture;

namespace {

// Polls `ready` every 200 ms for up to `seconds`.
bool eventually(const std::function<bool()>& ready, int seconds = 15) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return ready();
}

bool lists(const ReplicaCli& r, const std::string& text) {
  const CliResult l = r.run({"customer", "list"});
  return l.exit_code == 0 && l.out.find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("cli watch: the team's edits arrive and this device's go, with no sync typed", "[cli][watch]") {
  ServerFixture s;
  ReplicaCli wang, root;
  wang.log_in(s, "wang");
  root.log_in(s, "root");
  const std::string code = wang.add_synced_customer("观察者测试公司");
  auto watching = std::async(std::launch::async, [&] { return wang.run_for(25, {"sync", "--watch"}); });

  // The team's edit reaches it through the waiting pull.
  root.ok({"sync"});
  root.ok({"customer", "edit", code, "--set", "need=核磁共振"});
  root.ok({"sync"});
  CHECK(eventually([&] { return wang.run({"customer", "show", code}).out.find("核磁共振") != std::string::npos; }));
  // A one-shot sync on the same replica takes turns with the watch: it is not
  // held up for the watch's 25 s wait.
  const auto before = std::chrono::steady_clock::now();
  wang.ok({"sync"});
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(15));
  // An edit made here (another kehu process) ends the wait and is pushed.
  wang.ok({"customer", "edit", code, "--set", "contact=李四"});
  CHECK(eventually([&] {
    root.ok({"sync"});
    return root.run({"customer", "show", code}).out.find("李四") != std::string::npos;
  }));
  CHECK(kehu::json::parse(wang.ok({"status", "--json"}).out)["pending"] == 0);
  // `kehu passwd` on this device replaces the token the watch holds: it goes
  // on with the new one (walkthrough 16, W16-5).
  wang.ok({"passwd"}, {{"KEHU_NEW_PASSWORD", "another horse 43"}});
  root.ok({"customer", "edit", code, "--set", "need=超声"});
  root.ok({"sync"});
  CHECK(eventually([&] { return wang.run({"customer", "show", code}).out.find("超声") != std::string::npos; }));

  const CliResult w = watching.get();
  INFO(w.describe());
  CHECK(w.exit_code == 0);  // SIGTERM: stopped cleanly
  CHECK_THAT(w.out, Catch::Contains("syncing continuously with"));
  CHECK_THAT(w.out, Catch::Contains("received"));
  CHECK_THAT(w.out, Catch::Contains("sent 1 change"));
  CHECK_THAT(w.out, Catch::EndsWith("stopped\n"));
}

TEST_CASE("cli watch: offline it retries with backoff, and finds the server again", "[cli][watch]") {
  ServerFixture s;
  ReplicaCli wang, root;
  wang.log_in(s, "wang");
  root.log_in(s, "root");
  const int port = s.port();
  s.stop();
  auto watching = std::async(std::launch::async, [&] {
    return wang.run_for(30, {"sync", "--watch", "--json"}, {{"KEHU_LANG", "zh"}});
  });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  s.start(port);
  const std::string code = root.add_synced_customer("重新连上公司");
  CHECK(eventually([&] { return lists(wang, "重新连上公司"); }, 20));
  const CliResult w = watching.get();
  INFO(w.describe());
  CHECK(w.exit_code == 0);
  // One JSON object a line: offline with the error and the delay, then synced.
  CHECK_THAT(w.out, Catch::Contains(R"("state":"offline")"));
  // Times in ISO-8601 UTC, as every --json time (W16-3).
  const auto at = w.out.find(R"("at":")");
  REQUIRE(at != std::string::npos);
  const std::string stamp = w.out.substr(at + 6, 20);  // 2026-12-07T23:57:59Z
  CHECK(stamp.substr(0, 2) == "20");
  CHECK(stamp[10] == 'T');
  CHECK(stamp[19] == 'Z');
  CHECK_THAT(w.out, Catch::Contains(R"("retry_in_ms")"));
  CHECK_THAT(w.out, Catch::Contains(R"("state":"synced")"));
  CHECK_THAT(w.out, Catch::Contains("离线"));
  (void)code;
}

TEST_CASE("cli watch: a refused token stops it with the reason and exit 1", "[cli][watch]") {
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  auto off = kehu::test::run_server_command({"user", "disable", "wang", "--data", s.data_dir()});
  INFO(off.output);
  REQUIRE(off.exit_code == 0);
  const CliResult w = wang.run_for(20, {"sync", "--watch"});
  INFO(w.describe());
  CHECK(w.exit_code == 1);
  CHECK_THAT(w.out, Catch::Contains("stopped:"));
  CHECK_THAT(w.err, Catch::Contains("disabled"));
  // Not logged in: said as any command says it, with no status line (W16-4).
  ReplicaCli fresh;
  const CliResult none = fresh.run_for(20, {"sync", "--watch"});
  CHECK(none.exit_code == 1);
  CHECK(none.out.empty());
  CHECK_THAT(none.err, Catch::Contains("not logged in"));
}

TEST_CASE("cli watch: a server that stops answering does not hold it: SIGTERM still stops it at once",
          "[cli][watch]") {
  // Walkthrough 16, W16-8: with the server frozen (SIGSTOP: connections are
  // accepted, never answered) a local edit's push hung, and SIGTERM waited
  // minutes for it.
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  const std::string code = wang.add_synced_customer("冻结测试公司");
  const auto start = std::chrono::steady_clock::now();
  auto watching = std::async(std::launch::async, [&] { return wang.run_for(8, {"sync", "--watch"}); });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  REQUIRE(::kill(s.pid(), SIGSTOP) == 0);
  wang.ok({"customer", "edit", code, "--set", "contact=冻结时改的"});
  const CliResult w = watching.get();
  const auto took = std::chrono::steady_clock::now() - start;
  ::kill(s.pid(), SIGCONT);
  INFO(w.describe());
  CHECK(w.exit_code == 0);
  CHECK(took < std::chrono::seconds(14));  // SIGTERM at 8 s; not the request's 45 s or 120 s
  CHECK_THAT(w.out, Catch::EndsWith("stopped\n"));
  CHECK(kehu::json::parse(wang.ok({"status", "--json"}).out)["pending"] == 1);  // kept, to go later
}

TEST_CASE("cli watch: told the server holds enough waiting devices, it polls as asked", "[cli][watch]") {
  // Walkthrough 16, W16-9: it asked again at once, about 1,300 times a second.
  kehu::test::ServeOptions o;
  o.env["KEHU_HTTP_MAX_WAITING_PULLS"] = "1";
  ServerFixture s(o);
  const std::string li = s.login("li");
  auto holder = std::async(std::launch::async, [&] {
    return s.post("/v1/pull", {{"cursor", "0"}, {"limit", 1}}, li).body.value("next_cursor", "0");
  }).get();
  auto holding = std::async(std::launch::async, [&] {
    return s.post("/v1/pull", {{"cursor", holder}, {"wait", 15}}, li).status;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ReplicaCli wang;
  wang.log_in(s, "wang");
  const CliResult w = wang.run_for(6, {"sync", "--watch", "--json"});
  INFO(w.describe());
  CHECK(w.exit_code == 0);
  CHECK_THAT(w.out, Catch::Contains(R"("state":"polling")"));
  std::size_t pulls = 0;
  const std::string log = s.log();
  for (std::size_t at = log.find("POST /v1/pull"); at != std::string::npos; at = log.find("POST /v1/pull", at + 1)) {
    const std::size_t end = log.find('\n', at);
    if (log.substr(at, end - at).find("user=wang") != std::string::npos) ++pulls;
  }
  CHECK(pulls < 10);  // a few rounds in 6 s, not thousands
  CHECK(holding.get() == 200);
}
