// Integration tests of kehu-server: a real server process on 127.0.0.1 (see
// server_fixture.h), driven over HTTP exactly as docs/protocol.md describes.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <chrono>
#include <thread>

#include "child_process.h"
#include "kehu/sqlite.h"
#include "server_fixture.h"

using kehu::test::hlc_now;
using kehu::test::json;
using kehu::test::make_change;
using kehu::test::new_customer_fields;
using kehu::test::Reply;
using kehu::test::run_server_command;
using kehu::test::ServeOptions;
using kehu::test::ServerFixture;

namespace {

// The whole text of `path`.
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Reply push(ServerFixture& s, const std::string& token, const std::string& device, const json& changes) {
  return s.post("/v1/push", {{"device", device}, {"changes", changes}}, token);
}

// Pushes one change and returns its result (REQUIRE 200).
json push_one(ServerFixture& s, const std::string& token, const json& change) {
  Reply r = push(s, token, change.value("device", "dev-test"), json::array({change}));
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  REQUIRE(r.body["results"].size() == 1);
  return r.body["results"][0];
}

// Creates a customer as `token`'s user; returns the result.
json create_customer(ServerFixture& s, const std::string& token, const std::string& id,
                     const std::string& device = "dev-a", std::int64_t device_seq = 1,
                     const std::string& code = {}) {
  json r = push_one(s, token,
                    make_change("create-" + id, id, "create", 0, hlc_now(), device, device_seq,
                                new_customer_fields("客户 " + id), "customers", code));
  INFO(r.dump());
  REQUIRE(r["status"] == "applied");
  return r;
}

json field(const json& old_value, const json& new_value) { return {{"old", old_value}, {"new", new_value}}; }

json pull_all(ServerFixture& s, const std::string& token) {
  Reply r = s.post("/v1/pull", {{"cursor", "0"}, {"limit", 5000}}, token);
  REQUIRE(r.status == 200);
  return r.body;
}

// A copy of the pulled record with `id`, or null.
json find_record(const json& pull, const std::string& id) {
  for (const auto& rec : pull["records"]) {
    if (rec["id"] == id) return rec;
  }
  return nullptr;
}

void require_error(const Reply& r, int status, const std::string& code) {
  INFO(r.body.dump());
  REQUIRE(r.status == status);
  REQUIRE(r.body.is_object());
  CHECK(r.body["error"]["code"] == code);
  CHECK_FALSE(r.body["error"]["message"].get<std::string>().empty());
}

bool is_hex64(const json& v) {
  if (!v.is_string() || v.get<std::string>().size() != 64) return false;
  return v.get<std::string>().find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("server: every endpoint but login needs a valid token", "[server]") {
  ServerFixture s;
  const std::string bogus(64, 'a');
  for (const std::string& token : {std::string(), bogus, std::string("short")}) {
    require_error(s.post("/v1/push", {{"changes", json::array()}}, token), 401, "unauthorized");
    require_error(s.post("/v1/pull", json::object(), token), 401, "unauthorized");
    require_error(s.post("/v1/leases", {{"month", "203001"}, {"count", 1}}, token), 401, "unauthorized");
    require_error(s.get("/v1/records/any/history", token), 401, "unauthorized");
  }
  require_error(s.get("/v1/no/such/endpoint", s.login("wang")), 404, "not_found");
}

TEST_CASE("server: login", "[server]") {
  ServerFixture s;
  SECTION("wrong password and unknown user get the same 401") {
    Reply wrong = s.post("/v1/login", {{"user", "wang"}, {"password", "not it at all"}});
    Reply unknown = s.post("/v1/login", {{"user", "nobody"}, {"password", "not it at all"}});
    require_error(wrong, 401, "unauthorized");
    require_error(unknown, 401, "unauthorized");
    CHECK(wrong.body["error"]["message"] == unknown.body["error"]["message"]);
  }
  SECTION("a good login returns a token, the role and the server clock") {
    Reply r = s.post("/v1/login", {{"user", "wang"}, {"password", ServerFixture::kPassword}, {"device", "d1"}});
    REQUIRE(r.status == 200);
    CHECK(is_hex64(r.body["token"]));
    CHECK(r.body["user"] == "wang");
    CHECK(r.body["role"] == "sales");
    CHECK(r.body["server_hlc"].get<std::int64_t>() >= hlc_now(-60000));
    CHECK(r.body["expires_at"].get<std::string>().size() == 20);
    Reply pulled = s.post("/v1/pull", json::object(), r.body["token"]);
    CHECK(pulled.status == 200);
  }
  SECTION("missing members are a protocol error") {
    require_error(s.post("/v1/login", {{"user", "wang"}}), 400, "protocol");
  }
  SECTION("a disabled user cannot log in, and its tokens stop working") {
    const std::string token = s.login("li");
    auto off = run_server_command({"user", "disable", "li", "--data", s.data_dir()});
    INFO(off.output);
    REQUIRE(off.exit_code == 0);
    // Answered as a wrong password is: the answer never confirms the password.
    require_error(s.post("/v1/login", {{"user", "li"}, {"password", ServerFixture::kPassword}}), 401,
                  "unauthorized");
    require_error(s.post("/v1/pull", json::object(), token), 403, "forbidden");
    REQUIRE(run_server_command({"user", "enable", "li", "--data", s.data_dir()}).exit_code == 0);
    // Enabled again: the user logs in again; the old session stays ended.
    require_error(s.post("/v1/pull", json::object(), token), 401, "unauthorized");
    CHECK(s.post("/v1/pull", json::object(), s.login("li")).status == 200);
  }
}

TEST_CASE("server: malformed, unknown and oversized requests", "[server]") {
  ServerFixture s;
  const std::string token = s.login("wang");
  require_error(s.post_raw("/v1/push", "{\"changes\": [", token), 400, "protocol");
  require_error(s.post_raw("/v1/login", "not json", {}), 400, "protocol");
  require_error(s.post_raw("/v1/push", "[1, 2]", token), 400, "protocol");
  require_error(s.post("/v1/push", {{"device", "d"}}, token), 400, "protocol");
  require_error(s.post("/v1/pull", {{"cursor", "abc"}}, token), 400, "protocol");
  require_error(s.post("/v1/pull", {{"limit", -3}}, token), 400, "protocol");

  SECTION("a body above 32 MiB is refused with 413") {
    std::string big = "{\"device\":\"d\",\"changes\":[],\"pad\":\"" + std::string(33u << 20, 'x') + "\"}";
    require_error(s.post_raw("/v1/push", big, token), 413, "too_large");
  }
  SECTION("more than 1000 changes in one push are refused with 413") {
    json changes = json::array();
    for (int i = 0; i < 1001; ++i) {
      changes.push_back(make_change("c" + std::to_string(i), "r", "update", 0, hlc_now(), "d", i, json::object()));
    }
    require_error(push(s, token, "d", changes), 413, "too_large");
  }
  // The server is still there after all that.
  CHECK(s.post("/v1/pull", json::object(), token).status == 200);
}

TEST_CASE("server: push a create, pull it back with the session user as author", "[server]") {
  // The server's day is fixed: a provisional code is re-coded in its month.
  ServerFixture s(ServeOptions{{}, {{"KEHU_TODAY", "2030-01-15"}}});
  const std::string token = s.login("wang", "dev-a");
  json change = make_change("c-1", "rec-1", "create", 0, hlc_now(), "dev-a", 1,
                            new_customer_fields("明达医疗器械有限公司"), "customers", "P203001-deva-001");
  change["author"] = "mallory";  // ignored: the author is the authenticated user
  Reply r = push(s, token, "dev-a", json::array({change}));
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  CHECK(r.body["server_hlc"].is_number_integer());
  json result = r.body["results"][0];
  CHECK(result["status"] == "applied");
  CHECK(result["rev"] == 1);
  CHECK(result["seq"] == 1);
  CHECK(result["code"] == "C203001001");
  CHECK(result["conflicts"] == json::array());

  json pulled = pull_all(s, s.login("li"));
  // seq 1, under li's scope version 1 (her regions were set), tied to revision 1
  CHECK_THAT(pulled["next_cursor"].get<std::string>(), Catch::StartsWith("1.1-"));
  CHECK(pulled["more"] == false);
  REQUIRE(pulled["records"].size() == 1);
  const json& rec = pulled["records"][0];
  CHECK(rec["id"] == "rec-1");
  CHECK(rec["collection"] == "customers");
  CHECK(rec["code"] == "C203001001");
  CHECK(rec["rev"] == 1);
  CHECK(rec["deleted"] == false);
  CHECK(rec["fields"]["name"] == "明达医疗器械有限公司");
  CHECK(rec["fields"]["phone"] == "13800138000");
  REQUIRE(pulled["revisions"].size() == 1);
  const json& rev = pulled["revisions"][0];
  CHECK(rev["author"] == "wang");
  CHECK(rev["device"] == "dev-a");
  CHECK(rev["op"] == "create");
  CHECK(rev["seq"] == 1);
  CHECK(rev["rev"] == 1);
  CHECK(rev["change_id"] == "c-1");
  CHECK(rev["changes"]["name"] == field(nullptr, "明达医疗器械有限公司"));
  // The chain goes only to roles that read every revision in full (li is sales).
  CHECK_FALSE(rev.contains("prev_hash"));
  CHECK_FALSE(rev.contains("hash"));
  const json full = pull_all(s, s.login("audit"))["revisions"][0];
  CHECK(full["prev_hash"] == std::string(64, '0'));
  CHECK(is_hex64(full["hash"]));
  CHECK(rev["hlc"] == change["hlc"]);
  CHECK(rev["client_hlc"] == change["hlc"]);
}

TEST_CASE("server: the same change pushed twice is applied once", "[server]") {
  ServerFixture s;
  const std::string token = s.login("wang");
  json change = make_change("dup-1", "rec-1", "create", 0, hlc_now(), "dev-a", 1, new_customer_fields("甲"));
  json first = push_one(s, token, change);
  json second = push_one(s, token, change);
  CHECK(first["status"] == "applied");
  CHECK_FALSE(first.contains("duplicate"));
  CHECK(second["duplicate"] == true);
  CHECK(second["status"] == "applied");
  CHECK(second["rev"] == first["rev"]);
  CHECK(second["seq"] == first["seq"]);
  CHECK(second["code"] == first["code"]);
  CHECK(pull_all(s, token)["revisions"].size() == 1);

  // A refusal is remembered too: the retry gets the same answer.
  json bad = make_change("bad-1", "rec-1", "update", 1, hlc_now(), "dev-a", 2,
                         {{"phone", field("13800138000", "1395678")}});
  json refused = push_one(s, token, bad);
  json again = push_one(s, token, bad);
  CHECK(refused["status"] == "rejected");
  CHECK(refused["error"]["code"] == "validation");
  CHECK(again["duplicate"] == true);
  CHECK(again["error"] == refused["error"]);
}

TEST_CASE("server: two users editing different fields of one record both keep their edits", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a"), li = s.login("li", "dev-b");
  create_customer(s, wang, "rec-1");
  json a = push_one(s, wang, make_change("a-2", "rec-1", "update", 1, hlc_now(), "dev-a", 2,
                                          {{"phone", field("13800138000", "13900139000")}}));
  json b = push_one(s, li, make_change("b-1", "rec-1", "update", 1, hlc_now(), "dev-b", 1,
                                        {{"need", field("CT 设备", "MRI 设备")}}));
  CHECK(a["status"] == "applied");
  CHECK(b["status"] == "applied");
  CHECK(a["conflicts"].empty());
  CHECK(b["conflicts"].empty());
  CHECK(b["rev"] == 3);
  const json rec = find_record(pull_all(s, wang), "rec-1");
  REQUIRE(rec.is_object());
  CHECK(rec["fields"]["phone"] == "13900139000");
  CHECK(rec["fields"]["need"] == "MRI 设备");
  CHECK(rec["rev"] == 3);
}

TEST_CASE("server: two users editing one field: the later clock wins, the loser is a conflict", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a"), li = s.login("li", "dev-b");
  create_customer(s, wang, "rec-1");
  const std::int64_t earlier = hlc_now(1000), later = hlc_now(2000);
  // li's edit is later in time but arrives first; wang's earlier edit arrives second.
  json b = push_one(s, li, make_change("b-1", "rec-1", "update", 1, later, "dev-b", 1,
                                        {{"phone", field("13800138000", "13700137000")}}));
  json a = push_one(s, wang, make_change("a-2", "rec-1", "update", 1, earlier, "dev-a", 2,
                                          {{"phone", field("13800138000", "13900139000")}}));
  CHECK(b["conflicts"].empty());
  REQUIRE(a["status"] == "applied");
  REQUIRE(a["conflicts"].size() == 1);
  const json& c = a["conflicts"][0];
  CHECK(c["field"] == "phone");
  CHECK(c["kept"] == "13700137000");
  CHECK(c["lost"] == "13900139000");
  CHECK(c["kept_author"] == "li");
  CHECK(c["lost_author"] == "wang");

  json pulled = pull_all(s, wang);
  CHECK(find_record(pulled, "rec-1")["fields"]["phone"] == "13700137000");
  Reply history = s.get("/v1/records/rec-1/history", wang);
  REQUIRE(history.status == 200);
  const json& newest = history.body["revisions"][0];
  CHECK(newest["author"] == "wang");
  REQUIRE(newest["conflicts"].size() == 1);
  CHECK(newest["conflicts"][0]["kept_author"] == "li");
  CHECK(newest["conflicts"][0]["lost_author"] == "wang");
}

TEST_CASE("server: a clock far in the future is clamped to the server's", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a"), li = s.login("li", "dev-b");
  create_customer(s, wang, "rec-1");
  const std::int64_t a_day_ahead = hlc_now(24LL * 3600 * 1000);
  Reply r = push(s, wang, "dev-a",
                 json::array({make_change("future", "rec-1", "update", 1, a_day_ahead, "dev-a", 2,
                                          {{"phone", field("13800138000", "13900139000")}})}));
  REQUIRE(r.status == 200);
  REQUIRE(r.body["results"][0]["status"] == "applied");
  const Reply history = s.get("/v1/records/rec-1/history", wang);
  const json rev = history.body["revisions"][0];
  CHECK(rev["client_hlc"] == a_day_ahead);
  CHECK(rev["hlc"].get<std::int64_t>() < hlc_now(60000));
  CHECK(rev["hlc"].get<std::int64_t>() <= r.body["server_hlc"].get<std::int64_t>());

  // So an honest concurrent edit made a moment later still wins.
  json b = push_one(s, li, make_change("honest", "rec-1", "update", 1, hlc_now(2000), "dev-b", 1,
                                        {{"phone", field("13800138000", "13700137000")}}));
  REQUIRE(b["conflicts"].size() == 1);
  CHECK(b["conflicts"][0]["kept_author"] == "li");
  CHECK(find_record(pull_all(s, wang), "rec-1")["fields"]["phone"] == "13700137000");
}

TEST_CASE("server: customer codes", "[server]") {
  // The server's day is fixed (codes of months up to the next one are kept).
  // Device ids start with the tags their provisional codes carry.
  ServerFixture s(ServeOptions{{}, {{"KEHU_TODAY", "2030-01-15"}}});
  const std::string wang = s.login("wang", "deva-1"), li = s.login("li", "devb-1"), root = s.login("root", "root-1");
  SECTION("a provisional code is replaced and stays findable as an old code") {
    json r = create_customer(s, wang, "p-1", "deva-1", 1, "P203001-deva-001");
    CHECK(r["code"] == "C203001001");
    const json rec = find_record(pull_all(s, wang), "p-1");
    CHECK(rec["code"] == "C203001001");
    CHECK(rec["old_codes"] == json::array({"P203001-deva-001"}));
    // Another device's provisional code is replaced, and is not taken as an alias.
    json other = create_customer(s, wang, "p-2", "deva-1", 2, "P203001-devb-001");
    CHECK(other["code"] == "C203001002");
    CHECK(find_record(pull_all(s, wang), "p-2")["old_codes"].empty());
  }
  SECTION("a leased code is its device's; a manager's or admin's own code is kept") {
    Reply lease = s.post("/v1/leases", {{"month", "203001"}, {"count", 5}}, wang);
    REQUIRE(lease.status == 200);
    CHECK(create_customer(s, wang, "k-1", "deva-1", 1, "C203001003")["code"] == "C203001003");
    // Taken, or in wang's lease: li's create is re-coded, and takes no alias.
    CHECK(create_customer(s, li, "k-2", "devb-1", 1, "C203001003")["code"] == "C203001006");
    CHECK(create_customer(s, li, "k-3", "devb-1", 2, "C203001004")["code"] == "C203001007");
    // An admin imports a sheet with its own codes: kept, and the counter moves past.
    CHECK(create_customer(s, root, "k-4", "root-1", 1, "C203001050")["code"] == "C203001050");
    CHECK(create_customer(s, li, "k-5", "devb-1", 3, "P203001-devb-002")["code"] == "C203001051");
    CHECK(create_customer(s, wang, "k-6", "deva-1", 2, "C203001004")["code"] == "C203001004");
    const json pulled = pull_all(s, root);
    CHECK(find_record(pulled, "k-2")["old_codes"].empty());
    CHECK(find_record(pulled, "k-3")["old_codes"].empty());
    CHECK(find_record(pulled, "k-5")["old_codes"] == json::array({"P203001-devb-002"}));
    std::set<std::string> codes;
    for (const auto& rec : pulled["records"]) codes.insert(rec["code"].get<std::string>());
    CHECK(codes.size() == pulled["records"].size());
  }
  SECTION("leased serials are never given to pushed customers") {
    Reply lease = s.post("/v1/leases", {{"month", "203001"}, {"count", 5}}, wang);
    REQUIRE(lease.status == 200);
    CHECK(lease.body["first"] == 1);
    CHECK(lease.body["last"] == 5);
    CHECK(create_customer(s, li, "l-1", "devb-1", 1, "P203001-devb-001")["code"] == "C203001006");
    CHECK(create_customer(s, wang, "l-2", "deva-1", 1, "C203001003")["code"] == "C203001003");
  }
}

TEST_CASE("server: leases never overlap", "[server]") {
  // The server's day is fixed: months up to the next one are leased.
  ServerFixture s(ServeOptions{{}, {{"KEHU_TODAY", "2030-01-15"}}});
  const std::string wang = s.login("wang"), li = s.login("li");
  require_error(s.post("/v1/leases", {{"month", "203013"}, {"count", 5}}, wang), 400, "validation");
  require_error(s.post("/v1/leases", {{"month", "203001"}, {"count", 0}}, wang), 400, "validation");
  require_error(s.post("/v1/leases", {{"month", "203001"}}, wang), 400, "protocol");
  require_error(s.post("/v1/leases", {{"month", "203001"}, {"count", 5}}, s.login("audit")), 403, "forbidden");

  // Many devices lease at once.
  std::vector<std::pair<std::int64_t, std::int64_t>> blocks;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        Reply r = s.post("/v1/leases", {{"month", "203002"}, {"count", 3}}, t % 2 ? wang : li);
        std::lock_guard<std::mutex> lock(mu);
        if (r.status == 200) blocks.emplace_back(r.body["first"], r.body["last"]);
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(blocks.size() == 30);
  std::sort(blocks.begin(), blocks.end());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    CHECK(blocks[i].second - blocks[i].first == 2);
    if (i > 0) CHECK(blocks[i].first == blocks[i - 1].second + 1);
  }
  CHECK(blocks.front().first == 1);
  CHECK(blocks.back().second == 90);
}

TEST_CASE("server: record history, newest first", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  create_customer(s, wang, "rec-1");
  push_one(s, wang, make_change("u-2", "rec-1", "update", 1, hlc_now(), "dev-a", 2,
                                {{"phone", field("13800138000", "13900139000")}}));
  push_one(s, wang, make_change("u-3", "rec-1", "delete", 2, hlc_now(), "dev-a", 3,
                                {{"deleted", field(false, true)}}));
  create_customer(s, wang, "rec-other");
  Reply h = s.get("/v1/records/rec-1/history", wang);
  REQUIRE(h.status == 200);
  const json& revs = h.body["revisions"];
  REQUIRE(revs.size() == 3);
  CHECK(revs[0]["rev"] == 3);
  CHECK(revs[0]["op"] == "delete");
  CHECK(revs[0]["changes"]["deleted"] == field(false, true));
  CHECK(revs[1]["rev"] == 2);
  CHECK(revs[1]["changes"]["phone"] == field("13800138000", "13900139000"));
  CHECK(revs[2]["rev"] == 1);
  CHECK_FALSE(revs[0].contains("hash"));  // wang is sales: no chain (access_policy.h)
  Reply full = s.get("/v1/records/rec-1/history", s.login("root"));
  REQUIRE(full.status == 200);
  CHECK(full.body["revisions"][0]["prev_hash"] == full.body["revisions"][1]["hash"]);
  CHECK(find_record(pull_all(s, wang), "rec-1")["deleted"] == true);
  require_error(s.get("/v1/records/no-such-record/history", wang), 404, "not_found");
}

TEST_CASE("server: refused changes name the reason and change nothing", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  create_customer(s, wang, "rec-1");
  json changes = json::array({
      make_change("v-1", "rec-1", "update", 1, hlc_now(), "dev-a", 2, {{"phone", field("13800138000", "1395678")}}),
      make_change("v-2", "rec-2", "create", 0, hlc_now(), "dev-a", 3, {{"name", field(nullptr, "缺少字段")}, {"province", field(nullptr, "江苏")}}),
      make_change("v-3", "rec-1", "update", 1, hlc_now(), "dev-a", 4, {{"no_such_field", field(nullptr, "x")}}),
      make_change("v-4", "rec-9", "update", 1, hlc_now(), "dev-a", 5, {{"need", field(nullptr, "x")}}),
      make_change("v-5", "fu-1", "create", 0, hlc_now(), "dev-a", 6,
                  {{"date", field(nullptr, "2026-11-27")}, {"person", field(nullptr, "王")},
                   {"content", field(nullptr, "电话")}},
                  "followups", "", "no-such-customer"),
      make_change("v-6", "rec-1", "update", 1, hlc_now(), "dev-a", 7, {{"credit_rating", field(nullptr, "A")}}),
      make_change("v-7", "fu-2", "create", 0, hlc_now(), "dev-a", 8,
                  {{"date", field(nullptr, "2026-11-27")}, {"person", field(nullptr, "王")},
                   {"content", field(nullptr, "电话")}},
                  "followups", "", "rec-1"),
  });
  Reply r = push(s, wang, "dev-a", changes);
  REQUIRE(r.status == 200);
  const json& res = r.body["results"];
  REQUIRE(res.size() == 7);
  CHECK(res[0]["error"]["code"] == "validation");
  CHECK_THAT(res[0]["error"]["message"].get<std::string>(), Catch::Contains("phone") && Catch::Contains("1395678"));
  CHECK(res[1]["error"]["code"] == "validation");
  CHECK_THAT(res[1]["error"]["message"].get<std::string>(), Catch::Contains("contact"));
  CHECK(res[2]["error"]["code"] == "validation");
  CHECK_THAT(res[2]["error"]["message"].get<std::string>(), Catch::Contains("no_such_field"));
  CHECK(res[3]["error"]["code"] == "not_found");
  CHECK(res[4]["error"]["code"] == "not_found");
  CHECK(res[5]["error"]["code"] == "forbidden");  // sales may not touch restricted fields
  CHECK(res[6]["status"] == "applied");           // one bad change does not stop the others
  json pulled = pull_all(s, wang);
  CHECK(pulled["revisions"].size() == 2);
  CHECK(find_record(pulled, "rec-1")["fields"]["phone"] == "13800138000");
}

TEST_CASE("server: roles", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a"), zhao = s.login("zhao", "dev-m");
  const std::string auditor = s.login("audit", "dev-x");
  create_customer(s, wang, "rec-1");
  SECTION("an auditor may read but not write") {
    // Refused by role from the headers, before its body is read (docs/protocol.md).
    Reply r = s.post("/v1/push", {{"device", "dev-x"},
                                  {"changes", json::array({make_change("x-1", "rec-1", "update", 1, hlc_now(),
                                                                       "dev-x", 1, {{"need", field(nullptr, "x")}})})}},
                     auditor);
    CHECK(r.status == 403);
    CHECK(r.body["error"]["code"] == "forbidden");
    CHECK(pull_all(s, auditor)["revisions"].size() == 1);
  }
  SECTION("restricted fields never reach a sales user") {
    json r = push_one(s, zhao, make_change("m-1", "rec-1", "update", 1, hlc_now(), "dev-m", 1,
                                           {{"credit_rating", field(nullptr, "A")},
                                            {"annual_spend", field(nullptr, 1234500)}}));
    REQUIRE(r["status"] == "applied");
    json as_manager = pull_all(s, zhao);
    CHECK(find_record(as_manager, "rec-1")["fields"]["credit_rating"] == "A");
    CHECK(pull_all(s, auditor)["revisions"][1]["changes"].contains("annual_spend"));
    json as_sales = pull_all(s, wang);
    CHECK_FALSE(find_record(as_sales, "rec-1")["fields"].contains("credit_rating"));
    CHECK_FALSE(find_record(as_sales, "rec-1")["fields"].contains("annual_spend"));
    CHECK(as_sales["revisions"][1]["changes"] == json::object());
    Reply h = s.get("/v1/records/rec-1/history", wang);
    CHECK(h.body.dump().find("1234500") == std::string::npos);
  }
}

TEST_CASE("server: pull pages through the log by cursor", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  for (int i = 1; i <= 5; ++i) create_customer(s, wang, "rec-" + std::to_string(i), "dev-a", i);
  std::string cursor = "0";
  std::vector<std::int64_t> seqs;
  int pages = 0;
  for (bool more = true; more; ++pages) {
    Reply r = s.post("/v1/pull", {{"cursor", cursor}, {"limit", 2}}, wang);
    REQUIRE(r.status == 200);
    for (const auto& rev : r.body["revisions"]) seqs.push_back(rev["seq"]);
    CHECK(r.body["records"].size() == r.body["revisions"].size());
    more = r.body["more"];
    cursor = r.body["next_cursor"];
    REQUIRE(pages < 10);
  }
  CHECK(pages == 3);
  CHECK(seqs == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  Reply empty = s.post("/v1/pull", {{"cursor", cursor}}, wang);
  CHECK(empty.body["revisions"].empty());
  CHECK(empty.body["next_cursor"] == cursor);
  CHECK(empty.body["more"] == false);
}

TEST_CASE("server: compressed requests and responses", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  httplib::Client c = s.client();
  c.set_compress(true);  // gzip the request body
  json body = {{"device", "dev-a"},
               {"changes", json::array({make_change("z-1", "rec-z", "create", 0, hlc_now(), "dev-a", 1,
                                                    new_customer_fields("压缩"))})}};
  auto r = c.Post("/v1/push", {{"Authorization", "Bearer " + wang}}, body.dump(), "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto p = c.Post("/v1/pull", {{"Authorization", "Bearer " + wang}, {"Accept-Encoding", "gzip"}}, "{}",
                  "application/json");
  REQUIRE(p);
  CHECK(p->get_header_value("Content-Encoding") == "gzip");
  CHECK(json::parse(p->body)["records"][0]["fields"]["name"] == "压缩");
}

// SQLite only: it tampers with the store file through SQLite; test_postgres.cpp
// tampers with a PostgreSQL store through psql.
TEST_CASE("server: audit verify names a tampered revision (SQLite file)", "[server][sqlite-only]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  create_customer(s, wang, "rec-1");
  push_one(s, wang, make_change("u-2", "rec-1", "update", 1, hlc_now(), "dev-a", 2,
                                {{"phone", field("13800138000", "13900139000")}}));
  create_customer(s, wang, "rec-2", "dev-a", 3);
  REQUIRE(s.stop() == 0);

  auto ok = run_server_command({"audit", "verify", "--data", s.data_dir()});
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.output, Catch::Contains("ok: 3 revisions"));

  {
    // What someone with the sqlite shell could do: drop the guard, rewrite history.
    kehu::db::Database db(s.store_path(), false);
    db.exec("DROP TRIGGER revisions_no_update");
    db.exec("UPDATE revisions SET body = replace(body, '13900139000', '13911112222') WHERE seq = 2");
    REQUIRE(db.changes() == 1);
  }
  auto broken = run_server_command({"audit", "verify", "--data", s.data_dir()});
  INFO(broken.output);
  CHECK(broken.exit_code == 1);
  CHECK_THAT(broken.output, Catch::Contains("seq 2") && Catch::Contains("rec-1"));
}

// SQLite only: `kehu-server backup` copies the SQLite file; a PostgreSQL store is
// backed up with pg_dump (backup --store is refused, test_postgres.cpp).
TEST_CASE("server: a backup taken while serving restores to a verifiable store (SQLite file)",
          "[server][sqlite-only]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  for (int i = 1; i <= 20; ++i) create_customer(s, wang, "rec-" + std::to_string(i), "dev-a", i);

  // Keep writing while the backup runs.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 21; !stop && i < 400; ++i) {
      push(s, wang, "dev-a",
           json::array({make_change("w-" + std::to_string(i), "rec-" + std::to_string(i), "create", 0,
                                    hlc_now(), "dev-a", i, new_customer_fields("并发"))}));
    }
  });
  const std::string file = s.data_dir() + "/backup.db";
  auto backup = run_server_command({"backup", "--data", s.data_dir(), file});
  stop = true;
  writer.join();
  INFO(backup.output);
  REQUIRE(backup.exit_code == 0);

  const std::string restored = s.data_dir() + "/restored";
  std::filesystem::create_directories(restored);
  std::filesystem::copy_file(file, restored + "/kehu-server.db");
  auto verify = run_server_command({"audit", "verify", "--data", restored});
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.output, Catch::StartsWith("ok: "));
  const long n = std::stol(verify.output.substr(4));
  CHECK(n >= 20);
  CHECK(n <= static_cast<long>(pull_all(s, wang)["revisions"].size()));
}

// Walkthrough 11, R11-14: `backup --force` onto the store's own file or its WAL
// replaced the live data under the running server.
TEST_CASE("server: backup refuses the store itself, its WAL and journal, even with --force (SQLite file)",
          "[server][sqlite-only]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  for (int i = 1; i <= 5; ++i) create_customer(s, wang, "rec-" + std::to_string(i), "dev-a", i);
  for (const std::string& target : {s.store_path(), s.store_path() + "-wal", s.store_path() + "-shm",
                                   s.store_path() + "-journal", s.data_dir() + "/./kehu-server.db"}) {
    auto r = run_server_command({"backup", "--data", s.data_dir(), "--force", target});
    INFO(target << "\n" << r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Catch::Contains("is the store's own file") && Catch::Contains("nothing was written"));
  }
  CHECK_FALSE(std::filesystem::exists(s.store_path() + "-journal"));
  // R12-4: a folder left FOLDER.tmp behind, a whole copy of the store.
  auto folder = run_server_command({"backup", "--data", s.data_dir(), "--force", s.data_dir()});
  INFO(folder.output);
  CHECK(folder.exit_code == 2);
  CHECK_THAT(folder.output, Catch::Contains("is a folder") && Catch::Contains("nothing was written"));
  CHECK_FALSE(std::filesystem::exists(s.data_dir() + ".tmp"));
  // A12-3: audit export --force wrote its CSV over the store's WAL.
  auto exported = run_server_command(
      {"audit", "export", "--data", s.data_dir(), "--since", "2000-01-01", "--force", s.store_path() + "-wal"});
  INFO(exported.output);
  CHECK(exported.exit_code == 2);
  CHECK_THAT(exported.output, Catch::Contains("is the store's own file"));
  // A13-2: a link at FILE.tmp to the store was written through, which cut the
  // store down to the CSV's header.
  const std::string out = s.data_dir() + "/export.csv";
  for (const bool hard : {false, true}) {
    if (hard) {
      std::filesystem::create_hard_link(s.store_path(), out + ".tmp");
    } else {
      std::filesystem::create_symlink(s.store_path(), out + ".tmp");
    }
    const auto before = std::filesystem::file_size(s.store_path());
    auto linked = run_server_command({"audit", "export", "--data", s.data_dir(), "--since", "2000-01-01", out});
    INFO(linked.output);
    CHECK(linked.exit_code == 0);
    CHECK(std::filesystem::file_size(s.store_path()) == before);
    CHECK_THAT(read_text(out), Catch::StartsWith("\xEF\xBB\xBF"));  // the CSV went to FILE
    std::filesystem::remove(out + ".tmp");  // the link, left as it was
    std::filesystem::remove(out);
  }
  auto nowhere = run_server_command({"backup", "--data", s.data_dir(), s.data_dir() + "/no/such/b.db"});
  INFO(nowhere.output);
  CHECK(nowhere.exit_code == 2);
  CHECK_THAT(nowhere.output, Catch::Contains("there is no folder " + s.data_dir() + "/no/such"));
  create_customer(s, wang, "rec-6", "dev-a", 6);  // the server still writes to the same store
  CHECK(pull_all(s, wang)["records"].size() == 6);
  REQUIRE(s.stop() == 0);
  auto verify = run_server_command({"audit", "verify", "--data", s.data_dir()});
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.output, Catch::Contains("ok: 6 revisions"));
  auto beside = run_server_command({"backup", "--data", s.data_dir(), s.data_dir() + "/copy.db"});
  INFO(beside.output);
  CHECK(beside.exit_code == 0);
}

// Walkthrough 11, R11-13: a damaged page that no revision lies on (an index)
// passed `audit verify` as "ok".
TEST_CASE("server: audit verify runs SQLite's integrity check first (SQLite file)", "[server][sqlite-only]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  for (int i = 1; i <= 30; ++i) create_customer(s, wang, "rec-" + std::to_string(i), "dev-a", i);
  REQUIRE(s.stop() == 0);
  std::int64_t page = 0, page_size = 0;
  {
    kehu::db::Database db(s.store_path(), false);
    auto q = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'records_by_parent'");
    REQUIRE(q.step());
    page = q.int64(0);
    auto size = db.prepare("PRAGMA page_size");
    REQUIRE(size.step());
    page_size = size.int64(0);
  }
  REQUIRE(page > 1);
  // Overwrites `bytes` bytes of the store file at `offset` with junk, as a
  // failing disk or a stray write would.
  const auto damage = [&](std::int64_t offset, std::int64_t bytes) {
    std::fstream f(s.store_path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    const std::string junk(static_cast<std::size_t>(bytes), '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    REQUIRE(f.good());
  };
  damage((page - 1) * page_size, page_size);
  auto verify = run_server_command({"audit", "verify", "--data", s.data_dir()});
  INFO(verify.output);
  CHECK(verify.exit_code == 1);
  CHECK_THAT(verify.output, Catch::StartsWith("damaged: the store file") && Catch::Contains("integrity check"));
  // R12-11: a header SQLite cannot read (its 16-byte magic string) was a raw
  // "file is encrypted or is not a database".
  damage(0, 16);
  auto header = run_server_command({"audit", "verify", "--data", s.data_dir()});
  INFO(header.output);
  CHECK(header.exit_code == 1);
  CHECK_THAT(header.output, Catch::StartsWith("damaged: the store file") && Catch::Contains("Restore a backup"));
}

// Attacker review 12, A12-4, and walkthrough 12, R12-12: the chain covers the
// revisions only, so a record changed by hand, a damaged cell, or a chain cut
// short at its end (triggers dropped, then put back) all passed as "ok".
TEST_CASE("server: audit verify checks every record against its revisions (SQLite file)", "[server][sqlite-only]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a");
  create_customer(s, wang, "rec-1");
  create_customer(s, wang, "rec-2", "dev-a", 2);
  push_one(s, wang, make_change("u-3", "rec-1", "update", 1, hlc_now(), "dev-a", 3,
                                {{"phone", field("13800138000", "13900139000")}}));
  REQUIRE(s.stop() == 0);
  const std::string pristine = s.data_dir() + "/pristine.db";
  std::filesystem::copy_file(s.store_path(), pristine);
  const auto verify_after = [&](const std::string& sql) {
    std::filesystem::copy_file(pristine, s.store_path(), std::filesystem::copy_options::overwrite_existing);
    {
      kehu::db::Database db(s.store_path(), false);
      db.exec(sql.c_str());
    }
    auto r = run_server_command({"audit", "verify", "--data", s.data_dir()});
    UNSCOPED_INFO(sql << "\n" << r.output);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::StartsWith("broken: ") && Catch::Contains("Restore a backup"));
    return r.output;
  };
  auto ok = run_server_command({"audit", "verify", "--data", s.data_dir()});
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.output, Catch::Contains("ok: 3 revisions, and the 2 records match them"));

  // A value changed where the server merges from, and where devices are sent it from.
  CHECK_THAT(verify_after("UPDATE records SET state = replace(state, '13900139000', '13911112222') WHERE id = 'rec-1'"),
             Catch::Contains("record rec-1: its field phone is not the value its revisions wrote") &&
                 Catch::Contains("\"13900139000\"") && Catch::Contains("\"13911112222\""));
  CHECK_THAT(verify_after("UPDATE records SET fields = replace(fields, '13900139000', '13911112222') WHERE id = 'rec-1'"),
             Catch::Contains("record rec-1: the values devices are sent differ from its state"));
  // A damaged cell: not JSON any more.
  CHECK_THAT(verify_after("UPDATE records SET fields = '{\"name\":}' WHERE id = 'rec-2'"),
             Catch::Contains("record rec-2: its stored row cannot be read"));
  const std::string put_guard_back =
      "CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions "
      "BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;";
  // A revision cut from the middle breaks the next link.
  CHECK_THAT(verify_after("DROP TRIGGER revisions_no_delete; DELETE FROM revisions WHERE seq = 2; " + put_guard_back),
             Catch::Contains("broken: revision seq 3"));
  // The last one cut off, the guard put back: the chain is whole, but the
  // record is ahead of it.
  CHECK_THAT(verify_after("DROP TRIGGER revisions_no_delete; DELETE FROM revisions WHERE seq = 3; " + put_guard_back),
             Catch::Contains("record rec-1: its rev is not its newest revision's") && Catch::Contains("rev 1") &&
                 Catch::Contains("rev 2"));
  // The guard itself dropped.
  CHECK_THAT(verify_after("DROP TRIGGER revisions_no_update"), Catch::Contains("append-only are missing"));
  // A14-2: kept by name, but never firing.
  CHECK_THAT(verify_after("DROP TRIGGER revisions_no_update; CREATE TRIGGER revisions_no_update BEFORE UPDATE ON "
                          "revisions WHEN 0 BEGIN SELECT RAISE(ABORT, 'revisions are append-only'); END;"),
             Catch::Contains("append-only are missing, disabled or rewritten"));
  CHECK_THAT(verify_after("DROP TRIGGER revisions_no_delete; CREATE TRIGGER revisions_no_delete BEFORE DELETE ON "
                          "revisions BEGIN SELECT 1; END;"),
             Catch::Contains("append-only are missing, disabled or rewritten"));
  // A row added beside the chain.
  CHECK_THAT(verify_after("INSERT INTO records(id, collection, parent, code, rev, deleted, state, fields, updated_seq) "
                          "SELECT 'rec-9', collection, parent, NULL, rev, deleted, state, fields, updated_seq "
                          "FROM records WHERE id = 'rec-2'"),
             Catch::Contains("the store holds 3 records, but its revisions wrote 2"));
}

TEST_CASE("server: SIGTERM and SIGINT stop it cleanly", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang");
  create_customer(s, wang, "rec-1");
  CHECK(s.stop(SIGTERM) == 0);
  s.start();  // the same store serves again
  CHECK(pull_all(s, wang)["records"].size() == 1);
  CHECK(s.stop(SIGINT) == 0);
  // One log line per request: method, path, status, user, duration.
  CHECK_THAT(s.log(), Catch::Contains("POST /v1/login 200 user=wang") && Catch::Contains("POST /v1/push 200 user=wang"));
}

TEST_CASE("server: concurrent pushes are serialised into one chain", "[server]") {
  ServerFixture s;
  const std::string wang = s.login("wang", "dev-a"), li = s.login("li", "dev-b");
  create_customer(s, wang, "rec-1");
  constexpr int kThreads = 6, kEach = 10;
  std::vector<json> results;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string device = "dev-" + std::to_string(t);
      for (int i = 1; i <= kEach; ++i) {
        json change = make_change(device + "-" + std::to_string(i), "rec-1", "update", 1, hlc_now(), device, i,
                                  {{"notes", field(nullptr, device + " #" + std::to_string(i))}});
        // One push per user at a time: a parallel one of the same user is 429
        // too_many_pushes, and is sent again (as the kehu client does).
        Reply r = push(s, t % 2 ? wang : li, device, json::array({change}));
        for (int again = 0; again < 1000 && r.status == 429; ++again) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          r = push(s, t % 2 ? wang : li, device, json::array({change}));
        }
        std::lock_guard<std::mutex> lock(mu);
        results.push_back(r.status == 200 ? r.body["results"][0] : r.body);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> seqs, revs;
  for (const auto& r : results) {
    INFO(r.dump());
    REQUIRE(r["status"] == "applied");
    seqs.insert(r["seq"].get<std::int64_t>());
    revs.insert(r["rev"].get<std::int64_t>());
  }
  CHECK(seqs.size() == kThreads * kEach);
  CHECK(revs.size() == kThreads * kEach);
  CHECK(find_record(pull_all(s, wang), "rec-1")["rev"] == 1 + kThreads * kEach);
  auto verify = run_server_command({"audit", "verify", "--data", s.data_dir()});
  INFO(verify.output);
  CHECK(verify.exit_code == 0);
  CHECK_THAT(verify.output, Catch::Contains("ok: " + std::to_string(1 + kThreads * kEach) + " revisions"));
}

TEST_CASE("server: a second server on a port in use fails, unless --reuse-port asks to share it",
          "[server][sqlite-only]") {
  ServerFixture first;
  const std::string dir = first.data_dir() + "-second";
  std::filesystem::create_directories(dir);
  auto init = run_server_command({"init", "--data", dir});
  INFO(init.output);
  REQUIRE(init.exit_code == 0);
  const std::string listen = "127.0.0.1:" + std::to_string(first.port());
  kehu::launch::ChildSpec spec{kehu::test::server_binary(), {"serve", "--data", dir, "--listen", listen},
                               {}, dir + "/serve.out", dir + "/serve.err"};

  // Before the fix cpp-httplib's SO_REUSEPORT let this start and say "listening".
  const kehu::launch::ChildResult refused = kehu::launch::run_child(spec, 20);
  INFO(refused.describe());
  CHECK_FALSE(refused.timed_out);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("cannot listen on " + listen + ": the port is in use") != std::string::npos);
  CHECK(refused.out.find("listening") == std::string::npos);
  CHECK_FALSE(first.login("root").empty());  // the first server still answers

  // Asked for, two servers share the port. Each then answers on it.
  ServerFixture shared(ServeOptions{{"--reuse-port"}, {}});
  std::filesystem::remove(dir + "/serve.out");
  spec.args = {"serve", "--data", dir, "--listen", "127.0.0.1:" + std::to_string(shared.port()), "--reuse-port"};
  kehu::launch::StartedServer second{};
  REQUIRE_NOTHROW(second = kehu::launch::start_server(spec));
  CHECK(second.port == shared.port());
  CHECK(kehu::launch::stop_child(second.pid, SIGTERM, std::chrono::seconds(10)) == 0);
  std::filesystem::remove_all(dir);
}
