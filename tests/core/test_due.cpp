// Reminders, the churn rule, the derived last_followup_at, the customer index
// behind `customer list` filters and the n-gram search (core/replica/replica_due.cc,
// customer_index.cc, customer_filter.cc, search_grams.cc), on real SQLCipher
// replicas with fixed dates. The CLI tests run the real `kehu` binary; the last
// one a real kehu-server too.
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/calendar.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/sqlite.h"
#include "replica_cli.h"
#include "replica_impl.h"  // kehu::migrate(db, target): a replica as kehu v3 made it
#include "search_grams.h"
#include "server_fixture.h"
#include "test_support.h"

using namespace kehu;
using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::EnvChanges;
using kehu::test::ScratchDir;

namespace {

constexpr const char* kPass = "due tests";
const std::string kToday = "2026-11-27";

struct Fixture {
  kehu::test::ScopedToday today{kToday};
  ScratchDir dir{"kehu-due"};
  std::string path = dir.file("replica.db");
  std::unique_ptr<Replica> rep = Replica::create(path, kPass);
};

// A customer with the required fields plus `more`; returns its code.
std::string add_customer(Replica& rep, const std::string& name, FieldInputs more = {}) {
  FieldInputs in = {
      {"name", name}, {"contact", "张三"}, {"phone", "13800138000"}, {"need", "办公用品"}};
  in.insert(in.end(), more.begin(), more.end());
  return rep.add("customers", in).code;
}

std::string add_followup(Replica& rep, const std::string& code, const std::string& date) {
  return rep.add("followups", {{"date", date}, {"person", "王五"}, {"content", "电话回访"}}, code)
      .id;
}

std::string add_order(Replica& rep, const std::string& code, const std::string& date) {
  FieldInputs in = {{"product", "打印机"}};
  if (!date.empty()) in.push_back({"date", date});
  return rep.add("orders", in, code).id;
}

std::string last_followup(const Replica& rep, const std::string& code) {
  return rep.require(code).fields.value("last_followup_at", "");
}

std::vector<std::string> codes(const std::vector<DueItem>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.customer.code);
  return out;
}

std::vector<std::string> codes(const std::vector<Record>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.code);
  return out;
}

std::vector<std::string> search(const Replica& rep, const std::string& text, bool deleted = false) {
  ListQuery q;
  q.search = text;
  q.deleted = deleted;
  return codes(rep.list(q));
}

std::string day(std::int64_t offset) { return add_days(kToday, offset); }

Errc code_of(const std::function<void()>& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  FAIL("expected a kehu::Error");
  return Errc::internal;
}

PulledRecord pulled(const std::string& id, const std::string& collection, std::int64_t rev,
                    json fields, const std::string& code = {}, const std::string& parent = {}) {
  PulledRecord p;
  p.id = id;
  p.collection = collection;
  p.rev = rev;
  p.code = code;
  p.parent = parent;
  p.fields = std::move(fields);
  return p;
}

json customer_fields(const std::string& name) {
  return {{"name", name}, {"contact", "赵六"}, {"phone", "13800000002"}, {"need", "仓储系统"}};
}

json followup_fields(const std::string& date) {
  return {{"date", date}, {"person", "李四"}, {"content", "上门拜访"}};
}

}  // namespace

// ---------------------------------------------------------------------------
// Calendar and pair tokens.

TEST_CASE("calendar days count across month and year ends, anniversaries handle 29 February",
          "[due]") {
  CHECK(day_number("1970-01-01") == 0);
  CHECK(day_number("2026-11-27") == day_number("2026-11-26").value() + 1);
  CHECK_FALSE(day_number("2025-02-29"));
  CHECK_FALSE(day_number("2026-1-05"));
  CHECK_FALSE(day_number("2026-13-01"));
  CHECK(day_number("2024-02-29"));
  CHECK(add_days("2026-12-30", 3) == "2027-01-02");
  CHECK(add_days("2024-03-01", -1) == "2024-02-29");
  CHECK(date_of_day(*day_number("2000-02-29")) == "2000-02-29");
  CHECK(next_anniversary("1990-12-30", "2026-12-28") == "2026-12-30");
  CHECK(next_anniversary("1990-01-02", "2026-12-28") == "2027-01-02");
  CHECK(next_anniversary("1990-12-28", "2026-12-28") == "2026-12-28");
  CHECK(next_anniversary("2000-02-29", "2027-02-01") == "2027-02-28");
  CHECK(next_anniversary("2000-02-29", "2028-02-01") == "2028-02-29");
  CHECK(next_anniversary("2000-02-29", "2027-03-01") == "2028-02-29");
  CHECK_FALSE(next_anniversary("not a date", "2027-03-01"));
  CHECK(code_of([] { checked_today("2026-02-30", "KEHU_TODAY"); }) == Errc::usage);
}

TEST_CASE("pair tokens: overlapping character pairs that FTS4's simple tokenizer keeps whole",
          "[due]") {
  CHECK(code_points("科技有限") == 4);
  CHECK(code_points("a科") == 2);
  CHECK(pair_tokens("科技有限") ==
        std::vector<std::string>{"技有", "有限", "科技"});  // sorted bytes
  CHECK(pair_tokens("科").empty());
  CHECK(pair_tokens("科技科技") == std::vector<std::string>{"技科", "科技"});
  // ASCII letters and digits stay; everything else becomes a private-use
  // character, so no token holds an ASCII delimiter or query syntax.
  CHECK(pair_tokens("ab") == std::vector<std::string>{"ab"});
  for (const auto& t : pair_tokens("c-3 \"x\" OR *y")) {
    for (unsigned char c : t) {
      INFO(t);
      CHECK((c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')));
    }
  }
  CHECK(fold_search_text("ERP 系统") == "erp 系统");
}

// ---------------------------------------------------------------------------
// Reminders.

TEST_CASE("due: follow-ups due within N days or overdue, overdue first, with days overdue",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string late =
      add_customer(rep, "逾期客户", {{"next_date", day(-3)}, {"next_plan", "发送报价单"}});
  const std::string later = add_customer(rep, "更早逾期", {{"next_date", day(-40)}});
  const std::string today = add_customer(rep, "今天跟进", {{"next_date", kToday}});
  const std::string edge = add_customer(rep, "第七天", {{"next_date", day(7)}});
  add_customer(rep, "第八天", {{"next_date", day(8)}});
  add_customer(rep, "无日期");
  const std::string binned = add_customer(rep, "回收站", {{"next_date", day(-1)}});
  rep.remove(binned);

  DueReport r = rep.due(kToday, 7);
  CHECK(r.today == kToday);
  CHECK(r.days == 7);
  CHECK(codes(r.followups) == std::vector<std::string>{later, late, today, edge});
  REQUIRE(r.followups.size() == 4);
  CHECK(r.followups[0].days == 40);
  CHECK(r.followups[1].days == 3);
  CHECK(r.followups[1].date == day(-3));
  CHECK(r.followups[1].reason == "overdue by 3 days: 发送报价单");
  CHECK(r.followups[2].reason == "due today");
  CHECK(r.followups[3].days == -7);
  CHECK(r.followups[3].reason == "due in 7 days");
  // --days 0: only what is due today or overdue.
  CHECK(codes(rep.due(kToday, 0).followups) == std::vector<std::string>{later, late, today});
  // An edit moves a customer in or out.
  rep.edit(late, {{"next_date", day(10)}});
  CHECK(codes(rep.due(kToday, 7).followups) == std::vector<std::string>{later, today, edge});
  CHECK(code_of([&] { rep.due(kToday, -1); }) == Errc::usage);
  CHECK(code_of([&] { rep.due("2026-11-31", 7); }) == Errc::usage);
}

TEST_CASE("due: birthdays in the next N days, across a year end and on 29 February", "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string today = add_customer(rep, "今天生日", {{"birthday", "1985-12-28"}});
  const std::string newyear = add_customer(rep, "元旦后", {{"birthday", "1990-01-04"}});
  const std::string eve = add_customer(rep, "除夕", {{"birthday", "1979-12-31"}});
  add_customer(rep, "第八天", {{"birthday", "1990-01-05"}});
  add_customer(rep, "昨天", {{"birthday", "1990-12-27"}});
  const std::string leap = add_customer(rep, "闰日", {{"birthday", "2000-02-29"}});

  DueReport r = rep.due("2026-12-28", 7);
  CHECK(codes(r.birthdays) == std::vector<std::string>{today, eve, newyear});
  REQUIRE(r.birthdays.size() == 3);
  CHECK(r.birthdays[0].days == 0);
  CHECK(r.birthdays[0].reason == "birthday today");
  CHECK(r.birthdays[1].date == "2026-12-31");
  CHECK(r.birthdays[2].date == "2027-01-04");
  CHECK(r.birthdays[2].days == 7);
  CHECK(r.birthdays[2].reason == "birthday on 01-04 (in 7 days)");

  // 29 February: on the 28th in a common year, on the 29th in a leap year.
  r = rep.due("2027-02-25", 7);
  REQUIRE(codes(r.birthdays) == std::vector<std::string>{leap});
  CHECK(r.birthdays[0].date == "2027-02-28");
  CHECK(r.birthdays[0].days == 3);
  r = rep.due("2028-02-25", 3);
  CHECK(codes(r.birthdays).empty());
  r = rep.due("2028-02-25", 4);
  REQUIRE(codes(r.birthdays) == std::vector<std::string>{leap});
  CHECK(r.birthdays[0].date == "2028-02-29");
}

TEST_CASE("due: intention customers not followed up in 30 days (exactly 30 counts, never counts)",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string thirty = add_customer(rep, "三十天", {{"type", "意向客户"}});
  add_followup(rep, thirty, day(-45));
  add_followup(rep, thirty, day(-30));
  const std::string recent = add_customer(rep, "二十九天", {{"type", "intention"}});
  add_followup(rep, recent, day(-29));
  const std::string never = add_customer(rep, "从未跟进", {{"type", "intention"}});
  const std::string deal = add_customer(rep, "成交", {{"type", "deal"}});
  add_followup(rep, deal, day(-100));

  DueReport r = rep.due(kToday, 7);
  CHECK(codes(r.intentions) == std::vector<std::string>{never, thirty});
  REQUIRE(r.intentions.size() == 2);
  CHECK(r.intentions[0].date.empty());
  CHECK(r.intentions[0].reason == "never followed up");
  CHECK(r.intentions[1].date == day(-30));
  CHECK(r.intentions[1].days == 30);
  CHECK(r.intentions[1].reason == "not followed up for 30 days (last " + day(-30) + ")");
  // A follow-up today takes it off the list; no longer an intention customer does too.
  add_followup(rep, thirty, kToday);
  rep.edit(never, {{"type", "potential"}});
  CHECK(rep.due(kToday, 7).intentions.empty());
}

TEST_CASE("churn rule: deal customers with no order or follow-up for 90 days, with the reason",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  auto deal = [&](const std::string& name, const std::string& created) {
    return add_customer(rep, name, {{"type", "deal"}, {"owner", "王五"}, {"created_at", created}});
  };
  const std::string ninety = deal("九十天", "2025-01-01");
  add_followup(rep, ninety, day(-90));
  const std::string eighty_nine = deal("八十九天", "2025-01-01");
  add_followup(rep, eighty_nine, day(-89));
  const std::string ordered = deal("有订单", "2025-01-01");
  add_followup(rep, ordered, day(-200));
  add_order(rep, ordered, day(-10));
  const std::string old_order = deal("旧订单", "2025-01-01");
  add_order(rep, old_order, "2026-05-01");
  add_order(rep, old_order, "");  // an order without a date does not count
  const std::string deleted_order = deal("删除的订单", "2025-01-01");
  add_followup(rep, deleted_order, day(-120));
  rep.remove(add_order(rep, deleted_order, day(-5)));  // in the recycle bin: does not count
  const std::string silent = deal("无记录", day(-100));
  deal("新成交", day(-10));
  add_customer(rep, "意向", {{"type", "intention"}, {"created_at", "2020-01-01"}});

  std::vector<DueItem> c = rep.churn_candidates(kToday);
  CHECK(codes(c) == std::vector<std::string>{old_order, deleted_order, silent, ninety});
  std::map<std::string, DueItem> by_code;
  for (const auto& i : c) by_code[i.customer.code] = i;
  CHECK(by_code[old_order].reason == "no order or follow-up since 2026-05-01 (210 days)");
  CHECK(by_code[old_order].days == 210);
  CHECK(by_code[ninety].days == 90);
  CHECK(by_code[ninety].date == day(-90));
  CHECK(by_code[silent].by_creation);
  CHECK(by_code[silent].reason ==
        "no order or follow-up since it was added on " + day(-100) + " (100 days)");
  CHECK(by_code[deleted_order].days == 120);
  CHECK(by_code[ninety].customer.fields.value("owner", "") == "王五");
  CHECK(rep.due(kToday, 7).churn.size() == 4);
  CHECK(rep.churn_days() == kDefaultChurnDays);

  // The threshold is a setting: at 60 days the 89-day customer joins.
  rep.set_churn_days(60);
  CHECK(rep.churn_days() == 60);
  CHECK(rep.churn_candidates(kToday).size() == 5);
  CHECK(rep.due(kToday, 7).churn_days == 60);
  CHECK(code_of([&] { rep.set_churn_days(0); }) == Errc::validation);
  CHECK(code_of([&] { rep.set_churn_days(kMaxRuleDays + 1); }) == Errc::validation);
  CHECK(rep.churn_days() == 60);
}

TEST_CASE("apply_churn sets each candidate to lost in one edit whose change carries the rule",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string a = add_customer(rep, "甲", {{"type", "deal"}, {"created_at", "2025-01-01"}});
  const std::string b = add_customer(rep, "乙", {{"type", "deal"}, {"created_at", "2025-01-01"}});
  add_followup(rep, b, day(-91));
  const std::string kept =
      add_customer(rep, "丙", {{"type", "deal"}, {"created_at", "2025-01-01"}});
  add_followup(rep, kept, day(-1));
  const auto before = rep.pending_changes(0, 1000).size();

  std::vector<DueItem> applied = rep.apply_churn(kToday);
  CHECK(codes(applied) == std::vector<std::string>{a, b});
  for (const auto& code : {a, b}) {
    CHECK(rep.require(code).fields.value("type", "") == "lost");
    auto h = rep.history(code);
    REQUIRE(!h.empty());
    CHECK(h[0].state == "pending");
    CHECK(h[0].revision.cause == "churn rule: no order or follow-up for 90 days");
    CHECK(h[0].revision.changes.size() == 1);
    CHECK(h[0].revision.changes.at("type").old_value == "deal");
    CHECK(h[0].revision.changes.at("type").new_value == "lost");
  }
  auto log = rep.pending_changes(0, 1000);
  REQUIRE(log.size() == before + 2);
  CHECK(log.back().change.cause == churn_cause(90));
  CHECK(rep.require(kept).fields.value("type", "") == "deal");
  // Lost customers are no longer candidates: applying again changes nothing.
  CHECK(rep.apply_churn(kToday).empty());
  CHECK(rep.pending_changes(0, 1000).size() == before + 2);
}

// ---------------------------------------------------------------------------
// last_followup_at is derived from the follow-ups, whatever moved them.

TEST_CASE("last_followup_at falls back when a follow-up is deleted and returns when it is restored",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string c = add_customer(rep, "跟进客户", {{"type", "intention"}});
  CHECK(last_followup(rep, c).empty());
  add_followup(rep, c, "2026-10-01");
  const std::string latest = add_followup(rep, c, "2026-11-20");
  add_followup(rep, c, "2026-09-01");
  CHECK(last_followup(rep, c) == "2026-11-20");
  rep.remove(latest);
  CHECK(last_followup(rep, c) == "2026-10-01");
  // The index follows: the intention rule sees the older date.
  CHECK(codes(rep.due(kToday, 7).intentions) == std::vector<std::string>{c});
  rep.restore(latest);
  CHECK(last_followup(rep, c) == "2026-11-20");
  CHECK(rep.due(kToday, 7).intentions.empty());
  rep.edit(latest, {{"date", "2026-08-01"}});
  CHECK(last_followup(rep, c) == "2026-10-01");
}

TEST_CASE("last_followup_at after pulls: new, deleted and early-arriving follow-ups, scope changes",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string cust = new_uuid(), f1 = new_uuid(), f2 = new_uuid();

  // The follow-ups come in a page before their customer's (the customer was
  // edited later, so the server sends it later).
  rep.apply_pulled({pulled(f1, "followups", 1, followup_fields("2026-10-01"), "", cust),
                    pulled(f2, "followups", 1, followup_fields("2026-11-01"), "", cust)},
                   {}, "1");
  rep.apply_pulled({pulled(cust, "customers", 3, customer_fields("远景物流"), "C202611050")}, {},
                   "2");
  CHECK(last_followup(rep, "C202611050") == "2026-11-01");

  // Another device deleted the latest follow-up.
  PulledRecord gone = pulled(f2, "followups", 2, followup_fields("2026-11-01"), "", cust);
  gone.deleted = true;
  rep.apply_pulled({gone}, {}, "3");
  CHECK(last_followup(rep, "C202611050") == "2026-10-01");

  // ... and restored it, with a new date.
  rep.apply_pulled({pulled(f2, "followups", 3, followup_fields("2026-11-15"), "", cust)}, {}, "4");
  CHECK(last_followup(rep, "C202611050") == "2026-11-15");

  // A local follow-up on top of pulled ones.
  add_followup(rep, "C202611050", "2026-11-20");
  CHECK(last_followup(rep, "C202611050") == "2026-11-20");

  SECTION("a pulled customer update keeps the derived date") {
    json v = customer_fields("远景物流");
    v["city"] = "南京";
    rep.apply_pulled({pulled(cust, "customers", 4, v, "C202611050")}, {}, "5");
    CHECK(last_followup(rep, "C202611050") == "2026-11-20");
  }
  SECTION("a scope reset that keeps the customer (pending edit) but not its pulled follow-ups") {
    rep.edit("C202611050", {{"city", "苏州"}});
    rep.apply_pulled({}, {}, "9", {}, /*reset=*/true);
    // Only the local follow-up (pending) is left.
    CHECK(last_followup(rep, "C202611050") == "2026-11-20");
  }
  SECTION("a customer removed from scope and brought back with its follow-ups") {
    rep.apply_pulled({}, {}, "6", {cust});
    CHECK_FALSE(rep.find_customer("C202611050"));
    rep.apply_pulled({pulled(cust, "customers", 5, customer_fields("远景物流"), "C202611050"),
                      pulled(f1, "followups", 1, followup_fields("2026-10-01"), "", cust)},
                     {}, "7");
    CHECK(last_followup(rep, "C202611050") == "2026-10-01");
  }
}

// ---------------------------------------------------------------------------
// The n-gram search.

TEST_CASE("search finds Chinese substrings of 2, 3 and 5 characters and single characters",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string a = add_customer(rep, "明达信息科技有限公司", {{"notes", "需经董事会审批"}});
  const std::string b = rep.add("customers", {{"name", "安和商贸"},
                                              {"contact", "欧阳晓东"},
                                              {"phone", "13912345678"},
                                              {"need", "ERP 系统升级"}})
                            .code;
  const std::string c = add_customer(rep, "科技园物业", {{"notes", "技有专长"}});

  CHECK(search(rep, "科技") == std::vector<std::string>{a, c});             // 2
  CHECK(search(rep, "信息科") == std::vector<std::string>{a});              // 3
  CHECK(search(rep, "信息科技有") == std::vector<std::string>{a});          // 5
  CHECK(search(rep, "董事会审批") == std::vector<std::string>{a});          // notes
  CHECK(search(rep, "阳晓") == std::vector<std::string>{b});                // contact
  CHECK(search(rep, "系统升级") == std::vector<std::string>{b});            // need
  CHECK(search(rep, "erp 系") == std::vector<std::string>{b});              // ASCII case folded
  CHECK(search(rep, "2345") == std::vector<std::string>{b});                // phone
  CHECK(search(rep, b.substr(0, 7)) == std::vector<std::string>{a, b, c});  // code
  CHECK(search(rep, b) == std::vector<std::string>{b});
  // c has every pair of 科技有 (科技 in its name, 技有 in its notes), not in a row.
  CHECK(search(rep, "科技有") == std::vector<std::string>{a});
  CHECK(search(rep, "有限公司股份").empty());
  // One character: a scan of the indexed text.
  CHECK(search(rep, "审") == std::vector<std::string>{a});
  CHECK(search(rep, "科") == std::vector<std::string>{a, c});
  CHECK(search(rep, "E") == std::vector<std::string>{b});
  // Query syntax of FTS4 is just text here.
  CHECK(search(rep, "\"科技\" OR *").empty());
  CHECK(search(rep, "-").empty());
}

TEST_CASE("search follows edits, pulls, code changes and removals", "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string a = add_customer(rep, "明达医疗器械");
  CHECK(search(rep, "医疗器") == std::vector<std::string>{a});
  rep.edit(a, {{"name", "明达生物医药"}});
  CHECK(search(rep, "医疗器").empty());
  CHECK(search(rep, "生物医") == std::vector<std::string>{a});
  rep.edit(a, {{"notes", "年底有预算"}});
  CHECK(search(rep, "有预算") == std::vector<std::string>{a});
  rep.edit(a, {{"notes", ""}});
  CHECK(search(rep, "有预算").empty());

  // Recycle bin: found only with --deleted.
  rep.remove(a);
  CHECK(search(rep, "生物医").empty());
  CHECK(search(rep, "生物医", true) == std::vector<std::string>{a});
  rep.restore(a);

  // Pulled records: new, changed, removed from scope.
  const std::string id = new_uuid();
  rep.apply_pulled({pulled(id, "customers", 1, customer_fields("远景供应链管理"), "C202611090")},
                   {}, "1");
  CHECK(search(rep, "供应链") == std::vector<std::string>{"C202611090"});
  rep.apply_pulled({pulled(id, "customers", 2, customer_fields("远景冷链物流"), "C202611090")}, {},
                   "2");
  CHECK(search(rep, "供应链").empty());
  CHECK(search(rep, "冷链物") == std::vector<std::string>{"C202611090"});

  SECTION("a pulled record with a pending local edit is searched as shown") {
    rep.edit("C202611090", {{"contact", "司马光"}});
    rep.apply_pulled({pulled(id, "customers", 3, customer_fields("远景冷链仓储"), "C202611090")},
                     {}, "3");
    CHECK(search(rep, "冷链仓储") == std::vector<std::string>{"C202611090"});
    CHECK(search(rep, "司马") == std::vector<std::string>{"C202611090"});
    CHECK(search(rep, "冷链物").empty());
  }
  SECTION("removed from scope: not found") {
    rep.apply_pulled({}, {}, "3", {id});
    CHECK(search(rep, "冷链").empty());
    CHECK(search(rep, "C202611090").empty());
  }
  SECTION("a scope reset drops what is not sent again") {
    rep.apply_pulled({}, {}, "3", {}, /*reset=*/true);
    CHECK(search(rep, "冷链").empty());
    CHECK(search(rep, "生物医") == std::vector<std::string>{a});  // local, pending: kept
  }
  SECTION("a code the server gives to another record moves the local one: both searchable") {
    const std::string a_id = rep.require(a).id;
    rep.apply_pulled({pulled(new_uuid(), "customers", 1, customer_fields("华信商贸"), a)}, {}, "3");
    CHECK(search(rep, "华信") == std::vector<std::string>{a});
    const std::string moved = rep.get(a_id)->code;
    CHECK(moved != a);
    CHECK(search(rep, moved) == std::vector<std::string>{moved});
  }
}

TEST_CASE("a version-3 replica migrates to version 4: its customers are indexed",
          "[due][migration]") {
  ScratchDir dir;
  const std::string path = dir.file("v3.db");
  {
    db::Database db(path, /*create=*/true);
    db.key("old-key");
    db.exec("PRAGMA journal_mode = WAL");
    migrate(db, ReplicaVersion::v3_change_requests);
    REQUIRE(read_schema_version(db) == 3);
    json c1 = {{"name", "明达信息科技有限公司"},
               {"contact", "高敏"},
               {"phone", "15908301661"},
               {"need", "门店装修设计"},
               {"type", "intention"},
               {"province", "江苏"},
               {"city", "南京"},
               {"tags", json::array({"重点客户"})},
               {"owner", "王五"},
               {"stage", "needs"}};
    json c2 = {{"name", "安和商贸"},     {"contact", "李敏"},   {"phone", "13900139000"},
               {"need", "年度审计服务"}, {"type", "intention"}, {"province", "浙江"}};
    db.prepare("INSERT INTO meta(key, value) VALUES ('device_id', 'dev-v3'), ('author', '王五')")
        .run();
    db.prepare(
          "INSERT INTO records(id, collection, code, rev, fields, last_followup_at) "
          "VALUES ('c1', 'customers', 'C202411001', 0, ?, '2024-12-25')")
        .bind(1, c1.dump())
        .run();
    db.prepare(
          "INSERT INTO records(id, collection, code, rev, deleted, fields) "
          "VALUES ('c2', 'customers', 'C202411002', 0, 1, ?)")
        .bind(1, c2.dump())
        .run();
  }
  auto rep = Replica::open(path, "old-key");
  CHECK(rep->schema_version() == 7);
  CHECK(search(*rep, "信息科技") == std::vector<std::string>{"C202411001"});
  CHECK(search(*rep, "审计", true) == std::vector<std::string>{"C202411002"});
  ListQuery q;
  q.where = {{"type", "intention"}};
  q.region = "江苏/南京";
  q.tags = {"重点客户"};
  q.owner = "王五";
  q.stage = "需求分析";
  CHECK(codes(rep->list(q)) == std::vector<std::string>{"C202411001"});
  // The derived date came along: quiet for 30 days or more on 2025-01-24, not on 2025-01-23.
  CHECK(codes(rep->due("2025-01-24", 7).intentions) == std::vector<std::string>{"C202411001"});
  CHECK(rep->due("2025-01-23", 7).intentions.empty());
  // Edits after the migration keep the index current.
  rep->edit("C202411001", {{"name", "明达生物医药"}});
  CHECK(search(*rep, "信息科技").empty());
  CHECK(search(*rep, "生物医药") == std::vector<std::string>{"C202411001"});
}

// ---------------------------------------------------------------------------
// customer list filters.

TEST_CASE("customer list filters: tags, region, owner, stage, stale, where, together", "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::string nj = add_customer(rep, "南京甲",
                                      {{"province", "江苏"},
                                       {"city", "南京"},
                                       {"owner", "王五"},
                                       {"stage", "contact"},
                                       {"type", "intention"},
                                       {"tags", "重点客户;高预算"}});
  const std::string sz = add_customer(rep, "苏州乙",
                                      {{"province", "江苏"},
                                       {"city", "苏州"},
                                       {"owner", "李四"},
                                       {"stage", "needs"},
                                       {"type", "intention"},
                                       {"tags", "重点客户"}});
  const std::string hz = add_customer(rep, "杭州丙",
                                      {{"province", "浙江"},
                                       {"city", "杭州"},
                                       {"owner", "王五"},
                                       {"stage", "needs"},
                                       {"type", "deal"}});
  const std::string none = add_customer(rep, "空白丁");
  add_followup(rep, nj, day(-30));
  add_followup(rep, sz, day(-29));
  add_followup(rep, hz, day(-100));

  auto run = [&](const std::function<void(ListQuery&)>& set) {
    ListQuery q;
    q.today = kToday;
    set(q);
    return codes(rep.list(q));
  };
  using V = std::vector<std::string>;
  CHECK(run([](ListQuery& q) { q.tags = {"重点客户"}; }) == V{nj, sz});
  CHECK(run([](ListQuery& q) { q.tags = {"重点客户", "高预算"}; }) == V{nj});
  CHECK(run([](ListQuery& q) { q.tags = {"高预算", "不存在"}; }).empty());
  CHECK(run([](ListQuery& q) { q.region = "江苏"; }) == V{nj, sz});
  CHECK(run([](ListQuery& q) { q.region = " 江苏 / 苏州 "; }) == V{sz});
  CHECK(run([](ListQuery& q) { q.region = "浙江/南京"; }).empty());
  CHECK(run([](ListQuery& q) { q.owner = "王五"; }) == V{nj, hz});
  CHECK(run([](ListQuery& q) { q.stage = "needs"; }) == V{sz, hz});
  CHECK(run([](ListQuery& q) { q.stage = "需求分析"; }) == V{sz, hz});
  CHECK(run([](ListQuery& q) { q.stale_days = 30; }) ==
        V{nj, hz, none});  // exactly 30 counts; never counts
  CHECK(run([](ListQuery& q) { q.stale_days = 31; }) == V{hz, none});
  CHECK(run([](ListQuery& q) { q.stale_days = 0; }) == V{nj, sz, hz, none});
  CHECK(run([](ListQuery& q) {
          q.where = {{"type", "意向客户"}};
          q.region = "江苏";
        }) == V{nj, sz});
  CHECK(run([](ListQuery& q) {
          q.where = {{"type", "intention"}, {"province", "江苏"}};
          q.owner = "李四";
          q.stale_days = 29;
        }) == V{sz});
  CHECK(run([](ListQuery& q) {
          q.where = {{"客户类型", "成交客户"}};
          q.search = "杭州";
        }) == V{hz});
  CHECK(run([](ListQuery& q) {
          q.owner = "王五";
          q.sort = "-code";
          q.limit = 1;
        }) == V{hz});
  // Facet values are matched exactly, whatever their characters or case.
  const std::string li = add_customer(rep, "英文名", {{"owner", "Li Si"}, {"tags", "A-1 (VIP)"}});
  const std::string li2 = add_customer(rep, "小写", {{"owner", "li si"}, {"tags", "a-1 (vip)"}});
  CHECK(run([](ListQuery& q) { q.owner = "Li Si"; }) == V{li});
  CHECK(run([](ListQuery& q) { q.owner = "li si"; }) == V{li2});
  CHECK(run([](ListQuery& q) { q.tags = {"A-1 (VIP)"}; }) == V{li});
  CHECK(run([](ListQuery& q) { q.owner = "Li"; }).empty());
  rep.remove(li);
  rep.remove(li2);
  // Index rows follow edits and the recycle bin.
  rep.edit(sz, {{"owner", "王五"}, {"tags", ""}});
  CHECK(run([](ListQuery& q) { q.owner = "王五"; }) == V{nj, sz, hz});
  CHECK(run([](ListQuery& q) { q.tags = {"重点客户"}; }) == V{nj});
  rep.remove(nj);
  CHECK(run([](ListQuery& q) { q.owner = "王五"; }) == V{sz, hz});
  CHECK(run([](ListQuery& q) {
          q.owner = "王五";
          q.deleted = true;
        }) == V{nj});
}

TEST_CASE("customer list rejects bad filter values naming the flag, the value and what is allowed",
          "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  add_customer(rep, "客户");
  auto fails = [&](const std::function<void(ListQuery&)>& set) {
    ListQuery q;
    set(q);
    std::string msg;
    const Errc code = code_of([&] { rep.list(q); }, &msg);
    CHECK(exit_code(code) == 2);
    return msg;
  };
  std::string m = fails([](ListQuery& q) { q.stage = "签约"; });
  CHECK_THAT(m, Contains("--stage") && Contains("签约") && Contains("需求分析") && Contains("won"));
  CHECK_THAT(fails([](ListQuery& q) { q.region = "江苏/"; }),
             Contains("--region") && Contains("PROVINCE/CITY"));
  CHECK_THAT(fails([](ListQuery& q) { q.region = "江苏/南京/鼓楼"; }), Contains("江苏/南京/鼓楼"));
  CHECK_THAT(fails([](ListQuery& q) { q.region = ""; }), Contains("--region"));
  CHECK_THAT(fails([](ListQuery& q) { q.owner = " "; }), Contains("--owner"));
  CHECK_THAT(fails([](ListQuery& q) { q.tags = {"a;b"}; }), Contains("--tag") && Contains("a;b"));
  CHECK_THAT(fails([](ListQuery& q) { q.tags = {""}; }), Contains("--tag"));
  CHECK_THAT(fails([](ListQuery& q) { q.stale_days = -1; }), Contains("--stale -1"));
  CHECK_THAT(fails([](ListQuery& q) {
               q.where = {{"type", "vip"}};
             }),
             Contains("--where type=vip") && Contains("意向客户"));
  CHECK_THAT(fails([](ListQuery& q) {
               q.collection = "followups";
               q.owner = "王五";
             }),
             Contains("customers"));
}

TEST_CASE("the customer index agrees with a plain scan after many edits", "[due]") {
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::vector<std::string> provinces = {"江苏", "浙江", "广东"};
  const std::vector<std::string> owners = {"王五", "李四", "张三"};
  const std::vector<std::string> types = {"potential", "intention", "deal", "lost"};
  const std::vector<std::string> words = {"明达科技", "安和商贸", "科技园", "华信物流", "达科"};
  std::vector<std::string> all;
  std::uint64_t seed = 7;
  auto next = [&](std::size_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::size_t>((seed >> 33) % n);
  };
  for (int i = 0; i < 60; ++i) {
    all.push_back(add_customer(
        rep, words[next(words.size())] + std::to_string(i),
        {{"province", provinces[next(3)]}, {"owner", owners[next(3)]}, {"type", types[next(4)]}}));
  }
  for (int i = 0; i < 120; ++i) {
    const std::string& code = all[next(all.size())];
    switch (next(4)) {
      case 0:
        rep.edit(code, {{"province", provinces[next(3)]}});
        break;
      case 1:
        rep.edit(code, {{"name", words[next(words.size())]}});
        break;
      case 2:
        rep.edit(code, {{"type", types[next(4)]}, {"owner", owners[next(3)]}});
        break;
      default:
        if (rep.require(code).deleted) {
          rep.restore(code);
        } else {
          rep.remove(code);
        }
    }
  }
  std::vector<Record> live = rep.list(ListQuery{});  // no indexed filter: a scan
  for (const auto& p : provinces) {
    for (const auto& t : types) {
      for (const char* s : {"科技", "达科", "科"}) {
        ListQuery q;
        q.region = p;
        q.where = {{"type", t}};
        q.search = s;
        std::vector<std::string> expected;
        for (const auto& r : live) {
          if (r.fields.value("province", "") == p && r.fields.value("type", "") == t &&
              r.fields.value("name", "").find(s) != std::string::npos) {
            expected.push_back(r.code);
          }
        }
        INFO(p << " " << t << " " << s);
        CHECK(codes(rep.list(q)) == expected);
      }
    }
  }
}

TEST_CASE("a --limit page in code order is the first rows of the whole list", "[due]") {
  // Enough customers that a page walks the code index (more than 1,000 candidates)
  // as well as reading candidates directly (fewer).
  Fixture fx;
  Replica& rep = *fx.rep;
  const std::vector<std::string> names = {"明达科技", "安和商贸", "华信物流", "远景科技园"};
  const std::vector<std::string> types = {"potential", "intention", "deal"};
  rep.batch([&] {
    for (int i = 0; i < 2500; ++i) {
      add_customer(rep, names[static_cast<std::size_t>(i * 7 % 4)] + std::to_string(i),
                   {{"type", types[static_cast<std::size_t>(i % 3)]},
                    {"province", i % 5 == 0 ? "浙江" : "江苏"}});
    }
  });
  const std::vector<std::string> all = codes(rep.list(ListQuery{}));
  for (std::size_t i = 0; i < all.size(); i += 97) rep.remove(all[i]);
  struct Case {
    const char* what;
    ListQuery q;
  };
  std::vector<Case> cases(7);
  cases[0].what = "no filter";
  cases[1].what = "search, many candidates";
  cases[1].q.search = "科技";
  cases[2].what = "search and where, few candidates";
  cases[2].q.search = "科技园";
  cases[2].q.where = {{"type", "deal"}};
  cases[2].q.region = "浙江";
  cases[3].what = "descending";
  cases[3].q.search = "科技";
  cases[3].q.sort = "-code";
  cases[4].what = "recycle bin";
  cases[4].q.deleted = true;
  cases[5].what = "no match";
  cases[5].q.search = "不存在的词";
  cases[6].what = "a one-character search (no index term)";
  cases[6].q.search = "达";
  for (auto& c : cases) {
    const std::vector<std::string> whole = codes(rep.list(c.q));
    for (std::size_t limit : {1, 50, 3000}) {
      ListQuery page = c.q;
      page.limit = limit;
      std::vector<std::string> expected(
          whole.begin(),
          whole.begin() + static_cast<std::ptrdiff_t>(std::min(limit, whole.size())));
      INFO(c.what << ", --limit " << limit << ", " << whole.size() << " in all");
      CHECK(codes(rep.list(page)) == expected);
    }
  }
  // The cases above really reach both paths and both ends.
  CHECK(codes(rep.list(cases[1].q)).size() > 1000);
  CHECK(codes(rep.list(cases[2].q)).size() < 1000);
  CHECK(codes(rep.list(cases[4].q)).size() == 26);
}

// ---------------------------------------------------------------------------
// The real `kehu` binary.

namespace {

const std::string kCliPass = "due cli pass";

struct Cli {
  ScratchDir dir{"kehu-due-cli"};
  std::string db = dir.file("replica.db");

  Cli() {
    CliResult r = run({"init"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }

  CliResult run(const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    kehu::test::RunOptions o;
    o.env = {{"KEHU_DB", db},     {"KEHU_PASSPHRASE", kCliPass}, {"HOME", dir.path()},
             {"KEHU_LANG", "en"}, {"LANG", "C.UTF-8"},           {"LC_ALL", std::nullopt}};
    for (const auto& [k, v] : extra) o.env[k] = v;
    return kehu::test::run_kehu(args, o);
  }

  CliResult ok(const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    CliResult r = run(args, extra);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  }

  json ok_json(std::vector<std::string> args, const EnvChanges& extra = {}) const {
    args.insert(args.begin(), "--json");
    return json::parse(ok(args, extra).out);
  }

  std::string add(const std::vector<std::string>& sets) const {
    // Every customer here has the same phone: --force past the duplicate check.
    std::vector<std::string> args = {"customer",     "add",          "--force",      "--set",
                                     "contact=张三", "--set",        "phone=13800138000",
                                     "--set",        "need=办公用品"};
    for (const auto& s : sets) {
      args.push_back("--set");
      args.push_back(s);
    }
    std::string out = ok(args).out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
};

std::vector<std::string> json_codes(const json& arr) {
  std::vector<std::string> out;
  for (const auto& j : arr) out.push_back(j.value("code", ""));
  return out;
}

}  // namespace

TEST_CASE("kehu due with KEHU_TODAY: each section as a table and as JSON", "[due][cli]") {
  Cli k;
  const std::string late =
      k.add({"name=明达科技", "owner=王五", "next_date=2026-11-24", "next_plan=发送报价单"});
  const std::string bday = k.add({"name=安和商贸", "owner=李四", "birthday=1980-01-02"});
  const std::string quiet = k.add({"name=华信物流", "owner=王五", "type=意向客户"});
  const std::string churn =
      k.add({"name=恒通机械", "owner=张三", "type=deal", "created_at=2025-06-01"});
  k.ok({"followup", "add", churn, "--set", "date=2026-05-01", "--set", "person=张三", "--set",
        "content=回访"});
  const EnvChanges today = {{"KEHU_TODAY", "2026-12-28"}};

  json j = k.ok_json({"due"}, today);
  CHECK(j["today"] == "2026-12-28");
  CHECK(j["days"] == 7);
  CHECK(j["churn_days"] == 90);
  CHECK(json_codes(j["followups"]) == std::vector<std::string>{late});
  CHECK(j["followups"][0]["days"] == 34);
  CHECK(j["followups"][0]["owner"] == "王五");
  CHECK(j["followups"][0]["reason"] == "overdue by 34 days: 发送报价单");
  CHECK(json_codes(j["birthdays"]) == std::vector<std::string>{bday});
  CHECK(j["birthdays"][0]["date"] == "2027-01-02");
  CHECK(json_codes(j["intentions"]) == std::vector<std::string>{quiet});
  CHECK(j["intentions"][0]["date"].is_null());
  CHECK(json_codes(j["churn"]) == std::vector<std::string>{churn});
  CHECK(j["churn"][0]["reason"] == "no order or follow-up since 2026-05-01 (241 days)");
  // --days 3: the birthday on 01-02 is 5 days away.
  CHECK(k.ok_json({"due", "--days", "3"}, today)["birthdays"].empty());

  CliResult table = k.ok({"due"}, today);
  CHECK_THAT(table.out, Contains("Today 2026-12-28"));
  CHECK_THAT(table.out, Contains("Follow-ups due within 7 days or overdue (1)"));
  CHECK_THAT(table.out, Contains(late) && Contains("明达科技") && Contains("overdue by 34 days"));
  CHECK_THAT(table.out, Contains("birthday on 01-02 (in 5 days)"));
  CHECK_THAT(table.out, Contains("never followed up"));
  CHECK_THAT(table.out, Contains("no order or follow-up since 2026-05-01 (241 days)"));
  CliResult zh = k.ok({"due"}, {{"KEHU_TODAY", "2026-12-28"}, {"KEHU_LANG", "zh"}});
  CHECK_THAT(zh.out,
             Contains("逾期 34 天：发送报价单") && Contains("负责人") && Contains("从未跟进"));

  CliResult bad = k.run({"due"}, {{"KEHU_TODAY", "2026-02-30"}});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("KEHU_TODAY") && Contains("2026-02-30"));
  bad = k.run({"due", "--days", "-1"}, today);
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("--days -1"));
}

TEST_CASE("kehu customer list: new filters, and a bad value exits 2 naming flag and value",
          "[due][cli]") {
  Cli k;
  const std::string a = k.add({"name=明达信息科技", "province=江苏", "city=南京", "owner=王五",
                               "stage=needs", "type=intention", "tags=重点客户;高预算"});
  const std::string b =
      k.add({"name=安和网络科技", "province=江苏", "city=苏州", "owner=李四", "type=intention"});
  k.add({"name=华信商贸", "province=浙江", "owner=王五"});
  auto list = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"customer", "list"});
    return json_codes(k.ok_json(args, {{"KEHU_TODAY", "2026-11-27"}}));
  };
  using V = std::vector<std::string>;
  CHECK(list({"--search", "科技"}) == V{a, b});
  CHECK(list({"--search", "信息科技"}) == V{a});
  CHECK(list({"--where", "type=intention", "--region", "江苏"}) == V{a, b});
  CHECK(list({"--region", "江苏/南京"}) == V{a});
  CHECK(list({"--tag", "重点客户", "--tag", "高预算"}) == V{a});
  CHECK(list({"--owner", "王五", "--stage", "需求分析"}) == V{a});
  CHECK(list({"--stale", "30", "--owner", "李四"}) == V{b});

  CliResult r = k.run({"customer", "list", "--stage", "签约"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--stage") && Contains("签约") && Contains("需求分析"));
  CHECK(r.out.empty());
  r = k.run({"customer", "list", "--region", "江苏/"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--region") && Contains("江苏/"));
  r = k.run({"customer", "list", "--stale", "abc"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--stale") && Contains("abc"));
  r = k.run({"customer", "list", "--stale", "5"}, {{"KEHU_TODAY", "yesterday"}});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("KEHU_TODAY"));
}

TEST_CASE(
    "kehu rules: only an admin sets churn-days, apply-churn writes edits with the rule as cause",
    "[due][cli]") {
  Cli k;
  const std::string quiet = k.add({"name=恒通机械", "type=成交客户", "created_at=2025-06-01"});
  const std::string busy = k.add({"name=瑞丰电子", "type=deal", "created_at=2025-06-01"});
  k.ok({"order", "add", busy, "--set", "product=打印机", "--set", "date=2026-11-01"});

  json rules = k.ok_json({"rules"});
  CHECK(rules["churn_days"] == 90);
  CHECK(rules["intention_days"] == 30);
  CliResult refused = k.run({"rules", "set", "churn-days", "60"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Contains("only an admin") && Contains("not logged in"));
  CHECK(k.run({"rules", "set", "churn-days", "0"}).exit_code == 2);
  CHECK(k.run({"rules", "set", "intention-days", "10"}).exit_code == 2);

  const EnvChanges today = {{"KEHU_TODAY", "2026-11-27"}};
  json dry = k.ok_json({"rules", "apply-churn", "--dry-run"}, today);
  CHECK(json_codes(dry["customers"]) == std::vector<std::string>{quiet});
  CHECK(dry["customers"][0]["applied"] == false);
  CHECK(k.ok_json({"customer", "show", quiet})["type"] == "deal");

  CliResult applied = k.ok({"rules", "apply-churn"}, today);
  CHECK_THAT(applied.out, Contains(quiet) && Contains("1 customer set to lost"));
  CHECK(k.ok_json({"customer", "show", quiet})["type"] == "lost");
  CHECK(k.ok_json({"customer", "show", busy})["type"] == "deal");
  json h = k.ok_json({"history", quiet});
  CHECK(h[0]["rev"] == "pending");
  CHECK(h[0]["cause"] == "churn rule: no order or follow-up for 90 days");
  CHECK(h[0]["changes"]["type"]["new"] == "lost");
  CHECK(json_codes(k.ok_json({"due"}, today)["churn"]).empty());
}

TEST_CASE(
    "churn-days set by an admin reaches the team at sync, the churn edit's cause reaches the "
    "server",
    "[due][cli][server]") {
  kehu::test::ServerFixture server;
  kehu::test::ReplicaCli admin, wang;
  admin.ok({"login", "--server", server.base_url(), "--user", "root"});
  wang.ok({"login", "--server", server.base_url(), "--user", "wang"});
  auto rules_of = [](const kehu::test::ReplicaCli& r) {
    return json::parse(r.ok({"--json", "rules"}).out)["churn_days"].get<std::int64_t>();
  };

  CliResult refused = wang.run({"rules", "set", "churn-days", "30"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Contains("only an admin") && Contains("wang") && Contains("sales"));
  admin.ok({"rules", "set", "churn-days", "60"});
  CHECK(rules_of(admin) == 60);
  // The server decides too: a sales token cannot change it, an admin's bad value is refused.
  const std::string wang_token = server.login("wang");
  CHECK(server.post("/v1/settings", {{"churn_days", 5}}, wang_token).status == 403);
  CHECK(server.post("/v1/settings", {{"churn_days", 0}}, server.login("root")).status == 400);
  kehu::test::Reply read = server.post("/v1/settings", json::object(), wang_token);
  CHECK(read.status == 200);
  CHECK(read.body["churn_days"] == 60);

  CHECK(rules_of(wang) == 90);
  wang.ok({"sync"});
  CHECK(rules_of(wang) == 60);

  std::string code =
      wang.ok({"customer", "add", "--set", "name=恒通机械", "--set", "contact=张三", "--set",
               "phone=13800138000", "--set", "need=办公用品", "--set", "province=江苏", "--set",
               "type=deal", "--set", "created_at=2026-09-01"})
          .out;
  code = code.substr(0, code.find('\n'));
  wang.ok({"sync"});
  // 87 days after 2026-09-01: quiet for 60, not for 90.
  CliResult applied = wang.ok({"rules", "apply-churn"}, {{"KEHU_TODAY", "2026-11-27"}});
  CHECK_THAT(applied.out, Contains(code));
  wang.ok({"sync"});
  json h = json::parse(wang.ok({"--json", "history", code}).out);
  REQUIRE(h.size() >= 2);
  CHECK(h[0]["state"] == "server");
  CHECK(h[0]["rev"].is_number_integer());
  CHECK(h[0]["cause"] == "churn rule: no order or follow-up for 60 days");
  CHECK(h[0]["changes"]["type"]["new"] == "lost");
  // R17-19: the churn report gives the cause as history does.
  CHECK_THAT(wang.ok({"report", "churn"}, {{"KEHU_LANG", "zh"}}).out, Contains("流失规则：60 天无订单或跟进"));
  CHECK_THAT(wang.ok({"report", "churn"}).out, Contains("churn rule: no order or follow-up for 60 days"));
}
