// KEHU_LANG=zh: help, command-line mistakes, errors and prompts' messages in
// Chinese, through the real `kehu` binary; KEHU_LANG=en keeps them English.
#include <catch2/catch.hpp>
#include <set>
#include <sstream>

#include "replica_cli.h"

using Catch::Contains;
using kehu::test::CliResult;
using kehu::test::lines_of;
using kehu::test::ReplicaCli;

namespace {

const kehu::test::EnvChanges kZh = {{"KEHU_LANG", "zh"}};

bool has_chinese(const std::string& s) {
  // Every CJK ideograph and full-width punctuation mark starts with a byte of 0xE3..0xE9.
  for (unsigned char c : s) {
    if (c >= 0xE3 && c <= 0xE9) return true;
  }
  return false;
}

// The subcommand names a help text lists under 子命令:.
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> out;
  bool in_section = false;
  for (const std::string& line : lines_of(help)) {
    if (line == "子命令:") {
      in_section = true;
    } else if (in_section && line.rfind("  ", 0) == 0) {
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else {
      in_section = false;
    }
  }
  return out;
}

// Every listed option and subcommand of `path`'s help, and those of its
// subcommands, has a Chinese description; CLI11's own words are Chinese too.
void check_help_tree(const ReplicaCli& k, std::vector<std::string> path, int& commands) {
  std::vector<std::string> args = path;
  args.push_back("--help");
  CliResult r = k.run(args, kZh);
  std::string shown;
  for (const auto& p : path) shown += " " + p;
  INFO("kehu" << shown << " --help\n" << r.out);
  REQUIRE(r.exit_code == 0);
  ++commands;
  CHECK_THAT(r.out, Contains("用法:") && !Contains("Usage") && !Contains("OPTIONS") && !Contains("Options:") &&
                        !Contains("Subcommands:") && !Contains("Print this help") && !Contains(" TEXT"));
  for (const std::string& line : lines_of(r.out)) {
    // "  NAME-OR-OPTION   description": the description after a run of spaces.
    if (line.rfind("  ", 0) != 0) continue;
    const auto gap = line.find("  ", 2);
    if (gap == std::string::npos) continue;
    INFO(line);
    CHECK(has_chinese(line.substr(gap)));
  }
  for (const std::string& sub : subcommands_in(r.out)) {
    std::vector<std::string> next = path;
    next.push_back(sub);
    check_help_tree(k, next, commands);
  }
}

}  // namespace

TEST_CASE("zh: every command's --help is in Chinese", "[cli][zh]") {
  ReplicaCli k;
  int commands = 0;
  check_help_tree(k, {}, commands);
  CHECK(commands > 60);  // the walk reached the subcommands, not just the top
  // English stays English.
  CliResult en = k.ok({"customer", "add", "--help"});
  CHECK_THAT(en.out, Contains("add a customer; prints its new code") && Contains("OPTIONS"));
  CHECK_FALSE(has_chinese(k.ok({"sync", "--help"}).out));
}

TEST_CASE("zh: command-line mistakes are said in Chinese, naming the command's --help", "[cli][zh]") {
  ReplicaCli k;
  CliResult missing = k.run({"customer", "add"}, kZh);
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("缺少 --set") && Contains("运行 `kehu customer add --help` 查看用法"));
  CHECK_THAT(missing.err, !Contains("is required") && !Contains("Run with --help"));
  CliResult bad_number = k.run({"customer", "list", "--limit", "abc"}, kZh);
  CHECK(bad_number.exit_code == 2);
  CHECK_THAT(bad_number.err, Contains("--limit 的值“abc”格式不对"));
  CliResult no_sub = k.run({"customer"}, kZh);
  CHECK(no_sub.exit_code == 2);
  CHECK_THAT(no_sub.err, Contains("缺少子命令") && Contains("kehu customer --help"));
  // In English, kehu's words too (not the parser's), naming the command's help.
  CliResult en = k.run({"customer", "add"});
  CHECK(en.exit_code == 2);
  CHECK_THAT(en.err, Contains("kehu: missing --set") && Contains("run `kehu customer add --help` for usage") &&
                         !Contains("Run with --help"));
}

TEST_CASE("zh: errors from the replica, the fields and the network are in Chinese", "[cli][zh]") {
  ReplicaCli k;
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string zh, en;
  };
  const std::vector<Case> cases = {
      {{"customer", "add", "--set", "name=甲公司", "--set", "phone=123"}, 2,
       "联系电话 (phone)：\"123\" 不是电话号码", "is not a phone number"},
      {{"customer", "add", "--set", "name=乙公司", "--set", "next_date=12/1/2026"}, 2, "有歧义：看不出哪个是月、哪个是日",
       "is ambiguous"},
      {{"customer", "add", "--set", "name=丙公司", "--set", "nosuch=1"}, 2, "没有“nosuch”这个字段",
       "customers has no field \"nosuch\""},
      {{"customer", "add", "--set", "phone=13912345678"}, 2, "必须填写：", "are required"},
      {{"customer", "show", "C209901001"}, 1, "没有客户 C209901001", "no customer C209901001"},
      {{"customer", "list", "--region", "/南京"}, 2, "不是地区：应为 省 或 省/市", "is not a region"},
      {{"sync"}, 1, "还没有登录：请运行 `kehu login", "not logged in"},
      {{"conflicts", "resolve", "C1", "phone", "--keep", "both"}, 2, "--keep 应为 mine（我的）、theirs（对方的）或 current（当前值）",
       "--keep must be"},
      {{"rejected", "retry", "7"}, 1, "没有编号为 #7 的被拒修改", "no refused edit #7"},
      {{"import", "sheet.txt"}, 2, "不支持的扩展名", "unsupported extension"},
      {{"login", "--server", "ftp://x", "--user", "wang"}, 2, "必须以 http:// 或 https:// 开头", "must start with http://"},
  };
  for (const Case& c : cases) {
    CliResult zh = k.run(c.args, kZh);
    INFO(zh.describe());
    CHECK(zh.exit_code == c.exit_code);
    CHECK_THAT(zh.err, Contains(c.zh) && !Contains(c.en));
    CliResult en = k.run(c.args);
    INFO(en.describe());
    CHECK(en.exit_code == c.exit_code);
    CHECK_THAT(en.err, Contains(c.en));
    CHECK_FALSE(has_chinese(c.en));
  }
  // A wrong passphrase, in Chinese.
  CliResult wrong = k.run({"status"}, {{"KEHU_LANG", "zh"}, {"KEHU_PASSPHRASE", "not the passphrase"}});
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Contains("口令不对"));
}

TEST_CASE("zh: table values (ops, states, field types) are in Chinese, --json keeps the keys", "[cli][zh]") {
  ReplicaCli k;
  const std::string code =
      k.ok({"customer", "add", "--set", "name=丁公司", "--set", "phone=13912345678", "--set", "need=复印机",
            "--set", "contact=张三", "--set", "province=江苏"})
          .out.substr(0, 10);
  CliResult history = k.ok({"history", code}, kZh);
  CHECK_THAT(history.out, Contains("待同步") && Contains("新建") && !Contains("pending") && !Contains("create"));
  CliResult en = k.ok({"history", code});
  CHECK_THAT(en.out, Contains("pending") && Contains("create"));
  CliResult json = k.ok({"--json", "history", code}, kZh);
  CHECK_THAT(json.out, Contains("\"op\": \"create\"") && Contains("\"state\": \"pending\""));
  CliResult schema = k.ok({"schema", "list", "customers"}, kZh);
  CHECK_THAT(schema.out, Contains("金额") && Contains("日期") && Contains("客户"));
}
