// Mends of the fourth new-user walkthrough (/work/findings/walk.md, R4-*), each
// through the real `kehu` and `kehu-server` binaries.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "replica_cli.h"

using Catch::Contains;
using kehu::test::CliResult;
using kehu::test::ReplicaCli;
using kehu::test::run_server_command;
using kehu::test::ServerFixture;

namespace {

const kehu::test::EnvChanges kZh = {{"KEHU_LANG", "zh"}};

}  // namespace

TEST_CASE("walk4: an export re-imports unchanged with a required follow-up field and a masked pool phone",
          "[cli][walk][sheets]") {
  ServerFixture s;
  ReplicaCli root, wang, li, zhao;
  root.log_in(s, "root");
  wang.log_in(s, "wang");
  li.log_in(s, "li");
  zhao.log_in(s, "zhao");
  root.ok({"schema", "add-field", "followups", "visit_no", "--type", "integer", "--label", "拜访序号", "--required"});
  root.ok({"sync"});
  wang.ok({"sync"});
  const std::string own = wang.add_synced_customer("南京自有客户有限公司", "13800138111");
  wang.ok({"followup", "add", own, "--set", "date=2026-12-01", "--set", "person=wang", "--set", "content=上门拜访",
           "--set", "visit_no=1"});
  wang.ok({"sync"});
  // A colleague's customer released to the pool: wang sees it with its phone masked.
  const std::string pooled = li.add_synced_customer("南京公海客户有限公司", "13300135600");
  li.ok({"customer", "release", pooled, "--reason", "暂无预算"});
  li.ok({"sync"});
  wang.ok({"sync"});
  REQUIRE_THAT(wang.ok({"customer", "list", "--pool"}).out, Contains(pooled));
  for (const char* name : {"w.xlsx", "w.csv"}) {
    const std::string file = wang.dir.file(name);
    wang.ok({"export", file});
    CliResult dry = wang.run({"import", file, "--dry-run"}, kZh);
    INFO(dry.describe());
    CHECK(dry.exit_code == 0);
    CHECK_THAT(dry.out + dry.err, !Contains("必须填写") && !Contains("不是电话号码") && Contains("0 行有错") &&
                                      !Contains("受限字段"));
    CliResult json = wang.ok({"--json", "import", file, "--dry-run"});
    INFO(json.out);
    CHECK_THAT(json.out, Contains("\"created\": 0") && Contains("\"updated\": 0") && Contains("\"followups\": 0") &&
                             Contains("\"bad_rows\": 0"));
    CliResult real = wang.run({"import", file}, kZh);
    INFO(real.describe());
    CHECK(real.exit_code == 0);
  }
  CHECK_THAT(wang.ok({"status"}).out, Catch::Matches("(.|\n)*pending changes +0\n(.|\n)*"));
  CHECK_THAT(wang.ok({"customer", "show", pooled}).out, Contains("133****5600"));
  // A masked value in a new customer's row is not a number to store: said so.
  {
    const std::string file = wang.dir.file("new.csv");
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f);
    std::fputs("客户名称,联系人,联系电话,核心需求,省份,城市\n南京新客户有限公司,李雷,133****5601,复印机,江苏,南京\n", f);
    std::fclose(f);
    CliResult masked = wang.run({"import", file, "--dry-run"}, kZh);
    INFO(masked.describe());
    CHECK(masked.exit_code == 2);
    CHECK_THAT(masked.out + masked.err, Contains("133****5601") && Contains("遮盖"));
  }
  // A manager's export likewise.
  zhao.ok({"sync"});
  const std::string mfile = zhao.dir.file("m.csv");
  zhao.ok({"export", mfile});
  CliResult mdry = zhao.run({"import", mfile, "--dry-run"}, kZh);
  INFO(mdry.describe());
  CHECK(mdry.exit_code == 0);
  CHECK_THAT(mdry.out + mdry.err, !Contains("必须填写"));
  CHECK_THAT(zhao.ok({"--json", "import", mfile, "--dry-run"}).out,
             Contains("\"created\": 0") && Contains("\"updated\": 0") && Contains("\"followups\": 0"));
}

TEST_CASE("walk4: --region 江苏 and 江苏/南京 find customers written 江苏省 and 南京市", "[cli][walk]") {
  ReplicaCli k;
  auto add = [&](const std::string& name, const std::string& phone, const std::string& province,
                 const std::string& city) {
    return k.ok({"customer", "add", "--set", "name=" + name, "--set", "contact=张三", "--set", "phone=" + phone,
                 "--set", "need=复印机", "--set", "province=" + province, "--set", "city=" + city})
        .out.substr(0, 10);
  };
  const std::string short_name = add("南京短名有限公司", "13800138111", "江苏", "南京");
  const std::string full_name = add("南京全称有限公司", "13800138112", "江苏省", "南京市");
  const std::string suzhou = add("苏州有限公司", "13800138113", "江苏省", "苏州市");
  const std::string hangzhou = add("杭州有限公司", "13800138114", "浙江省", "杭州市");
  for (const std::string region : {"江苏", "江苏省", "Jiangsu"}) {
    CliResult list = k.ok({"customer", "list", "--region", region});
    INFO(region << "\n" << list.out);
    CHECK_THAT(list.out, Contains(short_name) && Contains(full_name) && Contains(suzhou) && !Contains(hangzhou));
  }
  for (const std::string region : {"江苏/南京", "江苏省/南京市", "江苏省南京市"}) {
    CliResult list = k.ok({"customer", "list", "--region", region});
    INFO(region << "\n" << list.out);
    CHECK_THAT(list.out, Contains(short_name) && Contains(full_name) && !Contains(suzhou) && !Contains(hangzhou));
  }
  // --where compares the value as stored.
  CliResult where = k.ok({"customer", "list", "--where", "province=江苏省"});
  CHECK_THAT(where.out, Contains(full_name) && Contains(suzhou) && !Contains(short_name));
}

TEST_CASE("walk4: a conflict edited again shows the current value and resolving never overwrites the later edit",
          "[cli][walk][sync]") {
  ServerFixture s;
  ReplicaCli qian, sun;
  qian.log_in(s, "qian");
  sun.log_in(s, "sun");
  const std::string code = qian.add_synced_customer("南京冲突后又改有限公司", "13800138111");
  sun.ok({"sync"});
  sun.ok({"customer", "edit", code, "--set", "type=lost"});
  qian.ok({"customer", "edit", code, "--set", "type=deal"});
  sun.ok({"sync"});
  qian.ok({"sync"});
  sun.ok({"sync"});
  CHECK_THAT(qian.ok({"conflicts"}).out, Contains("Deal") && Contains("Lost") && !Contains("changed since"));
  // A later edit of the field, made here and not synced yet: the table says
  // what it holds now. (Once synced, the edit closes the conflict on every
  // device: issue 22, tests/sync/test_merge_gaps.cpp.)
  qian.ok({"customer", "edit", code, "--set", "type=intention"});
  CliResult listed = qian.ok({"conflicts"});
  INFO(listed.out);
  CHECK_THAT(listed.out, Contains("Deal (changed since to Intention)"));
  CHECK_THAT(qian.ok({"conflicts"}, kZh).out, Contains("成交客户（之后已改为 意向客户）"));
  CHECK_THAT(qian.ok({"--json", "conflicts"}).out, Contains("\"current\": \"intention\""));
  // Either side's value would overwrite the later edit: refused, nothing written.
  for (const char* keep : {"mine", "theirs"}) {
    CliResult r = qian.run({"conflicts", "resolve", code, "type", "--keep", keep});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("was changed to \"Intention\" after this conflict") && Contains("--keep current"));
  }
  CliResult zh = qian.run({"conflicts", "resolve", code, "客户类型", "--keep", "mine"}, kZh);
  CHECK_THAT(zh.err, Contains("之后又改成了“意向客户”") && Contains("什么都没有改"));
  CHECK_THAT(qian.ok({"customer", "show", code}).out, Contains("Intention"));
  // Walkthrough 14, R14-3: it named the kept side's older value, Deal.
  CHECK_THAT(qian.ok({"conflicts", "resolve", code, "type", "--keep", "current"}).out,
             Contains("resolved:") && Contains("keeping \"Intention\""));
  qian.ok({"sync"});
  sun.ok({"sync"});
  for (const ReplicaCli* r : {&qian, &sun}) {
    CHECK_THAT(r->ok({"conflicts"}).out, Contains("no open conflicts"));
    CHECK_THAT(r->ok({"customer", "show", code}).out, Contains("Intention"));
  }
  // R4-8: no open conflict left: the message names the record as typed, in Chinese.
  CliResult none = qian.run({"conflicts", "resolve", code, "客户类型", "--keep", "mine"}, kZh);
  CHECK(none.exit_code == 1);
  CHECK_THAT(none.err, Contains(code + " 的 客户类型 上没有未解决的冲突") && !Contains(" type "));
}

TEST_CASE("walk4: kehu audit names child records by the short id their list shows", "[cli][walk]") {
  ServerFixture s;
  ReplicaCli wang, audit;
  wang.log_in(s, "wang");
  audit.log_in(s, "audit");
  const std::string code = wang.add_synced_customer("南京审计子记录有限公司", "13800138111");
  const std::string a = wang.ok({"order", "add", code, "--set", "product=大单", "--set", "amount=1000"}).out;
  const std::string b = wang.ok({"order", "add", code, "--set", "product=仓储", "--set", "amount=2000"}).out;
  wang.ok({"sync"});
  CliResult orders = wang.ok({"--json", "order", "list", code});
  const auto list = nlohmann::json::parse(orders.out);
  REQUIRE(list.size() == 2);
  CliResult log = audit.ok({"audit", "--customer", code});
  INFO(log.out);
  for (const auto& o : list) {
    const std::string id = o["id"].get<std::string>();
    CHECK_THAT(log.out, Contains("order " + id.substr(id.size() - 8)));
    CHECK_THAT(log.out, !Contains(id.substr(0, 8) + " r"));
  }
}

TEST_CASE("walk4: retrying an edit of a customer that left the scope says so with the code", "[cli][zh][walk]") {
  ServerFixture s;
  ReplicaCli wang, root;
  wang.log_in(s, "wang");
  root.log_in(s, "root");
  const std::string code = wang.add_synced_customer("南京离开范围有限公司", "13800138111");
  root.ok({"sync"});
  root.ok({"customer", "edit", code, "--set", "province=浙江", "--set", "city=杭州", "--set", "owner=zhao"});
  root.ok({"sync"});
  wang.ok({"customer", "edit", code, "--set", "address=新地址"});
  CHECK(wang.run({"sync"}).exit_code == 1);
  const auto refused = nlohmann::json::parse(wang.ok({"--json", "rejected"}).out);
  REQUIRE(refused.size() == 1);
  const std::string n = std::to_string(refused[0]["seq"].get<std::int64_t>());
  CliResult retry = wang.run({"rejected", "retry", n}, kZh);
  INFO(retry.describe());
  CHECK(retry.exit_code == 1);
  CHECK_THAT(retry.err, Contains(code + " 已不在你的负责范围内") && Contains("kehu rejected dismiss " + n) &&
                            !Contains("没有客户或记录") && !Contains("-"));
  CliResult en = wang.run({"rejected", "retry", n});
  CHECK_THAT(en.err, Contains(code + " is no longer yours to edit") && Contains("kehu rejected dismiss " + n));
  wang.ok({"rejected", "dismiss", n});
}

TEST_CASE("walk4: a refusal that wrote nothing does not say local edits are kept", "[cli][zh][walk]") {
  ServerFixture s;
  ReplicaCli wang, audit;
  wang.log_in(s, "wang");
  audit.log_in(s, "audit");
  CliResult log = wang.run({"audit"}, kZh);
  INFO(log.describe());
  CHECK(log.exit_code == 1);
  CHECK_THAT(log.err, Contains("审计日志仅供") && !Contains("本机的修改仍保留") && !Contains("audit："));
  CliResult approve = audit.run({"approve", "1"}, kZh);
  INFO(approve.describe());
  CHECK(approve.exit_code == 1);
  CHECK_THAT(approve.err, !Contains("本机的修改仍保留"));
  CHECK_THAT(wang.run({"audit"}).err, !Contains("edits on this device are kept"));
}

TEST_CASE("walk4: tables into a pipe keep every cell whole and a narrow terminal never cuts a date",
          "[cli][walk][width]") {
  ReplicaCli k;
  const kehu::test::EnvChanges pipe = {{"COLUMNS", std::nullopt}};
  CliResult schema = k.ok({"schema", "list", "customers"}, pipe);
  CHECK_THAT(schema.out, !Contains("…") && Contains("lost="));
  const std::string code = k.ok({"customer", "add", "--set", "name=南京青石建材科技有限公司", "--set", "contact=张三",
                                 "--set", "phone=13800138111", "--set", "need=复印机", "--set", "province=江苏",
                                 "--set", "owner=王五", "--set", "next_date=2026-12-09"})
                               .out.substr(0, 10);
  CliResult due = k.ok({"due", "--limit", "1"}, {{"KEHU_TODAY", "2026-12-21"}, {"COLUMNS", "40"}});
  INFO(due.out);
  CHECK_THAT(due.out, Contains("2026-12-09") && Contains(code));
  CliResult whole = k.ok({"due", "--limit", "1"}, {{"KEHU_TODAY", "2026-12-21"}, {"COLUMNS", std::nullopt}});
  CHECK_THAT(whole.out, Contains("南京青石建材科技有限公司") && !Contains("…"));
}

TEST_CASE("walk4: a login URL with an extra path is said to be the wrong address not a wrong password",
          "[cli][zh][walk]") {
  ServerFixture s;
  ReplicaCli wang;
  CliResult zh = wang.run({"login", "--server", s.base_url() + "/kehu", "--user", "wang"}, kZh);
  INFO(zh.describe());
  CHECK(zh.exit_code == 2);
  CHECK_THAT(zh.err, Contains("不是 Kehu 服务器") && Contains("多了路径 /kehu") && Contains(s.base_url()) &&
                         !Contains("请检查用户名和密码") && !Contains("Bearer"));
  CliResult en = wang.run({"login", "--server", s.base_url() + "/kehu/", "--user", "wang"});
  CHECK(en.exit_code == 2);
  CHECK_THAT(en.err, Contains("is not a Kehu server's address") && Contains("an extra path /kehu?"));
  // The right address still logs in, and a wrong password is still said as one.
  CliResult bad = wang.run({"login", "--server", s.base_url(), "--user", "wang"}, {{"KEHU_PASSWORD", "wrong password 1"}});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, !Contains("is not a Kehu server"));
  wang.log_in(s, "wang");
}

TEST_CASE("walk4: kehu-server suggests the command or option a typo meant", "[server][zh][walk]") {
  ServerFixture s;
  auto serv = run_server_command({"serv", "--data", s.data_dir()}, {{"KEHU_LANG", "zh"}});
  CHECK(serv.exit_code == 2);
  CHECK_THAT(serv.output, Contains("未知命令“serv”；您是不是要输入“serve”？"));
  auto dat = run_server_command({"user", "list", "--dat", s.data_dir()});
  CHECK(dat.exit_code == 2);
  CHECK_THAT(dat.output, Contains("unknown option --dat; did you mean '--data'?"));
  auto far = run_server_command({"frobnicate", "--data", s.data_dir()});
  CHECK(far.exit_code == 2);
  CHECK_THAT(far.output, Contains("unknown command \"frobnicate\"") && !Contains("did you mean"));
}

TEST_CASE("walk4: kehu-server pool recycle --days 0 is refused in Chinese under KEHU_LANG=zh", "[server][zh][walk]") {
  ServerFixture s;
  auto zero = run_server_command({"pool", "recycle", "--days", "0", "--dry-run", "--data", s.data_dir()},
                                 {{"KEHU_LANG", "zh"}});
  CHECK(zero.exit_code == 2);
  CHECK_THAT(zero.output, Contains("--days 0 应为 1 或更大的天数") && !Contains("must be"));
  // Walkthrough 13, R13-16: 2027-02-30 was taken as 2 March, and the date
  // errors were English.
  for (const char* day : {"2027-02-30", "2026-12-32", "8/12"}) {
    auto bad = run_server_command({"pool", "recycle", "--days", "30", "--dry-run", "--as-of", day, "--data", s.data_dir()},
                                  {{"KEHU_LANG", "zh"}});
    INFO(bad.output);
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.output, Contains(std::string("--as-of “") + day + "”不是日期"));
  }
  CHECK(run_server_command({"pool", "recycle", "--days", "30", "--dry-run", "--as-of", "2027-02-28", "--data",
                            s.data_dir()})
            .exit_code == 0);
}

TEST_CASE("walk4: a 合计 row written in the 序号 column is named as a totals row not a blank one",
          "[cli][walk][sheets]") {
  ReplicaCli k;
  const std::string file = k.dir.file("s1.csv");
  FILE* f = std::fopen(file.c_str(), "w");
  REQUIRE(f);
  std::fputs("序号,客户名称,联系人,联系电话,核心需求,省份\n1,南京甲有限公司,张三,13800138111,复印机,江苏\n"
             "2,南京乙有限公司,李四,13800138112,打印机,江苏\n合计：2家,,,,,\n",
             f);
  std::fclose(f);
  CliResult json = k.ok({"--json", "import", file, "--dry-run"});
  INFO(json.out);
  CHECK_THAT(json.out, Contains("\"blank_rows\": 0") && Contains("\"totals_rows\": [\n    4\n  ]"));
  CliResult zh = k.ok({"import", file, "--dry-run"}, kZh);
  CHECK_THAT(zh.out + zh.err, Contains("合计行") && !Contains("空行"));
}

TEST_CASE("walk4: import --json names the 负责人 cell of a row for another salesperson", "[cli][walk][sheets]") {
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  wang.ok({"sync"});
  const std::string file = wang.dir.file("other.csv");
  FILE* f = std::fopen(file.c_str(), "w");
  REQUIRE(f);
  std::fputs("客户名称,联系人,联系电话,核心需求,省份,负责人\n南京别人的有限公司,张三,13800138111,复印机,江苏,li\n", f);
  std::fclose(f);
  CliResult json = wang.run({"--json", "import", file, "--dry-run"});
  INFO(json.describe());
  CHECK_THAT(json.out, Contains("\"field\": \"负责人\"") && Contains("\"value\": \"li\""));
}
