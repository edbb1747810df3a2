// Tables fit the terminal's width (COLUMNS here: the tests have no terminal), cut
// cells end with "…", and --wide and `customer show` show every cell whole.
// Through the real `kehu` binary.
#include <catch2/catch.hpp>
#include <sstream>

#include "kehu/text.h"
#include "replica_cli.h"

using Catch::Contains;
using kehu::test::ReplicaCli;

namespace {

std::size_t widest_line(const std::string& text) {
  std::istringstream in(text);
  std::size_t widest = 0;
  for (std::string line; std::getline(in, line);) widest = std::max(widest, kehu::display_width(line));
  return widest;
}

}  // namespace

TEST_CASE("width: tables fit COLUMNS, --wide and customer show keep every cell whole", "[cli][width]") {
  ReplicaCli k;
  const std::string name = "南京鼓楼某某智能制造科技有限公司";  // 32 columns: under the list's cap of 40
  const std::string need = "仓储系统升级，明年一季度预算已批，等待技术方案和报价";
  auto add = k.run({"customer", "add", "--set", "name=" + name, "--set", "contact=王五", "--set",
                    "phone=13900001111", "--set", "need=" + need});
  INFO(add.describe());
  REQUIRE(add.exit_code == 0);
  const std::string code = kehu::trim(add.out);
  // 50 columns: over the cap a list puts on one cell.
  const std::string longer = "江苏省南京市鼓楼区某某某某智能制造科技股份有限公司";
  REQUIRE(k.run({"customer", "add", "--set", "name=" + longer, "--set", "contact=赵六", "--set",
                 "phone=13900002222", "--set", "need=x"}).exit_code == 0);

  // Without COLUMNS and without a terminal nothing is fitted or cut: both names whole.
  auto plain = k.run({"customer", "list"});
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.out, Contains(name) && Contains(longer) && !Contains("…"));
  REQUIRE(widest_line(plain.out) > 60);

  for (const char* columns : {"60", "80"}) {
    auto fitted = k.run({"customer", "list"}, {{"COLUMNS", columns}});
    INFO(columns << '\n' << fitted.describe());
    REQUIRE(fitted.exit_code == 0);
    CHECK(widest_line(fitted.out) <= std::stoul(columns));
    CHECK_THAT(fitted.out, Contains("…"));
    CHECK_THAT(fitted.out, Contains(code));  // the code column is never cut
  }
  // At 60 columns the name gives way; columns no row fills are left off first,
  // and the table says how many are not shown.
  auto narrow = k.run({"customer", "list"}, {{"COLUMNS", "60"}});
  CHECK_THAT(narrow.out, !Contains(name) && Contains("王五") && Contains("13900001111"));
  CHECK_THAT(narrow.out, Contains("more columns not shown: --wide shows them all"));
  // The same in Chinese, where every character takes two columns.
  auto zh = k.run({"customer", "list"}, {{"COLUMNS", "60"}, {"KEHU_LANG", "zh"}});
  CHECK(widest_line(zh.out) <= 60);
  CHECK_THAT(zh.out, Contains("客户编号") && Contains("列未显示，--wide 显示全部"));

  auto wide = k.run({"--wide", "customer", "list"}, {{"COLUMNS", "60"}});
  REQUIRE(wide.exit_code == 0);
  CHECK_THAT(wide.out, Contains(name) && Contains(longer) && !Contains("…"));

  auto show = k.run({"customer", "show", code}, {{"COLUMNS", "40"}});
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.out, Contains(name) && Contains(need));

  // A COLUMNS that is not a positive number is ignored rather than obeyed.
  auto junk = k.run({"customer", "list"}, {{"COLUMNS", "abc"}});
  CHECK(junk.exit_code == 0);
  CHECK_THAT(junk.out, Contains(name));
}
