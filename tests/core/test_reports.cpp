// Reports (core/src/report_*.cc, cli/commands_report.cc): exact figures on a
// replica built here with known customers and orders and a fixed today; the
// CLI's --json, --csv and --xlsx through the real `kehu` binary (the workbook
// opened with libzip); and the admin-set targets and stage probabilities
// reaching a sales replica through a real kehu-server.
#include <zip.h>

#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/reports.h"
#include "replica_cli.h"
#include "server_fixture.h"

using namespace kehu;
using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::ScratchDir;

namespace {

constexpr const char* kPass = "report tests";
const std::string kToday = "2026-11-27";

struct CustomerSpec {
  const char* name;
  const char* owner;
  const char* province;
  const char* city;
  const char* stage;
  const char* type;
  const char* source;
  const char* created;
  const char* notes;
};

struct OrderSpec {
  const char* customer;  // the customer's name
  const char* date;
  const char* amount;  // yuan
  const char* status;
};

// The data set every figure below is worked out from (see the comments there).
const std::vector<CustomerSpec> kCustomers = {
    {"A", "王五", "江苏", "南京", "potential", "potential", "exhibition", "2026-10-05", ""},
    {"B", "王五", "江苏", "苏州", "contact", "intention", "exhibition", "2026-11-01", ""},
    {"C", "李四", "浙江", "杭州", "needs", "intention", "referral", "2026-11-02", ""},
    {"D", "李四", "浙江", "杭州", "proposal", "intention", "referral", "2026-07-01", ""},
    {"E", "王五", "江苏", "南京", "won", "deal", "referral", "2026-08-15", ""},
    {"F", "李四", "浙江", "宁波", "contract", "lost", "online_ad", "2025-12-01", "价格太高"},
    {"G", "王五", "", "", "", "", "", "2026-10-10", ""},
    {"H", "王五", "江苏", "南京", "won", "deal", "repeat", "2026-09-09", ""},
};

const std::vector<OrderSpec> kOrders = {
    {"B", "2026-11-10", "1000", "placed"},     {"B", "2026-10-01", "500", "delivered"},
    {"C", "2026-11-20", "200", "producing"},   {"C", "2026-01-15", "300", "delivered"},
    {"D", "2026-12-05", "4000", "placed"},     {"D", "2026-06-01", "800", "cancelled"},
    {"E", "2026-11-05", "10000", "delivered"}, {"E", "2025-11-01", "1500", "delivered"},
    {"F", "2025-06-01", "700", "delivered"},   {"F", "2026-11-11", "900", "placed"},
    {"H", "2026-11-25", "3000", "delivered"},  {"H", "2026-09-01", "3000", "delivered"},
    {"H", "2026-05-01", "3000", "shipped"},
};

// Fills `rep` with kCustomers and kOrders; returns name -> code.
std::map<std::string, std::string> fill(Replica& rep) {
  std::map<std::string, std::string> codes;
  rep.batch([&] {
    for (const auto& c : kCustomers) {
      FieldInputs in = {{"name", std::string("客户") + c.name},
                        {"contact", "张三"},
                        {"phone", "13800138000"},
                        {"need", "办公用品"},
                        {"owner", c.owner},
                        {"created_at", c.created}};
      for (auto [k, v] : {std::pair{"province", c.province}, std::pair{"city", c.city},
                          std::pair{"stage", c.stage}, std::pair{"type", c.type},
                          std::pair{"source", c.source}, std::pair{"notes", c.notes}}) {
        if (*v) in.push_back({k, v});
      }
      codes[c.name] = rep.add("customers", in).code;
    }
    for (const auto& o : kOrders) {
      rep.add("orders",
              {{"product", "打印机"}, {"date", o.date}, {"amount", o.amount}, {"status", o.status}},
              codes.at(o.customer));
    }
  });
  return codes;
}

void set_targets(Replica& rep) {
  store_sales_targets(rep, json::array({
                               {{"owner", "王五"}, {"period", "2026-11"}, {"amount", 1200000}},
                               {{"owner", "王五"}, {"period", "2026"}, {"amount", 5000000}},
                               {{"owner", "李四"}, {"period", "2026-Q1"}, {"amount", 100000}},
                               {{"owner", "赵六"}, {"period", "2026-11"}, {"amount", 500000}},
                           }));
}

struct Fixture {
  ScratchDir dir{"kehu-reports"};
  std::unique_ptr<Replica> rep = Replica::create(dir.file("replica.db"), kPass);
  std::map<std::string, std::string> codes = fill(*rep);

  ReportOptions opts(const std::string& by = {}) const {
    ReportOptions o;
    o.today = kToday;
    o.by = by;
    return o;
  }
};

json rows_of(const Report& r, std::size_t table = 0) {
  return report_json(r)["tables"][table]["rows"];
}

// A row as a compact string of its cells in column order ("contact|1|5|83.3").
std::vector<std::string> lines(const Report& r, std::size_t table = 0) {
  std::vector<std::string> out;
  for (const auto& row : r.tables.at(table).rows) {
    std::string l;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const Cell& c = row[i];
      l += (i ? "|" : "") + (c.kind == CellKind::text && !c.key.empty() ? c.key : cell_text(c));
    }
    out.push_back(l);
  }
  return out;
}

using Lines = std::vector<std::string>;

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

// The bytes of one member of a zip archive (an .xlsx), or nullopt.
std::optional<std::string> zip_member(const std::string& path, const std::string& name) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!z) return std::nullopt;
  std::optional<std::string> out;
  zip_stat_t st;
  if (zip_stat(z, name.c_str(), 0, &st) == 0) {
    if (zip_file_t* f = zip_fopen(z, name.c_str(), 0)) {
      std::string data(st.size, '\0');
      if (zip_fread(f, data.data(), st.size) == static_cast<zip_int64_t>(st.size)) out = data;
      zip_fclose(f);
    }
  }
  zip_close(z);
  return out;
}

}  // namespace

TEST_CASE("report funnel: customers per stage, reached, conversion, lost and no stage apart",
          "[reports]") {
  Fixture fx;
  Report r = report_funnel(*fx.rep, fx.opts());
  // At: potential A, contact B, needs C, proposal D, contract -, won E H; G no
  // stage; F lost. Reached counts the stage or a later one.
  CHECK(lines(r) == Lines{"potential|1|6|", "contact|1|5|83.3%", "needs|1|4|80.0%",
                          "proposal|1|3|75.0%", "contract|0|2|66.7%", "won|2|2|100.0%", "none|1||",
                          "lost|1||"});
  CHECK(r.tables[0].chart.kind == ChartKind::bar);
  CHECK(r.tables[0].chart.last_row == 6);
  json rows = rows_of(r);
  CHECK(rows[1]["stage"] == "contact");
  CHECK(rows[1]["reached"] == 5);
  CHECK(rows[1]["conversion"] == 83.3);
  CHECK(rows[0]["conversion"].is_null());

  Report by_owner = report_funnel(*fx.rep, fx.opts("owner"));
  CHECK(lines(by_owner) ==
        Lines{"李四|potential|0|2|", "李四|contact|0|2|100.0%", "李四|needs|1|2|100.0%",
              "李四|proposal|1|1|50.0%", "李四|contract|0|0|0.0%", "李四|won|0|0|", "李四|none|0||",
              "李四|lost|1||", "王五|potential|1|4|", "王五|contact|1|3|75.0%",
              "王五|needs|0|2|66.7%", "王五|proposal|0|2|100.0%", "王五|contract|0|2|100.0%",
              "王五|won|2|2|100.0%", "王五|none|1||", "王五|lost|0||"});
  Report by_region = report_funnel(*fx.rep, fx.opts("region"));
  CHECK(by_region.tables[0].columns[0].key == "region");
  CHECK(lines(by_region)[6] == "-|none|1||");
  CHECK(lines(by_region)[13] == "江苏|won|2|2|100.0%");
  CHECK(lines(by_region)[18] == "浙江|needs|1|2|100.0%");
  Report by_city = report_funnel(*fx.rep, fx.opts("city"));
  CHECK(lines(by_city)[8] == "江苏/南京|potential|1|3|");

  std::string message;
  CHECK(code_of([&] { report_funnel(*fx.rep, fx.opts("stage")); }, &message) == Errc::usage);
  CHECK_THAT(message, Contains("stage") && Contains("owner, region or city"));
}

TEST_CASE("report sources: per quarter of created_at, share and conversion per source",
          "[reports]") {
  Fixture fx;
  Report r = report_sources(*fx.rep, fx.opts());
  CHECK(lines(r) == Lines{"2025-Q4|online_ad|1|100.0%|0|0.0%", "2026-Q3|referral|2|66.7%|1|50.0%",
                          "2026-Q3|repeat|1|33.3%|1|100.0%", "2026-Q4|exhibition|2|50.0%|0|0.0%",
                          "2026-Q4|referral|1|25.0%|0|0.0%", "2026-Q4|-|1|25.0%|0|0.0%"});
  // The pie shows the latest quarter.
  CHECK(r.tables[0].chart.kind == ChartKind::pie);
  CHECK(r.tables[0].chart.first_row == 3);
  CHECK(r.tables[0].chart.last_row == 6);
  ReportOptions o = fx.opts();
  o.year = 2026;
  CHECK(report_sources(*fx.rep, o).tables[0].rows.size() == 5);
  o.year = 2024;
  CHECK(report_sources(*fx.rep, o).tables[0].rows.empty());
  o.lang = Lang::zh;
  o.year = 2026;
  CHECK(report_sources(*fx.rep, o).tables[0].rows[0][1].text == "客户转介绍");
}

TEST_CASE("report sum: orders.amount by owner, region, customer and month, with --where",
          "[reports]") {
  Fixture fx;
  CHECK(lines(report_sum(*fx.rep, "orders.amount", fx.opts("owner"))) ==
        Lines{"王五|7|22000.00", "李四|6|6900.00", "total|13|28900.00"});
  CHECK(lines(report_sum(*fx.rep, "orders.amount", fx.opts("region"))) ==
        Lines{"江苏|7|22000.00", "浙江|6|6900.00", "total|13|28900.00"});
  const auto& c = fx.codes;
  CHECK(lines(report_sum(*fx.rep, "orders.amount", fx.opts("customer"))) ==
        Lines{c.at("E") + "|客户E|2|11500.00", c.at("H") + "|客户H|3|9000.00",
              c.at("D") + "|客户D|2|4800.00", c.at("F") + "|客户F|2|1600.00",
              c.at("B") + "|客户B|2|1500.00", c.at("C") + "|客户C|2|500.00", "total||13|28900.00"});
  ReportOptions o = fx.opts("month");
  o.where = {{"status", "delivered"}};
  Report monthly = report_sum(*fx.rep, "orders.amount", o);
  CHECK(lines(monthly) == Lines{"2025-06|1|700.00", "2025-11|1|1500.00", "2026-01|1|300.00",
                                "2026-09|1|3000.00", "2026-10|1|500.00", "2026-11|2|13000.00",
                                "total|7|19000.00"});
  CHECK(rows_of(monthly)[5]["amount"] == 1300000);  // JSON money: fen
  CHECK(monthly.tables[0].chart.last_row == 6);     // the total row is not charted
  // A label works for the filter (订单状态 = 已交付) as in `list --where`.
  o.where = {{"订单状态", "已交付"}};
  CHECK(lines(report_sum(*fx.rep, "orders.amount", o)).back() == "total|7|19000.00");
  // An integer field of customers: nothing set, so zeros.
  CHECK(lines(report_sum(*fx.rep, "customers.annual_spend", fx.opts("owner"))).back() ==
        "total|8|0.00");

  std::string message;
  CHECK(code_of([&] { report_sum(*fx.rep, "orders.product", fx.opts("owner")); }, &message) ==
        Errc::usage);
  CHECK_THAT(message, Contains("product") && Contains("integer or money"));
  CHECK(code_of([&] { report_sum(*fx.rep, "orders.amount", fx.opts("week")); }, &message) ==
        Errc::usage);
  CHECK_THAT(message, Contains("week"));
  CHECK(code_of([&] { report_sum(*fx.rep, "amount", fx.opts("owner")); }) == Errc::usage);
  o.where = {{"status", "lost"}};
  CHECK(code_of([&] { report_sum(*fx.rep, "orders.amount", o); }, &message) == Errc::validation);
  CHECK_THAT(message, Contains("lost"));
}

TEST_CASE("report targets: delivered order amounts per owner and period, outside owners hidden",
          "[reports]") {
  Fixture fx;
  Report none = report_targets(*fx.rep, fx.opts());
  CHECK(none.tables[0].rows.empty());
  CHECK_THAT(none.notes.at(0), Contains("rules set target"));
  set_targets(*fx.rep);
  Report r = report_targets(*fx.rep, fx.opts());
  // 王五 2026-11: E 10000 + H 3000 delivered in November. 2026: B 500 + E 10000 +
  // H 3000 + 3000. 李四 2026-Q1: C 300 (January). 赵六 owns no customer here.
  CHECK(lines(r) == Lines{"李四|2026-Q1|1000.00|300.00|30.0%", "王五|2026|50000.00|16500.00|33.0%",
                          "王五|2026-11|12000.00|13000.00|108.3%"});
  REQUIRE(r.notes.size() == 1);
  CHECK_THAT(r.notes[0], Contains("1 targets"));
}

TEST_CASE("report forecast: open orders of open customers weighted by stage probability",
          "[reports]") {
  Fixture fx;
  set_targets(*fx.rep);
  // Default probabilities: contact 10, needs 25, proposal 50. E and H are won,
  // F is lost, delivered and cancelled orders are not open.
  CHECK(lines(report_forecast(*fx.rep, fx.opts())) ==
        Lines{"李四|2026-11|1|200.00|50.00||", "李四|2026-12|1|4000.00|2000.00||",
              "王五|2026-11|1|1000.00|100.00|12000.00|0.8%"});
  store_stage_probabilities(*fx.rep, {{"contact", 40}, {"proposal", 33}});
  Report r = report_forecast(*fx.rep, fx.opts());
  // 4000 × 33 % = 1320.00; 1000 × 40 % = 400.00; needs keeps its default 25.
  CHECK(lines(r) == Lines{"李四|2026-11|1|200.00|50.00||", "李四|2026-12|1|4000.00|1320.00||",
                          "王五|2026-11|1|1000.00|400.00|12000.00|3.3%"});
  CHECK_THAT(r.notes.at(0), Contains("Initial contact 40%") && Contains("Needs analysis 25%"));
  // R14-15: stages by their labels in Chinese too, never their keys.
  ReportOptions zh = fx.opts();
  zh.lang = Lang::zh;
  const std::string zh_note = report_forecast(*fx.rep, zh).notes.at(0);
  CHECK_THAT(zh_note, Contains("初步接触 40%") && Contains("需求分析 25%") && !Contains("contact") && !Contains("needs"));
  // Rounding half up to the fen: 0.05 yuan × 10 % = 0.005 yuan → 0.01.
  {
    fx.rep->add("orders", {{"product", "纸"}, {"date", "2027-01-02"}, {"amount", "0.05"}},
                fx.codes.at("B"));
    store_stage_probabilities(*fx.rep, {{"contact", 10}});
    CHECK(lines(report_forecast(*fx.rep, fx.opts())).back() == "王五|2027-01|1|0.05|0.01||");
  }
}

TEST_CASE("report value: RFM scores and segments as of a fixed today", "[reports]") {
  Fixture fx;
  Report r = report_value(*fx.rep, fx.opts());
  // Scored: B (17 days, 2 orders, 1500), C (7, 2, 500), E (22, 1, 10000: the
  // 2025-11-01 order is outside the 365 days), F (16, 1, 900), H (2, 3, 9000).
  // D's only dated orders are cancelled or after today. Median M = 1500.
  // R: every one ordered within 30 days: 5. F ranks (1,1,2,2,3): H 5, B and C 3,
  // E and F 1. M ranks (500,900,1500,9000,10000): E 5, H 4, B 3, F 2, C 1.
  // H is key; C and F (R 5, M below the median) growing; E and B ordinary.
  CHECK(lines(r, 0) == Lines{"key|1|20.0%|9000.00", "at-risk|0|0.0%|0.00",
                             "growing|2|40.0%|1400.00", "ordinary|2|40.0%|11500.00"});
  const auto& c = fx.codes;
  CHECK(lines(r, 1) == Lines{c.at("H") + "|客户H|王五|key|2026-11-25|2|3|9000.00|554",
                             c.at("F") + "|客户F|李四|growing|2026-11-11|16|1|900.00|512",
                             c.at("C") + "|客户C|李四|growing|2026-11-20|7|2|500.00|531",
                             c.at("E") + "|客户E|王五|ordinary|2026-11-05|22|1|10000.00|515",
                             c.at("B") + "|客户B|王五|ordinary|2026-11-10|17|2|1500.00|533"});
  CHECK_THAT(r.notes.at(0), Contains("3 customers without orders"));
  ReportOptions o = fx.opts();
  o.limit = 1;
  CHECK(report_value(*fx.rep, o).tables[1].rows.size() == 3);  // one per segment that has any
  // Another today moves recency: on 2027-06-01 the window drops every 2026-05
  // order and H's recency is 188 days.
  o.today = "2027-06-01";
  o.limit = 0;
  json rows = rows_of(report_value(*fx.rep, o), 1);
  bool found = false;
  for (const auto& row : rows) {
    if (row["code"] == c.at("H")) {
      found = true;
      CHECK(row["recency_days"] == 188);
      CHECK(row["frequency"] == 2);
      CHECK(row["monetary"] == 600000);
    }
  }
  CHECK(found);
  o.today = "2027-02-30";
  CHECK(code_of([&] { report_value(*fx.rep, o); }) == Errc::usage);
}

TEST_CASE("report churn: lost customers per year with the reason from their history", "[reports]") {
  ScratchDir dir{"kehu-reports"};
  auto rep = Replica::create(dir.file("replica.db"), kPass);
  auto customer = [](const std::string& id, const std::string& code, const std::string& type,
                     const std::string& notes) {
    PulledRecord p;
    p.id = id;
    p.collection = "customers";
    p.code = code;
    p.rev = 2;
    p.fields = {{"name", "客户" + code}, {"contact", "赵六"}, {"phone", "13800000002"},
                {"need", "仓储"},        {"type", type},      {"created_at", "2024-02-02"}};
    if (!notes.empty()) p.fields["notes"] = notes;
    return p;
  };
  auto revision = [](const std::string& id, std::int64_t rev, const std::string& at,
                     const std::string& cause, const std::string& to = "lost") {
    Revision r;
    r.record_id = id;
    r.collection = "customers";
    r.rev = rev;
    r.seq = rev;
    r.change_id = id + "-" + std::to_string(rev);
    r.author = "wang";
    r.at = at;
    r.cause = cause;
    r.changes["type"] = FieldChange{json("deal"), json(to)};
    return r;
  };
  const std::string rule = churn_cause(90);
  rep->apply_pulled(
      {customer("c1", "C202401001", "lost", ""), customer("c2", "C202401002", "lost", "价格太高"),
       customer("c3", "C202401003", "lost", ""), customer("c4", "C202401004", "lost", "价格太高"),
       customer("c5", "C202401005", "deal", "")},
      {revision("c1", 2, "2025-03-04T08:00:00Z", rule),
       revision("c2", 2, "2026-05-01T08:00:00Z", ""),
       // c4: lost in 2025 by the rule, back to deal, then lost again by hand in 2026.
       revision("c4", 1, "2025-01-01T08:00:00Z", rule),
       revision("c4", 2, "2026-02-01T08:00:00Z", ""),
       // c5 was lost once, but is a deal customer now: not counted.
       revision("c5", 2, "2025-06-01T08:00:00Z", rule)},
      "cursor-1");
  ReportOptions o;
  o.today = kToday;
  Report r = report_churn(*rep, o);
  // c3 has no revision: the year it was added, no reason.
  CHECK(lines(r) == Lines{"2024|-|1", "2025|" + rule + "|1", "2026|价格太高|2"});
  CHECK_THAT(r.notes.at(0), Contains("4 lost"));
}

TEST_CASE("rules values: stage probabilities and targets are checked naming value and rule",
          "[reports]") {
  CHECK(parse_stage_probabilities("contact=10, 需求分析=30") ==
        StageProbabilities{{"contact", 10}, {"needs", 30}});
  std::string message;
  CHECK(code_of([] { parse_stage_probabilities("contact=120"); }, &message) == Errc::validation);
  CHECK_THAT(message, Contains("contact=120") && Contains("0 to 100"));
  CHECK(code_of([] { parse_stage_probabilities("won=90"); }, &message) == Errc::validation);
  CHECK_THAT(message, Contains("won") && Contains("open sales stage"));
  CHECK(code_of([] { parse_stage_probabilities("contact"); }, &message) == Errc::validation);
  CHECK(checked_period("2026-Q4") == "2026-Q4");
  CHECK(checked_period("2026-02") == "2026-02");
  for (const char* bad : {"2026-13", "2026-Q5", "26", "2026/11", "2026-1"}) {
    CHECK(code_of([&] { checked_period(bad); }, &message) == Errc::validation);
    CHECK_THAT(message, Contains(bad) && Contains("period"));
  }
  CHECK(period_contains("2026-Q4", "2026-12-31"));
  CHECK_FALSE(period_contains("2026-Q4", "2026-09-30"));
  CHECK(period_contains("2026", "2026-01-01"));
  CHECK_FALSE(period_contains("2026-11", "2026-12-01"));
  CHECK(code_of([] {
          targets_from_json(json::array({{{"owner", "王五"}, {"period", "2026"}, {"amount", -1}}}));
        }) == Errc::validation);
}

TEST_CASE("kehu report through the binary: table, --json, --csv and --xlsx with a native chart",
          "[reports][cli]") {
  kehu::test::ReplicaCli cli;
  {
    auto rep = Replica::open(cli.db, kehu::test::ReplicaCli::kPassphrase);
    fill(*rep);
  }
  const kehu::test::EnvChanges today = {{"KEHU_TODAY", kToday}};
  CliResult table = cli.ok({"report", "funnel"}, today);
  CHECK_THAT(table.out, Contains("Sales funnel") && Contains("Needs analysis") &&
                            Contains("83.3%") && Contains("1 lost and 1 customers"));
  CliResult zh = cli.ok({"report", "funnel", "--by", "owner"}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(zh.out, Contains("销售漏斗") && Contains("王五") && Contains("需求分析"));

  json j = json::parse(cli.ok({"--json", "report", "funnel"}, today).out);
  CHECK(j["report"] == "funnel");
  CHECK(j["tables"][0]["rows"][5]["stage"] == "won");
  CHECK(j["tables"][0]["rows"][5]["customers"] == 2);

  const std::string csv = cli.dir.file("funnel.csv");
  const std::string xlsx = cli.dir.file("funnel.xlsx");
  CliResult files = cli.ok({"report", "funnel", "--csv", csv, "--xlsx", xlsx}, today);
  CHECK_THAT(files.out, Contains("written to " + csv) && Contains("written to " + xlsx));
  auto csv_text = kehu::test::read_bytes(csv);
  REQUIRE(csv_text);
  CHECK(csv_text->rfind("\xEF\xBB\xBFStage,Customers,Reached,Conversion\r\n", 0) == 0);
  CHECK_THAT(*csv_text,
             Contains("Initial contact,1,5,83.3%\r\n") && Contains("Won,2,2,100.0%\r\n"));

  auto sheet = zip_member(xlsx, "xl/worksheets/sheet1.xml");
  auto strings = zip_member(xlsx, "xl/sharedStrings.xml");
  auto chart = zip_member(xlsx, "xl/charts/chart1.xml");
  REQUIRE(sheet);
  REQUIRE(strings);
  REQUIRE(chart);
  CHECK_THAT(*strings, Contains("Needs analysis") && Contains("Conversion"));
  // Row 3 (contact): 1 customer, 5 reached, 0.833… as a percent-formatted number.
  CHECK_THAT(*sheet, Contains("<c r=\"B3\"") && Contains("<v>5</v>") && Contains("<v>0.8333"));
  CHECK_THAT(*chart, Contains("<c:barChart>") && Contains("funnel!$A$2:$A$7") &&
                         Contains("funnel!$C$2:$C$7"));

  // Sources: a pie over the latest quarter's rows (2026-Q4: rows 5 to 7 of the sheet).
  const std::string pie = cli.dir.file("sources.xlsx");
  cli.ok({"report", "sources", "--xlsx", pie}, today);
  auto pie_chart = zip_member(pie, "xl/charts/chart1.xml");
  REQUIRE(pie_chart);
  CHECK_THAT(*pie_chart, Contains("<c:pieChart>") && Contains("sources!$B$5:$B$7") &&
                             Contains("sources!$C$5:$C$7"));

  // Sum with --where; a bad --by or field exits 2 naming it.
  json sum = json::parse(cli.ok({"--json", "report", "sum", "orders.amount", "--by", "owner",
                                 "--where", "status=delivered"})
                             .out);
  CHECK(sum["tables"][0]["rows"][0]["owner"] == "王五");
  CHECK(sum["tables"][0]["rows"][0]["amount"] == 1800000);
  CliResult bad = cli.run({"report", "sum", "orders.product", "--by", "owner"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("product") && Contains("integer or money"));
  CliResult bad_by = cli.run({"report", "funnel", "--by", "colour"});
  CHECK(bad_by.exit_code == 2);
  CHECK_THAT(bad_by.err, Contains("colour"));

  // Value with KEHU_TODAY, as a workbook with two sheets.
  const std::string value = cli.dir.file("value.xlsx");
  json v = json::parse(cli.ok({"--json", "report", "value", "--xlsx", value}, today).out);
  CHECK(v["tables"][0]["rows"][0]["customers"] == 1);
  CHECK(v["tables"][1]["rows"][0]["rfm"] == "554");
  CHECK(zip_member(value, "xl/worksheets/sheet2.xml"));
}

TEST_CASE("report value through kehu: a recent, frequent, big customer is key, never at risk",
          "[reports][cli]") {
  // Hand-computed, as of 2026-12-04. A ordered 2 days ago, 3 times, ¥160,000.50;
  // B, C, D once yesterday (5,000, 6,000, 7,000); E once 200 days ago (50,000).
  // R by days: A, B, C, D 5 (≤ 30), E 1 (> 180). F ranks (1,1,1,1,3): A 5, others 1.
  // M ranks: A 5, E 4, D 3, C 2, B 1. Median M 7,000.
  // A key (5,5,5); E at risk (M 4, R 1); B and C growing (R 5, M below the
  // median); D ordinary. Before the fix R was a rank: A (2 days, more than B, C
  // and D's 1) scored R 2 and came out at risk.
  kehu::test::ReplicaCli cli;
  const kehu::test::EnvChanges today = {{"KEHU_TODAY", "2026-12-04"}};
  std::map<std::string, std::string> code;
  int phone = 0;
  for (const char* name : {"A", "B", "C", "D", "E"}) {
    CliResult r = cli.ok({"--json", "customer", "add", "--set", std::string("name=客户") + name, "--set", "contact=张三",
                          "--set", "phone=1380000000" + std::to_string(++phone), "--set", "need=x"},
                         today);
    code[name] = json::parse(r.out)["code"];
  }
  auto order = [&](const char* who, const char* date, const char* amount) {
    cli.ok({"order", "add", code[who], "--set", "product=礼盒", "--set", std::string("date=") + date, "--set",
            std::string("amount=") + amount, "--set", "status=已交付"},
           today);
  };
  order("A", "2026-12-02", "100000.50");
  order("A", "2026-10-01", "40000");
  order("A", "2026-06-01", "20000");
  order("B", "2026-12-03", "5000");
  order("C", "2026-12-03", "6000");
  order("D", "2026-12-03", "7000");
  order("E", "2026-05-18", "50000");
  json v = json::parse(cli.ok({"--json", "report", "value"}, today).out);
  std::map<std::string, std::pair<std::string, std::string>> got;  // code -> (segment, rfm)
  for (const auto& row : v["tables"][1]["rows"]) got[row["code"]] = {row["segment"], row["rfm"]};
  CHECK(got[code["A"]] == std::make_pair(std::string("key"), std::string("555")));
  CHECK(got[code["E"]] == std::make_pair(std::string("at-risk"), std::string("114")));
  CHECK(got[code["B"]] == std::make_pair(std::string("growing"), std::string("511")));
  CHECK(got[code["C"]] == std::make_pair(std::string("growing"), std::string("512")));
  CHECK(got[code["D"]] == std::make_pair(std::string("ordinary"), std::string("513")));
  CHECK(v["tables"][1]["rows"][0]["code"] == code["A"]);
}

TEST_CASE("targets and stage probabilities set by an admin reach a sales replica at sync",
          "[reports][cli][server]") {
  kehu::test::ServerFixture server;
  kehu::test::ReplicaCli admin, wang;
  admin.ok({"login", "--server", server.base_url(), "--user", "root"});
  wang.ok({"login", "--server", server.base_url(), "--user", "wang"});
  auto rules_of = [](const kehu::test::ReplicaCli& r) {
    return json::parse(r.ok({"--json", "rules"}).out);
  };

  admin.ok({"rules", "set", "target", "wang", "2026-11", "12000.50"});
  admin.ok({"rules", "set", "target", "wang", "2026-Q4", "30000"});
  admin.ok({"rules", "set", "stage-probability", "contact=40,方案制定=60"});
  json a = rules_of(admin);
  CHECK(a["stage_probability"]["contact"] == 40);
  CHECK(a["stage_probability"]["proposal"] == 60);
  CHECK(a["stage_probability"]["needs"] == 25);
  REQUIRE(a["targets"].size() == 2);
  CHECK(a["targets"][0] == json{{"owner", "wang"}, {"period", "2026-11"}, {"amount", 1200050}});

  // Refused: a sales user (exit 1), bad values (exit 2 naming value and rule).
  CliResult refused = wang.run({"rules", "set", "target", "wang", "2026-11", "1"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Contains("only an admin") && Contains("wang"));
  CHECK_THAT(refused.err, !Contains("kehu-server"));  // R16-9: there is no such server command
  // R16-9: percents as typed in Chinese input mode.
  const CliResult typed = admin.ok({"rules", "set", "stage-probability", "needs＝３０％，proposal=70%"});
  // In the funnel's order (R15-14).
  CHECK_THAT(typed.out, Contains("potential 5%, contact 40%, needs 30%, proposal 70%, contract 80%"));
  CHECK(rules_of(admin)["stage_probability"]["needs"] == 30);
  CHECK(rules_of(admin)["stage_probability"]["proposal"] == 70);
  admin.ok({"rules", "set", "stage-probability", "needs=25,proposal=60"});
  CliResult bad_period = admin.run({"rules", "set", "target", "wang", "2026-13", "100"});
  CHECK(bad_period.exit_code == 2);
  CHECK_THAT(bad_period.err, Contains("2026-13") && Contains("period"));
  CliResult bad_amount = admin.run({"rules", "set", "target", "wang", "2026-12", "12abc"});
  CHECK(bad_amount.exit_code == 2);
  CHECK_THAT(bad_amount.err, Contains("12abc") && Contains("amount"));
  // A target for a name that is no user's (a typo) is refused (walkthrough 9, R9-9).
  CliResult typo = admin.run({"rules", "set", "target", "王伍", "2026-12", "100"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Contains("王伍") && Contains("not an active user"));
  CliResult bad_prob = admin.run({"rules", "set", "stage-probability", "needs=150"});
  CHECK(bad_prob.exit_code == 2);
  CHECK_THAT(bad_prob.err, Contains("needs=150") && Contains("0 to 100"));
  // The server decides too: a sales token is refused, a bad value is refused.
  const std::string wang_token = server.login("wang");
  CHECK(server
            .post("/v1/settings",
                  {{"target", {{"owner", "wang"}, {"period", "2026"}, {"amount", 1}}}}, wang_token)
            .status == 403);
  CHECK(
      server.post("/v1/settings", {{"stage_probability", {{"contact", 101}}}}, server.login("root"))
          .status == 400);

  CHECK(rules_of(wang)["targets"].empty());
  CHECK(rules_of(wang)["stage_probability"]["contact"] == 10);
  wang.ok({"sync"});
  json w = rules_of(wang);
  CHECK(w["stage_probability"]["contact"] == 40);
  CHECK(w["targets"] == a["targets"]);
  CHECK_THAT(wang.ok({"rules"}).out, Contains("target wang 2026-Q4") && Contains("30,000.00"));
  // R13-10/R14-14: only what the admin changed says so; the rest are defaults.
  const std::string shown = wang.ok({"rules"}).out;
  auto source_of = [&](const std::string& rule) {
    const auto at = shown.find(rule + " ");
    REQUIRE(at != std::string::npos);
    return shown.substr(at, shown.find('\n', at) - at);
  };
  CHECK_THAT(source_of("stage-probability contact"), Contains("set by an admin"));
  CHECK_THAT(source_of("stage-probability proposal"), Contains("set by an admin"));
  CHECK_THAT(source_of("stage-probability needs"), Contains("default") && !Contains("admin"));
  CHECK_THAT(source_of("churn-days"), Contains("default") && !Contains("admin"));

  admin.ok({"rules", "unset", "target", "wang", "2026-Q4"});
  wang.ok({"sync"});
  w = rules_of(wang);
  REQUIRE(w["targets"].size() == 1);
  CHECK(w["targets"][0]["period"] == "2026-11");
}
