// Mends of the seventh new-user walkthrough and of round-6 items left open
// (/work/findings/walk.md), each through the real `kehu` and `kehu-server` binaries.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
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

std::string read_file(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

// wang's customer `code` whose protected field (type) holds a value the
// manager zhao set: a delete of it by wang waits for zhao's approval.
struct HeldDelete {
  ServerFixture s;
  ReplicaCli wang, zhao;
  std::string code;

  explicit HeldDelete(const std::string& name) {
    REQUIRE(run_server_command({"schema", "protect", "customers", "type", "--data", s.data_dir()}).exit_code == 0);
    wang.log_in(s, "wang");
    zhao.log_in(s, "zhao");
    code = wang.add_synced_customer(name);
    zhao.ok({"sync"});
    zhao.ok({"customer", "edit", code, "--set", "type=deal"});
    zhao.ok({"sync"});
    wang.ok({"sync"});
  }

  // The id of the one request zhao's device lists, after a sync.
  std::string request_id() {
    zhao.ok({"sync"});
    const json list = json::parse(zhao.ok({"--json", "approvals"}).out);
    REQUIRE(list.is_array());
    REQUIRE(list.size() == 1);
    return std::to_string(list[0]["id"].get<std::int64_t>());
  }
};

}  // namespace

TEST_CASE("walk7: a salesperson's delete held for approval is approved as a delete", "[cli][walk][sync]") {
  // R7-1: deleting a customer whose protected fields hold values asks a
  // manager; approving it failed ("an update must not set deleted"), so it
  // could only be rejected.
  HeldDelete t("南京待删有限公司");
  auto& [s, wang, zhao, code] = t;
  wang.ok({"customer", "delete", code});
  CliResult held = wang.ok({"sync"});
  INFO(held.out);
  CHECK_THAT(held.out + held.err, Contains("awaiting approval"));
  const std::string id = t.request_id();
  CliResult approved = zhao.run({"approve", id});
  INFO(approved.describe());
  CHECK(approved.exit_code == 0);
  zhao.ok({"sync"});
  CHECK_THAT(zhao.ok({"customer", "show", code}).out, Contains("recycle bin"));
  wang.ok({"sync"});
  CHECK_THAT(wang.ok({"customer", "show", code}).out, Contains("recycle bin"));
}

TEST_CASE("walk7: export keeps an existing file unless --force is given", "[cli][zh][walk][sheets]") {
  // R6-7: `kehu export keep.csv` replaced the sheet the customers came from,
  // with the rows its import had refused, without a word.
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  wang.add_synced_customer("南京导出有限公司");
  const std::string file = wang.write_file("keep.csv", "客户名称,备注\n原表,导入时被拒的行\n");
  CliResult zh = wang.run({"export", file}, kZh);
  INFO(zh.describe());
  CHECK(zh.exit_code == 2);
  CHECK_THAT(zh.err, Contains(file + " 已经存在") && Contains("--force") && Contains("什么都没有写"));
  CliResult en = wang.run({"export", file});
  CHECK(en.exit_code == 2);
  CHECK_THAT(en.err, Contains("already exists") && Contains("--force"));
  CHECK(read_file(file) == "客户名称,备注\n原表,导入时被拒的行\n");  // untouched
  wang.ok({"export", file, "--force"});
  CHECK_THAT(read_file(file), Contains("南京导出有限公司"));
  CHECK_FALSE(std::filesystem::exists(file + ".part"));
}

TEST_CASE("walk7: a logged-out replica still checks edits as its user's role, and logout names unsynced edits",
          "[cli][zh][walk]") {
  // R6-5: after `kehu logout` the replica forgot the role, took a salesperson's
  // edits of restricted fields and pool customers, and the next sync refused
  // them all.
  ServerFixture s;
  ReplicaCli wang, li;
  wang.log_in(s, "wang");
  li.log_in(s, "li");
  const std::string pooled = li.add_synced_customer("南京公海有限公司", "13300135601");
  li.ok({"customer", "release", pooled, "--reason", "暂无预算"});
  li.ok({"sync"});
  const std::string own = wang.add_synced_customer("南京自有有限公司", "13300135602");
  wang.ok({"sync"});
  wang.ok({"customer", "edit", own, "--set", "notes=未同步"});
  CliResult out = wang.run({"logout"}, kZh);
  INFO(out.describe());
  CHECK(out.exit_code == 0);
  CHECK_THAT(out.err, Contains("还有 1 条修改没有同步") && Contains("kehu sync"));
  CliResult restricted = wang.run({"customer", "edit", own, "--set", "credit_rating=A"});
  INFO(restricted.describe());
  CHECK(restricted.exit_code != 0);
  CHECK_THAT(restricted.err, Contains("restricted"));
  CliResult pool = wang.run({"customer", "edit", pooled, "--set", "notes=x"});
  INFO(pool.describe());
  CHECK(pool.exit_code != 0);
  CHECK_THAT(pool.err, Contains("customer pool"));
  wang.ok({"customer", "edit", own, "--set", "notes=离线也能改自己的"});  // their own: fine
  wang.log_in(s, "wang");
  CliResult sync = wang.ok({"sync"});
  CHECK_THAT(sync.out + sync.err, !Contains("rejected:"));
}

TEST_CASE("walk7: a salesperson's due list holds their own customers, a manager's the team's", "[cli][walk][due]") {
  // R7-6: a salesperson's `due` listed a colleague's customers of the same
  // territory as their own to-dos.
  ServerFixture s;
  ReplicaCli wang, li, zhao;
  wang.log_in(s, "wang");
  li.log_in(s, "li");
  zhao.log_in(s, "zhao");
  const kehu::test::EnvChanges today = {{"KEHU_TODAY", "2026-12-07"}};
  const std::string lis = li.add_synced_customer("南京李四的待办有限公司", "13300135603");
  li.ok({"customer", "edit", lis, "--set", "next_date=2026-12-08"});
  li.ok({"sync"});
  const std::string wangs = wang.add_synced_customer("南京王五的待办有限公司", "13300135604");
  wang.ok({"customer", "edit", wangs, "--set", "next_date=2026-12-09"});
  wang.ok({"sync"});
  zhao.ok({"sync"});
  REQUIRE_THAT(wang.ok({"customer", "list"}).out, Contains(lis));  // wang sees li's customer of his territory
  CliResult due = wang.ok({"due"}, today);
  INFO(due.out);
  CHECK_THAT(due.out, Contains(wangs) && !Contains(lis));
  CliResult team = zhao.ok({"due"}, today);
  INFO(team.out);
  CHECK_THAT(team.out, Contains(wangs) && Contains(lis));
  // R17-8: nor are a colleague's customers a salesperson's churn candidates,
  // which `rules apply-churn` listed and then failed on.
  li.ok({"customer", "edit", lis, "--set", "type=deal"});
  li.ok({"sync"});
  wang.ok({"customer", "edit", wangs, "--set", "type=deal"});
  wang.ok({"sync"});
  zhao.ok({"sync"});
  const kehu::test::EnvChanges later = {{"KEHU_TODAY", "2027-12-07"}};
  CliResult dry = wang.ok({"rules", "apply-churn", "--dry-run"}, later);
  INFO(dry.out);
  CHECK_THAT(dry.out, Contains(wangs) && !Contains(lis));
  CHECK_THAT(wang.ok({"due"}, later).out, Contains(wangs) && !Contains(lis));
  CHECK_THAT(zhao.ok({"rules", "apply-churn", "--dry-run"}, later).out, Contains(wangs) && Contains(lis));
  CliResult applied = wang.run({"rules", "apply-churn"}, later);
  INFO(applied.describe());
  CHECK(applied.exit_code == 0);
  wang.ok({"sync"});  // nothing refused (exit 0)
}

TEST_CASE("walk7: a province no region covers is refused at once, and other spellings of one are read as it",
          "[cli][zh][walk]") {
  // A6-11: a customer whose province was written 江蘇 or Kiangsu matched no
  // region: its owner alone saw it, out of the manager's reach.
  ServerFixture s;
  ReplicaCli wang, zhao;
  wang.log_in(s, "wang");
  zhao.log_in(s, "zhao");
  const std::string code = wang.add_synced_customer("南京省份有限公司", "13300135605");
  CliResult junk = wang.run({"customer", "edit", code, "--set", "province=火星"}, kZh);
  INFO(junk.describe());
  CHECK(junk.exit_code == 2);
  CHECK_THAT(junk.err, Contains("省份 (province)“火星”不是已知的省份") && Contains("只有负责人看得到"));
  for (const char* spelling : {"江蘇", "苏", "Kiangsu", "Jiāngsū"}) {
    INFO(spelling);
    wang.ok({"customer", "edit", code, "--set", std::string("province=") + spelling});
    wang.ok({"sync"});
    zhao.ok({"sync"});
    CHECK_THAT(zhao.ok({"customer", "list"}).out, Contains(code));  // the manager of 江苏 still has it
  }
}

TEST_CASE("walk7: set-regions wants the city in Chinese characters", "[server][zh][walk]") {
  // R7-4: `set-regions bob Jiangsu/Nanjing` stored 江苏/nanjing, which matches
  // no customer: the salesperson's devices dropped every one. A6-7: junk after
  // the province was kept as a city.
  ServerFixture s;
  for (const char* region : {"Jiangsu/Kunshan", "江苏X", "江苏/·南京"}) {
    INFO(region);
    auto r = run_server_command({"user", "set-regions", "wang", region, "--data", s.data_dir()}, {{"KEHU_LANG", "zh"}});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.output, Contains("应为用汉字写的城市名"));
  }
  auto province = run_server_command({"user", "set-regions", "wang", "江苏/江苏", "--data", s.data_dir()},
                                     {{"KEHU_LANG", "zh"}});
  CHECK(province.exit_code == 2);
  CHECK_THAT(province.output, Contains("是省份的名字"));
  // The pinyin of a well-known city is read as it, as a customer's city is.
  auto pinyin = run_server_command({"user", "set-regions", "wang", "Jiangsu/Nanjing", "--data", s.data_dir()});
  INFO(pinyin.output);
  CHECK(pinyin.exit_code == 0);
  CHECK_THAT(pinyin.output, Contains("江苏/南京"));
  auto ok = run_server_command({"user", "set-regions", "wang", "Jiangsu/南京市鼓楼区", "--data", s.data_dir()});
  INFO(ok.output);
  CHECK(ok.exit_code == 0);
  CHECK_THAT(ok.output, Contains("江苏/南京"));
}

TEST_CASE("walk7: set-regions names the province of a city typed alone or under another province",
          "[server][zh][walk]") {
  // R6-1: 南京 alone was "did you mean 北京?", 苏州 "贵州?"; 江苏/杭州 was taken.
  ServerFixture s;
  auto zh = [&](const char* region) {
    auto r = run_server_command({"user", "set-regions", "wang", region, "--data", s.data_dir()}, {{"KEHU_LANG", "zh"}});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    return r.output;
  };
  CHECK_THAT(zh("南京"), Contains("是城市，不是省份") && Contains("“江苏/南京”") && !Contains("北京"));
  CHECK_THAT(zh("苏州市"), Contains("“江苏/苏州”") && !Contains("贵州"));
  CHECK_THAT(zh("江苏/杭州"), Contains("杭州 在浙江，不在江苏") && Contains("“浙江/杭州”"));
}

TEST_CASE("walk7: an edit applied but for a protected field is counted once in the sync line", "[cli][zh][walk][sync]") {
  // R6-6: "pushed 2 changes (2 applied, 0 rejected, 1 awaiting approval)".
  ServerFixture s;
  REQUIRE(run_server_command({"schema", "protect", "customers", "type", "--data", s.data_dir()}).exit_code == 0);
  ReplicaCli wang;
  wang.log_in(s, "wang");
  const std::string code = wang.add_synced_customer("南京部分待审有限公司");
  wang.ok({"customer", "edit", code, "--set", "type=deal", "--set", "notes=两项"});
  CliResult en = wang.ok({"sync"});
  INFO(en.out);
  CHECK_THAT(en.out, Contains("pushed 1 change (1 applied, 0 rejected; 1 applied with fields awaiting approval)"));
  wang.ok({"customer", "edit", code, "--set", "type=lost", "--set", "notes=再改"});
  CliResult zh = wang.ok({"sync"}, kZh);
  INFO(zh.out);
  CHECK_THAT(zh.out, Contains("推送 1 条修改（接受 1，拒绝 0；接受的修改中有 1 条的部分字段待审批）"));
}

TEST_CASE("walk7: on a narrow terminal audit, history, conflicts and due show what happened, row by row",
          "[cli][zh][walk][width]") {
  // R6-2: at 40 columns these tables kept who and when and left off the field,
  // the values and the reason.
  ServerFixture s;
  ReplicaCli wang, li, audit;
  wang.log_in(s, "wang");
  li.log_in(s, "li");
  audit.log_in(s, "audit");
  const std::string code = wang.add_synced_customer("南京窄屏有限公司");
  li.ok({"sync"});
  wang.ok({"customer", "edit", code, "--set", "address=南京市鼓楼区中山路一号", "--set", "next_date=2026-12-08",
           "--set", "next_plan=送样品给采购部"});
  li.ok({"customer", "edit", code, "--set", "address=南京市玄武区珠江路二号"});
  wang.ok({"sync"});
  li.ok({"sync"});
  audit.ok({"sync"});
  const kehu::test::EnvChanges narrow = {{"COLUMNS", "40"}, {"KEHU_LANG", "zh"}, {"KEHU_TODAY", "2026-12-07"}};
  const CliResult log = audit.ok({"audit", "--customer", code}, narrow);
  INFO(log.out);
  CHECK_THAT(log.out, Contains("南京市鼓楼区中山路一号") && Contains("地址") && Contains(code) && !Contains("未显示"));
  const CliResult history = wang.ok({"history", code}, narrow);
  INFO(history.out);
  CHECK_THAT(history.out, Contains("南京市鼓楼区中山路一号") && Contains("地址"));
  const CliResult conflicts = li.ok({"conflicts"}, narrow);
  INFO(conflicts.out);
  CHECK_THAT(conflicts.out, Contains("南京市鼓楼区中山路一号") && Contains("南京市玄武区珠江路二号"));
  const CliResult due = wang.ok({"due"}, narrow);
  INFO(due.out);
  CHECK_THAT(due.out, Contains("送样品给采购部") && Contains(code));
  for (const CliResult* r : {&log, &history, &conflicts}) {  // (due's sections are apart by design)
    INFO(r->out);
    for (std::size_t at = 0, nl; (nl = r->out.find('\n', at)) != std::string::npos; at = nl + 1) {
      CHECK(r->out.find_first_not_of(' ', at) < nl);  // no blank lines
    }
  }
}

TEST_CASE("walk8: a row whose 省份 no region covers is that row's problem, named by its line", "[cli][zh][walk][sheets]") {
  // R8-2: one such row ended the whole import, with no line and no summary.
  ServerFixture s;
  ReplicaCli wang;
  wang.log_in(s, "wang");
  wang.ok({"sync"});
  const std::string sheet = wang.write_file("p.csv",
                                       "客户名称,联系人,联系电话,核心需求,省份,城市\n"
                                       "甲省份有限公司,张三,13300135611,复印机,江苏,南京\n"
                                       "乙省份有限公司,李四,13300135612,复印机,华东,南京\n"
                                       "丙省份有限公司,王五,13300135613,复印机,江苏省,南京市\n");
  CliResult bad = wang.run({"import", sheet}, kZh);
  INFO(bad.describe());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.out + bad.err, Contains("p.csv:3") && Contains("“华东”不是已知的省份"));
  CliResult skip = wang.run({"import", sheet, "--skip-bad"}, kZh);
  INFO(skip.describe());
  CHECK(skip.exit_code == 0);
  const std::string list = wang.ok({"customer", "list"}).out;
  CHECK_THAT(list, Contains("甲省份有限公司") && Contains("丙省份有限公司") && !Contains("乙省份有限公司"));
}

TEST_CASE("walk8: set-regions takes a municipality as its own city", "[server][walk]") {
  // R8-1: 上海/上海 was refused as "not written in Chinese characters".
  ServerFixture s;
  auto r = run_server_command({"user", "set-regions", "wang", "上海/上海,北京/北京", "--data", s.data_dir()});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  auto same = run_server_command({"user", "set-regions", "wang", "江苏/江苏", "--data", s.data_dir()});
  CHECK(same.exit_code == 2);
}

TEST_CASE("walk8: a held delete its requester restored since cannot be approved", "[cli][walk][sync]") {
  // R8-4: delete, then restore (a slip): approving the delete request deleted
  // the customer the salesperson had put back. The restore now withdraws the
  // request (R9-1).
  HeldDelete t("南京恢复有限公司");
  auto& [s, wang, zhao, code] = t;
  wang.ok({"customer", "delete", code});
  wang.ok({"customer", "restore", code});  // undone at once, before a sync
  wang.ok({"sync"});
  zhao.ok({"sync"});
  const json all = json::parse(zhao.ok({"--json", "approvals", "--all"}).out);
  REQUIRE(all.size() == 1);
  const std::string id = std::to_string(all[0]["id"].get<std::int64_t>());
  CliResult approve = zhao.run({"approve", id});
  INFO(approve.describe());
  CHECK(approve.exit_code == 2);
  CHECK_THAT(approve.err, Contains("already withdrawn by wang"));
  zhao.ok({"sync"});
  CHECK(json::parse(zhao.ok({"--json", "approvals"}).out).empty());
  CHECK_THAT(zhao.ok({"customer", "show", code}).out, !Contains("recycle bin"));
}

TEST_CASE("walk8: a new customer for a 负责人 who is no user is refused", "[cli][walk][sheets]") {
  // R8-5: a sheet's 业务员 column naming nobody made a customer owned by a user
  // that does not exist.
  ServerFixture s;
  ReplicaCli zhao;
  zhao.log_in(s, "zhao");
  zhao.ok({"sync"});
  zhao.ok({"customer", "add", "--set", "name=南京无主有限公司", "--set", "contact=张三", "--set", "phone=13300135614",
           "--set", "need=复印机", "--set", "province=江苏", "--set", "city=南京", "--set", "owner=王麻子"});
  CliResult sync = zhao.run({"sync"});
  INFO(sync.describe());
  CHECK(sync.exit_code == 1);
  CHECK_THAT(sync.out + sync.err, Contains("王麻子") && Contains("not an active user"));
}
