// Accounts end to end through the real server and the real `kehu` binary:
// `kehu passwd` (POST /v1/passwd), `kehu logout` revoking its token (POST
// /v1/logout), disabled users and expired tokens, and login throttling (429).
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "cli_runner.h"
#include "replica_cli.h"
#include "server_fixture.h"

using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::json;
using kehu::test::ReplicaCli;
using kehu::test::Reply;
using kehu::test::run_server_command;
using kehu::test::ServeOptions;
using kehu::test::ServerFixture;

namespace {

constexpr const char* kNewPassword = "a much newer secret";

Reply login(ServerFixture& s, const std::string& user, const std::string& password,
            const std::string& device = "dev-test") {
  return s.post("/v1/login", {{"user", user}, {"password", password}, {"device", device}});
}

Reply pull(ServerFixture& s, const std::string& token) {
  return s.post("/v1/pull", json::object(), token);
}

std::string error_message(const Reply& r) {
  return r.body.is_object() ? r.body["error"].value("message", "") : std::string();
}

void require_error(const Reply& r, int status, const std::string& code) {
  INFO(r.body.dump());
  REQUIRE(r.status == status);
  CHECK(r.body["error"]["code"] == code);
}

}  // namespace

TEST_CASE("account: a replica is one user's - another user's login is refused, before and after logout",
          "[account][security]") {
  ServerFixture s;
  ReplicaCli r;
  r.log_in(s, "li");
  r.ok({"sync"});
  // What li typed must never be pushed under wang's name.
  r.ok({"customer", "add", "--set", "name=李四的客户", "--set", "contact=张三", "--set", "phone=13800138111", "--set",
        "need=CT", "--set", "province=江苏"});
  for (bool logged_out : {false, true}) {
    if (logged_out) r.ok({"logout"});
    CliResult other = r.run({"login", "--server", s.base_url(), "--user", "wang"});
    INFO(other.describe());
    CHECK(other.exit_code == 2);
    CHECK_THAT(other.err, Contains("this replica holds li's customers and edits") && Contains("kehu --db"));
  }
  CHECK(r.meta("user").empty());  // logged out, and nobody else logged in
  r.log_in(s, "li");
  CliResult synced = r.run({"--json", "sync"});
  INFO(synced.describe());
  REQUIRE(synced.exit_code == 0);
  Reply pulled = s.post("/v1/pull", {{"cursor", "0"}, {"limit", 5000}}, s.login("root"));
  for (const auto& rev : pulled.body["revisions"]) CHECK(rev["author"] != "wang");
}

TEST_CASE("account: passwd changes the password and signs out every other device", "[account]") {
  ServerFixture s;
  const std::string other_device = s.login("wang", "dev-other");
  ReplicaCli r;
  r.log_in(s, "wang");
  const std::string old_token = r.meta("token");

  SECTION("a wrong current password changes nothing") {
    CliResult bad = r.run(
        {"passwd"}, {{"KEHU_PASSWORD", "not the password"}, {"KEHU_NEW_PASSWORD", kNewPassword}});
    INFO(bad.describe());
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.err, Contains("current password is wrong") && !Contains("edits on this device are kept"));
    CHECK(pull(s, other_device).status == 200);
    CHECK(login(s, "wang", ServerFixture::kPassword).status == 200);
  }
  SECTION("a new password below the server's minimum is a validation error") {
    CliResult bad = r.run({"passwd"}, {{"KEHU_NEW_PASSWORD", "short"}});
    INFO(bad.describe());
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Contains("at least 8"));
    CHECK(pull(s, other_device).status == 200);
  }
  SECTION("a good change") {
    CliResult ok = r.ok({"passwd"}, {{"KEHU_NEW_PASSWORD", kNewPassword}});
    CHECK_THAT(ok.out, Contains("changed the password of wang"));

    // This device got a fresh token and goes on syncing; every other token is gone.
    CHECK(r.meta("token") != old_token);
    r.ok({"sync"});
    Reply other = pull(s, other_device);
    require_error(other, 401, "unauthorized");
    CHECK_THAT(error_message(other), Contains("log in again"));
    require_error(pull(s, old_token), 401, "unauthorized");

    require_error(login(s, "wang", ServerFixture::kPassword), 401, "unauthorized");
    CHECK(login(s, "wang", kNewPassword).status == 200);
  }
}

TEST_CASE("account: logout revokes the token on the server", "[account]") {
  ServerFixture s;
  ReplicaCli r;
  r.log_in(s, "wang");
  const std::string token = r.meta("token");
  REQUIRE(pull(s, token).status == 200);

  CliResult out = r.ok({"logout"});
  CHECK_THAT(out.out, Contains("logged out"));
  CHECK(out.err.empty());
  CHECK(r.meta("token").empty());
  Reply after = pull(s, token);
  require_error(after, 401, "unauthorized");
  CHECK_THAT(error_message(after), Contains("log in again"));

  // Idempotent: the same token again is answered 200, revoking nothing.
  Reply again = s.post("/v1/logout", json::object(), token);
  REQUIRE(again.status == 200);
  CHECK(again.body["revoked"] == false);
  // But it needs a token to name.
  require_error(s.post("/v1/logout", json::object()), 401, "unauthorized");

  CliResult sync = r.run({"sync"});
  INFO(sync.describe());
  CHECK(sync.exit_code == 1);
  CHECK_THAT(sync.err, Contains("not logged in"));
}

TEST_CASE("account: logout with the server unreachable forgets the token and says so",
          "[account]") {
  ServerFixture s;
  ReplicaCli r;
  r.log_in(s, "wang");
  s.stop();
  CliResult out = r.ok({"logout"});
  CHECK_THAT(out.out, Contains("logged out"));
  CHECK_THAT(out.err, Contains("note:") && Contains("could not revoke the token") &&
                          Contains("expires on the server"));
  CHECK(r.meta("token").empty());
  CHECK_FALSE(r.meta("server").empty());  // kept, for the next login
}

TEST_CASE("account: a disabled user's token is refused at once and ended when the user is enabled again", "[account][security]") {
  ServerFixture s;
  ReplicaCli r;
  r.log_in(s, "li");
  const std::string token = r.meta("token");
  auto off = run_server_command({"user", "disable", "li", "--data", s.data_dir()});
  INFO(off.output);
  REQUIRE(off.exit_code == 0);
  require_error(pull(s, token), 403, "forbidden");
  CliResult sync = r.run({"sync"});
  INFO(sync.describe());
  CHECK(sync.exit_code == 1);
  CHECK_THAT(sync.err, Contains("user \"li\" is disabled"));
  // The user was disabled because the device was lost: enabling brings the
  // user back, not the lost device's session.
  auto on = run_server_command({"user", "enable", "li", "--data", s.data_dir()});
  INFO(on.output);
  REQUIRE(on.exit_code == 0);
  CHECK_THAT(on.output, Contains("sessions from before it was disabled are ended"));
  require_error(pull(s, token), 401, "unauthorized");
  r.log_in(s, "li");
  CHECK(pull(s, r.meta("token")).status == 200);
  // Enabling a user who was not disabled ends nothing.
  auto again = run_server_command({"user", "enable", "li", "--data", s.data_dir()});
  CHECK_THAT(again.output, !Contains("ended"));
  CHECK(pull(s, r.meta("token")).status == 200);
}

TEST_CASE("account: a disabled user's login answers as a wrong password, right password or not",
          "[account][security]") {
  ServerFixture s;
  auto off = run_server_command({"user", "disable", "li", "--data", s.data_dir()});
  INFO(off.output);
  REQUIRE(off.exit_code == 0);
  Reply right = login(s, "li", ServerFixture::kPassword, "dev-1");
  Reply wrong = login(s, "li", "not her password", "dev-1");
  Reply nobody = login(s, "no-such-user", "whatever", "dev-1");
  INFO(right.body.dump());
  CHECK(right.status == 401);
  CHECK(right.status == wrong.status);
  CHECK(right.body == wrong.body);
  CHECK(right.body == nobody.body);
  CHECK_THAT(error_message(right), Contains("or the account is disabled"));
  // Enabled again, the same password logs in.
  auto on = run_server_command({"user", "enable", "li", "--data", s.data_dir()});
  REQUIRE(on.exit_code == 0);
  CHECK(login(s, "li", ServerFixture::kPassword, "dev-1").status == 200);
}

TEST_CASE("account: an expired token is refused with a message to log in again", "[account]") {
  ServerFixture s(ServeOptions{{}, {{"KEHU_TOKEN_TTL_SECONDS", "1"}}});
  ReplicaCli r;
  r.log_in(s, "wang");
  const std::string token = r.meta("token");
  std::this_thread::sleep_for(
      std::chrono::milliseconds(2200));  // past the 1 s lifetime, whole seconds

  Reply expired = pull(s, token);
  require_error(expired, 401, "unauthorized");
  CHECK_THAT(error_message(expired), Contains("expired") && Contains("log in again"));
  CliResult sync = r.run({"sync"});
  INFO(sync.describe());
  CHECK(sync.exit_code == 1);
  CHECK_THAT(sync.err, Contains("no longer logged in") && Contains("expired") && Contains("kehu login"));
  CHECK_THAT(s.log(), Contains("token_ttl_seconds=1"));

  r.log_in(s, "wang");  // and logging in again works
}

// The lock here lasts 10 minutes, so nothing in this test can outlive it on a
// slow machine; "a lock ends by itself" below uses a short one and only waits.
TEST_CASE("throttle: failed logins lock the user, whatever the password", "[throttle][account]") {
  ServerFixture s(
      ServeOptions{{}, {{"KEHU_LOGIN_MAX_FAILURES", "3"}, {"KEHU_LOGIN_LOCK_SECONDS", "600"}}});
  for (int i = 0; i < 3; ++i)
    require_error(login(s, "wang", "wrong password " + std::to_string(i)), 401, "unauthorized");

  // Locked: the right password is refused too, with when to retry.
  auto res = s.client().Post("/v1/login",
                             json{{"user", "wang"}, {"password", ServerFixture::kPassword}}.dump(),
                             "application/json");
  REQUIRE(res);
  CHECK(res->status == 429);
  CHECK_FALSE(res->get_header_value("Retry-After").empty());
  json body = json::parse(res->body);
  CHECK(body["error"]["code"] == "throttled");
  CHECK_THAT(body["error"]["message"].get<std::string>(),
             Contains("too many failed logins for \"wang\"") && Contains("try again in") &&
                 Contains(" min ("));

  // The client shows the server's message.
  ReplicaCli r;
  CliResult cli = r.run({"login", "--server", s.base_url(), "--user", "wang"});
  INFO(cli.describe());
  CHECK(cli.exit_code == 1);
  CHECK_THAT(cli.err, Contains("too many failed logins") && Contains("try again in") &&
                          !Contains("(throttled)"));  // the error kind is for programs
  CHECK(r.meta("token").empty());

  // Each failure and the lock are logged with user, address and count.
  const std::string log = s.log();
  CHECK_THAT(log, Contains("login failed: user=wang address=127.0.0.1 failures=3 (user)"));
  CHECK_THAT(log, Contains("login locked: user=wang address=127.0.0.1 locked=user failures=3"));

  // Only that name is locked; the address has more room (20 by default).
  const Reply li = login(s, "li", ServerFixture::kPassword);
  REQUIRE(li.status == 200);

  // A success resets the name's count: two wrong, right, two wrong is no lock.
  for (int i = 0; i < 2; ++i) require_error(login(s, "zhao", "wrong"), 401, "unauthorized");
  REQUIRE(login(s, "zhao", ServerFixture::kPassword).status == 200);
  for (int i = 0; i < 2; ++i) require_error(login(s, "zhao", "wrong"), 401, "unauthorized");
  CHECK(login(s, "zhao", ServerFixture::kPassword).status == 200);

  // A wrong current password in POST /v1/passwd counts too.
  const std::string token = li.body["token"];
  for (int i = 0; i < 3; ++i) {
    require_error(
        s.post("/v1/passwd", {{"password", "not it"}, {"new_password", kNewPassword}}, token), 403,
        "forbidden");
  }
  require_error(
      s.post("/v1/passwd", {{"password", ServerFixture::kPassword}, {"new_password", kNewPassword}},
             token),
      429, "throttled");
}

TEST_CASE("throttle: a device that signed in before is past its address's lock, not its name's",
          "[throttle][account]") {
  // Attacker review 17, A17-5: 20 made-up names from one address (an office
  // NAT, a load balancer) kept every account of the team out.
  ServerFixture s(ServeOptions{{}, {{"KEHU_LOGIN_MAX_ADDRESS_FAILURES", "4"}, {"KEHU_LOGIN_MAX_FAILURES", "3"}}});
  const Reply first = login(s, "wang", ServerFixture::kPassword, "dev-w");
  REQUIRE(first.status == 200);
  const std::string cookie = first.body.value("device_cookie", "");
  REQUIRE(cookie.size() == 64);
  // The kehu client keeps the one it is given, across a logout.
  ReplicaCli r;
  r.log_in(s, "li");
  r.ok({"logout"});
  const std::string li_cookie = r.meta("device_cookie");
  REQUIRE(li_cookie.size() == 64);
  for (int i = 0; i < 4; ++i) require_error(login(s, "nobody" + std::to_string(i), "wrong"), 401, "unauthorized");
  auto with_cookie = [&](const std::string& user, const std::string& device, const std::string& c,
                         const std::string& password = ServerFixture::kPassword) {
    return s.post("/v1/login", {{"user", user}, {"password", password}, {"device", device}, {"device_cookie", c}});
  };
  // The address is locked: without the cookie, with another device's or another
  // user's, the right password is refused.
  require_error(login(s, "wang", ServerFixture::kPassword, "dev-w"), 429, "throttled");
  require_error(with_cookie("wang", "dev-other", cookie), 429, "throttled");
  require_error(with_cookie("zhao", "dev-w", cookie), 429, "throttled");
  require_error(with_cookie("wang", "dev-w", std::string(64, '0')), 429, "throttled");
  // With its own, the device signs in, and so does the kehu client.
  const Reply again = with_cookie("wang", "dev-w", cookie);
  INFO(again.body.dump());
  CHECK(again.status == 200);
  CHECK(again.body.value("device_cookie", "") == cookie);
  const CliResult back = r.run({"login", "--server", s.base_url(), "--user", "li"});
  INFO(back.describe());
  CHECK(back.exit_code == 0);
  CHECK(r.meta("device_cookie") == li_cookie);
  // The name's own lock holds for every device: guesses with a stolen cookie
  // lock the name.
  for (int i = 0; i < 3; ++i) require_error(with_cookie("wang", "dev-w", cookie, "wrong"), 401, "unauthorized");
  require_error(with_cookie("wang", "dev-w", cookie), 429, "throttled");
}

TEST_CASE("throttle: a lock ends by itself", "[throttle][account]") {
  ServerFixture s(
      ServeOptions{{}, {{"KEHU_LOGIN_MAX_FAILURES", "2"}, {"KEHU_LOGIN_LOCK_SECONDS", "1"}}});
  for (int i = 0; i < 2; ++i) require_error(login(s, "wang", "wrong"), 401, "unauthorized");
  CHECK_THAT(s.log(), Contains("login locked: user=wang"));
  // Waits for the lock to end (no timing is asserted: a slow machine just waits longer).
  Reply after;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    after = login(s, "wang", ServerFixture::kPassword);
  } while (after.status == 429 && std::chrono::steady_clock::now() < deadline);
  INFO(after.body.dump());
  CHECK(after.status == 200);
}

TEST_CASE("throttle: a bad override in the environment stops serve with a usage error",
          "[throttle]") {
  ServerFixture s;
  s.stop();
  kehu::test::RunOptions o;
  o.env["KEHU_LOGIN_MAX_FAILURES"] = "many";
  o.timeout_seconds = 60;
  CliResult r = kehu::test::run_program(
      kehu::test::server_binary(), {"serve", "--data", s.data_dir(), "--listen", "127.0.0.1:0"}, o);
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("KEHU_LOGIN_MAX_FAILURES=\"many\"") && Contains("whole number"));
}

TEST_CASE("account: password rules count characters, not bytes - repeats, full-width forms and invisible ones",
          "[account][security]") {
  ServerFixture s;
  const std::string too_long(1100, 'q');
  for (const std::string& weak : {std::string("啊啊啊啊啊啊啊啊"), std::string("ａａａａａａａａ"),
                                  std::string("1111111１"), std::string("ｐａｓｓｗｏｒｄ"),
                                  std::string("\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b"),
                                  std::string("\u202eabcdefgh"), std::string("e\u0301e\u0301e\u0301e\u0301"),
                                  std::string("\u3000\u3000\u3000\u3000\u3000\u3000\u3000\u3000"), too_long}) {
    auto r = run_server_command({"user", "add", "zhou", "--role", "sales", "--data", s.data_dir()},
                                {{"KEHU_PASSWORD", weak}});
    INFO(weak.substr(0, 40) << "\n" << r.output);
    CHECK(r.exit_code == 2);
  }
  auto ok = run_server_command({"user", "add", "zhou", "--role", "sales", "--data", s.data_dir()},
                               {{"KEHU_PASSWORD", "周报写完再说2026"}});
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
}
