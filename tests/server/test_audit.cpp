// The audit trail end to end: a real kehu-server on 127.0.0.1 (server_fixture.h),
// real encrypted replicas of several users editing through the sync client, and
// the real `kehu` and `kehu-server` binaries for `audit`, `revert`,
// `audit export` and `audit verify`.
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "cli_runner.h"
#include "device.h"
#include "kehu/replica.h"
#include "kehu/text.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using kehu::json;
using kehu::Replica;
using kehu::test::CliResult;
using kehu::test::Device;
using kehu::test::new_customer;
using kehu::test::Reply;
using kehu::test::run_server_command;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;

namespace {

// Syncs and requires that the server refused nothing.
void sync_ok(Device& d) {
  auto report = d.sync();
  for (const auto& x : report.rejections) UNSCOPED_INFO(d.user << ": " << x.code << " " << x.reason);
  REQUIRE(report.rejected == 0);
}

// `kehu --json ARGS` on the device, which must succeed, parsed.
json kehu_json(Device& d, const std::vector<std::string>& args) {
  std::vector<std::string> full = {"--json"};
  full.insert(full.end(), args.begin(), args.end());
  CliResult r = d.kehu(full);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// Every revision on the server, newest first, as the auditor sees them.
json all_revisions(ServerFixture& s) {
  Reply r = s.post("/v1/audit", {{"limit", 1000}}, s.login("audit", "dev-audit"));
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  REQUIRE(r.body["more"] == false);
  return r.body["revisions"];
}

std::multiset<std::string> authors(const json& revisions) {
  std::multiset<std::string> out;
  for (const auto& r : revisions) out.insert(r["author"].get<std::string>());
  return out;
}

void check_newest_first(const json& revisions) {
  for (std::size_t i = 1; i < revisions.size(); ++i) {
    CHECK(revisions[i - 1]["seq"].get<std::int64_t>() > revisions[i]["seq"].get<std::int64_t>());
  }
}

// A small team's day: wang owns one customer with two follow-ups and another
// with one; li owns a third; root (admin) edits wang's first customer.
struct TeamDay {
  ServerFixture server;
  ScratchDir dir;
  Device wang{dir, server, "wang"}, li{dir, server, "li"}, root{dir, server, "root"};
  Device auditor{dir, server, "audit"};
  std::string a, b, c;  // customer codes: a and b are wang's, c is li's
  std::vector<std::string> a_followups;

  TeamDay() {
    a = wang.replica->add("customers", new_customer("明达医疗器械有限公司")).code;
    wang.replica->edit(a, {{"phone", "13912345678"}});
    b = wang.replica->add("customers", new_customer("东方服饰有限公司")).code;
    sync_ok(wang);
    a_followups.push_back(
        wang.replica
            ->add("followups",
                  {{"date", "2026-11-02"}, {"person", "王五"}, {"content", "电话沟通"}}, a)
            .id);
    a_followups.push_back(
        wang.replica
            ->add("followups",
                  {{"date", "2026-11-09"}, {"person", "王五"}, {"content", "上门拜访"}}, a)
            .id);
    wang.replica->add("followups",
                      {{"date", "2026-11-03"}, {"person", "王五"}, {"content", "报价"}}, b);
    sync_ok(wang);
    c = li.replica->add("customers", new_customer("华新建材有限公司")).code;
    li.replica->edit(c, {{"stage", "needs"}});
    sync_ok(li);
    sync_ok(root);
    root.replica->edit(a, {{"need", "手术室设备"}});
    sync_ok(root);
    sync_ok(wang);
  }
};

}  // namespace

TEST_CASE("audit: by user returns exactly that user's revisions", "[audit]") {
  TeamDay t;
  const json all = all_revisions(t.server);
  REQUIRE(all.size() == 9);
  check_newest_first(all);
  CHECK(authors(all) == std::multiset<std::string>{"wang", "wang", "wang", "wang", "wang", "wang",
                                                   "li", "li", "root"});

  for (const std::string user : {"wang", "li", "root"}) {
    json mine = kehu_json(t.auditor, {"audit", "--user", user});
    INFO(user);
    CHECK(mine.size() == authors(all).count(user));
    check_newest_first(mine);
    for (const auto& r : mine) CHECK(r["author"] == user);
  }

  // The table names user, customer and the change, old -> new.
  CliResult table = t.auditor.kehu({"audit", "--user", "li"});
  INFO(table.describe());
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains(t.c) && Catch::Contains("li") &&
                            Catch::Contains("Sales stage") && Catch::Contains("→") &&
                            Catch::Contains("2 revisions"));
  CHECK_THAT(table.out, !Catch::Contains(t.a));

  // A user the server does not know is a validation error, not an empty answer.
  CliResult unknown = t.auditor.kehu({"audit", "--user", "nobody"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("nobody") && Catch::Contains("not a user"));
}

TEST_CASE("audit: by date range", "[audit]") {
  TeamDay t;
  const std::size_t total = all_revisions(t.server).size();

  json today = kehu_json(t.auditor, {"audit", "--since", "today", "--until", "today"});
  CHECK(today.size() == total);
  json since = kehu_json(t.auditor, {"audit", "--since", "today", "--user", "li"});
  CHECK(since.size() == 2);
  json past = kehu_json(t.auditor, {"audit", "--since", "2020-01-01", "--until", "2020-12-31"});
  CHECK(past.empty());
  CliResult none = t.auditor.kehu({"audit", "--since", "2020-01-01", "--until", "2020-12-31"});
  CHECK(none.exit_code == 0);
  CHECK_THAT(none.out, Catch::Contains("no matching revisions"));

  SECTION("a day that does not exist is refused, naming the option and the value") {
    CliResult bad = t.auditor.kehu({"audit", "--since", "2026-02-30"});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("--since") && Catch::Contains("2026-02-30"));
    // R16-14: the rule it breaks, the option named once.
    CHECK_THAT(bad.err, Catch::Contains("February 2026 has no day 30") && !Catch::Contains("(--since)"));
  }
  SECTION("the server validates what it is sent") {
    const std::string token = t.server.login("audit", "dev-x");
    Reply bad = t.server.post("/v1/audit", {{"until", "2026-13-01"}}, token);
    REQUIRE(bad.status == 400);
    CHECK(bad.body["error"]["code"] == "validation");
    CHECK_THAT(bad.body["error"]["message"].get<std::string>(),
               Catch::Contains("until") && Catch::Contains("2026-13-01"));
    Reply reversed =
        t.server.post("/v1/audit", {{"since", "2026-11-02"}, {"until", "2026-11-01"}}, token);
    CHECK(reversed.status == 400);
    CHECK(reversed.body["error"]["code"] == "validation");
    Reply typo = t.server.post("/v1/audit", {{"usr", "wang"}}, token);
    CHECK(typo.status == 400);
    CHECK_THAT(typo.body["error"]["message"].get<std::string>(), Catch::Contains("usr"));
    Reply limit = t.server.post("/v1/audit", {{"limit", 0}}, token);
    CHECK(limit.status == 400);
    CHECK_THAT(limit.body["error"]["message"].get<std::string>(), Catch::Contains("limit"));
    // A UTC time is taken as it is; this one is before everything.
    Reply early = t.server.post("/v1/audit", {{"until", "2000-01-01T00:00:00Z"}}, token);
    CHECK(early.status == 200);
    CHECK(early.body["revisions"].empty());
  }
}

TEST_CASE("audit: by customer includes its follow-ups and no other customer", "[audit]") {
  TeamDay t;
  const std::string a_id = t.wang.replica->require(t.a).id;
  std::set<std::string> a_records(t.a_followups.begin(), t.a_followups.end());
  a_records.insert(a_id);

  json revs = kehu_json(t.auditor, {"audit", "--customer", t.a});
  // create, phone, root's need, and the two follow-ups.
  CHECK(revs.size() == 5);
  check_newest_first(revs);
  std::set<std::string> seen;
  for (const auto& r : revs) {
    CHECK(a_records.count(r["record_id"].get<std::string>()) == 1);
    CHECK(r["code"] == t.a);
    seen.insert(r["record_id"].get<std::string>());
  }
  CHECK(seen == a_records);
  std::size_t followups = 0;
  for (const auto& r : revs) followups += r["collection"] == "followups";
  CHECK(followups == 2);

  // Combined with a user: root's one edit of it.
  json by_root = kehu_json(t.auditor, {"audit", "--customer", t.a, "--user", "root"});
  REQUIRE(by_root.size() == 1);
  CHECK(by_root[0]["changes"]["need"]["new"] == "手术室设备");

  SECTION("an old (provisional) code finds the customer too") {
    Device li2(t.dir, t.server, "li", /*first_sync=*/false,
               "li-2");  // li's second device, no lease
    const std::string provisional =
        li2.replica->add("customers", new_customer("远航物流有限公司")).code;
    REQUIRE(provisional[0] == 'P');
    sync_ok(li2);
    const std::string final_code = li2.replica->require(provisional).code;
    REQUIRE(final_code[0] == 'C');
    json by_old = kehu_json(t.auditor, {"audit", "--customer", provisional});
    json by_new = kehu_json(t.auditor, {"audit", "--customer", final_code});
    REQUIRE(by_old.size() == 1);
    CHECK(by_old == by_new);
    CHECK(by_old[0]["code"] == final_code);
  }
  SECTION("an unknown customer is named in the error") {
    CliResult r = t.auditor.kehu({"audit", "--customer", "C209912999"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("C209912999"));
  }
}

TEST_CASE("audit: sales is refused, auditor and manager may query, pages newest first", "[audit]") {
  TeamDay t;
  CliResult sales = t.wang.kehu({"audit", "--user", "wang"});
  CHECK(sales.exit_code == 1);
  CHECK_THAT(sales.err,
             Catch::Contains("managers, auditors and admins") && !Catch::Contains("(forbidden)"));
  Reply refused = t.server.post("/v1/audit", json::object(), t.server.login("li", "dev-li"));
  CHECK(refused.status == 403);
  CHECK(refused.body["error"]["code"] == "forbidden");

  CHECK(t.server.post("/v1/audit", json::object(), t.server.login("zhao", "dev-m")).status == 200);
  CHECK(t.server.post("/v1/audit", json::object(), t.server.login("root", "dev-r")).status == 200);

  // Pages of 2 walk the whole log once, newest first.
  const std::string token = t.server.login("audit", "dev-x");
  std::vector<std::int64_t> seqs;
  std::string cursor = "0";
  for (bool more = true; more;) {
    Reply page = t.server.post("/v1/audit", {{"limit", 2}, {"cursor", cursor}}, token);
    REQUIRE(page.status == 200);
    REQUIRE(page.body["revisions"].size() <= 2);
    for (const auto& r : page.body["revisions"]) seqs.push_back(r["seq"]);
    more = page.body["more"];
    cursor = page.body["next_cursor"];
    REQUIRE(seqs.size() <= 20);
  }
  CHECK(seqs == std::vector<std::int64_t>{9, 8, 7, 6, 5, 4, 3, 2, 1});
  // --limit on the command line: the newest N, and a hint that more exist.
  CliResult limited = t.auditor.kehu({"audit", "--limit", "3"});
  INFO(limited.describe());
  CHECK(limited.exit_code == 0);
  CHECK_THAT(limited.out, Catch::Contains("3 revisions") && Catch::Contains("--limit"));
  CHECK(t.auditor.kehu({"audit", "--limit", "0"}).exit_code == 2);
}

TEST_CASE("audit: a manager sees only the customers in their scope", "[audit]") {
  // zhao manages 江苏 (server_fixture.h); a customer in 浙江 owned by root is outside.
  ServerFixture server;
  ScratchDir dir;
  Device root(dir, server, "root");
  auto in = [](const std::string& name, const std::string& province) {
    kehu::FieldInputs f = new_customer(name, province);
    f.emplace_back("owner", "root");
    return f;
  };
  const kehu::Record js = root.replica->add("customers", in("苏州精密机械有限公司", "江苏"));
  const kehu::Record zj = root.replica->add("customers", in("杭州丝绸有限公司", "浙江"));
  root.replica->add("followups", {{"date", "2026-11-02"}, {"person", "王五"}, {"content", "拜访"}},
                    zj.code);
  sync_ok(root);
  const std::string js_code = root.replica->require(js.id).code;
  const std::string zj_code = root.replica->require(zj.id).code;

  const std::string zhao = server.login("zhao", "dev-m");
  Reply mine = server.post("/v1/audit", json::object(), zhao);
  REQUIRE(mine.status == 200);
  REQUIRE(mine.body["revisions"].size() == 1);
  CHECK(mine.body["revisions"][0]["record_id"] == js.id);
  CHECK(mine.body["revisions"][0]["code"] == js_code);
  CHECK(all_revisions(server).size() == 3);  // the auditor sees everything

  Reply outside = server.post("/v1/audit", {{"customer", zj_code}}, zhao);
  CHECK(outside.status == 404);
  CHECK_THAT(outside.body["error"]["message"].get<std::string>(),
             Catch::Contains(zj_code) && Catch::Contains("in your scope"));
  Reply inside = server.post("/v1/audit", {{"customer", js_code}}, zhao);
  REQUIRE(inside.status == 200);
  CHECK(inside.body["revisions"].size() == 1);
}

TEST_CASE("revert restores a customer's values as of a revision", "[audit]") {
  ServerFixture server;
  ScratchDir dir;
  Device wang(dir, server, "wang"), root(dir, server, "root");
  const std::string code =
      wang.replica->add("customers", new_customer("明达医疗器械有限公司")).code;
  sync_ok(wang);  // rev 1
  wang.replica->edit(code, {{"phone", "13912345678"}, {"stage", "contract"}});
  sync_ok(wang);  // rev 2
  sync_ok(root);
  root.replica->edit(code, {{"need", "手术室设备"}, {"city", "南京"}});
  sync_ok(root);  // rev 3
  sync_ok(wang);
  const std::string id = wang.replica->require(code).id;

  CliResult r = wang.kehu({"revert", code, "--to-rev", "1"});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("reverted " + code + " to rev 1"));
  json shown = kehu_json(wang, {"customer", "show", code});
  CHECK(shown["phone"] == "13800138000");
  CHECK(shown["need"] == "办公家具");
  CHECK_FALSE(shown.contains("stage"));
  CHECK_FALSE(shown.contains("city"));
  CHECK(shown["name"] == "明达医疗器械有限公司");
  CHECK(shown["pending"] == true);

  sync_ok(wang);  // rev 4
  Reply h = server.get("/v1/records/" + id + "/history", server.login("audit", "dev-x"));
  REQUIRE(h.status == 200);
  const json newest = h.body["revisions"][0];
  CHECK(newest["rev"] == 4);
  CHECK(newest["author"] == "wang");
  CHECK(newest["cause"] == "revert to rev 1");
  CHECK(newest["changes"].size() == 4);  // phone, stage, need, city
  CHECK(newest["changes"]["need"]["new"] == "办公家具");
  // The pulled revision keeps its cause on the device, too.
  CHECK(kehu_json(wang, {"history", code})[0]["cause"] == "revert to rev 1");
  sync_ok(root);
  CHECK(root.replica->require(code).fields["phone"] == "13800138000");

  SECTION("reverting to values it already has writes nothing") {
    CliResult same = wang.kehu({"revert", code, "--to-rev", "1"});
    INFO(same.describe());
    CHECK(same.exit_code == 0);
    CHECK_THAT(same.out, Catch::Contains("nothing to revert"));
    CHECK(kehu_json(wang, {"customer", "show", code})["pending"] == false);
  }
  SECTION("--field reverts only that field") {
    wang.replica->edit(code, {{"phone", "13700001111"}, {"city", "苏州"}});
    sync_ok(wang);  // rev 5
    CliResult one = wang.kehu({"revert", code, "--to-rev", "2", "--field", "联系电话"});
    INFO(one.describe());
    REQUIRE(one.exit_code == 0);
    json after = kehu_json(wang, {"customer", "show", code});
    CHECK(after["phone"] == "13912345678");
    CHECK(after["city"] == "苏州");
    CHECK_FALSE(after.contains("stage"));  // differs from rev 2, but was not asked for
    json pending = kehu_json(wang, {"history", code})[0];
    CHECK(pending["rev"] == "pending");
    CHECK(pending["cause"] == "revert to rev 2");
    CHECK(pending["changes"].size() == 1);
    CHECK(pending["changes"].contains("phone"));
  }
  SECTION("an unknown revision is a validation error naming the range") {
    for (const std::string bad : {"99", "0"}) {
      CliResult e = wang.kehu({"revert", code, "--to-rev", bad});
      INFO(e.describe());
      CHECK(e.exit_code == 2);
      CHECK_THAT(e.err, Catch::Contains("revision " + bad) && Catch::Contains("1 to 4"));
    }
    CHECK(wang.kehu({"revert", code, "--to-rev", "2", "--field", "no_such_field"}).exit_code == 2);
    CHECK(wang.kehu({"revert", "C209912999", "--to-rev", "1"}).exit_code == 1);
    CHECK(kehu_json(wang, {"customer", "show", code})["pending"] == false);
  }
}

TEST_CASE("audit export writes one CSV row per changed field, and audit verify passes after reverts",
          "[audit]") {
  TeamDay t;
  // A revert in the log, so a revision with a cause is exported.
  REQUIRE(t.wang.kehu({"revert", t.a, "--to-rev", "1"}).exit_code == 0);
  sync_ok(t.wang);
  const json all = all_revisions(t.server);
  std::size_t expected_rows = 0;
  for (const auto& r : all) expected_rows += std::max<std::size_t>(1, r["changes"].size());

  const std::string file = t.dir.file("audit.csv");
  auto exported = run_server_command(
      {"audit", "export", "--data", t.server.data_dir(), "--since", "2000-01-01", file});
  INFO(exported.output);
  REQUIRE(exported.exit_code == 0);
  CHECK_THAT(exported.output,
             Catch::Contains("exported " + std::to_string(all.size()) + " revisions (" +
                             std::to_string(expected_rows) + " rows)"));
  CHECK_FALSE(std::filesystem::exists(file + ".tmp"));
  const auto bytes = kehu::test::read_bytes(file);
  REQUIRE(bytes);
  REQUIRE(bytes->rfind("\xEF\xBB\xBF", 0) == 0);
  const auto rows = kehu::parse_csv(bytes->substr(3));
  REQUIRE(rows.size() == expected_rows + 1);
  const std::vector<std::string> header = rows[0].cells;
  REQUIRE(header.size() == 16);
  CHECK(header[10] == "字段名称");
  CHECK(header[13] == "原因");
  bool phone_label = false, revert_cause = false, stage_label = false;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& cells = rows[i].cells;
    REQUIRE(cells.size() == 16);
    phone_label = phone_label || (cells[9] == "phone" && cells[10] == "联系电话");
    stage_label =
        stage_label || (cells[9] == "stage" && cells[10] == "销售阶段" && cells[12] == "需求分析");
    revert_cause =
        revert_cause || (cells[13] == "revert to rev 1" && cells[4] == t.a && cells[2] == "wang");
  }
  CHECK(phone_label);
  CHECK(stage_label);
  CHECK(revert_cause);

  SECTION("a range with nothing in it writes only the header") {
    auto none = run_server_command({"audit", "export", "--data", t.server.data_dir(), "--since",
                                    "2001-01-01", "--until", "2001-12-31", file, "--force"});
    INFO(none.output);
    CHECK(none.exit_code == 0);
    CHECK_THAT(none.output, Catch::Contains("exported 0 revisions (0 rows)"));
    CHECK(kehu::parse_csv(kehu::test::read_bytes(file)->substr(3)).size() == 1);
  }
  SECTION("bad dates and unwritable files fail clearly and leave no file") {
    auto bad = run_server_command(
        {"audit", "export", "--data", t.server.data_dir(), "--since", "2026-02-30", file});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.output, Catch::Contains("--since") && Catch::Contains("2026-02-30"));
    // R16-8: a day as typed elsewhere, and the rule a bad one breaks.
    for (const std::string typed : {"2000年1月1日", "２０００/１/１", "2000.1.1"}) {
      auto as_typed = run_server_command({"audit", "export", "--data", t.server.data_dir(), "--since", typed, file,
                                          "--force"});
      INFO(typed << ": " << as_typed.output);
      CHECK(as_typed.exit_code == 0);
      CHECK_THAT(as_typed.output, Catch::Contains("exported") && !Catch::Contains("exported 0 revisions"));
    }
    std::filesystem::remove(file);
    auto month = run_server_command({"audit", "export", "--data", t.server.data_dir(), "--since", "2026-13-01", file});
    CHECK(month.exit_code == 2);
    CHECK_THAT(month.output, Catch::Contains("--since: \"2026-13-01\"") && Catch::Contains("no month 13"));
    auto missing = run_server_command({"audit", "export", "--data", t.server.data_dir(), file});
    CHECK(missing.exit_code == 2);
    const std::string nowhere = t.dir.file("no/such/dir/audit.csv");
    auto unwritable = run_server_command(
        {"audit", "export", "--data", t.server.data_dir(), "--since", "2000-01-01", nowhere});
    CHECK(unwritable.exit_code == 1);
    CHECK_FALSE(std::filesystem::exists(nowhere));
    CHECK_FALSE(std::filesystem::exists(nowhere + ".tmp"));
  }

  auto verify = run_server_command({"audit", "verify", "--data", t.server.data_dir()});
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.output, Catch::Contains("ok: " + std::to_string(all.size()) + " revisions"));
}
