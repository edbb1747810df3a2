// KEHU_LANG=zh: what `kehu import` reports is in Chinese, through the real binary.
#include <catch2/catch.hpp>

#include "kehu/record.h"
#include "replica_cli.h"

using Catch::Contains;
using kehu::test::ReplicaCli;
using kehu::test::write_bytes;

TEST_CASE("zh: the import summary, its notes and its refusals are in Chinese", "[cli][zh]") {
  ReplicaCli k;
  const std::string sheet = k.dir.file("客户表.csv");
  write_bytes(sheet,
              "2026年华东区客户管理表,,,\n"
              "客户名称,联系人,手机,核心需求\n"
              "甲公司,张三,13800138000,配件\n"
              "乙公司,李四,13900139000,耗材\n"
              "合计,,,\n");
  auto zh = k.ok({"import", sheet}, {{"KEHU_LANG", "zh"}});
  INFO(zh.describe());
  CHECK_THAT(zh.out, Contains("表头在第 2 行") && Contains("跳过其上方") && Contains("按常见列名识别的列") &&
                         Contains("第 5 行是合计行") && Contains("2 行，0 行有错") && Contains("新建 2"));
  CHECK_THAT(zh.out, !Contains("rows,") && !Contains("created") && !Contains("header row"));
  // A bad row: the advice is in Chinese too, and nothing is written.
  const std::string bad = k.dir.file("bad.csv");
  write_bytes(bad, "客户名称,联系人,联系电话,核心需求\n丙公司,王五,12345,配件\n");
  auto refused = k.run({"import", bad}, {{"KEHU_LANG", "zh"}});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.out, Contains("什么都没有写入"));
  CHECK_THAT(refused.err, Contains("--skip-bad 只导入正确的行"));
  // The same sheet in English says it in English.
  auto en = k.ok({"import", "--dry-run", "--force", sheet}, {{"KEHU_LANG", "en"}});
  CHECK_THAT(en.out, Contains("header row 2") && Contains("dry run: would be"));
}

TEST_CASE("zh: customer list --sort name --pinyin orders names by pinyin", "[cli][zh]") {
  ReplicaCli k;
  // Code-point order of these four is 北 安 张 李 (U+5317 U+5B89 U+5F20 U+674E);
  // pinyin order is 安 an, 北 bei, 李 li, 张 zhang.
  int n = 0;
  for (const char* name : {"张氏贸易", "李记五金", "安达物流", "北方重工"}) {
    k.ok({"customer", "add", "--set", std::string("name=") + name, "--set", "contact=王", "--set",
          "phone=1380013800" + std::to_string(n++), "--set", "need=配件"});
  }
  auto names = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--json", "customer", "list", "--sort", "name"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<std::string> out;
    for (const auto& c : kehu::json::parse(k.ok(args).out)) out.push_back(c["name"].get<std::string>());
    return out;
  };
  CHECK(names({"--pinyin"}) == std::vector<std::string>{"安达物流", "北方重工", "李记五金", "张氏贸易"});
  CHECK(names({}) == std::vector<std::string>{"北方重工", "安达物流", "张氏贸易", "李记五金"});
}

TEST_CASE("display: money in tables has thousands separators - --json keeps the number", "[cli][display]") {
  ReplicaCli k;
  const std::string code = k.ok({"customer", "add", "--set", "name=甲公司", "--set", "contact=王", "--set",
                                 "phone=13800138000", "--set", "need=配件", "--set", "annual_spend=1234567.5"})
                               .out.substr(0, 10);
  auto shown = k.ok({"customer", "show", code});
  INFO(shown.describe());
  CHECK_THAT(shown.out, Contains("1,234,567.50"));
  k.ok({"order", "add", code, "--set", "date=2026-12-01", "--set", "amount=12000.5", "--set",
                      "product=扫描仪"});
  CHECK_THAT(k.ok({"order", "list", code}).out, Contains("12,000.50"));
  auto j = kehu::json::parse(k.ok({"--json", "customer", "show", code}).out);
  CHECK(j["annual_spend"].dump().find(',') == std::string::npos);
}
