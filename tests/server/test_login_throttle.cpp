// Unit tests of the server's login throttle (server-stub/accounts/login_throttle.h) with a
// fake clock; test_accounts.cpp drives it through the real server.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "login_throttle.h"  // the server's own code (server-stub/accounts/)
#include "kehu/lang.h"

using kehu::server::LoginThrottle;
using kehu::server::ThrottleLimits;

namespace {

constexpr std::int64_t kStart = 1790000000;  // 2026-09-21, any fixed time will do

struct Fixture {
  std::int64_t now = kStart;
  std::vector<std::string> log;
  LoginThrottle throttle;

  explicit Fixture(ThrottleLimits limits)
      : throttle(
            limits, [this] { return now; },
            [this](const std::string& line) { log.push_back(line); }) {}

  void fail(const std::string& user, const std::string& address, int times = 1) {
    for (int i = 0; i < times; ++i) throttle.record_failure(user, address);
  }
};

ThrottleLimits small_limits() {
  ThrottleLimits l;
  l.max_user_failures = 3;
  l.max_address_failures = 5;
  l.window_seconds = 600;
  l.lock_seconds = 60;
  l.max_lock_seconds = 200;
  l.max_entries = 1000;
  return l;
}

int count_containing(const std::vector<std::string>& lines, const std::string& text) {
  int n = 0;
  for (const auto& l : lines) n += l.find(text) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("throttle: a user is locked after too many failures, until the lock ends", "[throttle]") {
  Fixture f(small_limits());
  f.fail("wang", "10.0.0.1", 2);
  CHECK_FALSE(f.throttle.locked("wang", "10.0.0.1"));
  f.fail("wang", "10.0.0.1");
  auto lock = f.throttle.locked("wang", "10.0.0.2");  // a name lock holds from any address
  REQUIRE(lock);
  CHECK_FALSE(lock->by_address);
  CHECK(lock->subject == "wang");
  CHECK(lock->until == kStart + 60);
  CHECK(lock->retry_after == 60);
  CHECK(lock->message().find("too many failed logins for \"wang\"") != std::string::npos);
  CHECK(lock->message().find("try again in 1 min") != std::string::npos);
  {
    kehu::MessageLangScope zh(kehu::Lang::zh);
    CHECK(lock->message() == "用户“wang”登录失败次数过多；请在 1 分钟后再试");
  }
  CHECK_FALSE(f.throttle.locked("li", "10.0.0.2"));  // other names are not affected

  f.now = kStart + 59;
  REQUIRE(f.throttle.locked("wang", ""));
  CHECK(f.throttle.locked("wang", "")->retry_after == 1);
  f.now = kStart + 60;
  CHECK_FALSE(f.throttle.locked("wang", ""));

  // Every failure is one log line naming user, address and count; the lock one more.
  CHECK(count_containing(f.log, "login failed: user=wang address=10.0.0.1") == 3);
  CHECK(count_containing(f.log, "failures=3 (user)") == 1);
  REQUIRE(count_containing(f.log, "login locked: user=wang") == 1);
  CHECK(count_containing(f.log, "locked=user failures=3 lock=1 for=60s") == 1);
}

TEST_CASE("throttle: each next lock of a name lasts twice as long, up to the cap", "[throttle]") {
  Fixture f(small_limits());
  std::vector<std::int64_t> locks;
  for (int round = 0; round < 4; ++round) {
    f.fail("wang", "", 3);
    auto lock = f.throttle.locked("wang", "");
    REQUIRE(lock);
    locks.push_back(lock->retry_after);
    f.now = lock->until;  // waits the lock out, then guesses again
  }
  CHECK(locks == std::vector<std::int64_t>{60, 120, 200, 200});
}

TEST_CASE("throttle: failures older than the window do not count", "[throttle]") {
  Fixture f(small_limits());
  f.fail("wang", "", 2);
  f.now += 601;
  f.fail("wang", "", 2);
  CHECK_FALSE(f.throttle.locked("wang", ""));
  f.fail("wang", "");
  CHECK(f.throttle.locked("wang", ""));
}

TEST_CASE("throttle: a success forgets the user's failures and its lock growth", "[throttle]") {
  Fixture f(small_limits());
  f.fail("wang", "", 3);
  f.now += 60;
  f.fail("wang", "", 2);
  f.throttle.record_success("wang");
  f.fail("wang", "", 2);
  CHECK_FALSE(f.throttle.locked("wang", ""));
  f.fail("wang", "");
  REQUIRE(f.throttle.locked("wang", ""));
  CHECK(f.throttle.locked("wang", "")->retry_after == 60);  // a first lock again, not a second
}

TEST_CASE("throttle: one address guessing many names is locked, and a success does not free it",
          "[throttle]") {
  Fixture f(small_limits());
  for (const char* user : {"a", "b", "c", "d"}) f.fail(user, "10.0.0.9");
  f.throttle.record_success("e");  // a valid login from the same address
  CHECK_FALSE(f.throttle.locked("zhao", "10.0.0.9"));
  f.fail("f", "10.0.0.9");
  auto lock = f.throttle.locked("zhao", "10.0.0.9");
  REQUIRE(lock);
  CHECK(lock->by_address);
  CHECK(lock->subject == "10.0.0.9");
  CHECK(lock->message().find("from 10.0.0.9") != std::string::npos);
  CHECK_FALSE(f.throttle.locked("zhao", "10.0.0.10"));  // other addresses may still try
  CHECK(count_containing(f.log, "locked=address failures=5") == 1);
}

TEST_CASE("throttle: the table stays bounded and old entries are pruned", "[throttle]") {
  ThrottleLimits limits = small_limits();
  limits.max_entries = 50;
  Fixture f(limits);
  for (int i = 0; i < 500; ++i) {
    f.fail("user" + std::to_string(i),
           "10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200));
    REQUIRE(f.throttle.size() <= 50);
  }
  // Entries idle longer than the window and the longest lock go at the next prune.
  f.now += 1000;
  f.fail("late", "");
  CHECK(f.throttle.size() == 1);
}

TEST_CASE("throttle: a flood of made-up names does not evict a real account's failures", "[throttle]") {
  // A14-10: two guesses at wang, then made-up names from many addresses filled
  // the table; wang's entry, idle the longest, went first, and the guesser had
  // three fresh tries again.
  ThrottleLimits limits = small_limits();
  limits.max_entries = 50;
  Fixture f(limits);
  f.throttle.record_failure("wang", "10.9.0.1", /*account=*/true);
  f.throttle.record_failure("wang", "10.9.0.2", /*account=*/true);
  for (int i = 0; i < 500; ++i) {
    f.now += 1;
    f.fail("nobody" + std::to_string(i), "10.2." + std::to_string(i / 200) + "." + std::to_string(i % 200));
    REQUIRE(f.throttle.size() <= 50);
  }
  CHECK_FALSE(f.throttle.locked("wang", "10.9.0.3"));
  f.throttle.record_failure("wang", "10.9.0.3", /*account=*/true);  // the third in the window: locked
  CHECK(f.throttle.locked("wang", "10.9.0.4"));
}

TEST_CASE("throttle: names are logged without control characters", "[throttle]") {
  Fixture f(small_limits());
  f.fail("evil\nlogin failed: user=root", "10.0.0.1");
  // Bidi overrides and line separators neither (attacker review 19, A19-3):
  // "\u202enimda\u202c" read as "admin" in a bidi-aware viewer.
  f.fail("\u202enimda\u202c", "10.0.0.2");
  f.fail("x\u2028 login locked: user=admin", "10.0.0.3");
  REQUIRE(f.log.size() == 3);
  for (const std::string& line : f.log) {
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find("\u202e") == std::string::npos);
    CHECK(line.find("\u2028") == std::string::npos);
  }
  CHECK(f.log[0].find("user=evil\\x0alogin\\x20failed:\\x20user=root") != std::string::npos);
  CHECK(f.log[1].find("user=<U+202E>nimda<U+202C>") != std::string::npos);
  CHECK(f.log[2].find("user=x<U+2028>\\x20login") != std::string::npos);
}

TEST_CASE("throttle: an IPv6 client's failures count per /64", "[throttle]") {
  // A15-7: a host holds 2^64 addresses of its /64; per address, it had as many
  // tries as it liked.
  Fixture f(small_limits());  // 5 failures per address
  for (int i = 1; i <= 5; ++i) f.fail("name" + std::to_string(i), "2001:db8:1:2::" + std::to_string(i));
  auto lock = f.throttle.locked("someone", "2001:db8:1:2:ffff::9");
  REQUIRE(lock);
  CHECK(lock->by_address);
  CHECK_FALSE(f.throttle.locked("someone", "2001:db8:1:3::1"));  // the next /64
  CHECK_FALSE(f.throttle.locked("someone", "10.0.0.1"));
}
