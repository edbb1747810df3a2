// Sheets as people really save them, imported through the real `kehu` binary:
// a merged title and blank rows above the header, the common header variants
// (公司名称, 手机, 业务员, 区域, …), a lone 跟进日期 column, a 合计 row at the
// bottom, same-named customers with their own codes, and the first sync's
// short duplicate report (a real kehu-server).
#include <xlsxwriter.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/xlsx.h"
#include "device.h"
#include "replica_cli.h"
#include "server_fixture.h"

using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::Device;
using kehu::test::read_bytes;
using kehu::test::ReplicaCli;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;
using kehu::test::write_bytes;
using json = nlohmann::json;

namespace {

const std::string kBom = "\xEF\xBB\xBF";

std::string sample(const char* name) { return kehu::test::sample_sheet(name); }

json run_json(const ReplicaCli& k, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  CliResult r = k.run(args);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// Customers by code.
std::map<std::string, json> customers(const ReplicaCli& k) {
  std::map<std::string, json> out;
  for (const auto& c : run_json(k, {"customer", "list"})) out[c["code"].get<std::string>()] = c;
  return out;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A regional template as Excel saves it to CSV: a merged title (its text in the
// first cell), a blank row, then the header with the common variants, and a
// totals row.
const std::string kRegional =
    kBom +
    "2026年华东区客户管理表,,,,,,,,,\r\n"
    ",,,,,,,,,\r\n"
    "序号,客户编号,公司名称,联系人,手机,核心需求,业务员,区域,跟进日期,微信群\r\n"
    "1,C202601001,华东机电有限公司,张三,13800138001,数控机床,王五,华东,2026-01-05,机电群\r\n"
    "2,C202601002,苏州精工科技有限公司,李四,13800138002,检测设备,赵六,华东,2026-01-09,\r\n"
    "3,C202601003,杭州云帆贸易有限公司,钱七,13800138003,办公家具,王五,华东,,\r\n"
    "合计,,3家,,,,,,,\r\n";  // the count in the name column is no name

}  // namespace

TEST_CASE("sheets: the header row is found under a title and a blank row, and said",
          "[cli][sheets]") {
  ReplicaCli k;
  const std::string csv = k.dir.file("华东区客户.csv");
  write_bytes(csv, kRegional);

  CliResult r = k.run({"import", csv});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("header row 3"));
  CHECK_THAT(r.out, Contains("\"2026年华东区客户管理表\"") && Contains("a blank row"));
  // The totals row is named and skipped, not refused.
  CHECK_THAT(r.out, Contains("row 7 is a totals row (合计)"));
  CHECK_THAT(r.out, Contains("3 rows, 0 bad") && Contains("3 created"));
  // The column no field takes is still reported.
  CHECK_THAT(r.err, Contains("column \"微信群\" matches no field"));

  auto got = customers(k);
  REQUIRE(got.size() == 3);
  const json& a = got.at("C202601001");
  CHECK(a["name"] == "华东机电有限公司");  // 公司名称
  CHECK(a["phone"] == "13800138001");      // 手机
  CHECK(a["owner"] == "王五");             // 业务员
  CHECK(a["province"] == "华东");          // 区域
  CHECK(a["last_followup_at"] == "2026-01-05");
  CHECK(got.at("C202601003").value("last_followup_at", json()).is_null());
}

TEST_CASE("sheets: the JSON report names the header row, the aliases and the totals row",
          "[cli][sheets]") {
  ReplicaCli k;
  const std::string csv = k.dir.file("regional.csv");
  write_bytes(csv, kRegional);
  json rep = run_json(k, {"import", "--dry-run", csv});
  CHECK(rep["header_row"] == 3);
  CHECK(rep["header_row_given"] == false);
  CHECK(rep["above_header"] == json::array({"2026年华东区客户管理表", ""}));
  CHECK(rep["aliased_columns"] ==
        json({{"公司名称", "name"}, {"手机", "phone"}, {"业务员", "owner"}, {"区域", "province"}}));
  CHECK(rep["unknown_columns"] == json::array({"微信群"}));
  CHECK(rep["totals_rows"] == json::array({7}));
  CHECK(rep["rows"] == 3);
  CHECK(rep["created"] == 3);
}

TEST_CASE("sheets: every header variant of the issue maps to its field", "[cli][sheets]") {
  // name / phone / owner / region variants, one sheet each, with the required
  // 联系人 and 核心需求 columns beside them.
  const std::vector<std::string> names = {"公司名称", "单位名称", "客户"};
  const std::vector<std::string> phones = {"手机", "手机号", "电话", "联系方式"};
  const std::vector<std::string> owners = {"负责人", "业务员", "销售"};
  const std::vector<std::string> regions = {"地区", "区域"};
  const std::vector<std::string> companies = {"东海船舶", "西岭茶业", "南山矿业", "北辰光电"};
  ReplicaCli k;
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string n = names[i % names.size()], p = phones[i], o = owners[i % owners.size()],
                      g = regions[i % regions.size()];
    const std::string csv = k.dir.file("v" + std::to_string(i) + ".csv");
    const std::string code = "C20260200" + std::to_string(i + 1);
    write_bytes(csv, "客户编号," + n + ",联系人," + p + ",核心需求," + o + "," + g + "\n" + code +
                         "," + companies[i] + ",张三,1390000000" + std::to_string(i) +
                         ",配件,王五,江苏\n");
    json rep = run_json(k, {"import", csv});
    INFO(n << " " << p << " " << o << " " << g);
    CHECK(rep["created"] == 1);
    CHECK(rep["unknown_columns"].empty());
    json c = run_json(k, {"customer", "show", code});
    CHECK(c["name"] == companies[i]);
    CHECK(c["phone"] == "1390000000" + std::to_string(i));
    CHECK(c["owner"] == "王五");
    CHECK(c["province"] == "江苏");
  }
}

TEST_CASE("sheets: a field named by two columns takes the one with its own label",
          "[cli][sheets]") {
  ReplicaCli k;
  const std::string csv = k.dir.file("two-phones.csv");
  write_bytes(csv,
              "客户名称,联系人,手机,联系电话,核心需求\n"
              "两个电话有限公司,张三,13911110000,13800138000,配件\n");
  json rep = run_json(k, {"import", csv});
  CHECK(rep["created"] == 1);
  REQUIRE(rep["notes"].size() == 1);
  CHECK_THAT(rep["notes"][0].get<std::string>(),
             Contains("\"手机\" not imported") && Contains("\"联系电话\""));
  CHECK(customers(k).begin()->second["phone"] == "13800138000");
}

TEST_CASE("sheets: --header-row overrides the search - a bad value is a usage error naming it",
          "[cli][sheets]") {
  ReplicaCli k;
  const std::string csv = k.dir.file("notes-above.csv");
  // Row 1 is a note that itself names two known columns, so the search takes
  // it; the real header is row 2.
  write_bytes(csv,
              "客户名称,联系电话\n"
              "客户名称,联系人,联系电话,核心需求\n"
              "甲公司,张三,13800138000,配件\n");
  CliResult first = k.run({"--json", "import", "--dry-run", csv});
  INFO(first.describe());
  CHECK(first.exit_code == 2);  // the rows below are read as data: 联系电话 "联系人" is refused
  json found = json::parse(first.out);
  CHECK(found["header_row"] == 1);
  CHECK(found["bad_rows"] == 2);
  json given = run_json(k, {"import", "--header-row", "2", "--dry-run", csv});
  CHECK(given["header_row"] == 2);
  CHECK(given["header_row_given"] == true);
  CHECK(given["above_header"] == json::array({"客户名称 联系电话"}));
  CHECK(given["created"] == 1);
  CHECK(given["bad_rows"] == 0);
  CliResult text = k.run({"import", "--header-row", "2", csv});
  INFO(text.describe());
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, Contains("header row 2, as --header-row gave"));

  for (const std::string bad : {"0", "abc", "-1", "2x"}) {
    CliResult r = k.run({"import", "--header-row", bad, csv});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--header-row \"" + bad + "\""));
  }
  CliResult far = k.run({"import", "--header-row", "9", csv});
  INFO(far.describe());
  CHECK(far.exit_code == 2);
  CHECK_THAT(far.err,
             Contains("--header-row 9") && Contains("no row 9") && Contains("last row is 3"));
  CHECK(customers(k).size() == 1);  // only the good run wrote
}

TEST_CASE("sheets: a lone 跟进日期 column gives the customer's last follow-up date",
          "[cli][sheets]") {
  ReplicaCli k;
  const std::string csv = k.dir.file("dates-only.csv");
  write_bytes(csv,
              "客户编号,客户名称,联系人,联系电话,核心需求,负责人,跟进日期\n"
              "C202603001,日期甲公司,张三,13800138001,配件,王五,2026-03-02\n"
              "C202603002,日期乙公司,李四,13800138002,配件,,2026-03-05\n"
              "C202603003,日期丙公司,钱七,13800138003,配件,王五,\n");
  CliResult r = k.run({"import", csv});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("3 rows, 0 bad") && Contains("3 created") && Contains("2 follow-ups"));
  CHECK_THAT(r.out, Contains("note: 跟进日期 without a 跟进人 or 跟进内容 column"));
  auto got = customers(k);
  CHECK(got.at("C202603001")["last_followup_at"] == "2026-03-02");
  CHECK(got.at("C202603002")["last_followup_at"] == "2026-03-05");
  CHECK(got.at("C202603003").value("last_followup_at", json()).is_null());
  json fa = run_json(k, {"followup", "list", "C202603001"});
  REQUIRE(fa.size() == 1);
  CHECK(fa[0]["date"] == "2026-03-02");
  CHECK(fa[0]["person"] == "王五");  // the row's 负责人
  CHECK(fa[0]["content"] == "表格导入（原表只有跟进日期）");
  json fb = run_json(k, {"followup", "list", "C202603002"});
  REQUIRE(fb.size() == 1);
  CHECK(fb[0]["person"] == "未填写");
  // Importing it again adds no second follow-up.
  json again = run_json(k, {"import", csv});
  CHECK(again["followups"] == 0);
  CHECK(run_json(k, {"followup", "list", "C202603001"}).size() == 1);
}

TEST_CASE("sheets: a 合计 row only counts at the bottom", "[cli][sheets]") {
  ReplicaCli k;
  const std::string csv = k.dir.file("totals.csv");
  write_bytes(csv,
              "客户名称,联系人,联系电话,核心需求,年消费额\n"
              "合计甲,张三,13800138001,配件,100\n"  // a name that starts like one: a customer
              "合计,,,,500\n"                       // in the middle: a bad row
              "乙公司,李四,13800138002,配件,400\n"
              "小 计,,,,500\n"
              "总计：,,,,500\n"
              ",,,,\n");
  CliResult r = k.run({"import", csv});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(csv + ":3: "));
  CHECK(r.err.find(csv + ":5:") == std::string::npos);
  CHECK(r.err.find(csv + ":6:") == std::string::npos);
  json rep = run_json(k, {"import", "--skip-bad", csv});
  CHECK(rep["totals_rows"] == json::array({5, 6}));
  CHECK(rep["blank_rows"] == 1);
  CHECK(rep["rows"] == 3);
  CHECK(rep["bad_rows"] == 1);
  CHECK(rep["created"] == 2);
}

TEST_CASE("sheets: an xlsx with a merged title, a blank row and a totals row", "[cli][sheets]") {
  ReplicaCli k;
  const std::string xlsx = k.dir.file("华东区.xlsx");
  {
    lxw_workbook* wb = workbook_new(xlsx.c_str());
    REQUIRE(wb != nullptr);
    lxw_worksheet* ws = workbook_add_worksheet(wb, "客户管理");
    lxw_format* title = workbook_add_format(wb);
    format_set_bold(title);
    format_set_align(title, LXW_ALIGN_CENTER);
    REQUIRE(worksheet_merge_range(ws, 0, 0, 0, 5, "2026年华东区客户管理表", title) == LXW_NO_ERROR);
    // Row 2 is left blank; the header is row 3.
    const std::vector<std::string> header = {"序号",   "单位名称", "联系人",
                                             "手机号", "核心需求", "销售"};
    for (std::size_t j = 0; j < header.size(); ++j)
      worksheet_write_string(ws, 2, static_cast<lxw_col_t>(j), header[j].c_str(), nullptr);
    const std::vector<std::vector<std::string>> rows = {
        {"宁波港口物流有限公司", "周一", "13700137001", "仓储", "孙八"},
        {"温州鞋业有限公司", "吴二", "13700137002", "皮革", "孙八"}};
    for (std::size_t i = 0; i < rows.size(); ++i) {
      lxw_row_t r = static_cast<lxw_row_t>(3 + i);
      worksheet_write_number(ws, r, 0, static_cast<double>(i + 1), nullptr);
      for (std::size_t j = 0; j < rows[i].size(); ++j)
        worksheet_write_string(ws, r, static_cast<lxw_col_t>(j + 1), rows[i][j].c_str(), nullptr);
    }
    worksheet_write_string(ws, 5, 0, "总计", nullptr);
    worksheet_write_number(ws, 5, 1, 2, nullptr);  // the count of companies
    REQUIRE(workbook_close(wb) == LXW_NO_ERROR);
  }
  CliResult r = k.run({"import", xlsx});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("header row 3") && Contains("2026年华东区客户管理表"));
  CHECK_THAT(r.out, Contains("row 6 is a totals row"));
  CHECK_THAT(r.out, Contains("2 rows, 0 bad") && Contains("2 created"));
  std::vector<std::string> owners, names;
  for (const auto& [code, c] : customers(k)) {
    names.push_back(c["name"]);
    owners.push_back(c["owner"]);
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"宁波港口物流有限公司", "温州鞋业有限公司"});
  CHECK(owners == std::vector<std::string>{"孙八", "孙八"});
}

TEST_CASE("sheets: a template with an instructions sheet first, marked headers and dates with a time",
          "[cli][sheets][walk19]") {
  // Walkthrough 19: R19-11 (the first sheet is 填写说明), R19-6 (*客户名称,
  // 联系人*, 备注（选填）, 所在省份), R19-7 (a date cell holding a time of day).
  ReplicaCli k;
  const std::string xlsx = k.dir.file("模板.xlsx");
  {
    lxw_workbook* wb = workbook_new(xlsx.c_str());
    REQUIRE(wb != nullptr);
    lxw_worksheet* help = workbook_add_worksheet(wb, "填写说明");
    worksheet_write_string(help, 0, 0, "1. 带 * 的列为必填", nullptr);
    worksheet_write_string(help, 1, 0, "2. 日期请写成 2026/12/1", nullptr);
    lxw_worksheet* ws = workbook_add_worksheet(wb, "客户信息");
    lxw_format* date = workbook_add_format(wb);
    format_set_num_format_index(date, 14);  // m/d/yyyy: shown as a plain date
    const std::vector<std::string> header = {"*客户名称", "联系人*", "手机号码", "所在省份", "所在城市",
                                             "客户需求", "下次跟进日期", "备注（选填）"};
    for (std::size_t j = 0; j < header.size(); ++j)
      worksheet_write_string(ws, 0, static_cast<lxw_col_t>(j), header[j].c_str(), nullptr);
    const std::vector<std::string> row = {"南京建邺科技", "马一", "13912340301", "江苏", "南京", "官网改版"};
    for (std::size_t j = 0; j < row.size(); ++j)
      worksheet_write_string(ws, 1, static_cast<lxw_col_t>(j), row[j].c_str(), nullptr);
    worksheet_write_number(ws, 1, 6, 46380.5, date);  // 2026-12-24 12:00
    worksheet_write_string(ws, 1, 7, "无", nullptr);
    REQUIRE(workbook_close(wb) == LXW_NO_ERROR);
  }
  CliResult r = k.run({"import", xlsx});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("sheet \"客户信息\"") && Contains("\"填写说明\" has no customer header row"));
  CHECK_THAT(r.out, Contains("1 rows, 0 bad") || Contains("1 row, 0 bad"));
  CHECK(r.out.find("matches no field") == std::string::npos);
  const auto all = customers(k);
  REQUIRE(all.size() == 1);
  const json& c = all.begin()->second;
  CHECK(c["name"] == "南京建邺科技");
  CHECK(c["contact"] == "马一");
  CHECK(c["province"] == "江苏");
  CHECK(c["city"] == "南京");
  CHECK(c["need"] == "官网改版");
  CHECK(c["next_date"] == "2026-12-24");
  CHECK(c["notes"] == "无");
}

namespace {

// Writes the workbook at `from` again to `to`, every cell as text, with `extra`
// (header -> cell) appended to the sheet `sheet`: a row a person typed into an
// export in Excel.
void add_row_to_workbook(const std::string& from, const std::string& to, const std::string& sheet,
                         const std::map<std::string, std::string>& extra) {
  const std::vector<std::string> names = kehu::read_xlsx(from, "").sheets;
  lxw_workbook* wb = workbook_new(to.c_str());
  REQUIRE(wb != nullptr);
  for (const std::string& name : names) {
    const kehu::XlsxTable t = kehu::read_xlsx(from, name);
    lxw_worksheet* ws = workbook_add_worksheet(wb, name.c_str());
    lxw_row_t r = 0;
    for (const auto& row : t.rows) {
      for (std::size_t j = 0; j < row.cells.size(); ++j)
        worksheet_write_string(ws, r, static_cast<lxw_col_t>(j), row.cells[j].c_str(), nullptr);
      ++r;
    }
    if (name != sheet) continue;
    REQUIRE_FALSE(t.rows.empty());
    const auto& header = t.rows[0].cells;
    for (std::size_t j = 0; j < header.size(); ++j) {
      auto it = extra.find(header[j]);
      if (it != extra.end()) worksheet_write_string(ws, r, static_cast<lxw_col_t>(j), it->second.c_str(), nullptr);
    }
  }
  REQUIRE(workbook_close(wb) == LXW_NO_ERROR);
}

std::vector<json> followups_of(const ReplicaCli& k, const std::string& code) {
  return run_json(k, {"followup", "list", code}).get<std::vector<json>>();
}

}  // namespace

TEST_CASE("sheets: rows added to an export's child sheets are imported with its customers", "[cli][sheets][walk19]") {
  // Walkthrough 19, R19-17: a follow-up typed into the export's 跟进记录 sheet
  // was dropped on re-import without a word.
  ReplicaCli k;
  k.ok({"customer", "add", "--set", "name=南京玄武文化传媒", "--set", "contact=马一", "--set", "phone=13912340301",
        "--set", "province=江苏", "--set", "need=官网改版"});
  const std::string code = customers(k).begin()->first;
  k.ok({"followup", "add", code, "--set", "date=2026-12-01", "--set", "person=王五", "--set", "content=初次拜访"});
  const std::string exported = k.dir.file("导出.xlsx"), edited = k.dir.file("补录.xlsx");
  k.ok({"export", exported});
  add_row_to_workbook(exported, edited, "跟进记录",
                      {{"客户编号", code}, {"客户名称", "南京玄武文化传媒"}, {"跟进日期", "2026-12-06"},
                       {"跟进人", "赵六"}, {"跟进内容", "经理补录：客户确认下周签约"}});

  CliResult dry = k.run({"import", edited, "--dry-run"});
  INFO(dry.describe());
  REQUIRE(dry.exit_code == 0);
  CHECK_THAT(dry.out, Contains("sheet \"跟进记录\": 2 rows; 1 would be added (row 3); 1 already in Kehu"));
  CHECK(followups_of(k, code).size() == 1);

  CliResult done = k.run({"import", edited}, {{"KEHU_LANG", "zh"}});
  INFO(done.describe());
  REQUIRE(done.exit_code == 0);
  CHECK_THAT(done.out, Contains("工作表“跟进记录”：2 行；新增 1 条跟进记录（第 3 行）；1 行已在 Kehu 中"));
  std::vector<json> fus = followups_of(k, code);
  REQUIRE(fus.size() == 2);
  CHECK(std::any_of(fus.begin(), fus.end(), [](const json& f) {
    return f["content"] == "经理补录：客户确认下周签约" && f["person"] == "赵六" && f["date"] == "2026-12-06";
  }));
  // Again: nothing new.
  json again = run_json(k, {"import", edited});
  REQUIRE(again["child_sheets"].is_array());
  CHECK(again["child_sheets"][0]["added"] == 0);
  CHECK(followups_of(k, code).size() == 2);

  // Into an empty replica: the customer, and its follow-ups once each (its row
  // on 客户 carries the latest one, which 跟进记录 lists too).
  ReplicaCli empty;
  CliResult restored = empty.run({"import", edited});
  INFO(restored.describe());
  REQUIRE(restored.exit_code == 0);
  REQUIRE(customers(empty).size() == 1);
  CHECK(followups_of(empty, customers(empty).begin()->first).size() == 2);

  // A row naming no customer is a bad row of its sheet, and nothing is written.
  const std::string wrong = k.dir.file("错号.xlsx");
  add_row_to_workbook(exported, wrong, "跟进记录",
                      {{"客户编号", "C209901999"}, {"跟进日期", "2026-12-06"}, {"跟进人", "赵六"}, {"跟进内容", "错的编号"}});
  CliResult bad = k.run({"import", wrong});
  INFO(bad.describe());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains(wrong + "[跟进记录]:3:") && Contains("C209901999"));
  CHECK(followups_of(k, code).size() == 2);
}

TEST_CASE("sheets: same-named rows with their own codes are imported and listed for review",
          "[cli][sheets]") {
  ReplicaCli k;
  const std::string csv = k.dir.file("客户表.csv");
  write_bytes(csv,
              kBom +
                  "客户编号,客户名称,联系人,联系电话,核心需求\n"
                  "C202604001,明达科技有限公司,张三,13800138001,配件\n"
                  "C202604002,明达科技股份有限公司,李四,13800138002,配件\n"  // name of line 2
                  "C202604003,华信电子,王五,13800138001,配件\n"              // phone of line 2
                  "C202604004,远方化工,赵六,13800138004,配件\n");
  CliResult r = k.run({"import", csv});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("4 created"));
  CHECK_THAT(r.out, Contains("2 possible duplicates within the sheet"));
  CHECK_THAT(r.out, Contains("line 3 C202604002 明达科技股份有限公司 ~ line 2 C202604001"));
  CHECK_THAT(r.out, Contains("same phone 13800138001"));
  CHECK(customers(k).size() == 4);
  // The list as a CSV beside the sheet, which a spreadsheet opens.
  const std::string list = k.dir.file("客户表.duplicates.csv");
  CHECK_THAT(r.out, Contains(list));
  auto bytes = read_bytes(list);
  REQUIRE(bytes.has_value());
  CHECK(bytes->rfind(kBom, 0) == 0);
  CHECK_THAT(*bytes, Contains("行号,客户编号,客户名称,重复依据"));
  CHECK_THAT(*bytes, Contains("3,C202604002,明达科技股份有限公司,名称相近,明达科技股份有限公司,2,"
                              "C202604001,明达科技有限公司"));
  CHECK_THAT(*bytes, Contains("4,C202604003,华信电子,同一电话,13800138001,2,C202604001"));
  // kehu customer duplicates lists them too.
  json groups = run_json(k, {"customer", "duplicates"});
  CHECK(groups.size() == 2);

  // --duplicates-csv puts the list elsewhere; a dry run writes none.
  ReplicaCli k2;
  const std::string other = k2.dir.file("review.csv");
  json dry = run_json(k2, {"import", "--dry-run", "--duplicates-csv", other, csv});
  CHECK(dry["possible_duplicates"].size() == 2);
  CHECK(dry["duplicates_csv"].is_null());
  CHECK_FALSE(read_bytes(other).has_value());
  json real = run_json(k2, {"import", "--duplicates-csv", other, csv});
  CHECK(real["created"] == 4);
  CHECK(real["duplicates_csv"] == other);
  REQUIRE(real["possible_duplicates"].size() == 2);
  CHECK(real["possible_duplicates"][1] == json({{"line", 4},
                                                {"code", "C202604003"},
                                                {"name", "华信电子"},
                                                {"key", "phone"},
                                                {"value", "13800138001"},
                                                {"other_line", 2},
                                                {"other_code", "C202604001"},
                                                {"other_name", "明达科技有限公司"}}));
  CHECK(read_bytes(other).has_value());
  CliResult self = k2.run({"import", "--duplicates-csv", csv, csv});
  CHECK(self.exit_code == 2);
  CHECK_THAT(self.err, Contains("--duplicates-csv"));
}

TEST_CASE("sheets: the sample sheet imports without --force - its repeated names are listed",
          "[cli][sheets]") {
  ReplicaCli k;
  const std::string file = sample("customers-sample.csv");
  const std::string list = k.dir.file("dups.csv");
  json rep = run_json(k, {"import", "--skip-bad", "--duplicates-csv", list, file});
  CHECK(rep["header_row"] == 1);
  CHECK(rep["bad_rows"] == 5);  // only the five bad rows the sample describes
  CHECK(rep["created"] == 300);
  CHECK_FALSE(rep["possible_duplicates"].empty());
  for (const auto& d : rep["possible_duplicates"]) CHECK(d["code"] != d["other_code"]);
  auto bytes = read_bytes(list);
  REQUIRE(bytes.has_value());
  // One line per pair, after the header.
  CHECK(count_of(*bytes, "\r\n") == rep["possible_duplicates"].size() + 1);
}

TEST_CASE("sheets: the first sync after importing the sample gives a short duplicate report",
          "[cli][sheets]") {
  ServerFixture server;
  ScratchDir dir("kehu-sheets-sync");
  Device qian(dir, server, "qian");
  CliResult imp = qian.kehu({"import", "--skip-bad", sample("customers-sample.csv")});
  INFO(imp.describe());
  REQUIRE(imp.exit_code == 0);
  CliResult s = qian.kehu({"sync"});
  INFO(s.describe());
  REQUIRE(s.exit_code == 0);
  // The count, at most five pairs, and where the rest are.
  const std::size_t shown = count_of(s.out, "possible duplicate: ");
  CHECK(shown == 5);
  std::size_t total = 0;
  {
    std::istringstream in(s.out);
    for (std::string line; std::getline(in, line);) {
      auto at = line.find(" possible duplicates");
      if (at != std::string::npos && total == 0) total = std::stoul(line.substr(0, at));
    }
  }
  CHECK(total > 5);
  CHECK_THAT(s.out, Contains("and " + std::to_string(total - 5) + " more"));
  CHECK_THAT(s.out, Contains("kehu customer duplicates"));
  json j = json::parse(qian.kehu({"--json", "sync"}).out);
  CHECK(j["possible_duplicates"].empty());  // nothing new since
}
