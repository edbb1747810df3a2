// Mends of a new user's walkthrough (/work/findings/walk.md), each through the
// real `kehu` and `kehu-server` binaries: what the server says comes back in
// the user's language, bad input is named, tables and reports read well.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kehu/calendar.h"
#include "kehu/record.h"
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

TEST_CASE("walk: a refusal for a customer that left the salesperson's scope is in Chinese and names the code",
          "[cli][zh][walk]") {
  ServerFixture s;
  ReplicaCli wang, root;
  wang.log_in(s, "wang");
  root.log_in(s, "root");
  const std::string code = wang.add_synced_customer("南京远航科技有限公司");
  REQUIRE(code.rfind("C", 0) == 0);
  // An admin moves the customer to a colleague outside wang's regions.
  root.ok({"sync"});
  root.ok({"customer", "edit", code, "--set", "province=浙江", "--set", "city=杭州", "--set", "owner=zhao"});
  root.ok({"sync"});
  wang.ok({"customer", "edit", code, "--set", "备注=明天拜访"});
  CliResult sync = wang.run({"sync"}, kZh);
  INFO(sync.describe());
  CHECK(sync.exit_code == 1);  // an edit was refused
  const std::string all = sync.out + sync.err;
  CHECK_THAT(all, Contains(code + " 已不在你的负责范围内") && !Contains("record ") && !Contains("does not exist") &&
                      !Contains("scope"));
  CHECK_THAT(sync.out, Contains("已从本机移除：" + code));
  CHECK(wang.run({"customer", "show", code}).exit_code == 1);
  CliResult rejected = wang.ok({"rejected"}, kZh);
  CHECK_THAT(rejected.out, Contains(code) && Contains("已不在你的负责范围内") && !Contains("record "));
}

TEST_CASE("walk: a disabled user's and a revoked token's sync are said in Chinese with what to do",
          "[cli][zh][walk]") {
  ServerFixture s;
  ReplicaCli wang, wang2;
  wang.log_in(s, "wang");
  wang2.log_in(s, "wang");
  wang.ok({"sync"});
  // The other device after a password change.
  wang.ok({"passwd"}, {{"KEHU_NEW_PASSWORD", "another horse 43 x"}});
  CliResult revoked = wang2.run({"sync"}, kZh);
  INFO(revoked.describe());
  CHECK(revoked.exit_code == 1);
  CHECK_THAT(revoked.err, Contains("kehu login") && Contains("本机的修改都还在") && !Contains("token") &&
                              !Contains("pull") && !Contains("log in"));
  auto off = run_server_command({"user", "disable", "wang", "--data", s.data_dir()});
  REQUIRE(off.exit_code == 0);
  CliResult disabled = wang.run({"sync"}, kZh);
  INFO(disabled.describe());
  CHECK(disabled.exit_code == 1);
  CHECK_THAT(disabled.err, Contains("已停用") && Contains("请联系管理员") && !Contains("pull") &&
                               !Contains("disabled"));
}

TEST_CASE("walk: a salesperson clearing a restricted field is refused like setting it", "[cli][walk]") {
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  const std::string code = wang.add_synced_customer("南京清空受限字段有限公司");
  CliResult clear = wang.run({"customer", "edit", code, "--set", "年消费额="}, kZh);
  INFO(clear.describe());
  CHECK(clear.exit_code == 1);
  CHECK_THAT(clear.err, Contains("年消费额 (annual_spend) 是受限字段") && Contains("什么都没有改"));
}

TEST_CASE("walk: a field given twice is refused naming the field and both values", "[cli][walk]") {
  ReplicaCli k;
  const std::string code = k.ok({"customer", "add", "--set", "name=甲乙丙有限公司", "--set", "contact=张三", "--set",
                                 "phone=13800138111", "--set", "need=复印机", "--set", "province=江苏"})
                               .out.substr(0, 10);
  CliResult twice = k.run({"customer", "edit", code, "--set", "城市=南京", "--set", "city=苏州"}, kZh);
  INFO(twice.describe());
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Contains("城市 (city) 给了两次（“南京”、“苏州”）"));
  CliResult en = k.run({"customer", "add", "--set", "name=丁公司", "--set", "name=戊公司"});
  CHECK(en.exit_code == 2);
  CHECK_THAT(en.err, Contains("(name) is given twice (\"丁公司\", \"戊公司\")"));
  CHECK_THAT(k.ok({"customer", "show", code}).out, !Contains("苏州") && !Contains("南京"));
}

TEST_CASE("walk: kehu-server's own output follows KEHU_LANG=zh", "[server][zh][walk]") {
  kehu::test::ServeOptions zh_serve;
  zh_serve.env = {{"KEHU_LANG", "zh"}};
  ServerFixture s(zh_serve);
  CHECK_THAT(kehu::test::read_bytes(s.data_dir() + "/server.out").value_or(""),
             Contains("正在监听 127.0.0.1:") && !Contains("listening"));
  const std::map<std::string, std::string> zh = {{"KEHU_LANG", "zh"}};
  auto list = run_server_command({"user", "list", "--data", s.data_dir()}, zh);
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.output, Contains("用户\t角色\t区域") && Contains("wang\t销售\t江苏") && Contains("root\t管理员") &&
                              !Contains("sales"));
  auto en = run_server_command({"user", "list", "--data", s.data_dir()});
  CHECK_THAT(en.output, Contains("user\trole\tregions") && Contains("wang\tsales\t江苏"));
  auto short_pw = run_server_command({"user", "add", "小红", "--role", "sales", "--data", s.data_dir()},
                                     {{"KEHU_LANG", "zh"}, {"KEHU_PASSWORD", "123456"}});
  CHECK(short_pw.exit_code == 2);
  CHECK_THAT(short_pw.output, Contains("密码 (password) 太短"));
  // A salesperson's customer never followed up: the recycle says since when, truthfully.
  ReplicaCli wang;
  wang.log_in(s, "wang");
  const std::string code = wang.add_synced_customer("南京从未跟进有限公司");
  auto recycle = run_server_command({"pool", "recycle", "--days", "30", "--as-of", "2099-01-01", "--dry-run",
                                     "--data", s.data_dir()});
  INFO(recycle.output);
  CHECK(recycle.exit_code == 0);
  CHECK_THAT(recycle.output, Contains("customer\towner\tneglected since") && Contains(code + "\twang\tno follow-up since it was added on ") &&
                                 !Contains("last follow-up"));
}

TEST_CASE("walk: a two-character Chinese name inside a longer password is refused", "[server][walk]") {
  ServerFixture s;
  auto add = [&](const std::string& name, const std::string& password) {
    return run_server_command({"user", "add", name, "--role", "sales", "--data", s.data_dir()},
                              {{"KEHU_PASSWORD", password}});
  };
  auto in_longer = add("小张", "我是老小张啊啊好呀");
  CHECK(in_longer.exit_code == 2);
  CHECK_THAT(in_longer.output, Contains("must not be or contain the user name 小张"));
  // Two ASCII letters turn up in passwords by chance: still accepted.
  CHECK(add("ab", "ab-xyz-ab-Lantern").exit_code == 0);
}

TEST_CASE("walk: command-line mistakes name the rule and the whole command in both languages", "[cli][walk]") {
  ReplicaCli k;
  CliResult stale = k.run({"customer", "list", "--stale", "abc"});
  INFO(stale.describe());
  CHECK(stale.exit_code == 2);
  CHECK_THAT(stale.err, Contains("kehu: --stale \"abc\" is not valid: expected a whole number") &&
                            Contains("run `kehu customer list --help`") && !Contains("Could not convert"));
  CliResult limit = k.run({"customer", "list", "--limit", "abc"}, kZh);
  CHECK_THAT(limit.err, Contains("--limit 的值“abc”格式不对：应为"));
  CliResult show = k.run({"customer", "show"});
  CHECK(show.exit_code == 2);
  CHECK_THAT(show.err, Contains("kehu: missing CODE") && Contains("kehu customer show --help"));
  CliResult typo = k.run({"customer", "list", "--ower", "王五"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.err, Contains("did you mean '--owner'") && Contains("(see kehu customer list --help)"));
  CliResult stage = k.run({"customer", "list", "--stage", "签约"}, kZh);
  CHECK(stage.exit_code == 2);
  CHECK_THAT(stage.err, Contains("“签约” 不是销售阶段：应为") || Contains("不是销售阶段：应为"));
  CHECK_THAT(stage.err, !Contains("不是销售阶段（销售阶段）"));
  // KEHU_TODAY is read after the language is set.
  CliResult today = k.run({"due"}, {{"KEHU_LANG", "zh"}, {"KEHU_TODAY", "2026-02-30"}});
  CHECK(today.exit_code == 2);
  CHECK_THAT(today.err, Contains("KEHU_TODAY “2026-02-30”不是日期") && !Contains("is not a date"));
}

TEST_CASE("walk: reports show money with thousands separators, CSV keeps the plain number", "[cli][walk]") {
  ReplicaCli k;
  const std::string code = k.ok({"customer", "add", "--set", "name=大额订单有限公司", "--set", "contact=张三", "--set",
                                 "phone=13800138111", "--set", "need=复印机", "--set", "province=江苏"})
                               .out.substr(0, 10);
  k.ok({"order", "add", code, "--set", "product=设备", "--set", "amount=300012000"});
  CliResult sum = k.ok({"report", "sum", "orders.amount", "--by", "customer"});
  CHECK_THAT(sum.out, Contains("300,012,000.00") && !Contains("300012000.00"));
  CliResult csv = k.ok({"report", "sum", "orders.amount", "--by", "customer", "--csv", k.dir.file("r.csv")});
  CHECK_THAT(kehu::test::read_bytes(k.dir.file("r.csv")).value_or(""), Contains("300012000.00"));
}

TEST_CASE("walk: a service record is dated today unless given and any date takes 今天", "[cli][walk]") {
  ReplicaCli k;
  const std::string code = k.ok({"customer", "add", "--set", "name=服务记录有限公司", "--set", "contact=张三", "--set",
                                 "phone=13800138111", "--set", "need=复印机", "--set", "province=江苏"})
                               .out.substr(0, 10);
  const kehu::test::EnvChanges day = {{"KEHU_TODAY", "2026-12-05"}, {"KEHU_LANG", "zh"}};
  CliResult add = k.run({"service", "add", code, "--set", "类型=投诉", "--set", "内容=设备噪音大"}, day);
  INFO(add.describe());
  CHECK(add.exit_code == 0);
  CliResult today = k.run({"followup", "add", code, "--set", "跟进内容=微信", "--set", "跟进人=王五", "--set", "下次跟进日期=今天"}, day);
  INFO(today.describe());
  CHECK(today.exit_code == 0);
  CHECK_THAT(k.ok({"--json", "service", "list", code}).out, Contains("\"date\": \"2026-12-05\""));
  CHECK_THAT(k.ok({"--json", "followup", "list", code}).out, Contains("\"next_date\": \"2026-12-05\""));
  // An impossible day is said as such, not as a wrong form.
  CliResult feb30 = k.run({"followup", "add", code, "--set", "跟进内容=微信", "--set", "跟进人=王五", "--set", "下次跟进日期=2026-02-30"}, day);
  CHECK(feb30.exit_code == 2);
  CHECK_THAT(feb30.err, Contains("2026年2月没有30日") && !Contains("应为 YYYY-MM-DD"));
  CliResult en = k.run({"followup", "add", code, "--set", "content=x", "--set", "person=wang", "--set", "next_date=2026/2/30"});
  CHECK_THAT(en.err, Contains("February 2026 has no day 30"));
}

TEST_CASE("walk: the reference type is shown in Chinese", "[cli][walk]") {
  ReplicaCli k;
  CHECK_THAT(k.ok({"schema", "list", "followups"}, kZh).out, Contains("引用") && !Contains("reference"));
}

TEST_CASE("walk: customer list --pool lists the customers with no owner", "[cli][walk]") {
  ReplicaCli k;
  auto add = [&](const std::string& name, const std::vector<std::string>& more) {
    std::vector<std::string> args = {"customer", "add", "--set", "name=" + name, "--set", "contact=张三", "--set",
                                     "phone=1380013811" + std::to_string(name.size() % 10), "--set", "need=复印机",
                                     "--force"};
    for (const auto& m : more) args.insert(args.end(), {"--set", m});
    return k.ok(args).out.substr(0, 10);
  };
  const std::string owned = add("有主客户有限公司", {"owner=王五"});
  const std::string pool = add("公海客户有限公司", {});
  CliResult list = k.ok({"customer", "list", "--pool"});
  CHECK_THAT(list.out, Contains(pool) && !Contains(owned));
  CliResult both = k.run({"customer", "list", "--pool", "--owner", "王五"}, kZh);
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Contains("不能与 --owner 同时使用"));
  CliResult empty_owner = k.run({"customer", "list", "--owner", ""}, kZh);
  CHECK(empty_owner.exit_code == 2);
  CHECK_THAT(empty_owner.err, Contains("公海客户用 --pool 列出"));
}

TEST_CASE("walk: a follow-up dated after today is refused, with where a planned visit goes", "[cli][walk][walk13]") {
  // R13-2: "next visit on the 8th" logged as a follow-up dated the 8th was taken
  // without a word, and no reminder came; R15-2: with a note only, it became the
  // last follow-up and kept the real one of today from setting the next date.
  ReplicaCli k;
  const std::string code = k.ok({"customer", "add", "--set", "name=未来跟进有限公司", "--set", "contact=张三", "--set",
                                 "phone=13800138111", "--set", "need=复印机"})
                               .out.substr(0, 10);
  CliResult future = k.run({"followup", "add", code, "--set", "date=2099-01-08", "--set", "content=上门演示", "--set", "person=张三"});
  INFO(future.describe());
  CHECK(future.exit_code == 2);
  CHECK_THAT(future.err, Contains("\"2099-01-08\" is after today") && Contains("next_date"));
  CliResult zh = k.run({"followup", "add", code, "--set", "跟进日期=2099-02-01", "--set", "跟进内容=电话", "--set", "跟进人=张三"}, kZh);
  CHECK(zh.exit_code == 2);
  CHECK_THAT(zh.err, Contains("在今天") && Contains("下次跟进日期"));
  // Today's visit with the next one planned: the customer's next date is it.
  const std::string id = k.ok({"followup", "add", code, "--set", "content=今天的拜访", "--set", "person=张三", "--set",
                               "next_date=2099-01-08"}).out.substr(0, 36);
  CHECK_THAT(k.ok({"customer", "show", code}).out, Contains("2099-01-08"));
  // Moved into the future by an edit: refused the same way, nothing changed.
  CliResult edit = k.run({"followup", "edit", id, "--set", "date=2099-01-09"});
  CHECK(edit.exit_code == 2);
  CHECK_THAT(k.ok({"followup", "list", code}).out, !Contains("2099-01-09"));
}

TEST_CASE("walk: a report with nothing to show says why", "[cli][walk][walk13]") {
  // R13-5: an empty table, or one of zeros, came without a word.
  ReplicaCli k;
  CHECK_THAT(k.ok({"report", "funnel"}).out, Contains("no customers on this device yet"));
  CHECK_THAT(k.ok({"report", "value"}, kZh).out, Contains("本机还没有客户"));
  k.ok({"customer", "add", "--set", "name=有客户有限公司", "--set", "contact=张三", "--set", "phone=13800138111",
        "--set", "need=复印机"});
  CHECK_THAT(k.ok({"report", "funnel"}).out, !Contains("no customers on this device yet"));
  CHECK_THAT(k.ok({"report", "forecast"}).out, Contains("no open orders"));
  // The targets report's own note, once (R15-14).
  const std::string targets = k.ok({"report", "targets"}).out;
  CHECK(targets.find("no targets") == targets.rfind("no targets"));
  CHECK(targets.find("no sales targets") == std::string::npos);
}

TEST_CASE("walk15: codes, limits and filters a person mistypes are refused at once, naming the rule", "[cli][walk][walk15]") {
  ReplicaCli k;
  auto add = [&](const std::string& code) {
    return k.run({"customer", "add", "--set", "code=" + code, "--set", "name=编号" + code, "--set", "contact=张三",
                  "--set", "phone=13800138111", "--set", "need=复印机", "--force"});
  };
  // R15-1: codes the server would have replaced at the sync.
  CliResult zero = add("c2026120998");
  INFO(zero.describe());
  CHECK(zero.exit_code == 2);
  CHECK_THAT(zero.err, Contains("no leading zero (C202612998)"));
  for (const char* month : {"C202613001", "C202600001", "C209912001"}) {
    CliResult bad_month = add(month);
    INFO(bad_month.describe());
    CHECK(bad_month.exit_code == 2);
    CHECK_THAT(bad_month.err, Contains("is not a month a code can have"));
  }
  for (const char* short_serial : {"C2026121", "C20261200", "C202612000"}) {
    CliResult bad_serial = add(short_serial);
    INFO(bad_serial.describe());
    CHECK(bad_serial.exit_code == 2);
    CHECK_THAT(bad_serial.err, Contains("a serial of 3 to 5 digits"));
  }
  CliResult big = add("C202612100000");
  CHECK(big.exit_code == 2);
  CHECK_THAT(big.err, Contains("goes up to 99999"));
  CliResult lower = add("c202612998");
  INFO(lower.describe());
  REQUIRE(lower.exit_code == 0);
  CHECK_THAT(lower.out, Contains("C202612998"));
  add("C2026121000");
  // R15-6: a negative count, and a page that is not the whole list.
  CliResult negative = k.run({"customer", "list", "--limit", "-1"});
  CHECK(negative.exit_code == 2);
  CHECK_THAT(negative.err, Contains("--limit \"-1\" is not valid: expected a whole number, 0 or more"));
  CliResult negative_zh = k.run({"customer", "list", "--limit=-1"}, kZh);
  CHECK(negative_zh.exit_code == 2);
  CHECK_THAT(negative_zh.err, Contains("应为 0 或正整数"));
  CliResult page = k.ok({"customer", "list", "--limit", "1"});
  CHECK_THAT(page.out, Contains("C202612998") && !Contains("C2026121000"));
  CHECK_THAT(page.err, Contains("more customers match: the next page is --offset 1"));
  CHECK_THAT(k.ok({"customer", "list", "--limit", "2"}).err, !Contains("more customers match"));
  // R16-11: the next page, in code order and in any other.
  CliResult next = k.ok({"customer", "list", "--offset", "1", "--limit", "1"});
  CHECK_THAT(next.out, !Contains("C202612998") && Contains("C2026121000"));
  CHECK_THAT(next.err, !Contains("more customers match"));
  const json by_code_desc = json::parse(k.ok({"--json", "customer", "list", "--sort", "-code"}).out);
  REQUIRE(by_code_desc.size() == 2);
  const json second = json::parse(k.ok({"--json", "customer", "list", "--sort", "-code", "--offset", "1"}).out);
  REQUIRE(second.size() == 1);
  CHECK(second[0]["code"] == by_code_desc[1]["code"]);
  CHECK(json::parse(k.ok({"--json", "customer", "list", "--offset", "5"}).out).empty());
  CHECK(k.run({"customer", "list", "--offset", "-1"}).exit_code == 2);
  // R15-9: one field filtered twice.
  CliResult twice = k.run({"customer", "list", "--where", "city=南京", "--where", "城市=苏州"});
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Contains("--where city is given twice (\"南京\", \"苏州\")"));
  // R15-11: the chain is checked on the server.
  CliResult verify = k.run({"audit", "verify"});
  CHECK(verify.exit_code == 2);
  CHECK_THAT(verify.err, Contains("kehu-server audit verify --data DIR"));
}

TEST_CASE("walk15: a salesperson's history of a restricted field says so, and audit takes dates as typed elsewhere",
          "[cli][walk][walk15]") {
  ServerFixture s;
  ReplicaCli wang, audit;
  wang.log_in(s, "wang");
  audit.log_in(s, "audit");
  const std::string code = wang.add_synced_customer("受限历史有限公司");
  // R15-7
  CliResult h = wang.run({"history", code, "--field", "annual_spend"});
  INFO(h.describe());
  CHECK(h.exit_code == 2);
  CHECK_THAT(h.err, Contains("is restricted") && Contains("show its history"));
  // R15-10
  for (const std::string since : {"2026/12/1", "2026年12月1日", "２０２６-１２-０１"}) {
    INFO(since);
    CliResult a = audit.run({"audit", "--since", since});
    INFO(a.describe());
    CHECK(a.exit_code == 0);
  }
  CHECK(audit.run({"audit", "--since", "12/1/2026"}).exit_code == 2);
}

TEST_CASE("walk16: the column names of sheets name fields on the command line too", "[cli][walk][walk16]") {
  // R16-7: --set 手机=… was "no field", and --where 地区=江苏 suggested 地址.
  ReplicaCli k;
  const std::string code = k.ok({"customer", "add", "--set", "公司名称=别名有限公司", "--set", "联系人=张三", "--set",
                                 "手机=13800138111", "--set", "need=复印机", "--set", "地区=江苏"})
                               .out.substr(0, 10);
  CliResult shown = k.ok({"--json", "customer", "show", code});
  const nlohmann::json c = nlohmann::json::parse(shown.out);
  CHECK(c["phone"] == "13800138111");
  CHECK(c["province"] == "江苏");
  CHECK_THAT(k.ok({"customer", "list", "--where", "地区=江苏"}).out, Contains(code));
}

TEST_CASE("walk19: a follow-up the server refused names its customer", "[cli][walk][walk19]") {
  // Walkthrough 19, R19-1: `kehu rejected`, the sync's refusals and their JSON
  // had no customer for a refused follow-up. A device whose calendar runs ahead
  // (KEHU_TODAY) writes a follow-up the server finds dated in the future.
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  const std::string code = wang.add_synced_customer("南京玄武文化传媒");
  const std::string ahead = kehu::add_days(kehu::today_local(), 5);
  wang.ok({"followup", "add", code, "--set", "date=" + ahead, "--set", "content=拜访", "--set", "person=王五"},
          {{"KEHU_TODAY", ahead}});
  CliResult synced = wang.run({"--json", "sync"});
  INFO(synced.describe());
  CHECK(synced.exit_code == 1);
  const json report = json::parse(synced.out);
  REQUIRE(report["rejections"].size() == 1);
  CHECK(report["rejections"][0]["code"] == code);
  CliResult listed = wang.run({"--json", "rejected"});
  REQUIRE(listed.exit_code == 0);
  const json refused = json::parse(listed.out);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0]["code"] == code);
  CliResult status = wang.run({"status"});
  CHECK_THAT(status.out, Contains("rejected: " + code));
}
