// Security: what a role may not read must not be derivable from what it gets
// (DESIGN.md "Users and access"). Each test is the attack, made with raw HTTP
// against a real kehu-server, as someone holding a salesperson's or a
// manager's token would make it.
//
// The fixture's team (server_fixture.h): root admin, zhao manager of 江苏, wang
// and li sales in 江苏, audit auditor. Customers in 浙江 are outside every
// non-admin's scope unless owned.
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "replica_cli.h"
#include "server_fixture.h"

using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::hlc_now;
using kehu::test::make_change;
using kehu::test::new_customer_fields;
using kehu::test::ReplicaCli;
using kehu::test::Reply;
using kehu::test::run_kehu;
using kehu::test::run_server_command;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;
using json = nlohmann::json;

namespace {

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) == 1);
  std::string out;
  char hex[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    out += hex;
  }
  return out;
}

json pull_all(ServerFixture& s, const std::string& token, const std::string& cursor = "0") {
  Reply r = s.post("/v1/pull", {{"cursor", cursor}, {"limit", 5000}}, token);
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  return r.body;
}

void push_ok(ServerFixture& s, const std::string& token, const json& change) {
  Reply r = s.post("/v1/push", {{"device", change["device"]}, {"changes", json::array({change})}}, token);
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  REQUIRE(r.body["results"][0]["status"] == "applied");
}

// Every hash the attacker was sent, anywhere: the targets of a guess, and the
// prev_hash candidates a guessed revision may have been chained after.
struct Hashes {
  std::set<std::string> targets;
  std::set<std::string> prevs{std::string(64, '0')};

  void collect(const json& revisions) {
    for (const auto& r : revisions) {
      for (const char* k : {"hash", "prev_hash"}) {
        if (r.contains(k) && r[k].is_string()) {
          targets.insert(r[k].get<std::string>());
          prevs.insert(r[k].get<std::string>());
        }
      }
    }
  }
};

// The attack: rebuild the canonical body of `revision` (docs/protocol.md "the
// hash chain": dump() without hash and prev_hash) with each guess filled in by
// `fill`, hash it after every prev_hash candidate, and look for a hash the
// attacker holds. Returns the guess that matched, or "".
template <typename Fill>
std::string brute_force(const json& revision, const std::vector<std::string>& guesses,
                        const Hashes& hashes, Fill fill) {
  for (const auto& g : guesses) {
    json body = revision;
    body.erase("hash");
    body.erase("prev_hash");
    body.erase("code");  // audit adds it; it is not hashed
    fill(body, g);
    const std::string text = body.dump();
    for (const auto& prev : hashes.prevs) {
      if (hashes.targets.count(sha256_hex(prev + "\n" + text))) return g;
    }
  }
  return "";
}

const json* revision_of(const json& revisions, const std::string& record_id, std::int64_t rev) {
  for (const auto& r : revisions) {
    if (r["record_id"] == record_id && r["rev"] == rev) return &r;
  }
  return nullptr;
}

// The 10,000 phone numbers a mask "138****4321" may hide.
std::vector<std::string> unmasked_phones(const std::string& masked) {
  std::vector<std::string> out;
  char middle[16];
  for (int i = 0; i < 10000; ++i) {
    std::snprintf(middle, sizeof middle, "%04d", i);
    out.push_back(masked.substr(0, 3) + middle + masked.substr(7));
  }
  return out;
}

// A customer created by root: `fields` over new_customer_fields(name).
void root_creates(ServerFixture& s, const std::string& root, const std::string& id, json fields,
                  int seq) {
  json f = new_customer_fields("客户" + id);
  for (auto it = fields.begin(); it != fields.end(); ++it) f[it.key()] = {{"old", nullptr}, {"new", it.value()}};
  push_ok(s, root, make_change("c-" + id, id, "create", 0, hlc_now(), "dev-root", seq, f));
}

}  // namespace

TEST_CASE("security: a masked pool phone cannot be recovered from revision hashes",
          "[server][security]") {
  ServerFixture s;
  const std::string root = s.login("root", "dev-root");
  // Revisions around it, so the attacker also holds the next revision's prev_hash.
  root_creates(s, root, "before", {{"owner", "wang"}}, 1);
  root_creates(s, root, "pool-1", {{"phone", "13812344321"}}, 2);  // no owner: the pool
  root_creates(s, root, "after", {{"owner", "wang"}}, 3);

  const std::string wang = s.login("wang", "dev-w");
  Hashes hashes;
  const json pulled = pull_all(s, wang);
  hashes.collect(pulled["revisions"]);
  const json* rev = revision_of(pulled["revisions"], "pool-1", 1);
  REQUIRE(rev != nullptr);
  REQUIRE((*rev)["changes"]["phone"]["new"] == "138****4321");  // masked, as the pool is for sales
  Reply h = s.get("/v1/records/pool-1/history", wang);
  REQUIRE(h.status == 200);
  hashes.collect(h.body["revisions"]);
  REQUIRE(h.body["revisions"][0]["changes"]["phone"]["new"] == "138****4321");

  const std::string found = brute_force(*rev, unmasked_phones("138****4321"), hashes,
                                        [](json& body, const std::string& g) {
                                          body["changes"]["phone"]["new"] = g;
                                        });
  CHECK(found == "");
  // The chain goes only to roles that read every revision in full.
  CHECK_FALSE(rev->contains("hash"));
  CHECK_FALSE(rev->contains("prev_hash"));
}

TEST_CASE("security: a restricted field cut from a revision cannot be recovered from hashes",
          "[server][security]") {
  ServerFixture s;
  const std::string root = s.login("root", "dev-root");
  root_creates(s, root, "rated", {{"owner", "wang"}, {"credit_rating", "C"}}, 1);
  root_creates(s, root, "after", {{"owner", "wang"}}, 2);

  const std::vector<std::string> ratings = {"A", "B", "C", "D"};
  auto fill = [](json& body, const std::string& g) {
    body["changes"]["credit_rating"] = {{"old", nullptr}, {"new", g}};
  };
  // wang (sales) may not read credit ratings: pull and history.
  const std::string wang = s.login("wang", "dev-w");
  Hashes hashes;
  const json pulled = pull_all(s, wang);
  hashes.collect(pulled["revisions"]);
  Reply h = s.get("/v1/records/rated/history", wang);
  REQUIRE(h.status == 200);
  hashes.collect(h.body["revisions"]);
  const json* rev = revision_of(pulled["revisions"], "rated", 1);
  REQUIRE(rev != nullptr);
  REQUIRE_FALSE((*rev)["changes"].contains("credit_rating"));
  CHECK(brute_force(*rev, ratings, hashes, fill) == "");

  // The auditor reads everything, and gets the chain to check it against.
  const std::string audit = s.login("audit", "dev-a");
  Reply a = s.post("/v1/audit", {{"customer", pulled["records"][0]["code"]}}, audit);
  REQUIRE(a.status == 200);
  CHECK(a.body["revisions"][0].contains("hash"));
  CHECK(a.body["revisions"][0]["changes"].contains("credit_rating"));
}

TEST_CASE("security: a manager's pull, history and audit carry no hash of revisions they cannot see",
          "[server][security]") {
  ServerFixture s;
  const std::string root = s.login("root", "dev-root");
  // Out of zhao's scope (浙江, not his), then one of his (江苏): the second's
  // prev_hash is the first's hash.
  root_creates(s, root, "zj", {{"province", "浙江"}, {"owner", "li"}, {"phone", "13912345678"}}, 1);
  root_creates(s, root, "js", {{"owner", "wang"}}, 2);
  const std::string zhao = s.login("zhao", "dev-z");
  const json pulled = pull_all(s, zhao);
  REQUIRE(pulled["revisions"].size() == 1);
  Reply h = s.get("/v1/records/js/history", zhao);
  REQUIRE(h.status == 200);
  Reply a = s.post("/v1/audit", json::object(), zhao);
  REQUIRE(a.status == 200);
  const json& history = h.body["revisions"];
  const json& audited = a.body["revisions"];
  for (const json* revs : {&pulled["revisions"], &history, &audited}) {
    for (const auto& r : *revs) {
      INFO(r.dump());
      CHECK_FALSE(r.contains("prev_hash"));
      CHECK_FALSE(r.contains("hash"));
    }
  }
}

namespace {

std::set<std::string> removed_ids(const json& pull) {
  std::set<std::string> out;
  for (const auto& id : pull["removed"]) out.insert(id.get<std::string>());
  return out;
}

void root_updates(ServerFixture& s, const std::string& root, const std::string& id, std::int64_t base_rev,
                  const json& fields, int seq) {
  push_ok(s, root, make_change("u-" + id + "-" + std::to_string(seq), id, "update", base_rev, hlc_now(),
                               "dev-root", seq, fields));
}

// An error answer with `probe` (the id or code asked about) written as "X", so
// the answers about two ids can be compared.
std::string shape(const Reply& r, const std::string& probe) {
  std::string text = std::to_string(r.status) + " " + r.body.dump();
  for (auto at = text.find(probe); at != std::string::npos; at = text.find(probe)) text.replace(at, probe.size(), "X");
  return text;
}

std::string code_of(const json& pull, const std::string& id) {
  for (const auto& r : pull["records"]) {
    if (r["id"] == id) return r["code"];
  }
  FAIL("no record " << id);
  return "";
}

}  // namespace

TEST_CASE("security: a pull's removed list names only customers the device could hold",
          "[server][security]") {
  ServerFixture s;
  // zhou sells in 浙江: customers are moved to him (an owner must be a user).
  auto add = run_server_command({"user", "add", "zhou", "--role", "sales", "--data", s.data_dir()},
                                {{"KEHU_PASSWORD", ServerFixture::kPassword}});
  INFO(add.output);
  REQUIRE(add.exit_code == 0);
  const std::string root = s.login("root", "dev-root");
  const std::string wang = s.login("wang", "dev-w");
  // Never in wang's scope: made in 浙江 for zhou, then moved around outside it.
  root_creates(s, root, "never", {{"province", "浙江"}, {"owner", "zhou"}}, 1);
  root_updates(s, root, "never", 1, {{"owner", {{"old", "zhou"}, {"new", "qian"}}}}, 2);
  root_updates(s, root, "never", 2, {{"province", {{"old", "浙江"}, {"new", "福建"}}}}, 3);
  // Held by wang's device, then moved out of his scope.
  root_creates(s, root, "held", {{"owner", "wang"}}, 4);
  // In the pool (wang reads it masked), then given to zhou in 浙江.
  root_creates(s, root, "pooled", json::object(), 5);
  const json first = pull_all(s, wang);
  CHECK(removed_ids(first).empty());
  const std::string cursor = first["next_cursor"];

  root_updates(s, root, "held", 1,
               {{"owner", {{"old", "wang"}, {"new", "zhou"}}}, {"province", {{"old", "江苏"}, {"new", "浙江"}}}}, 6);
  root_updates(s, root, "pooled", 1,
               {{"owner", {{"old", nullptr}, {"new", "zhou"}}}, {"province", {{"old", "江苏"}, {"new", "浙江"}}}}, 7);
  root_updates(s, root, "never", 3, {{"owner", {{"old", "qian"}, {"new", "zhou"}}}}, 8);

  const json next = pull_all(s, wang, cursor);
  CHECK(removed_ids(next) == std::set<std::string>{"held", "pooled"});
  // From the start: "held" and "pooled" were in scope after cursor 0, "never" never was.
  const json again = pull_all(s, wang);
  CHECK(removed_ids(again) == std::set<std::string>{"held", "pooled"});
  // Another salesperson of 江苏 could have held them too, a manager of 江苏 as well;
  // the auditor sees everything and is never told to remove anything.
  CHECK(removed_ids(pull_all(s, s.login("zhao", "dev-z"))) == std::set<std::string>{"held", "pooled"});
  CHECK(removed_ids(pull_all(s, s.login("audit", "dev-a"))).empty());
}

TEST_CASE("security: out-of-scope and unknown customers answer alike", "[server][security]") {
  ServerFixture s;
  // zhou sells in 浙江 (an owner must be a user).
  REQUIRE(run_server_command({"user", "add", "zhou", "--role", "sales", "--data", s.data_dir()},
                             {{"KEHU_PASSWORD", ServerFixture::kPassword}})
              .exit_code == 0);
  const std::string root = s.login("root", "dev-root");
  root_creates(s, root, "zj", {{"province", "浙江"}, {"owner", "zhou"}}, 1);
  const std::string code = code_of(pull_all(s, root), "zj");
  const std::string unknown_code = "C209901999";
  const std::string wang = s.login("wang", "dev-w");
  const std::string zhao = s.login("zhao", "dev-z");

  CHECK(shape(s.get("/v1/records/zj/history", wang), "zj") ==
        shape(s.get("/v1/records/nope/history", wang), "nope"));
  CHECK(shape(s.get("/v1/records/zj/history", zhao), "zj") ==
        shape(s.get("/v1/records/nope/history", zhao), "nope"));
  for (const auto& [user, token] : {std::pair{"wang", wang}, std::pair{"zhao", zhao}}) {
    INFO(user);
    for (const std::string action : {"claim", "release", "reassign"}) {
      INFO(action);
      const json body = {{"reason", "test"}, {"owner", "li"}};
      const Reply known = s.post("/v1/customers/" + code + "/" + action, body, token);
      const Reply none = s.post("/v1/customers/" + unknown_code + "/" + action, body, token);
      CHECK(shape(known, code) == shape(none, unknown_code));
      CHECK(known.body.dump().find("zhou") == std::string::npos);
    }
  }
  CHECK(shape(s.post("/v1/audit", {{"customer", code}}, zhao), code) ==
        shape(s.post("/v1/audit", {{"customer", unknown_code}}, zhao), unknown_code));
}

// --- weak secrets ----------------------------------------------------------

namespace {

// `kehu init` of a fresh replica with `passphrase`, in `lang`.
CliResult init_replica(const ScratchDir& dir, const std::string& name, const std::string& passphrase,
                       const std::string& lang = "en") {
  kehu::test::RunOptions o;
  o.env = {{"KEHU_DB", dir.file(name)}, {"KEHU_PASSPHRASE", passphrase}, {"HOME", dir.path()},
           {"KEHU_LANG", lang},         {"LANG", "C.UTF-8"},             {"LC_ALL", std::nullopt}};
  return run_kehu({"init"}, o);
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

}  // namespace

TEST_CASE("security: kehu init refuses a short or common replica passphrase", "[cli][security]") {
  ScratchDir dir;
  // Counted in characters: seven Chinese characters are 21 bytes and still too short.
  for (const std::string weak : {"x", "1234567", "客户资料加密保", "12345678", "88888888", "5201314520",
                                 "woaini1314", "Password2024!", "qwertyuiop", "aaaaaaaaaa"}) {
    INFO(weak);
    CliResult r = init_replica(dir, "weak.db", weak);
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("replica passphrase"));
    CHECK(r.err.find(weak) == std::string::npos);  // the message never repeats the secret
    CHECK_FALSE(exists(dir.file("weak.db")));
  }
  CliResult zh = init_replica(dir, "weak.db", "短密码", "zh");
  CHECK(zh.exit_code == 2);
  CHECK_THAT(zh.err, Contains("本地副本口令") && Contains("至少 8 个字符"));
  // Eight Chinese characters are enough.
  CliResult ok = init_replica(dir, "ok.db", "客户资料加密保存");
  INFO(ok.describe());
  CHECK(ok.exit_code == 0);
}

TEST_CASE("security: kehu rekey refuses a short or common passphrase", "[cli][security]") {
  ReplicaCli r;
  for (const std::string weak : {"ab", "888888", "5201314", "woaini", "123456789"}) {
    INFO(weak);
    CliResult bad = r.run({"rekey"}, {{"KEHU_NEW_PASSPHRASE", weak}});
    INFO(bad.describe());
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Contains("passphrase"));
  }
  CHECK(r.run({"status"}).exit_code == 0);  // still the old passphrase
}

TEST_CASE("security: a new password is counted in characters and checked against common ones",
          "[server][security]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-w");
  auto change = [&](const std::string& next) {
    return s.post("/v1/passwd", {{"password", ServerFixture::kPassword}, {"new_password", next}}, wang);
  };
  for (const std::string weak : {"中文七个字符啊", "password2024", "woaini1314", "88888888", "qwerty123",
                                 "Wang12345678", "12345678"}) {
    INFO(weak);
    Reply r = change(weak);
    INFO(r.body.dump());
    CHECK(r.status == 400);
    CHECK(r.body["error"]["code"] == "validation");
    const std::string message = r.body["error"]["message"];
    CHECK_THAT(message, Contains("new_password"));
    CHECK(message.find(weak) == std::string::npos);
  }
  // The admin command has the same rule.
  auto add = run_server_command({"user", "add", "zhang", "--role", "sales", "--data", s.data_dir()},
                                {{"KEHU_PASSWORD", "5201314zhang"}});
  CHECK(add.exit_code != 0);
  add = run_server_command({"user", "add", "zhang", "--role", "sales", "--data", s.data_dir()},
                           {{"KEHU_PASSWORD", "iloveyou520"}});
  CHECK(add.exit_code != 0);
  // Eight Chinese characters are 24 bytes and pass, as eight letters do.
  CHECK(change("春眠不觉晓处处闻").status == 200);
}

TEST_CASE("security: kehu passwd checks the new password first, in the user's language",
          "[server][security]") {
  ServerFixture s;
  ReplicaCli r;
  r.ok({"login", "--server", s.base_url(), "--user", "wang"});
  CliResult bad = r.run({"passwd"}, {{"KEHU_NEW_PASSWORD", "woaini520"}, {"KEHU_LANG", "zh"}});
  INFO(bad.describe());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("新密码") && Contains("常见"));
  CHECK(bad.err.find("woaini520") == std::string::npos);
  CliResult name = r.run({"passwd"}, {{"KEHU_NEW_PASSWORD", "wang-from-jiangsu"}});
  CHECK(name.exit_code == 2);
  CHECK_THAT(name.err, Contains("user name"));
}

TEST_CASE("codes: the raw API takes a customer code in any case, as the CLI does", "[server][codes]") {
  ServerFixture s;
  const std::string root = s.login("root", "dev-root");
  root_creates(s, root, "pool1", json::object(), 1);  // no owner: in the pool, in 江苏
  const std::string code = code_of(pull_all(s, root), "pool1");
  REQUIRE(code.size() > 1);
  std::string lower = code;
  lower[0] = static_cast<char>(lower[0] - 'A' + 'a');
  const std::string wang = s.login("wang", "dev-w");
  Reply claimed = s.post("/v1/customers/" + lower + "/claim", json::object(), wang);
  INFO(claimed.body.dump());
  CHECK(claimed.status == 200);
  Reply audit = s.post("/v1/audit", {{"customer", lower}}, root);
  INFO(audit.body.dump());
  REQUIRE(audit.status == 200);
  CHECK(audit.body["revisions"].size() == 2);  // the create and the claim
}
