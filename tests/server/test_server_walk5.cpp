// Mends of the fifth new-user walkthrough's kehu-server findings
// (/work/findings/walk.md R5-13, R5-1, R5-7; walk-round4.md R4-17), each through
// the real `kehu-server` binary.
//
// The fixture's team (server_fixture.h): root admin, zhao manager of 江苏, wang
// and li sales in 江苏, audit auditor.
#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "kehu/place.h"
#include "server_fixture.h"

using Catch::Contains;
using kehu::test::CommandResult;
using kehu::test::run_server_command;
using kehu::test::ServerFixture;

namespace {

const std::map<std::string, std::string> kZh = {{"KEHU_LANG", "zh"}};
const std::map<std::string, std::string> kEn = {{"KEHU_LANG", "en"}};

CommandResult admin(const ServerFixture& s, std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = kEn) {
  args.push_back("--data");
  args.push_back(s.data_dir());
  return run_server_command(args, env);
}

// wang's line of `user list`: his regions as stored.
std::string wang_line(const ServerFixture& s) {
  const CommandResult list = admin(s, {"user", "list"});
  REQUIRE(list.exit_code == 0);
  const auto at = list.output.find("\nwang\t");
  REQUIRE(at != std::string::npos);
  return list.output.substr(at + 1, list.output.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("walk5: set-regions refuses a province that is none of the 34 and writes nothing",
          "[server][zh][walk]") {
  ServerFixture s;
  REQUIRE(wang_line(s) == "wang\tsales\t江苏");

  // No province at all: the rule and the shape, no guess.
  const CommandResult mars = admin(s, {"user", "set-regions", "wang", "火星"}, kZh);
  INFO(mars.output);
  CHECK(mars.exit_code == 2);
  CHECK_THAT(mars.output, Contains("区域“火星”不是已知的省份") && Contains("“省”或“省/市”") &&
                              Contains("江苏/南京") && !Contains("您是不是"));
  // A typo of 江苏 (江西 is as near): both named.
  const CommandResult typo = admin(s, {"user", "set-regions", "wang", "江酥"}, kZh);
  INFO(typo.output);
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.output, Contains("区域“江酥”不是已知的省份") && Contains("您是不是要输入“江苏”"));
  // A city alone, in English; and a typo inside a 省/市 region is suggested whole.
  const CommandResult city = admin(s, {"user", "set-regions", "wang", "南京"});
  INFO(city.output);
  CHECK(city.exit_code == 2);
  CHECK_THAT(city.output, Contains("region \"南京\" is a city, not a province") &&
                              Contains("a region is 省 or 省/市; did you mean 江苏/南京?"));
  const CommandResult pinyin = admin(s, {"user", "set-regions", "wang", "江苏,Jiangsy/Nanjing"});
  INFO(pinyin.output);
  CHECK(pinyin.exit_code == 2);
  CHECK_THAT(pinyin.output,
             Contains("region \"Jiangsy/Nanjing\": \"Jiangsy\" is not one of the 34 provinces") &&
                 Contains("did you mean '江苏/Nanjing'?"));
  // Nothing was written: wang still sells in 江苏.
  CHECK(wang_line(s) == "wang\tsales\t江苏");

  // The ways people write a known province still pass, each stored one way;
  // 江苏省南京市 is 江苏/南京 (not all of 江苏).
  const CommandResult ok =
      admin(s, {"user", "set-regions", "wang", "江苏省南京市,Zhejiang,广东/广州"}, kZh);
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.output, Contains("wang 现在负责 江苏/南京,浙江,广东/广州"));
  CHECK(wang_line(s) == "wang\tsales\t江苏/南京,浙江,广东/广州");
  CHECK(admin(s, {"user", "set-regions", "wang", "江苏省, Jiangsu"}).exit_code == 0);
  CHECK(wang_line(s) == "wang\tsales\t江苏");

  // A5-1: as a Chinese keyboard types them - a full-width slash, a full-width
  // comma, 、 - these were read as the whole of 江苏.
  for (const auto& [typed, stored] : std::vector<std::pair<std::string, std::string>>{
           {"江苏／南京", "江苏/南京"}, {"江苏∕南京", "江苏/南京"}, {"江苏，浙江", "江苏,浙江"},
           {"江苏、浙江/杭州", "江苏,浙江/杭州"}, {"江苏南京", "江苏/南京"}}) {
    INFO(typed);
    const CommandResult r = admin(s, {"user", "set-regions", "wang", typed});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(wang_line(s) == "wang\tsales\t" + stored);
  }
  const CommandResult bar = admin(s, {"user", "set-regions", "wang", "江苏|南京"});
  CHECK(bar.exit_code == 2);
  CHECK(wang_line(s) == "wang\tsales\t江苏/南京");
}

TEST_CASE("walk5: kehu-server suggests the sub-verb or role a typo meant", "[server][zh][walk]") {
  ServerFixture s;
  const CommandResult lst = admin(s, {"user", "lst"});
  INFO(lst.output);
  CHECK(lst.exit_code == 2);
  CHECK_THAT(lst.output, Contains("unknown user subcommand \"lst\"; did you mean 'list'?") &&
                             !Contains("missing user name"));
  const std::vector<std::pair<std::vector<std::string>, std::string>> typos = {
      {{"user", "set-region", "wang", "江苏"},
       "未知的 user 子命令“set-region”；您是不是要输入“set-regions”？"},
      {{"audit", "verfy"}, "未知的 audit 子命令“verfy”；您是不是要输入“verify”？"},
      {{"pool", "recyle", "--days", "30"}, "未知的 pool 子命令“recyle”；您是不是要输入“recycle”？"},
      {{"schema", "shwo"}, "未知的 schema 子命令“shwo”；您是不是要输入“show”？"},
      {{"customer", "reasign", "C202612001", "wang"},
       "未知的 customer 子命令“reasign”；您是不是要输入“reassign”？"},
      {{"user", "add", "qian", "--role", "salse"},
       "未知角色“salse”：应为 admin、manager、sales 或 auditor；您是不是要输入“sales”？"},
      {{"user", "role", "wang", "mangaer"}, "您是不是要输入“manager”？"},
      {{"schema", "add-field", "customers", "visits", "--type", "interger", "--label", "拜访数"},
       "类型“interger”不是字段类型；您是不是要输入“integer”？"},
      // One quote style in Chinese, for commands and options too.
      {{"serv"}, "未知命令“serv”；您是不是要输入“serve”？"},
      {{"user", "list", "--dat", "x"}, "未知选项 --dat；您是不是要输入“--data”？"},
  };
  for (const auto& [args, expected] : typos) {
    const CommandResult r = admin(s, args, kZh);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Contains(expected) && !Contains("'"));
  }
  const CommandResult role = admin(s, {"user", "add", "qian", "--role", "salse"});
  CHECK_THAT(role.output, Contains("unknown role \"salse\": expected admin, manager, sales or "
                                   "auditor; did you mean 'sales'?"));
  // Far from every verb: named, no guess.
  const CommandResult far = admin(s, {"user", "frobnicate", "wang"});
  CHECK(far.exit_code == 2);
  CHECK_THAT(far.output,
             Contains("unknown user subcommand \"frobnicate\"") && !Contains("did you mean"));
}

TEST_CASE("walk5: schema show and protect speak Chinese under KEHU_LANG=zh", "[server][zh][walk]") {
  ServerFixture s;
  REQUIRE(admin(s, {"schema", "add-field", "customers", "vip_level", "--type", "enum", "--label",
                    "会员等级", "--values", "gold:金卡,silver:银卡"})
              .exit_code == 0);
  const CommandResult margin = admin(s,
                                     {"schema", "add-field", "customers", "margin_rate", "--type",
                                      "integer", "--label", "毛利率", "--restricted"},
                                     kZh);
  INFO(margin.output);
  REQUIRE(margin.exit_code == 0);
  CHECK_THAT(margin.output, Contains("已添加字段 customers.margin_rate（毛利率，整数）"));

  const CommandResult protect = admin(s, {"schema", "protect", "customers", "type,会员等级"}, kZh);
  INFO(protect.output);
  CHECK(protect.exit_code == 0);
  CHECK_THAT(
      protect.output,
      Contains("客户 (customers) 的受保护字段：客户类型 (type)、会员等级 (vip_level)（销售修改"));

  const CommandResult show = admin(s, {"schema", "show"}, kZh);
  INFO(show.output);
  CHECK(show.exit_code == 0);
  CHECK_THAT(show.output,
             Contains("客户 (customers)\t受保护字段：客户类型 (type)、会员等级 (vip_level)\n") &&
                 Contains("customers.vip_level\t会员等级\t枚举\t") &&
                 Contains("customers.margin_rate\t毛利率\t整数，受限\t") && !Contains("enum") &&
                 !Contains("integer"));
  // When: the local minute, not a UTC ISO stamp.
  CHECK(std::regex_search(
      show.output, std::regex("\t由 server-admin 于 \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} 添加\n")));
  CHECK_FALSE(std::regex_search(show.output, std::regex("\\d{2}:\\d{2}:\\d{2}Z")));

  // English keeps the keys the commands take.
  const CommandResult en = admin(s, {"schema", "show"});
  CHECK_THAT(en.output, Contains("customers\tprotected: type,vip_level\n") && Contains("\tenum\t"));
}

TEST_CASE("walk5: known_province reads a province however it is written", "[core][walk]") {
  for (const char* known : {"江苏", "江苏省", "Jiangsu", "JIANG SU", "江苏/南京", "江苏省南京市",
                            " 内蒙古自治区 ", "Macao", "香港特别行政区"}) {
    INFO(known);
    CHECK(kehu::known_province(known));
  }
  for (const char* unknown : {"火星", "江酥", "南京", "南京市", "", "/南京", "Jiangsy"}) {
    INFO(unknown);
    CHECK_FALSE(kehu::known_province(unknown));
  }
}
