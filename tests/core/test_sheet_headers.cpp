// The sheet layout rules of import_csv (kehu/sheet.h) on small sheets, through
// the library: where the header is, which headers name which field, and which
// rows at the bottom are totals.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/schema.h"
#include "kehu/sheet.h"

using kehu::test::ScratchDir;
using kehu::test::write_bytes;

namespace {

const std::string kHeader = "客户名称,联系人,联系电话,核心需求\n";
const std::string kRow = "甲公司,张三,13800138000,配件\n";

kehu::ImportReport import_text(const std::string& text, kehu::ImportOptions opts = {}) {
  ScratchDir dir("kehu-sheet-headers");
  auto rep = kehu::Replica::create(dir.file("r.db"), "pw");
  const std::string csv = dir.file("in.csv");
  write_bytes(csv, text);
  opts.dry_run = true;
  return kehu::import_csv(*rep, csv, opts);
}

}  // namespace

TEST_CASE("sheet headers: aliases are found after keys and labels", "[sheets]") {
  const kehu::CollectionDef& c = kehu::Schema::builtin().collection("customers");
  CHECK(c.find_header("公司名称")->key == "name");
  CHECK(c.find_header("客户")->key == "name");
  CHECK(c.find_header("联系方式")->key == "phone");
  CHECK(c.find_header("销售")->key == "owner");
  CHECK(c.find_header("区域")->key == "province");
  CHECK(c.find_header("联系电话")->key == "phone");
  CHECK(c.find_header("微信群") == nullptr);
  // find() (--set, --where, …) does not take aliases.
  CHECK(c.find("公司名称") == nullptr);
}

TEST_CASE("sheet headers: the header is searched in the first 10 rows only", "[sheets]") {
  std::string nine, ten;
  for (int i = 0; i < 9; ++i) nine += "说明 " + std::to_string(i) + ",\n";
  ten = nine + "说明 9,\n";
  kehu::ImportReport found = import_text(nine + kHeader + kRow);
  CHECK(found.header_row == 10);
  CHECK(found.above_header.size() == 9);
  CHECK(found.created == 1);
  // Below row 10 it is not searched: row 1 is the header, and no column maps.
  CHECK_THROWS_AS(import_text(ten + kHeader + kRow), kehu::Error);
  kehu::ImportOptions o;
  o.header_row = 11;
  CHECK(import_text(ten + kHeader + kRow, o).created == 1);
}

TEST_CASE("sheet headers: one known column, or two without 客户名称/客户编号, is no header",
          "[sheets]") {
  // 联系人 and 联系电话 name fields, but no customer: the notes row is skipped
  // only when the real header comes after it.
  kehu::ImportReport r = import_text("联系人,联系电话\n" + kHeader + kRow);
  CHECK(r.header_row == 2);
  CHECK(r.created == 1);
}

TEST_CASE("sheet headers: totals words at the bottom", "[sheets]") {
  for (const std::string word :
       {"合计", "合 计", "合\xE3\x80\x80计", "总计：", "小计(2家)", "Total", "TOTAL:"}) {
    INFO(word);
    kehu::ImportReport r = import_text(kHeader + kRow + word + ",,,\n");
    CHECK(r.totals_rows == std::vector<std::size_t>{3});
    CHECK(r.bad_rows == 0);
  }
  // A company whose name starts like one is a customer.
  kehu::ImportReport named =
      import_text(kHeader + kRow + "Total Solutions,李四,13800138001,软件\n");
  CHECK(named.totals_rows.empty());
  CHECK(named.created == 2);
  // A totals word with a code of its own is a row like any other.
  kehu::ImportReport coded = import_text(
      "客户名称,客户编号,联系人,联系电话,核心需求\n"
      "甲公司,C202601001,张三,13800138000,配件\n"
      "合计,C202601002,李四,13800138001,软件\n");
  CHECK(coded.totals_rows.empty());
  CHECK(coded.created == 2);
  // A count in the name column is no name; a name is.
  for (const std::string count : {"2", "2家", "\"1,024 户\""}) {
    INFO(count);
    kehu::ImportReport r = import_text("序号," + kHeader + "1," + kRow + "合计," + count + ",,,\n");
    CHECK(r.totals_rows == std::vector<std::size_t>{3});
    CHECK(r.created == 1);
  }
  kehu::ImportReport named_row = import_text("序号," + kHeader + "1," + kRow + "合计,乙公司,,,\n");
  CHECK(named_row.totals_rows.empty());
  CHECK(named_row.bad_rows == 1);
}

TEST_CASE("sheet headers: rows with nothing but a 序号 are skipped, not refused", "[sheets]") {
  // Templates number their rows ahead: 3, 4, 5 are empty rows of the form.
  kehu::ImportReport r = import_text("序号," + kHeader + "1," + kRow +
                                     "2,乙公司,李四,13800138001,软件\n3,,,,\n4,,,,\n,,,,\n");
  CHECK(r.rows == 2);
  CHECK(r.bad_rows == 0);
  CHECK(r.blank_rows == 3);
  CHECK(r.created == 2);
}

TEST_CASE("sheet headers: a template's required and optional marks are not part of the name", "[sheets]") {
  // Walkthrough 19, R19-6: every row was told 客户名称 and 联系人 were required.
  const std::string sheet =
      "序号,*客户名称,联系人*,手机号码 ,所在省份,所在城市,客户需求,客户经理,备注（选填）,金额(必填)\n"
      "1,南京建邺科技,马一,13912340301,江苏,南京,官网改版,王五,无,\n";
  kehu::ImportReport r = import_text(sheet);
  CHECK(r.bad_rows == 0);
  CHECK(r.created == 1);
  // A column that names no field is still reported, under its name without the mark.
  REQUIRE(r.unknown_columns.size() == 1);
  CHECK(r.unknown_columns[0] == "金额");
  // --map names a marked column without its mark, or with it.
  for (const char* given : {"金额", "金额(必填)"}) {
    kehu::ImportOptions o;
    o.map = {{given, "address"}};
    CHECK(import_text(sheet, o).unknown_columns.empty());
  }
  CHECK_FALSE(kehu::Schema::builtin().collection("customers").find_header("*客户名称"));
}
