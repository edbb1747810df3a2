// Mends of the ninth new-user walkthrough and of round-8 items left open
// (/work/findings/walk.md), each through the real `kehu` and `kehu-server` binaries.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "replica_cli.h"

using Catch::Contains;
using kehu::test::CliResult;
using kehu::test::ReplicaCli;
using kehu::test::run_server_command;
using kehu::test::ServerFixture;
using json = nlohmann::json;

namespace {

const kehu::test::EnvChanges kZh = {{"KEHU_LANG", "zh"}};

}  // namespace

TEST_CASE("walk9: a sheet row with an existing code but another company is a bad row, not an overwrite",
          "[cli][zh][walk][sheets]") {
  // R9-5: sheets of other offices use the template's codes for other
  // companies; such a row replaced a colleague's customer's name, phone and
  // province without a word.
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  const std::string code = wang.add_synced_customer("瑞丰精密机械有限公司", "13520261000");
  const std::string sheet = wang.write_file("other.csv",
                                            "客户编号,客户名称,联系人,联系电话,核心需求,省份,城市\n" + code +
                                                ",启航食品集团有限公司,钱七,18993433383,食品,江苏,南京\n");
  CliResult bad = wang.run({"import", sheet}, kZh);
  INFO(bad.describe());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.out + bad.err, Contains("other.csv:2") && Contains(code + " 在本机是 瑞丰精密机械有限公司（13520261000）") &&
                                    Contains("启航食品集团有限公司") && Contains("--force"));
  CHECK_THAT(wang.ok({"customer", "show", code}).out, Contains("瑞丰精密机械有限公司"));
  // The same company under a new name (its phone the same) is an update.
  const std::string renamed = wang.write_file("renamed.csv",
                                              "客户编号,客户名称,联系人,联系电话,核心需求,省份,城市\n" + code +
                                                  ",瑞丰精密科技有限公司,张三,13520261000,复印机,江苏,南京\n");
  CliResult update = wang.run({"import", renamed}, kZh);
  INFO(update.describe());
  CHECK(update.exit_code == 0);
  CHECK_THAT(wang.ok({"customer", "show", code}).out, Contains("瑞丰精密科技有限公司"));
  // --force overwrites, as the message says.
  CliResult forced = wang.run({"import", sheet, "--force"}, kZh);
  INFO(forced.describe());
  CHECK(forced.exit_code == 0);
  CHECK_THAT(wang.ok({"customer", "show", code}).out, Contains("启航食品集团有限公司"));
}
