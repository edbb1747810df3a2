// A mistyped command says what it did not know and suggests the nearest; an
// unsupported KEHU_LANG says so. Through the real `kehu` binary.
#include <catch2/catch.hpp>

#include "replica_cli.h"

using Catch::Contains;
using kehu::test::ReplicaCli;

TEST_CASE("typos: unknown commands and options are named, with the nearest suggested", "[cli][typos]") {
  ReplicaCli k;
  auto top = k.run({"custmer", "list"});
  CHECK(top.exit_code == 2);
  CHECK_THAT(top.err, Contains("unknown command 'custmer'; did you mean 'customer'?"));
  auto sub = k.run({"customer", "shwo", "C202612001"});
  CHECK(sub.exit_code == 2);
  CHECK_THAT(sub.err, Contains("unknown command 'shwo'; did you mean 'show'?"));
  auto deep = k.run({"conflicts", "reslove", "C1", "phone", "--keep", "mine"});
  CHECK(deep.exit_code == 2);
  CHECK_THAT(deep.err, Contains("did you mean 'resolve'?"));
  auto opt = k.run({"customer", "list", "--sortt", "name"});
  CHECK(opt.exit_code == 2);
  CHECK_THAT(opt.err, Contains("unknown option '--sortt'; did you mean '--sort'?"));
  // A command one level down, typed at the top: its full path.
  auto nested = k.run({"resolve", "C1", "phone"});
  CHECK(nested.exit_code == 2);
  CHECK_THAT(nested.err, Contains("unknown command 'resolve'; did you mean 'kehu conflicts resolve'?"));
  auto two = k.run({"claim", "C1"}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(two.err, Contains("未知命令 'claim'；您是不是要输入 'kehu customer claim'？"));
  // Nothing near: the commands of that level are listed.
  auto far = k.run({"xyzzy"});
  CHECK(far.exit_code == 2);
  CHECK_THAT(far.err, Contains("unknown command 'xyzzy'; the commands are: ") && Contains("customer"));
  // In Chinese with KEHU_LANG=zh; a correct command still runs.
  auto zh = k.run({"sycn"}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(zh.err, Contains("未知命令 'sycn'；您是不是要输入 'sync'？"));
  CHECK(k.run({"customer", "list"}).exit_code == 0);
  // R17-20: an option after a file, code or id is looked at too.
  auto after_file = k.run({"import", "sheet.csv", "--dryrun"});
  CHECK(after_file.exit_code == 2);
  CHECK_THAT(after_file.err, Contains("unknown option '--dryrun'; did you mean '--dry-run'?"));
  auto after_code = k.run({"customer", "edit", "C202612001", "--sett", "notes=a"});
  CHECK(after_code.exit_code == 2);
  CHECK_THAT(after_code.err, Contains("unknown option '--sett'; did you mean '--set'?"));
  auto field = k.run({"history", "C202612001", "--feild", "notes"}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(field.err, Contains("未知选项 '--feild'；您是不是要输入 '--field'？"));
}

TEST_CASE("typos: an unsupported KEHU_LANG is said, not silently replaced", "[cli][typos]") {
  ReplicaCli k;
  auto fr = k.run({"status"}, {{"KEHU_LANG", "fr"}, {"LANG", "C"}, {"LC_ALL", ""}});
  INFO(fr.describe());
  CHECK(fr.exit_code == 0);
  CHECK_THAT(fr.err, Contains("KEHU_LANG=\"fr\" is not supported (zh or en)"));
  auto en = k.run({"status"}, {{"KEHU_LANG", "en"}});
  CHECK_THAT(en.err, !Contains("not supported"));
}

TEST_CASE("typos: an option typed twice is named in the user's language", "[cli][typos][walk14]") {
  // R14-16: CLI11's own "--limit: At Most 1 required but received 2" came through, in English for zh too.
  ReplicaCli k;
  auto en = k.run({"customer", "list", "--limit", "3", "--limit", "4"});
  INFO(en.describe());
  CHECK(en.exit_code == 2);
  CHECK_THAT(en.err, Contains("--limit may be given once, not 2 times") && !Contains("At Most"));
  auto zh = k.run({"customer", "list", "--limit", "3", "--limit", "4"}, {{"KEHU_LANG", "zh"}});
  INFO(zh.describe());
  CHECK(zh.exit_code == 2);
  CHECK_THAT(zh.err, Contains("只能给一次，实际给了 2 次") && !Contains("At Most") && !Contains("required"));
}

TEST_CASE("typos: a mistyped field name suggests the nearest field", "[cli][typos][walk13]") {
  // R13-1: `--set nmae=…` said only that there is no such field.
  ReplicaCli k;
  auto en = k.run({"customer", "add", "--set", "nmae=甲公司", "--set", "phone=13912345678"});
  INFO(en.describe());
  CHECK(en.exit_code == 2);
  CHECK_THAT(en.err, Contains("customers has no field \"nmae\"; did you mean 'name'?"));
  auto zh = k.run({"customer", "list", "--where", "联系电化=13912345678"}, {{"KEHU_LANG", "zh"}});
  INFO(zh.describe());
  CHECK(zh.exit_code == 2);
  CHECK_THAT(zh.err, Contains("没有“联系电化”这个字段；您是不是要输入“联系电话”？"));
  auto far = k.run({"customer", "list", "--where", "fax=1"});
  CHECK(far.exit_code == 2);
  CHECK_THAT(far.err, Contains("has no field \"fax\"") && !Contains("did you mean"));
}
