// Mends of the fifth new-user walkthrough and the leftovers of the fourth
// (/work/findings/walk.md), each through the real `kehu` and `kehu-server` binaries.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "replica_cli.h"

using Catch::Contains;
using kehu::test::CliResult;
using kehu::test::ReplicaCli;
using kehu::test::ServerFixture;

TEST_CASE("walk5: a salesperson's lists have no column for a restricted custom field", "[cli][walk]") {
  ServerFixture s;
  ReplicaCli root, wang;
  root.log_in(s, "root");
  wang.log_in(s, "wang");
  root.ok({"schema", "add-field", "customers", "margin_rate", "--type", "integer", "--label", "毛利率",
           "--restricted"});
  root.ok({"schema", "add-field", "customers", "vip_level", "--type", "integer", "--label", "会员等级"});
  root.ok({"sync"});
  const std::string code = wang.add_synced_customer("南京受限列有限公司");
  root.ok({"sync"});
  root.ok({"customer", "edit", code, "--set", "毛利率=12", "--set", "会员等级=3"});
  root.ok({"sync"});
  wang.ok({"sync"});
  CliResult sales = wang.ok({"customer", "list"});
  INFO(sales.out);
  CHECK_THAT(sales.out, Contains(code) && Contains("会员等级") && !Contains("毛利率"));
  CliResult admin = root.ok({"customer", "list"});
  INFO(admin.out);
  CHECK_THAT(admin.out, Contains("会员等级") && Contains("毛利率"));
}

TEST_CASE("walk5: a server that is not there is said in the user's language with what to check", "[cli][zh][walk]") {
  ReplicaCli wang;
  CliResult zh = wang.run({"login", "--server", "http://127.0.0.1:1", "--user", "wang"}, {{"KEHU_LANG", "zh"}});
  INFO(zh.describe());
  CHECK(zh.exit_code == 1);
  CHECK_THAT(zh.err, Contains("连不上 http://127.0.0.1:1：连接不上（服务器没有运行，或地址、端口不对）"));
  CliResult en = wang.run({"login", "--server", "http://127.0.0.1:1", "--user", "wang"});
  INFO(en.describe());
  CHECK(en.exit_code == 1);
  CHECK_THAT(en.err, Contains("cannot reach http://127.0.0.1:1: ") && Contains("is the server running"));
}

TEST_CASE("walk5: a narrow terminal still shows both values of a conflict", "[cli][walk][sync]") {
  ServerFixture s;
  ReplicaCli qian, sun;
  qian.log_in(s, "qian");
  sun.log_in(s, "sun");
  const std::string code = qian.add_synced_customer("南京窄屏冲突有限公司");
  sun.ok({"sync"});
  sun.ok({"customer", "edit", code, "--set", "type=lost"});
  qian.ok({"customer", "edit", code, "--set", "type=deal"});
  sun.ok({"sync"});
  qian.ok({"sync"});
  CliResult narrow = qian.ok({"conflicts"}, {{"COLUMNS", "50"}});
  INFO(narrow.out);
  CHECK_THAT(narrow.out, Contains("Deal") && Contains("Lost") && Contains(code));
}

TEST_CASE("walk5: a row with more cells than the header is refused naming the cells it would lose",
          "[cli][walk][sheets]") {
  ReplicaCli k;
  // An unquoted comma in the last cell (备注), and one in the middle (¥12,000.50).
  const std::string file = k.write_file("comma.csv",
                                       "序号,公司名称,联系人,手机号,核心需求,备注\n"
                                       "1,南京长江测试有限公司,周七,13311112222,软件,付款方式:月结,30天\n"
                                       "2,南京黄河测试有限公司,吴八,13311113333,硬件,首付\n"
                                       "3,南京淮河测试有限公司,郑九,13311114444,¥12,000.50,备注\n"
                                       "4,南京秦淮测试有限公司,王十,13311115555,软件,,,\n");
  CliResult zh = k.run({"import", file}, {{"KEHU_LANG", "zh"}});
  INFO(zh.describe());
  CHECK(zh.exit_code == 2);
  CHECK_THAT(zh.err, Contains(file + ":2:") && Contains("这一行有 7 个单元格，表头只有 6 列：“30天”") &&
                         Contains("加上英文双引号"));
  CHECK_THAT(zh.err, Contains(file + ":4:") && Contains("“备注”不在任何一列里"));
  CHECK_THAT(zh.err, !Contains(file + ":3:") && !Contains(file + ":5:"));  // trailing empty cells are no loss
  CHECK_THAT(k.ok({"customer", "list"}).out, Contains("(no records)"));  // nothing written
  CliResult en = k.run({"--json", "import", file, "--dry-run"});
  CHECK_THAT(en.out, Contains("\"value\": \"30天\"") && Contains("is in no column and would be lost"));
  // --skip-bad imports the whole rows and names the ones it left out.
  CliResult skip = k.run({"import", file, "--skip-bad"});
  INFO(skip.describe());
  CHECK_THAT(skip.out + skip.err, Contains("30天"));
  const std::string list = k.ok({"customer", "list"}).out;
  CHECK_THAT(list, Contains("南京黄河") && Contains("南京秦淮") && !Contains("南京长江") && !Contains("南京淮河"));
}

TEST_CASE("walk5: reports group 江苏省 and 南京市 with 江苏 and 南京", "[cli][walk][report]") {
  ReplicaCli k;
  const std::string file = k.write_file("places.csv",
                                       "客户名称,联系人,联系电话,核心需求,省份,城市\n"
                                       "南京甲有限公司,张三,13800138111,复印机,江苏,南京\n"
                                       "南京乙有限公司,李四,13800138112,打印机,江苏省,南京市\n"
                                       "苏州丙有限公司,王五,13800138113,扫描仪,Jiangsu,苏州\n");
  k.ok({"import", file});
  for (const char* by : {"region", "city"}) {
    CliResult r = k.ok({"report", "funnel", "--by", by});
    INFO(r.out);
    CHECK_THAT(r.out, Contains("江苏") && !Contains("江苏省") && !Contains("南京市") && !Contains("Jiangsu"));
  }
  for (const auto& c : nlohmann::json::parse(k.ok({"--json", "customer", "list"}).out)) {
    k.ok({"order", "add", c["code"].get<std::string>(), "--set", "product=纸", "--set", "amount=100"});
  }
  CliResult sum = k.ok({"--json", "report", "sum", "orders.amount", "--by", "region"});
  INFO(sum.out);
  CHECK_THAT(sum.out, Contains("江苏") && Contains("300") && !Contains("江苏省") && !Contains("Jiangsu"));
}

TEST_CASE("walk5: a salesperson's due list leaves out pool customers until one is claimed", "[cli][walk][due]") {
  ServerFixture s;
  ReplicaCli wang, li;
  wang.log_in(s, "wang");
  li.log_in(s, "li");
  const kehu::test::EnvChanges today = {{"KEHU_TODAY", "2026-12-07"}};
  const std::string pooled = li.add_synced_customer("南京公海待办有限公司", "13300135600");
  li.ok({"followup", "add", pooled, "--set", "date=2026-12-01", "--set", "person=li", "--set", "content=报价",
         "--set", "next_date=2026-12-08", "--set", "next_plan=再报价"});
  li.ok({"sync"});  // the plan reaches the server before the customer goes to the pool
  li.ok({"customer", "release", pooled, "--reason", "暂无预算"});
  li.ok({"sync"});
  const std::string own = wang.add_synced_customer("南京自己的待办有限公司", "13800138222");
  wang.ok({"followup", "add", own, "--set", "date=2026-12-01", "--set", "person=wang", "--set", "content=拜访",
           "--set", "next_date=2026-12-09"});
  wang.ok({"sync"});
  REQUIRE_THAT(wang.ok({"customer", "list", "--pool"}).out, Contains(pooled));
  REQUIRE_THAT(wang.ok({"customer", "show", pooled}).out, Contains("2026-12-08"));  // its plan came along
  CliResult due = wang.ok({"due"}, today);
  INFO(due.out);
  CHECK_THAT(due.out, Contains(own) && !Contains(pooled));
  wang.ok({"customer", "claim", pooled});
  wang.ok({"sync"});
  CHECK_THAT(wang.ok({"due"}, today).out, Contains(own) && Contains(pooled));
}

TEST_CASE("walk5: a narrow terminal keeps customer codes whole and prints no blank lines", "[cli][walk][width]") {
  ServerFixture s;
  ReplicaCli wang, audit;
  wang.log_in(s, "wang");
  audit.log_in(s, "audit");
  const std::string code = wang.add_synced_customer("南京窄屏审计有限公司");
  wang.ok({"customer", "edit", code, "--set", "address=新街口1号", "--set", "need=打印机", "--set", "stage=needs"});
  wang.ok({"sync"});
  CliResult log = audit.ok({"audit", "--customer", code}, {{"COLUMNS", "40"}});
  INFO(log.out);
  CHECK_THAT(log.out, Contains(code));
  std::size_t blank = 0, at = 0;
  for (std::size_t nl; (nl = log.out.find('\n', at)) != std::string::npos; at = nl + 1) {
    if (log.out.find_first_not_of(' ', at) >= nl) ++blank;
  }
  CHECK(blank == 0);
  // A customer's own revisions read "customer r2" as a child's read "order 1a2b3c4d r1".
  CliResult wide = audit.ok({"audit", "--customer", code}, {{"COLUMNS", std::nullopt}});
  CHECK_THAT(wide.out, Contains("customer r2") && !Contains("Customers r"));
}

TEST_CASE("walk5: a command-line mistake names the argument in Chinese", "[cli][zh][walk]") {
  ReplicaCli k;
  CliResult bad = k.run({"rejected", "retry", "abc"}, {{"KEHU_LANG", "zh"}});
  INFO(bad.describe());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("编号 的值“abc”格式不对") && !Contains("NUMBER"));
  CliResult none = k.run({"customer", "show"}, {{"KEHU_LANG", "zh"}});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Contains("缺少 客户编号") && !Contains("CODE"));
  CliResult claim = k.run({"customer", "claim", "xyz"}, {{"KEHU_LANG", "zh"}});
  CHECK(claim.exit_code == 2);
  CHECK_THAT(claim.err, Contains("“xyz”不是客户编号（应如 C202612001）"));
}

TEST_CASE("walk5: an export to a folder that does not exist says so before any work", "[cli][zh][walk][sheets]") {
  ReplicaCli k;
  k.ok({"customer", "add", "--set", "name=南京导出有限公司", "--set", "contact=张三", "--set", "phone=13800138111",
        "--set", "need=复印机"});
  for (const char* name : {"x.csv", "x.xlsx"}) {
    const std::string file = k.dir.file("no-such-folder/") + name;
    CliResult zh = k.run({"export", file}, {{"KEHU_LANG", "zh"}});
    INFO(zh.describe());
    CHECK(zh.exit_code == 2);
    CHECK_THAT(zh.err, Contains("无法写入 " + file + "：文件夹 ") && Contains("no-such-folder 不存在"));
  }
  // A folder named like a sheet is no file to write.
  const std::string folder = k.dir.file("old.xlsx");
  std::filesystem::create_directory(folder);
  CliResult into = k.run({"export", folder});
  INFO(into.describe());
  CHECK(into.exit_code == 2);
  CHECK_THAT(into.err, Contains("it is a folder"));
}

TEST_CASE("walk5: an import names a row's bad value and its refusal at once", "[cli][walk][sheets]") {
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  wang.ok({"sync"});
  const std::string file = wang.write_file("both.csv",
                                       "客户名称,联系人,联系电话,核心需求,省份,负责人,跟进日期,跟进人,跟进内容\n"
                                       "南京两处错有限公司,张三,13800138111,复印机,江苏,li,2026-13-02,li,电话\n");
  CliResult r = wang.run({"import", file, "--dry-run"});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("there is no month 13") && Contains("负责人 (owner)"));
}

TEST_CASE("walk5: --region with a city alone finds nothing and says how to write it", "[cli][zh][walk]") {
  ReplicaCli k;
  k.ok({"customer", "add", "--set", "name=南京城市有限公司", "--set", "contact=张三", "--set", "phone=13800138111",
        "--set", "need=复印机", "--set", "province=江苏", "--set", "city=南京"});
  CliResult city = k.ok({"customer", "list", "--region", "南京"}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(city.err, Contains("“南京”不是省份") && Contains("江苏/南京"));
  // R17-7: a mistyped province is a usage error naming the nearest.
  CliResult typo = k.run({"customer", "list", "--region", "江酥"}, {{"KEHU_LANG", "zh"}});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Contains("“江酥”不是省份") && Contains("江苏"));
  CliResult right = k.ok({"customer", "list", "--region", "江苏/南京"}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(right.out, Contains("南京城市有限公司"));
  CHECK(right.err.empty());
}
