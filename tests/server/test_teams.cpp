// Teams: roles and scopes enforced by the real server, partial replication
// checked in the raw pull JSON, scope changes moving records between real
// replicas, the public pool, reassignment and protected-field approvals.
//
// The fixture's team (server_fixture.h): root admin, zhao manager of 江苏, wang
// and li sales in 江苏, audit auditor. Customers in 浙江 are outside every
// non-admin's scope unless owned.
#include <catch2/catch.hpp>
#include <ctime>
#include <set>
#include <string>

#include "device.h"
#include "kehu/error.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using kehu::json;
using kehu::test::Device;
using kehu::test::new_customer;
using kehu::test::Reply;
using kehu::test::run_server_command;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;

namespace {

json pull_all(ServerFixture& s, const std::string& token, const std::string& cursor = "0") {
  Reply r = s.post("/v1/pull", {{"cursor", cursor}, {"limit", 5000}}, token);
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  return r.body;
}

// Customer codes and child-record counts in a pull answer.
std::set<std::string> customer_codes(const json& pull) {
  std::set<std::string> out;
  for (const auto& r : pull["records"]) {
    if (r["collection"] == "customers") out.insert(r["code"].get<std::string>());
  }
  return out;
}

const json& record_by_code(const json& pull, const std::string& code) {
  for (const auto& r : pull["records"]) {
    if (r["code"] == code) return r;
  }
  FAIL("no record " << code << " in the pull");
  static const json none;
  return none;
}

std::size_t children_of(const json& pull, const std::string& customer_id) {
  std::size_t n = 0;
  for (const auto& r : pull["records"]) n += r["parent"] == customer_id ? 1 : 0;
  return n;
}

kehu::FieldInputs customer_in(const std::string& name, const std::string& province, const std::string& owner) {
  kehu::FieldInputs in = new_customer(name, province);
  if (!owner.empty()) in.emplace_back("owner", owner);
  return in;
}

// `kehu history CODE --field owner` on the device's replica, in Chinese.
std::string history_zh(const Device& d, const std::string& code) {
  kehu::test::RunOptions o;
  o.env = {{"KEHU_PASSPHRASE", "pass-" + d.user}, {"KEHU_LANG", "zh"}, {"COLUMNS", "300"}};
  auto r = kehu::test::run_kehu({"--db", d.path, "history", code, "--field", "owner"}, o);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  return r.out;
}

void server_admin(ServerFixture& s, const std::vector<std::string>& args) {
  std::vector<std::string> full = args;
  full.insert(full.end(), {"--data", s.data_dir()});
  auto r = run_server_command(full);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

// The team's customers, made by the admin: A and B in 江苏 owned by wang and li,
// C in 浙江 owned by zhou (a salesperson with no region), D in the pool in 浙江. Each has one
// follow-up; A has restricted credit data.
struct Team {
  ServerFixture server;
  ScratchDir dir;
  Device root{dir, server, "root"};
  std::string a, b, c, d;

  Team() {
    // zhou sells in 浙江 (an owner must be a user, walkthrough 8, R8-5).
    const auto zhou = kehu::test::run_server_command({"user", "add", "zhou", "--role", "sales", "--data",
                                                      server.data_dir()},
                                                     {{"KEHU_PASSWORD", ServerFixture::kPassword}});
    INFO(zhou.output);
    REQUIRE(zhou.exit_code == 0);
    root.replica->batch([&] {
      auto add = [&](const std::string& name, const std::string& province, const std::string& owner) {
        kehu::FieldInputs in = customer_in(name, province, owner);
        in.emplace_back("email", "sales@example.com");
        kehu::Record r = root.replica->add("customers", in);
        root.replica->add("followups", {{"date", "2026-11-20"}, {"person", "root"}, {"content", "首次拜访 " + name}},
                          r.code);
        return r.code;
      };
      a = add("江苏甲公司", "江苏", "wang");
      b = add("江苏乙公司", "江苏", "li");
      c = add("浙江丙公司", "浙江", "zhou");
      d = add("浙江丁公司", "浙江", "");
    });
    root.replica->edit(a, {{"credit_rating", "A"}, {"annual_spend", "12345.67"}});
    root.sync();
  }
};

}  // namespace

TEST_CASE("teams: each role pulls exactly its scope, and only the fields it may read", "[teams]") {
  Team t;
  ServerFixture& s = t.server;

  SECTION("admin and auditor see everything, restricted fields included") {
    for (const char* who : {"root", "audit"}) {
      json p = pull_all(s, s.login(who));
      CHECK(customer_codes(p) == std::set<std::string>{t.a, t.b, t.c, t.d});
      CHECK(p["records"].size() == 8);
      CHECK(record_by_code(p, t.a)["fields"]["credit_rating"] == "A");
      CHECK(record_by_code(p, t.d)["fields"]["phone"] == "13800138000");
    }
  }
  SECTION("a manager sees the customers of their regions with their follow-ups") {
    json p = pull_all(s, s.login("zhao"));
    CHECK(customer_codes(p) == std::set<std::string>{t.a, t.b});
    CHECK(p["records"].size() == 4);
    const json& a = record_by_code(p, t.a);
    CHECK(children_of(p, a["id"].get<std::string>()) == 1);
    CHECK(a["fields"]["annual_spend"] == 1234567);
    // No revision of C or D (or their follow-ups) reaches the manager either.
    for (const auto& r : p["revisions"]) {
      CHECK(r.dump().find("浙江") == std::string::npos);
    }
  }
  SECTION("sales see their territory and the pool, never restricted fields, pool phones masked") {
    const std::string token = s.login("wang");
    json p = pull_all(s, token);
    CHECK(customer_codes(p) == std::set<std::string>{t.a, t.b, t.d});
    CHECK(p["records"].size() == 6);
    const std::string raw = p.dump();
    CHECK(raw.find("credit_rating") == std::string::npos);
    CHECK(raw.find("annual_spend") == std::string::npos);
    CHECK(raw.find("1234567") == std::string::npos);
    CHECK(raw.find("浙江丙公司") == std::string::npos);
    const json& d = record_by_code(p, t.d);
    CHECK(d["fields"]["phone"] == "138****8000");
    CHECK(d["fields"]["email"] == "s****m");  // a pool customer's contact ways wait for the claim
    CHECK(record_by_code(p, t.a)["fields"]["phone"] == "13800138000");
    CHECK(record_by_code(p, t.a)["fields"]["email"] == "sales@example.com");
    // The exact fields of A as a salesperson receives them.
    std::set<std::string> keys;
    for (const auto& [k, v] : record_by_code(p, t.a)["fields"].items()) keys.insert(k);
    CHECK(keys == std::set<std::string>{"name", "contact", "phone", "email", "need", "type", "tags", "province", "owner",
                                        "created_at"});
    // History of an out-of-scope record is the same 404 as an unknown one.
    json root_pull = pull_all(s, s.login("root"));
    const std::string c_id = record_by_code(root_pull, t.c)["id"];
    CHECK(s.get("/v1/records/" + c_id + "/history", token).status == 404);
    CHECK(s.get("/v1/records/" + record_by_code(p, t.a)["id"].get<std::string>() + "/history", token).status ==
          200);
  }
}

TEST_CASE("teams: pushes outside the scope are refused per change, with the reason kept", "[teams]") {
  Team t;
  Device wang(t.dir, t.server, "wang");
  CHECK(wang.replica->find_customer(t.c) == std::nullopt);
  // The device knows wang's role from the login and refuses these at once
  // (test_refusals.cpp); the server refuses them from a device that does not
  // know its role (a login older than the role in the replica) all the same.
  CHECK_THROWS_WITH(wang.replica->edit(t.d, {{"need", "想改公海客户"}}), Catch::Contains("customer pool"));
  CHECK_THROWS_WITH(wang.replica->edit(t.b, {{"owner", "wang"}}), Catch::Contains("only a manager reassigns"));
  wang.replica->set_meta("role", "");
  // In scope: applied.
  wang.replica->edit(t.a, {{"need", "MRI 设备"}});
  // A pool customer: read only until claimed.
  wang.replica->edit(t.d, {{"need", "想改公海客户"}});
  // Reassigning by editing the owner is a manager's power.
  wang.replica->edit(t.b, {{"owner", "wang"}});
  // A new customer without owner is the creator's; one outside the creator's
  // regions is refused: his manager would not see it (attacker review 10, A10-8).
  std::string mine = wang.replica->add("customers", customer_in("王的新客户", "江苏", "")).code;
  wang.replica->add("customers", customer_in("王的浙江新客户", "浙江", ""));
  auto report = wang.sync();
  CHECK(report.applied == 2);
  CHECK(report.rejected == 3);
  auto rejected = wang.replica->changes_in_state("rejected");
  REQUIRE(rejected.size() == 3);
  std::string reasons = rejected[0].reason + "\n" + rejected[1].reason + "\n" + rejected[2].reason;
  CHECK(reasons.find("public pool") != std::string::npos);
  CHECK(reasons.find("kehu customer claim") != std::string::npos);
  CHECK(reasons.find("only a manager reassigns") != std::string::npos);
  CHECK(reasons.find("would be outside your regions (江苏)") != std::string::npos);
  // The refused values stay in the change log; the records show the server's.
  CHECK(rejected[0].change.fields.size() == 1);
  CHECK(wang.customer(t.d).fields["need"] == "办公家具");
  CHECK(wang.customer(t.b).fields["owner"] == "li");
  CHECK(wang.customer(t.a).fields["need"] == "MRI 设备");
  CHECK(wang.customer(mine).fields["owner"] == "wang");
  // The manager of 江苏 sees it, as the admin does.
  t.root.sync();
  CHECK(t.root.customer(mine).fields["owner"] == "wang");
  Device zhao(t.dir, t.server, "zhao");
  CHECK(zhao.replica->find_customer(mine).has_value());
  CHECK(zhao.replica->find_customer(t.a).has_value());
  // An auditor writes nothing.
  Device audit(t.dir, t.server, "audit");
  CHECK_THROWS_WITH(audit.replica->edit(t.a, {{"need", "审计员不能改"}}), Catch::Contains("auditor"));
  audit.replica->set_meta("role", "");
  audit.replica->edit(t.a, {{"need", "审计员不能改"}});
  CHECK(audit.sync().rejected == 1);
}

TEST_CASE("teams: reassignment and territory changes move records between devices", "[teams]") {
  Team t;
  Device wang(t.dir, t.server, "wang"), li(t.dir, t.server, "li");
  // wang's customer in 浙江 (an admin placed it there: wang may not), with a
  // follow-up: only wang (and admins) hold it.
  std::string x = t.root.replica->add("customers", customer_in("浙江戊公司", "浙江", "wang")).code;
  t.root.replica->add("followups", {{"date", "2026-11-21"}, {"person", "wang"}, {"content", "电话"}}, x);
  t.root.sync();
  x = t.root.replica->find_customer(x)->code;  // the final code
  wang.sync();
  REQUIRE(wang.replica->find_customer(x).has_value());
  li.sync();
  CHECK(li.replica->find_customer(x) == std::nullopt);

  // wang edits offline while the admin gives the customer to li.
  wang.replica->edit(x, {{"need", "离线时写的需求"}});
  server_admin(t.server, {"customer", "reassign", x, "li", "--reason", "wang 调岗"});

  auto wr = wang.sync();
  CHECK(wr.rejected == 1);  // the pending edit is refused and kept, never lost
  auto kept = wang.replica->changes_in_state("rejected");
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].change.fields.at("need").new_value == "离线时写的需求");
  // The same answer an unknown record gets: nothing says who has it now.
  CHECK(kept[0].reason.find("is no longer yours to change") != std::string::npos);
  CHECK(kept[0].reason.find(" li") == std::string::npos);
  CHECK(wr.removed == 1);
  CHECK(wang.replica->find_customer(x) == std::nullopt);
  kehu::ListQuery followups;
  followups.collection = "followups";
  CHECK(wang.replica->list(followups).size() == 3);  // A's, B's and D's, not x's

  CHECK(li.sync().reassigned_to_you == std::vector<std::string>{x});
  REQUIRE(li.replica->find_customer(x).has_value());
  CHECK(li.customer(x).fields["owner"] == "li");
  kehu::ListQuery q;
  q.collection = "followups";
  q.parent = li.customer(x).id;
  CHECK(li.replica->list(q).size() == 1);  // the follow-up came along
  auto h = li.replica->history(x, "owner");
  REQUIRE_FALSE(h.empty());
  CHECK(h[0].revision.cause == "reassign from wang to li: wang 调岗");
  CHECK_THAT(history_zh(li, x), Catch::Matchers::Contains("修改（从 wang 转交给 li：wang 调岗）"));
  CHECK(h[0].revision.author == "kehu-server");

  // Given to li: li's sync says so (walkthrough 19, R19-15). Within both
  // territories (江苏), the old owner keeps the customer and is told who has it.
  // (li's sync above was her first since x left wang: it was given to her.)
  REQUIRE(wang.replica->find_customer(t.b).has_value());  // wang's territory holds li's customer too
  const std::string a = wang.replica->find_customer(t.a)->code;
  server_admin(t.server, {"customer", "reassign", a, "li", "--reason", "分配"});
  const auto gave = wang.sync();
  CHECK(gave.reassigned_away == std::vector<std::pair<std::string, std::string>>{{a, "li"}});
  CHECK(gave.reassigned_to_you.empty());
  CHECK(li.sync().reassigned_to_you == std::vector<std::string>{a});
  CHECK(wang.sync().reassigned_away.empty());  // said once
  server_admin(t.server, {"customer", "reassign", a, "wang", "--reason", "还回"});
  CHECK(wang.sync().reassigned_to_you == std::vector<std::string>{a});
  CHECK(li.sync().reassigned_away == std::vector<std::pair<std::string, std::string>>{{a, "wang"}});

  // li moves to 浙江: 江苏 customers not hers leave, 浙江 ones arrive.
  server_admin(t.server, {"user", "set-regions", "li", "浙江"});
  li.sync();
  CHECK(li.replica->find_customer(t.a) == std::nullopt);  // wang's, in 江苏
  CHECK(li.replica->find_customer(t.b).has_value());      // her own
  CHECK(li.replica->find_customer(t.c).has_value());      // zhou's, in 浙江
  CHECK(li.customer(t.c).fields["name"] == "浙江丙公司");
  CHECK(li.replica->find_customer(x).has_value());
  // Every record li holds is one the server would send her from scratch.
  Device li2(t.dir, t.server, "li", true, "li-second-device");
  CHECK(kehu::test::snapshot(*li.replica) == kehu::test::snapshot(*li2.replica));
}

TEST_CASE("teams: a manager's owner edit follows the rule of /reassign", "[teams][security]") {
  Team t;
  Device zhao(t.dir, t.server, "zhao");
  // Neither a name nobody logs in as, nor an auditor, nor a disabled user may own a customer.
  server_admin(t.server, {"user", "disable", "li"});
  for (const char* owner_name : {"nobody", "audit", "li"}) {
    const std::string owner = owner_name;
    zhao.replica->edit(t.a, {{"owner", owner}});
    auto r = zhao.sync();
    CHECK(r.rejected == 1);
    auto kept = zhao.replica->changes_in_state("rejected");
    REQUIRE(kept.size() == 1);
    INFO(kept[0].reason);
    CHECK(kept[0].reason.find("负责人 (owner)") != std::string::npos);
    CHECK(kept[0].reason.find("\"" + owner + "\"") != std::string::npos);
    zhao.replica->dismiss_rejected(kept[0].seq);
    CHECK(zhao.customer(t.a).fields["owner"] == "wang");
  }
  // An active sales user may: the same as `kehu customer reassign`.
  server_admin(t.server, {"user", "enable", "li"});
  zhao.replica->edit(t.a, {{"owner", "li"}});
  CHECK(zhao.sync().rejected == 0);
  t.root.sync();
  CHECK(t.root.customer(t.a).fields["owner"] == "li");
}

TEST_CASE("teams: the public pool: release with a reason, masked until claimed, a daily cap", "[teams]") {
  Team t;
  Device wang(t.dir, t.server, "wang"), li(t.dir, t.server, "li");
  server_admin(t.server, {"pool", "set-cap", "1"});

  SECTION("release needs a reason; only the owner or a manager may release") {
    CHECK(li.kehu({"customer", "release", t.a}).exit_code == 2);  // --reason is required
    auto r = li.kehu({"customer", "release", t.a, "--reason", "不是我的"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("belongs to wang") != std::string::npos);
  }
  SECTION("a reason is one clean line of text: control characters refused, blanks trimmed") {
    const std::string token = t.server.login("wang", "dev-w");
    const std::string path = "/v1/customers/" + t.a + "/release";
    for (const std::string& bad : {std::string("无预算\x1b[2J"), std::string("a\rb"), std::string("\x7f"),
                                   std::string("\xC2\x85x"), std::string(2001, 'x')}) {
      Reply r = t.server.post(path, {{"reason", bad}}, token);
      INFO(r.body.dump());
      CHECK(r.status == 400);
      CHECK(r.body["error"]["code"] == "validation");
      CHECK_THAT(r.body["error"]["message"].get<std::string>(), Catch::Matchers::Contains("原因 (reason)"));
    }
    // Only invisible blanks is no reason at all.
    Reply blank = t.server.post(path, {{"reason", "\u200B\u00A0 \u3000"}}, token);
    CHECK(blank.status == 400);
    CHECK_THAT(blank.body["error"]["message"].get<std::string>(), Catch::Matchers::Contains("needs a reason"));
    // Still the owner's: nothing was released.
    t.root.sync();
    CHECK(t.root.customer(t.a).fields["owner"] == "wang");
    Reply ok = t.server.post(path, {{"reason", " 客户无预算\n下季度再跟\u200B"}}, token);
    INFO(ok.body.dump());
    REQUIRE(ok.status == 200);
    t.root.sync();
    CHECK(t.root.replica->history(t.a, "owner")[0].revision.cause ==
          "release to the public pool (公海): 客户无预算 下季度再跟");
  }
  SECTION("release, claim, cap") {
    auto r = wang.kehu({"customer", "release", t.a, "--reason", "客户无预算"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    wang.replica = kehu::Replica::open(wang.path, "pass-wang");
    CHECK(wang.customer(t.a).fields.count("owner") == 0);
    CHECK(wang.customer(t.a).fields["phone"] == "138****8000");
    auto h = wang.replica->history(t.a, "owner");
    REQUIRE_FALSE(h.empty());
    CHECK(h[0].revision.cause == "release to the public pool (公海): 客户无预算");
    CHECK(h[0].revision.author == "wang");

    li.sync();
    CHECK(li.customer(t.a).fields["phone"] == "138****8000");
    auto claim = li.kehu({"customer", "claim", t.a});
    INFO(claim.describe());
    REQUIRE(claim.exit_code == 0);
    li.replica = kehu::Replica::open(li.path, "pass-li");
    CHECK(li.customer(t.a).fields["owner"] == "li");
    CHECK(li.customer(t.a).fields["phone"] == "13800138000");  // unmasked once claimed
    CHECK(li.replica->history(t.a, "owner")[0].revision.cause == "claim from the public pool (公海)");
    // In Chinese, the stored causes read in Chinese.
    CHECK_THAT(history_zh(li, t.a), Catch::Matchers::Contains("修改（从公海认领）") &&
                                        Catch::Matchers::Contains("修改（退回公海：客户无预算）"));

    // A customer with an owner cannot be claimed; the cap of 1 is used up.
    auto taken = wang.kehu({"customer", "claim", t.b});
    CHECK(taken.exit_code == 2);
    CHECK(taken.err.find("not in the public pool") != std::string::npos);
    auto capped = li.kehu({"customer", "claim", t.d});
    CHECK(capped.exit_code == 1);
    CHECK(capped.err.find("claim cap reached") != std::string::npos);
    // wang has not claimed today, so he still may.
    auto other = wang.kehu({"customer", "claim", t.d});
    INFO(other.describe());
    CHECK(other.exit_code == 0);
    auto verify = run_server_command({"audit", "verify", "--data", t.server.data_dir()});
    CHECK(verify.exit_code == 0);
  }
}

TEST_CASE("teams: the pool's recycle rule returns neglected customers as revisions with their cause", "[teams]") {
  Team t;
  // As of 40 days from now, every owned customer (created today, followed up
  // 2026-11-20) has gone more than 30 days without a follow-up; D has no owner.
  std::time_t later = std::time(nullptr) + 40 * 24 * 3600;
  char as_of[16];
  std::strftime(as_of, sizeof as_of, "%Y-%m-%d", std::localtime(&later));
  auto dry = run_server_command({"pool", "recycle", "--days", "30", "--as-of", as_of, "--dry-run", "--data",
                                 t.server.data_dir()});
  INFO(dry.output);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.output.find("3 customers would go back to the public pool") != std::string::npos);
  CHECK(dry.output.find(t.d) == std::string::npos);
  t.root.sync();
  CHECK(t.root.customer(t.a).fields["owner"] == "wang");  // a dry run writes nothing

  auto none = run_server_command({"pool", "recycle", "--days", "30", "--data", t.server.data_dir()});
  CHECK(none.output.find("0 customers went back") != std::string::npos);
  auto bad = run_server_command({"pool", "recycle", "--days", "soon", "--data", t.server.data_dir()});
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("--days \"soon\" is not a whole number") != std::string::npos);

  Device wang(t.dir, t.server, "wang");
  REQUIRE(wang.customer(t.a).fields["owner"] == "wang");
  server_admin(t.server, {"pool", "recycle", "--days", "30", "--as-of", as_of});
  // Their owner's sync says so (walkthrough 18, R18-21: nothing was said).
  const auto said = wang.kehu({"sync"});
  INFO(said.describe());
  CHECK_THAT(said.out, Catch::Matchers::Contains("of your customers went back to the public pool") &&
                           Catch::Matchers::Contains(t.a) && !Catch::Matchers::Contains(t.d));
  CHECK_THAT(wang.kehu({"sync"}).out, !Catch::Matchers::Contains("public pool"));  // once
  CHECK(wang.customer(t.a).fields.count("owner") == 0);
  CHECK(wang.customer(t.a).fields["phone"] == "138****8000");  // pool: masked
  auto h = wang.replica->history(t.a, "owner");
  REQUIRE_FALSE(h.empty());
  CHECK(h[0].revision.cause.rfind("pool recycle: no follow-up for 30 days (last ", 0) == 0);
  CHECK_THAT(history_zh(wang, t.a), Catch::Matchers::Contains("修改（回收到公海：30 天无跟进（最近 2026-"));
  CHECK(run_server_command({"audit", "verify", "--data", t.server.data_dir()}).exit_code == 0);
}

TEST_CASE("teams: approving a request after a newer edit of the field keeps that edit as a conflict",
          "[teams]") {
  Team t;
  server_admin(t.server, {"schema", "protect", "customers", "type"});
  Device wang(t.dir, t.server, "wang"), zhao(t.dir, t.server, "zhao");
  wang.replica->edit(t.a, {{"type", "成交客户"}});
  REQUIRE(wang.sync().awaiting == 1);
  // The manager changes the field after the request was made.
  zhao.replica->edit(t.a, {{"type", "流失客户"}});
  zhao.sync();

  // The list says the field changed since, with its value now.
  auto listed = zhao.kehu({"approvals", "--json"});
  INFO(listed.describe());
  REQUIRE(listed.exit_code == 0);
  const json requests = json::parse(listed.out);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["fields"]["type"]["old"] == "intention");
  CHECK(requests[0]["changed_since"]["type"] == "lost");
  auto table = zhao.kehu({"approvals"});
  CHECK_THAT(table.out, Catch::Matchers::Contains("(changed since to"));

  // Approving applies the decision, and the manager's value is not lost: it is
  // an open conflict on every device, named on the approve's output.
  auto approved = zhao.kehu({"approve", "1"});
  INFO(approved.describe());
  REQUIRE(approved.exit_code == 0);
  CHECK_THAT(approved.out, Catch::Matchers::Contains("was changed to") && Catch::Matchers::Contains("by zhao"));
  for (Device* d : {&wang, &zhao}) {
    d->sync();
    CHECK(d->customer(t.a).fields["type"] == "deal");
    auto open = d->replica->open_conflicts();
    REQUIRE(open.size() == 1);
    CHECK(open[0].conflict.field == "type");
    CHECK(open[0].conflict.kept == "deal");
    CHECK(open[0].conflict.lost == "lost");
    CHECK(open[0].conflict.lost_author == "zhao");
  }
  auto h = zhao.replica->history(t.a, "type");
  REQUIRE_FALSE(h.empty());
  CHECK(h[0].revision.approved_by == "zhao");
  CHECK(h[0].revision.author == "wang");
}

TEST_CASE("teams: a salesperson's waiting request shows on each of their devices", "[teams]") {
  // Walkthrough 17, R17-18: only the device that sent it knew; the other showed
  // the customer unchanged, and the salesperson typed the change again there.
  Team t;
  server_admin(t.server, {"schema", "protect", "customers", "type"});
  Device phone(t.dir, t.server, "wang"), laptop(t.dir, t.server, "wang", true, "wang-laptop"),
      zhao(t.dir, t.server, "zhao");
  phone.replica->edit(t.a, {{"type", "成交客户"}, {"notes", "签约在即"}});
  REQUIRE(phone.sync().partly_awaiting == 1);  // the notes apply, the type waits
  REQUIRE(phone.replica->status().awaiting == 1);
  const auto fresh = laptop.sync();
  CHECK(fresh.held.size() == 1);
  CHECK(laptop.replica->status().awaiting == 1);
  CHECK(laptop.customer(t.a).fields["notes"] == "签约在即");  // applied at once
  CHECK(laptop.customer(t.a).fields["type"] == "intention");   // waits, as on the phone
  auto show = laptop.kehu({"customer", "show", t.a});
  INFO(show.describe());
  CHECK_THAT(show.out, Catch::Contains("Awaiting a manager's approval") && Catch::Contains("Intention → Deal  #1"));
  auto history = laptop.kehu({"history", t.a, "--field", "type"});
  INFO(history.describe());
  CHECK_THAT(history.out, Catch::Contains("awaiting approval: request #1"));
  // With the time the request was filed, as the sender's row has its edit's (R19-2).
  auto adopted = json::parse(laptop.kehu({"--json", "history", t.a, "--field", "type"}).out);
  REQUIRE_FALSE(adopted.empty());
  CHECK(adopted[0]["state"] == "awaiting");
  CHECK(adopted[0]["edited_at"].get<std::string>().rfind("20", 0) == 0);
  // A second sync adds nothing; the sender's own entry is not doubled.
  laptop.sync();
  phone.sync();
  CHECK(laptop.replica->status().awaiting == 1);
  CHECK(phone.replica->status().awaiting == 1);
  // Rejected: each device keeps what was typed, with the manager's reason.
  REQUIRE(zhao.kehu({"reject", "1", "--reason", "合同未签"}).exit_code == 0);
  for (Device* d : {&phone, &laptop}) {
    const auto report = d->sync();
    CHECK(report.turned_down == 1);
    CHECK(d->replica->status().awaiting == 0);
    const auto refused = d->replica->changes_in_state("rejected");
    REQUIRE(refused.size() == 1);
    CHECK_THAT(refused[0].reason, Catch::Contains("合同未签"));
  }
  // Approved from another device's request: it leaves the laptop as it leaves the phone.
  phone.replica->edit(t.a, {{"type", "流失客户"}});
  phone.sync();
  laptop.sync();
  REQUIRE(laptop.replica->status().awaiting == 1);
  REQUIRE(zhao.kehu({"approve", "2"}).exit_code == 0);
  for (Device* d : {&phone, &laptop}) {
    const auto report = d->sync();
    CHECK(report.approved == 1);
    CHECK(d->replica->status().awaiting == 0);
    CHECK(d->customer(t.a).fields["type"] == "lost");
  }
}

TEST_CASE("teams: protected fields: a sales edit waits for a manager's approval", "[teams]") {
  Team t;
  server_admin(t.server, {"schema", "protect", "customers", "type,合作状态"});
  Device wang(t.dir, t.server, "wang"), zhao(t.dir, t.server, "zhao");

  wang.replica->edit(t.a, {{"type", "成交客户"}});
  auto report = wang.sync();
  CHECK(report.awaiting == 1);
  CHECK(wang.replica->status().awaiting == 1);
  CHECK(wang.customer(t.a).fields["type"] == "intention");  // not applied yet
  auto status = wang.kehu({"status"});
  CHECK(status.out.find("awaiting approval (request #1)") != std::string::npos);

  // A manager's own edit of a protected field applies directly.
  zhao.replica->edit(t.b, {{"status", "已签约"}});
  CHECK(zhao.sync().awaiting == 0);
  // A sales user may not decide requests.
  auto refused = wang.kehu({"approve", "1"});
  CHECK(refused.exit_code == 1);

  // The manager's own sync and status say that a request waits for them (R19-16).
  CHECK(zhao.sync().requests_to_decide == 1);
  auto zstatus = zhao.kehu({"--json", "status"});
  REQUIRE(zstatus.exit_code == 0);
  CHECK(json::parse(zstatus.out)["requests_to_decide"] == 1);
  CHECK(wang.sync().requests_to_decide == 0);  // a salesperson decides none

  auto listed = zhao.kehu({"approvals", "--json"});
  INFO(listed.describe());
  REQUIRE(listed.exit_code == 0);
  json requests = json::parse(listed.out);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["requester"] == "wang");
  CHECK(requests[0]["customer"] == t.a);
  CHECK(requests[0]["fields"]["type"]["new"] == "deal");

  auto approved = zhao.kehu({"approve", "1"});
  INFO(approved.describe());
  REQUIRE(approved.exit_code == 0);
  wang.sync();
  CHECK(wang.replica->status().awaiting == 0);
  CHECK(wang.customer(t.a).fields["type"] == "deal");
  auto h = wang.replica->history(t.a, "type");
  REQUIRE_FALSE(h.empty());
  CHECK(h[0].revision.author == "wang");
  CHECK(h[0].revision.approved_by == "zhao");
  CHECK(h[0].revision.cause == "approved change request #1");
  CHECK(zhao.kehu({"approve", "1"}).exit_code == 2);  // already decided
  CHECK(zhao.sync().requests_to_decide == 0);

  // A rejected request comes back to the device as a rejected change, reason kept.
  wang.replica->edit(t.a, {{"type", "流失客户"}});
  wang.sync();
  auto rej = zhao.kehu({"reject", "2", "--reason", "客户仍在合作"});
  INFO(rej.describe());
  REQUIRE(rej.exit_code == 0);
  auto r2 = wang.sync();
  CHECK(r2.rejected == 1);
  auto kept = wang.replica->changes_in_state("rejected");
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].reason == "request #2 rejected by zhao: 客户仍在合作");
  CHECK(kept[0].change.fields.at("type").new_value == "lost");
  // Read later in either language, not frozen in the sync's (R17-3).
  for (const std::string lang : {"en", "zh"}) {
    auto shown = wang.kehu({"rejected"}, lang);
    INFO(shown.describe());
    REQUIRE(shown.exit_code == 0);
    CHECK(shown.out.find(lang == "zh" ? "申请 #2 被 zhao 驳回：客户仍在合作" : "request #2 rejected by zhao: 客户仍在合作") !=
          std::string::npos);
    CHECK(shown.out.find(lang == "zh" ? "rejected by" : "驳回") == std::string::npos);
  }
  CHECK(wang.customer(t.a).fields["type"] == "deal");
  // Unprotected fields still apply at once.
  wang.replica->edit(t.a, {{"need", "扩容"}});
  CHECK(wang.sync().awaiting == 0);
  CHECK(wang.customer(t.a).fields["need"] == "扩容");
}

TEST_CASE("teams: kehu approvals reads every page of a long list", "[teams]") {
  // The server answers the approvals list in pages of at most 200 (F9); the CLI
  // reads them all: wang's 200 requests and li's one, 201 for zhao.
  ServerFixture s;
  REQUIRE(run_server_command({"schema", "protect", "customers", "need", "--data", s.data_dir()}).exit_code == 0);
  const std::string root = s.login("root", "dev-root");
  const std::string customer = "6e000000-0000-4000-8000-000000000001";
  json f = kehu::test::new_customer_fields("长列表");
  f["owner"] = {{"old", nullptr}, {"new", "wang"}};
  Reply made = s.post("/v1/push", {{"device", "x"},
                                   {"changes", json::array({kehu::test::make_change(
                                                   "6e000000-0000-4000-8000-100000000001", customer, "create", 0,
                                                   kehu::test::hlc_now(), "x", 1, f)})}},
                      root);
  REQUIRE(made.status == 200);
  REQUIRE(made.body["results"][0]["status"] == "applied");
  int n = 0;
  auto requests_from = [&](const std::string& user, int count) {
    json changes = json::array();
    for (int i = 0; i < count; ++i, ++n) {
      char id[40];
      std::snprintf(id, sizeof id, "6e000000-0000-4000-8000-2%011d", n);
      changes.push_back(kehu::test::make_change(id, customer, "update", 1, kehu::test::hlc_now(n), "x", n + 1,
                                                {{"need", {{"old", "CT 设备"}, {"new", "需求 " + std::to_string(n)}}}}));
    }
    Reply r = s.post("/v1/push", {{"device", "x"}, {"changes", changes}}, s.login(user, "dev-" + user));
    REQUIRE(r.status == 200);
    for (const auto& res : r.body["results"]) REQUIRE(res["status"] == "pending_approval");
  };
  requests_from("wang", 200);
  requests_from("li", 1);
  ScratchDir dir;
  Device zhao(dir, s, "zhao");
  // Each of wang's requests replaces the one before it (the same field,
  // walkthrough 10, R10-5): --all lists the withdrawn ones too.
  auto listed = zhao.kehu({"approvals", "--all", "--json"});
  INFO(listed.describe().substr(0, 2000));
  REQUIRE(listed.exit_code == 0);
  json requests = json::parse(listed.out);
  CHECK(requests.size() == 201);
  std::set<std::int64_t> ids;
  for (const auto& r : requests) ids.insert(r["id"].get<std::int64_t>());
  CHECK(ids.size() == 201);
}
