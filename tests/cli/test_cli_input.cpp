// What Chinese users type, through the real `kehu` binary (tests/support): full-width
// phones and dates, 2026年12月1日 and 1.2万, lower-case and full-width customer codes in
// every command that takes one, ambiguous dates refused with exit 2, every missing
// required field named at once, and sheets (CSV and xlsx) with those spellings and
// Excel serial days.
#include <zip.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli_runner.h"
#include "replica_cli.h"

using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::ReplicaCli;
using kehu::test::write_bytes;
using json = nlohmann::json;

namespace {

std::string chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// "C202612001" in full-width forms: "Ｃ２０２６１２００１".
std::string fullwidth(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    const char32_t cp = static_cast<char32_t>(c) - 0x21 + 0xFF01;
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

json run_json(const ReplicaCli& k, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  CliResult r = k.run(args);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  json j;
  REQUIRE_NOTHROW(j = json::parse(r.out));
  return j;
}

std::string add_customer(const ReplicaCli& k, const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"customer", "add", "--force"};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  CliResult r = k.run(args);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const std::string code = chomp(r.out);
  REQUIRE(code.size() == 10);
  REQUIRE(code[0] == 'C');
  return code;
}

// A one-sheet .xlsx (made with libzip) whose cells are given as XML.
void write_xlsx(const std::string& path, const std::string& rows) {
  const std::string ns =
      "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
      "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"";
  const std::vector<std::pair<std::string, std::string>> parts = {
      {"xl/workbook.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook " + ns +
                              "><sheets><sheet name=\"客户\" sheetId=\"1\" r:id=\"rId1\"/>"
                              "</sheets></workbook>"},
      {"xl/_rels/workbook.xml.rels",
       "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
       "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship "
       "Id=\"rId1\" "
       "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
       "Target=\"worksheets/sheet1.xml\"/></Relationships>"},
      {"xl/worksheets/sheet1.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet " + ns +
                                       "><sheetData>" + rows + "</sheetData></worksheet>"}};
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(z != nullptr);
  for (const auto& [name, bytes] : parts) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    REQUIRE(src != nullptr);
    REQUIRE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8) >= 0);
  }
  REQUIRE(zip_close(z) == 0);
}

std::string text_cell(const std::string& ref, const std::string& text) {
  return "<c r=\"" + ref + "\" t=\"inlineStr\"><is><t>" + text + "</t></is></c>";
}

// A number in the General style: what a date column formatted as a number holds.
std::string number_cell(const std::string& ref, const std::string& number) {
  return "<c r=\"" + ref + "\"><v>" + number + "</v></c>";
}

}  // namespace

TEST_CASE("kehu customer add takes full-width phones, Chinese dates and keeps full-width names",
          "[cli][input]") {
  ReplicaCli k;
  const std::string code =
      add_customer(k, {"name=ＡＢＣ科技（北京）", "contact=张三", "phone=１３９１２３４９９９９",
                       "need=办公用品", "next_date=2026年12月1日", "birthday=1990.5.8",
                       "email=ＺＨＡＮＧ＠ＥＸＡＭＰＬＥ．ＣＯＭ"});
  const json c = run_json(k, {"customer", "show", code});
  CHECK(c["phone"] == "13912349999");
  CHECK(c["next_date"] == "2026-12-01");
  CHECK(c["birthday"] == "1990-05-08");
  CHECK(c["email"] == "ZHANG@example.com");
  CHECK(c["name"] == "ＡＢＣ科技（北京）");  // free text keeps what was typed
}

TEST_CASE("lower-case and full-width customer codes work in every command that takes a code",
          "[cli][input]") {
  ReplicaCli k;
  const std::string code = add_customer(
      k, {"name=明达科技", "contact=张三", "phone=13800138000", "need=办公用品"});
  const std::string lc = lower(code);
  REQUIRE(lc != code);

  CHECK(run_json(k, {"customer", "show", lc})["code"] == code);
  CHECK(run_json(k, {"customer", "show", fullwidth(lc)})["code"] == code);
  k.ok({"customer", "edit", lc, "--set", "next_date=２０２６／１２／２"});
  CHECK(run_json(k, {"customer", "show", code})["next_date"] == "2026-12-02");

  k.ok({"followup", "add", lc, "--set", "date=2026.12.1", "--set", "person=张三", "--set",
        "content=电话回访"});
  const json fus = run_json(k, {"followup", "list", lc});
  REQUIRE(fus.size() == 1);
  CHECK(fus[0]["date"] == "2026-12-01");

  k.ok({"order", "add", lc, "--set", "product=打印机", "--set", "amount=1.2万"});
  k.ok({"order", "add", lc, "--set", "product=纸", "--set", "amount=¥12,000.50"});
  k.ok({"order", "add", lc, "--set", "product=墨盒", "--set", "amount=￥１２，０００．５０"});
  std::vector<std::int64_t> amounts;
  for (const json& o : run_json(k, {"order", "list", lc})) amounts.push_back(o["amount"]);
  std::sort(amounts.begin(), amounts.end());
  CHECK(amounts == std::vector<std::int64_t>{1200000, 1200050, 1200050});

  const json where = run_json(k, {"customer", "list", "--where", "code=" + lc});
  REQUIRE(where.size() == 1);
  CHECK(where[0]["code"] == code);
  CHECK(run_json(k, {"history", lc}).size() >= 2);

  k.ok({"customer", "delete", lc});
  CHECK(run_json(k, {"customer", "show", code})["deleted"] == true);
  k.ok({"customer", "restore", lc});
  CHECK(run_json(k, {"customer", "show", code})["deleted"] == false);

  // An unknown code is still not found (exit 1), named as typed.
  CliResult r = k.run({"customer", "show", "c209901999"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("c209901999"));
}

TEST_CASE("an ambiguous day/month order is refused with exit 2 and a message that says why",
          "[cli][input]") {
  ReplicaCli k;
  for (const char* typed : {"12/1/2026", "1/12/2026"}) {
    CliResult r = k.run({"customer", "add", "--set", "name=明达", "--set", "contact=张三", "--set",
                         "phone=13800138000", "--set", "need=x", "--set",
                         std::string("next_date=") + typed});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("下次跟进日期 (next_date): \"" + std::string(typed) + "\"") &&
                          Contains("is ambiguous: the order of day and month is unknown") &&
                          Contains("2026-12-01") && Contains("2026-01-12") &&
                          Contains("write the year first: YYYY-MM-DD, YYYY/M/D, YYYY.M.D or "
                                   "YYYY年M月D日"));
  }
  CHECK(run_json(k, {"status"})["customers"] == 0);  // nothing written
  // One reading only: taken.
  const std::string code = add_customer(k, {"name=明达", "contact=张三", "phone=13800138000",
                                            "need=x", "next_date=25/12/2026"});
  CHECK(run_json(k, {"customer", "show", code})["next_date"] == "2026-12-25");
}

TEST_CASE("a required-field error names every missing field at once", "[cli][input]") {
  ReplicaCli k;
  CliResult r = k.run({"customer", "add", "--set", "name=明达"});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("联系人 (contact), 联系电话 (phone), 核心需求 (need) are required"));
  CHECK(run_json(k, {"status"})["customers"] == 0);

  const std::string code =
      add_customer(k, {"name=明达", "contact=张三", "phone=13800138000", "need=x"});
  r = k.run({"followup", "add", lower(code), "--set", "date=2026-12-01"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("跟进人 (person), 跟进内容 (content) are required"));
  r = k.run({"customer", "edit", code, "--set", "name=", "--set", "phone="});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("客户名称 (name), 联系电话 (phone) are required"));
}

TEST_CASE("kehu import of a CSV with 2026年12月1日, 1.2万, full-width phones, serial days and "
          "lower-case codes",
          "[cli][input]") {
  ReplicaCli k;
  const std::string code =
      add_customer(k, {"name=明达科技", "contact=张三", "phone=13800138000", "need=办公用品"});
  const std::string csv = k.dir.file("客户.csv");
  write_bytes(csv,
              "客户编号,客户名称,联系人,联系电话,核心需求,城市,下次跟进日期,年消费额,跟进日期,跟进人,"
              "跟进内容\n" +
                  lower(code) + ",,,,,苏州,,,,,\n" +
                  ",华信物流,李四,１３９１２３４９９９９,运输,,2026年12月1日,1.2万,46357,李四,"
                  "电话\n");
  const json rep = run_json(k, {"import", csv});
  INFO(rep.dump());
  CHECK(rep["bad_rows"] == 0);
  CHECK(rep["updated"] == 1);  // the lower-case code is the existing customer
  CHECK(rep["created"] == 1);
  CHECK(run_json(k, {"customer", "show", code})["city"] == "苏州");

  const json list = run_json(k, {"customer", "list", "--where", "name=华信物流"});
  REQUIRE(list.size() == 1);
  CHECK(list[0]["phone"] == "13912349999");
  CHECK(list[0]["next_date"] == "2026-12-01");
  CHECK(list[0]["annual_spend"] == 1200000);
  const json fus = run_json(k, {"followup", "list", list[0]["code"].get<std::string>()});
  REQUIRE(fus.size() == 1);
  CHECK(fus[0]["date"] == "2026-12-01");  // Excel serial 46357

  // An ambiguous date stops the import (exit 2) naming the line, field and value.
  const std::string bad = k.dir.file("bad.csv");
  write_bytes(bad, "客户名称,联系人,联系电话,核心需求,下次跟进日期\n远大,王五,13700137000,x,3/4/2026\n");
  CliResult r = k.run({"import", bad});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(":2: 下次跟进日期 (next_date): \"3/4/2026\" is ambiguous"));
  CHECK(run_json(k, {"customer", "list", "--where", "name=远大"}).empty());
}

TEST_CASE("kehu import of an xlsx whose date column holds Excel serial numbers", "[cli][input]") {
  ReplicaCli k;
  const std::string code =
      add_customer(k, {"name=明达科技", "contact=张三", "phone=13800138000", "need=办公用品"});
  const std::string xlsx = k.dir.file("客户.xlsx");
  write_xlsx(xlsx,
             "<row r=\"1\">" + text_cell("A1", "客户编号") + text_cell("B1", "客户名称") +
                 text_cell("C1", "联系人") + text_cell("D1", "联系电话") +
                 text_cell("E1", "核心需求") + text_cell("F1", "下次跟进日期") + "</row>" +
                 "<row r=\"2\">" + text_cell("A2", lower(code)) + number_cell("F2", "46357") +
                 "</row>" + "<row r=\"3\">" + text_cell("B3", "华信物流") +
                 text_cell("C3", "李四") + number_cell("D3", "13912349999") +
                 text_cell("E3", "运输") + number_cell("F3", "46023") + "</row>");
  const json rep = run_json(k, {"import", xlsx});
  INFO(rep.dump());
  CHECK(rep["bad_rows"] == 0);
  CHECK(rep["updated"] == 1);
  CHECK(rep["created"] == 1);
  CHECK(run_json(k, {"customer", "show", code})["next_date"] == "2026-12-01");
  const json list = run_json(k, {"customer", "list", "--where", "name=华信物流"});
  REQUIRE(list.size() == 1);
  CHECK(list[0]["next_date"] == "2026-01-01");
}
