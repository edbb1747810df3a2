// The code paths that depend on the date, run through the real `kehu` and
// `kehu-server` on the last day of a month and the first day of the next, with
// the day fixed by KEHU_TODAY (never the wall clock): customer codes (leased,
// provisional, re-coded by the server), created_at, due follow-ups and the
// stale filter. Issue 20 came from a test that only passed in November.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "replica_cli.h"
#include "server_fixture.h"

using namespace kehu;
using Catch::Matchers::StartsWith;
using kehu::test::CliResult;
using kehu::test::EnvChanges;
using kehu::test::ReplicaCli;
using kehu::test::ServeOptions;
using kehu::test::ServerFixture;

namespace {

// "YYYYMM" of a "YYYY-MM-DD" day.
std::string month_of(const std::string& day) { return day.substr(0, 4) + day.substr(5, 2); }

json ok_json(const ReplicaCli& r, std::vector<std::string> args, const EnvChanges& env) {
  args.insert(args.begin(), "--json");
  return json::parse(r.ok(args, env).out);
}

std::string add_customer(const ReplicaCli& r, const std::string& name, const std::string& phone,
                         const EnvChanges& env, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"customer", "add",  "--set", "name=" + name, "--set",
                                   "contact=张三", "--set", "phone=" + phone, "--set",
                                   "need=办公用品", "--set", "province=江苏"};
  for (auto& m : more) args.insert(args.end(), {"--set", std::move(m)});
  std::string out = r.ok(args, env).out;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out.substr(out.find_last_of(' ') + 1);
}

std::set<std::string> codes_of(const json& list) {
  std::set<std::string> out;
  for (const auto& c : list) out.insert(c.at("code").get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("the last day of a month and the first of the next: codes, dates, due and stale",
          "[sync][dates]") {
  const auto [last, first] = GENERATE(std::pair<std::string, std::string>{"2026-11-30", "2026-12-01"},
                                      std::pair<std::string, std::string>{"2026-12-31", "2027-01-01"},
                                      std::pair<std::string, std::string>{"2028-02-29", "2028-03-01"});
  INFO("last day " << last << ", first day " << first);
  const EnvChanges on_last = {{"KEHU_TODAY", last}}, on_first = {{"KEHU_TODAY", first}};
  ServerFixture s(ServeOptions{{}, {{"KEHU_TODAY", last}}, kehu::test::TestStore::from_environment});
  ReplicaCli wang, li;
  wang.ok({"login", "--server", s.base_url(), "--user", "wang"});
  li.ok({"login", "--server", s.base_url(), "--user", "li"});

  // The last day: a customer with a leased code of that month and a follow-up.
  wang.ok({"sync"}, on_last);
  const std::string a =
      add_customer(wang, "明达科技", "13800000001", on_last, {"next_date=" + first, "next_plan=送样品"});
  CHECK_THAT(a, StartsWith("C" + month_of(last)));
  wang.ok({"followup", "add", a, "--set", "date=" + last, "--set", "person=王五", "--set", "content=电话回访"},
          on_last);
  wang.ok({"sync"}, on_last);

  // The first day: the server moves on too. Wang, offline, has no lease for the
  // new month yet: a provisional code. Li syncs first and gets the month's first codes.
  s.stop();
  s.serve_options().env["KEHU_TODAY"] = first;
  s.start(s.port());
  const std::string b = add_customer(wang, "安和商贸", "13800000002", on_first);
  CHECK_THAT(b, StartsWith("P" + month_of(first) + "-"));
  li.ok({"sync"}, on_first);
  const std::string c = add_customer(li, "华信物流", "13800000003", on_first);
  CHECK(c == "C" + month_of(first) + "001");
  li.ok({"sync"}, on_first);
  wang.ok({"sync"}, on_first);
  li.ok({"sync"}, on_first);

  // Every code is unique and the same on both replicas; the provisional code still finds b.
  const json wang_list = ok_json(wang, {"customer", "list"}, on_first);
  const json li_list = ok_json(li, {"customer", "list"}, on_first);
  const std::set<std::string> codes = codes_of(wang_list);
  CHECK(codes.size() == 3);
  CHECK(codes == codes_of(li_list));
  const json b_shown = ok_json(wang, {"customer", "show", b}, on_first);
  const std::string b_code = b_shown.at("code").get<std::string>();
  CHECK_THAT(b_code, StartsWith("C" + month_of(first)));
  CHECK(codes.count(b_code) == 1);
  CHECK(codes.count(a) == 1);
  CHECK(codes.count(c) == 1);
  CHECK(b_shown.at("created_at") == first);
  CHECK(ok_json(li, {"customer", "show", a}, on_first).at("created_at") == last);

  // a's next follow-up falls on the first day: due today, not overdue.
  const json due = ok_json(wang, {"due"}, on_first);
  REQUIRE(due.at("followups").size() == 1);
  CHECK(due["followups"][0]["code"] == a);
  CHECK(due["followups"][0]["days"] == 0);
  // Quiet since the last day: one day across the month's end.
  const json stale1 = ok_json(wang, {"customer", "list", "--stale", "1", "--where", "name=明达科技"}, on_first);
  CHECK(codes_of(stale1) == std::set<std::string>{a});
  const json stale2 = ok_json(wang, {"customer", "list", "--stale", "2", "--where", "name=明达科技"}, on_first);
  CHECK(stale2.empty());
}
