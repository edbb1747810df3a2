// End-to-end tests of the `kehu` command line: the real binary, run with
// fork/execve (tests/support/cli_runner.h), against real SQLCipher replica files in a
// fresh temporary directory per test.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/replica.h"
#include "kehu/text.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using kehu::test::CliResult;
using kehu::test::EnvChanges;
using kehu::test::lines_of;
using kehu::test::read_bytes;
using kehu::test::run_kehu;
using kehu::test::ScratchDir;
using kehu::test::write_bytes;
using json = nlohmann::json;

namespace {

// A passphrase with a space, a quote and non-ASCII: it must reach SQLCipher intact.
const std::string kPass = "客户 secret 'quoted' 42";

std::string sample(const char* name) { return kehu::test::sample_sheet(name); }

std::string chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// One user's replica: `kehu init` in a fresh directory, and a runner that points
// every command at it (KEHU_DB, KEHU_PASSPHRASE, HOME, English messages).
class Kehu {
 public:
  explicit Kehu(EnvChanges init_env = {}) {
    CliResult r = run({"init"}, init_env);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }

  ScratchDir dir{"kehu-cli"};
  std::string db = dir.file("replica.db");

  CliResult run(const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    kehu::test::RunOptions o;
    o.env = {{"KEHU_DB", db},     {"KEHU_PASSPHRASE", kPass}, {"HOME", dir.path()},
             {"KEHU_LANG", "en"}, {"LANG", "C.UTF-8"},        {"LC_ALL", std::nullopt}};
    for (const auto& [k, v] : extra) o.env[k] = v;
    return run_kehu(args, o);
  }

  // Runs with --json, requires success, parses stdout.
  json run_json(std::vector<std::string> args, const EnvChanges& extra = {}) const {
    args.insert(args.begin(), "--json");
    CliResult r = run(args, extra);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    json j;
    REQUIRE_NOTHROW(j = json::parse(r.out));
    return j;
  }

  // Adds a valid customer; returns its code.
  std::string add_customer(const std::string& name, const std::string& phone = "13800138000",
                           const std::vector<std::string>& more = {}) const {
    // --force: these customers share a phone on purpose; the duplicate check has
    // its own tests (test_duplicates.cpp).
    std::vector<std::string> args = {"customer", "add", "--force", "--set", "name=" + name, "--set", "phone=" + phone};
    // Defaults unless `more` gives the field (a field given twice is refused).
    auto given = [&](const std::string& key, const std::string& label) {
      return std::any_of(more.begin(), more.end(), [&](const std::string& m) {
        return m.rfind(key + "=", 0) == 0 || m.rfind(label + "=", 0) == 0;
      });
    };
    if (!given("contact", "联系人")) args.insert(args.end(), {"--set", "contact=张三"});
    if (!given("need", "核心需求")) args.insert(args.end(), {"--set", "need=办公用品"});
    for (const auto& m : more) {
      args.push_back("--set");
      args.push_back(m);
    }
    CliResult r = run(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    std::string code = chomp(r.out);
    REQUIRE_THAT(code, StartsWith("C"));
    return code;
  }

  json status() const { return run_json({"status"}); }
  json list(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"customer", "list"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_json(args);
  }
  json show(const std::string& code) const { return run_json({"customer", "show", code}); }
};

// Every file in a directory with its bytes, size and modification time.
struct Snapshot {
  std::map<std::string, std::string> bytes;
  std::map<std::string, std::pair<long long, long long>> mtimes;  // sec, nsec
  std::map<std::string, long long> sizes;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const ScratchDir& dir, const std::vector<std::string>& names) {
  Snapshot s;
  for (const auto& n : names) {
    struct stat st {};
    if (::stat(dir.file(n).c_str(), &st) != 0) continue;
    s.bytes[n] = read_bytes(dir.file(n)).value_or("");
    s.mtimes[n] = {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    s.sizes[n] = st.st_size;
  }
  return s;
}

// customers from `customer list --json`, keyed by code, without the fields that
// belong to one replica (id, rev, pending).
std::map<std::string, json> by_code(const json& list) {
  std::map<std::string, json> out;
  for (json c : list) {
    c.erase("id");
    c.erase("rev");
    c.erase("pending");
    out[c.at("code").get<std::string>()] = c;
  }
  return out;
}

}  // namespace

TEST_CASE("a wrong passphrase is refused and changes nothing", "[cli]") {
  Kehu k;
  std::string code = k.add_customer("口令测试客户");
  const std::vector<std::string> files = {"replica.db", "replica.db-wal", "replica.db-shm",
                                          "replica.db-journal"};
  Snapshot before = snapshot(k.dir, files);
  REQUIRE(before.bytes.count("replica.db") == 1);

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"},
        {"customer", "add", "--set", "name=x", "--set", "contact=y", "--set", "phone=13800138000",
         "--set", "need=z"},
        {"customer", "delete", code},
        {"rekey"}}) {
    CliResult r = k.run(
        args, {{"KEHU_PASSPHRASE", "not the passphrase"}, {"KEHU_NEW_PASSPHRASE", "another"}});
    INFO(args[0] << ": " << r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("passphrase"));
    CHECK(r.out.empty());
    CHECK(snapshot(k.dir, files) == before);
  }
  // The right passphrase still opens it, with its data.
  CHECK(k.status()["customers"] == 1);

  // Also when a process died with the replica open, leaving committed changes in
  // its WAL: the wrong passphrase must not checkpoint or delete that WAL. (The
  // -shm file is SQLite's shared lock/index memory, not data: left out.)
  kehu::test::run_then_kill([&] {
    // Released, not closed: the process dies with the replica open.
    auto* holder = kehu::Replica::open(k.db, kPass).release();
    holder->add(
        "customers",
        {{"name", "崩溃前写入"}, {"contact", "王五"}, {"phone", "13800000009"}, {"need", "x"}});
  });
  const std::vector<std::string> data_files = {"replica.db", "replica.db-wal",
                                               "replica.db-journal"};
  Snapshot crashed = snapshot(k.dir, data_files);
  REQUIRE(crashed.bytes.count("replica.db-wal") == 1);
  REQUIRE(crashed.sizes["replica.db-wal"] > 0);
  CliResult r = k.run({"status"}, {{"KEHU_PASSPHRASE", "not the passphrase"}});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Contains("passphrase"));
  Snapshot after = snapshot(k.dir, data_files);
  for (const auto& [name, bytes] : crashed.bytes) {
    INFO(name);
    CHECK(after.sizes[name] == crashed.sizes[name]);
    CHECK(after.mtimes[name] == crashed.mtimes[name]);
    CHECK(after.bytes[name] == bytes);
  }
  CHECK(after.bytes.size() == crashed.bytes.size());
  // The right passphrase recovers the crashed process's committed write.
  CHECK(k.status()["customers"] == 2);
}

TEST_CASE("a --key-file supplies the passphrase", "[cli]") {
  ScratchDir dir{"kehu-keyfile"};
  const std::string db = dir.file("r.db"), key = dir.file("key"), bad = dir.file("bad");
  write_bytes(key, kPass + "\n");
  write_bytes(bad, "wrong\n");
  auto run = [&](std::vector<std::string> args, EnvChanges env = {}) {
    env["KEHU_DB"] = db;
    env["HOME"] = dir.path();
    kehu::test::RunOptions o;
    o.env = std::move(env);
    return run_kehu(args, o);
  };
  CliResult init = run({"--key-file", key, "init"});
  INFO(init.describe());
  REQUIRE(init.exit_code == 0);

  CliResult ok = run({"--key-file", key, "--json", "status"});
  INFO(ok.describe());
  CHECK(ok.exit_code == 0);
  // The file's first line is the passphrase, the same one KEHU_PASSPHRASE gives.
  CHECK(run({"status"}, {{"KEHU_PASSPHRASE", kPass}}).exit_code == 0);

  CliResult wrong = run({"--key-file", bad, "status"});
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Contains("passphrase"));
  // The key file wins over the environment.
  CHECK(run({"--key-file", bad, "status"}, {{"KEHU_PASSPHRASE", kPass}}).exit_code == 1);

  CliResult missing = run({"--key-file", dir.file("nope"), "status"});
  CHECK(missing.exit_code == 2);
  CHECK_THAT(missing.err, Contains("nope"));
  // No passphrase at all and no terminal to ask on: a usage error, not a hang.
  CliResult none = run({"status"});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Contains("KEHU_PASSPHRASE"));
}

TEST_CASE("the replica file written by kehu holds no plaintext", "[cli]") {
  Kehu k;
  const std::string name = "独特测试客户甲乙丙", phone = "13987654321";
  std::string code = k.add_customer(name, phone, {"notes=VISIBLE-MARKER-55aa"});
  CliResult fu = k.run({"followup", "add", code, "--set", "date=2024-05-01", "--set", "person=李四",
                        "--set", "content=VISIBLE-MARKER-55aa"});
  REQUIRE(fu.exit_code == 0);
  // The data is there...
  CHECK(k.show(code)["name"] == name);
  // ...but not readable in any file kehu left behind.
  for (const std::string suffix : {"", "-wal", "-journal"}) {
    auto bytes = read_bytes(k.db + suffix);
    if (!bytes) continue;
    INFO("file " << k.db + suffix);
    if (suffix.empty()) CHECK(bytes->rfind("SQLite format 3", 0) != 0);
    CHECK(bytes->find(name) == std::string::npos);
    CHECK(bytes->find(phone) == std::string::npos);
    CHECK(bytes->find("VISIBLE-MARKER-55aa") == std::string::npos);
    CHECK(bytes->find("customers") == std::string::npos);
  }
}

TEST_CASE("every validation rule is enforced through the CLI and writes nothing", "[cli]") {
  Kehu k;
  std::string code = k.add_customer("校验客户");
  CHECK(k.run({"order", "add", code, "--set", "product=样品"}).exit_code == 0);
  json status_before = k.status();
  json list_before = k.list();
  json orders_before = k.run_json({"order", "list", code});

  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> must_say;  // field (label and key), value, rule
  };
  auto add = [](std::vector<std::string> sets) {
    std::vector<std::string> args = {"customer", "add"};
    for (auto& s : sets) {
      args.push_back("--set");
      args.push_back(s);
    }
    return args;
  };
  const std::vector<std::string> good = {"name=某公司", "contact=张三", "phone=13800138000",
                                         "need=办公"};
  // The good sets with `set` in place of the same field's (a field given twice is refused).
  auto with = [&](std::string set) {
    const std::string field = set.substr(0, set.find('='));
    const std::map<std::string, std::string> same = {{"联系电话", "phone"}, {"客户名称", "name"}, {"联系人", "contact"},
                                                     {"核心需求", "need"}};
    const std::string key = same.count(field) ? same.at(field) : field;
    std::vector<std::string> sets;
    for (const auto& g : good) {
      if (g.substr(0, g.find('=')) != key) sets.push_back(g);
    }
    sets.push_back(std::move(set));
    return add(sets);
  };
  const std::vector<Case> cases = {
      {with("phone=1395678"), {"联系电话 (phone)", "\"1395678\"", "not a phone number"}},
      {with("联系电话=0123"), {"联系电话 (phone)", "\"0123\"", "not a phone number"}},
      {add({"contact=张三", "phone=13800138000", "need=办公"}), {"客户名称 (name)", "is required"}},
      {with("name= "), {"客户名称 (name)", "is required"}},
      {with("type=大客户"), {"客户类型 (type)", "\"大客户\"", "is not one of", "意向客户"}},
      {with("客户来源=地推"), {"客户来源 (source)", "\"地推\"", "is not one of"}},
      {with("birthday=2024-13-45"), {"生日 (birthday)", "\"2024-13-45\"", "there is no month 13"}},
      {with("下次跟进日期=2023-02-29"),
       {"下次跟进日期 (next_date)", "\"2023-02-29\"", "February 2023 has no day 29"}},
      {with("email=not-an-email"), {"邮箱 (email)", "\"not-an-email\"", "not an email address"}},
      {with("annual_spend=12.345"),
       {"年消费额 (annual_spend)", "\"12.345\"", "more than 2 decimals"}},
      {with("nosuchfield=1"), {"nosuchfield", "no field"}},
      {with("last_followup_at=2024-01-01"), {"最后跟进日期 (last_followup_at)", "cannot be set"}},
      {with("code=" + code), {"客户编号 (code)", code, "already used"}},
      {{"order", "add", code, "--set", "product=样品", "--set", "amount=12块"},
       {"金额 (amount)", "\"12块\"", "not an amount of money"}},
      {{"order", "add", code, "--set", "product=样品", "--set", "金额=1.005"},
       {"金额 (amount)", "\"1.005\"", "more than 2 decimals"}},
      {{"order", "add", code, "--set", "product=样品", "--set", "quantity=1.5"},
       {"数量 (quantity)", "\"1.5\"", "not an integer"}},
      {{"order", "add", code, "--set", "amount=100"}, {"产品 (product)", "is required"}},
      {{"customer", "edit", code, "--set", "phone=12"}, {"联系电话 (phone)", "\"12\""}},
      {{"customer", "edit", code, "--set", "name="}, {"客户名称 (name)", "is required"}},
      {{"customer", "edit", code, "--set", "status=done"}, {"合作状态 (status)", "\"done\""}},
  };
  for (const auto& c : cases) {
    CliResult r = k.run(c.args);
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    INFO(cmd << "\n" << r.describe());
    CHECK(r.exit_code == 2);
    for (const auto& s : c.must_say) CHECK_THAT(r.err, Contains(s));
    CHECK(r.out.empty());
  }
  // Nothing was written by any of them.
  json status_after = k.status();
  CHECK(status_after["pending"] == status_before["pending"]);
  CHECK(status_after["customers"] == status_before["customers"]);
  CHECK(k.list() == list_before);
  CHECK(k.run_json({"order", "list", code}) == orders_before);
}

TEST_CASE("fields by key or Chinese label, enums by key or label", "[cli]") {
  Kehu k;
  std::string a = k.add_customer("按键名", "13800138000", {"type=intention", "source=referral"});
  CliResult r = k.run({"customer", "add", "--set", "客户名称=按中文标签", "--set", "联系人=李四",
                       "--set", "联系电话=+86 138-0013-8001", "--set", "核心需求=仓储", "--set",
                       "客户类型=意向客户", "--set", "客户来源=客户转介绍", "--set",
                       "标签=华东；高预算", "--set", "年消费额=¥1,234.50"});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  std::string b = chomp(r.out);
  json ja = k.show(a), jb = k.show(b);
  CHECK(ja["type"] == "intention");
  CHECK(jb["type"] == "intention");
  CHECK(ja["source"] == "referral");
  CHECK(jb["source"] == "referral");
  CHECK(jb["name"] == "按中文标签");
  CHECK(jb["contact"] == "李四");
  CHECK(jb["phone"] == "13800138001");
  CHECK(jb["need"] == "仓储");
  CHECK(jb["tags"] == json::array({"华东", "高预算"}));
  CHECK(jb["annual_spend"] == 123450);

  // Edit by label; an empty value clears a field.
  CHECK(k.run({"customer", "edit", b, "--set", "客户类型=deal", "--set", "标签="}).exit_code == 0);
  json jb2 = k.show(b);
  CHECK(jb2["type"] == "deal");
  CHECK_FALSE(jb2.contains("tags"));
  // Shown with labels in the user's language.
  CliResult zh = k.run({"customer", "show", b}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(zh.out, Contains("成交客户"));
  CHECK_THAT(zh.out, Contains("客户名称"));
  CliResult en = k.run({"customer", "show", b});
  CHECK_THAT(en.out, Contains("Deal"));
}

TEST_CASE("import of the UTF-8 sample sheet", "[cli]") {
  Kehu k;
  const std::string file = sample("customers-sample.csv");
  // The sample repeats company names under different codes: these tests import
  // them as they are (--force); the duplicate check has its own tests ([dups]).
  // The expected values come from the sheet itself (no quoted cells in it).
  std::string text = read_bytes(file).value();
  REQUIRE(text.rfind("\xEF\xBB\xBF", 0) == 0);
  REQUIRE(text.find('"') == std::string::npos);
  std::vector<std::string> lines = lines_of(text.substr(3));
  REQUIRE(lines.size() == 306);
  auto cells = [&](std::size_t line_no) {  // 1-based physical line
    std::vector<std::string> out;
    std::string line = chomp(lines.at(line_no - 1));
    std::size_t start = 0;
    for (;;) {
      std::size_t c = line.find(',', start);
      out.push_back(line.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) return out;
      start = c + 1;
    }
  };
  const auto header = cells(1);
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    FAIL("no column " << name);
    return std::size_t{0};
  };

  SECTION("bad rows stop the import and are named by line and field") {
    CliResult r = k.run({"import", "--force", file});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    const std::map<int, std::string> bad = {
        {302, "联系电话"}, {303, "客户名称"}, {304, "客户类型"}, {305, "跟进日期"}, {306, "邮箱"}};
    for (const auto& [line, field] : bad) {
      // "FILE:LINE: 字段 (key): ..." -- the line, then the field's label.
      std::string where = file + ":" + std::to_string(line) + ": " + field;
      CHECK_THAT(r.err, Contains(where));
    }
    CHECK_THAT(r.err, Contains("\"1395678\""));
    CHECK_THAT(r.err, Contains("\"大客户\""));
    CHECK_THAT(r.err, Contains("\"2024-13-45\""));
    CHECK_THAT(r.err, Contains("\"not-an-email\""));
    CHECK_THAT(r.err, Contains("--skip-bad"));
    // It says nothing was written, and does not claim counts it never made.
    CHECK_THAT(r.out, Contains("305 rows, 5 bad; nothing written"));
    CHECK_THAT(r.out, !Contains("0 created"));
    json st = k.status();
    CHECK(st["customers"] == 0);
    CHECK(st["pending"] == 0);
    CHECK(k.list().empty());
  }

  SECTION("--dry-run writes nothing") {
    json rep = k.run_json({"import", "--force", "--dry-run", "--skip-bad", file});
    CHECK(rep["dry_run"] == true);
    CHECK(rep["written"] == false);
    CHECK(rep["created"] == 300);
    CHECK(rep["followups"] == 300);
    json st = k.status();
    CHECK(st["customers"] == 0);
    CHECK(st["pending"] == 0);
  }

  SECTION("--skip-bad imports exactly the good rows, keeping their codes") {
    json rep = k.run_json({"import", "--force", "--skip-bad", file});
    CHECK(rep["rows"] == 305);
    CHECK(rep["created"] == 300);
    CHECK(rep["updated"] == 0);
    CHECK(rep["followups"] == 300);
    CHECK(rep["bad_rows"] == 5);
    CHECK(rep["written"] == true);
    CHECK(rep["encoding"] == "UTF-8 (BOM)");
    REQUIRE(rep["issues"].size() == 5);
    std::set<int> issue_lines;
    for (json i : rep["issues"]) issue_lines.insert(i["line"].get<int>());
    CHECK(issue_lines == std::set<int>{302, 303, 304, 305, 306});

    json st = k.status();
    CHECK(st["customers"] == 300);
    CHECK(st["pending"] == 600);
    auto got = by_code(k.list());
    REQUIRE(got.size() == 300);
    const std::map<std::string, std::string> type_keys = {{"潜在客户", "potential"},
                                                          {"意向客户", "intention"},
                                                          {"成交客户", "deal"},
                                                          {"流失客户", "lost"}};
    for (std::size_t line : {2, 3, 150, 301}) {
      auto row = cells(line);
      INFO("sheet line " << line);
      REQUIRE(got.count(row[col("客户编号")]) == 1);
      json c = got[row[col("客户编号")]];
      CHECK(c["name"] == row[col("客户名称")]);
      CHECK(c["phone"] == row[col("联系电话")]);
      CHECK(c["type"] == type_keys.at(row[col("客户类型")]));
      CHECK(c["email"] == row[col("邮箱")]);
      CHECK(c["created_at"] == row[col("创建日期")]);
      CHECK(c["last_followup_at"] == row[col("跟进日期")]);
      // The row's follow-up columns became a follow-up of that customer.
      json fus = k.run_json({"followup", "list", row[col("客户编号")]});
      REQUIRE(fus.size() == 1);
      CHECK(fus[0]["date"] == row[col("跟进日期")]);
      CHECK(fus[0]["person"] == row[col("跟进人")]);
      CHECK(fus[0]["content"] == row[col("跟进内容")]);
    }
    // The sheet's first customer, as the seed file has it.
    REQUIRE(got.count("C202411001") == 1);
    CHECK(got["C202411001"]["name"] == "明达医疗器械有限公司");
    CHECK(got["C202411001"]["phone"] == "15908301661");
    // None of the bad rows' codes got in.
    for (std::size_t line = 302; line <= 306; ++line)
      CHECK(got.count(cells(line)[col("客户编号")]) == 0);
  }
}

TEST_CASE("import of the GB18030 sample sheet", "[cli]") {
  Kehu k;
  const std::string file = sample("customers-sample-gbk.csv");
  CliResult r = k.run({"import", "--force", file});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  for (int line = 62; line <= 66; ++line) {
    CHECK_THAT(r.err, Contains(file + ":" + std::to_string(line) + ": "));
  }
  CHECK_THAT(r.err, Contains(file + ":62: 联系电话"));
  CHECK_THAT(r.err, Contains(file + ":66: 邮箱"));
  CHECK(k.status()["customers"] == 0);

  json rep = k.run_json({"import", "--force", "--skip-bad", file});
  CHECK(rep["encoding"] == "GB18030");
  CHECK(rep["created"] == 60);
  CHECK(rep["followups"] == 60);
  json st = k.status();
  CHECK(st["customers"] == 60);
  CHECK(st["pending"] == 120);
  // Decoded text, not mojibake: the sheet's first row.
  json c = k.show("C202504001");
  CHECK(c["name"] == "正泰教育咨询商贸有限公司");
  CHECK(c["contact"] == "林强");
  CHECK(c["phone"] == "14879217421");
  CHECK(c["type"] == "lost");
  CHECK(c["tags"] == json::array({"决策周期长", "需要演示"}));
}

TEST_CASE("export and import round-trip every customer", "[cli]") {
  Kehu a;
  REQUIRE(a.run({"import", "--force", "--skip-bad", sample("customers-sample.csv")}).exit_code == 0);
  // A few values that need CSV quoting, on top of the sheet's.
  std::string odd = a.add_customer("逗号,引号\"公司", "010-87654321",
                                   {"notes=第一行\n第二行", "annual_spend=1234.5", "tags=甲;乙"});
  const std::string csv = a.dir.file("export.csv");
  json ex = a.run_json({"export", csv});
  CHECK(ex["customers"] == 301);
  std::string bytes = read_bytes(csv).value();
  CHECK_THAT(bytes,
             StartsWith("\xEF\xBB\xBF序号,客户编号,客户名称,所属行业,客户类型,销售阶段,联系人"));

  Kehu b;
  json rep = b.run_json({"import", "--force", csv});
  CHECK(rep["bad_rows"] == 0);
  CHECK(rep["created"] == 301);
  auto x = by_code(a.list()), y = by_code(b.list());
  REQUIRE(x.size() == 301);
  REQUIRE(y.size() == x.size());
  for (const auto& [code, cx] : x) {
    INFO(code);
    REQUIRE(y.count(code) == 1);
    CHECK(y[code] == cx);
  }
  CHECK(y[odd]["name"] == "逗号,引号\"公司");
  CHECK(y[odd]["notes"] == "第一行\n第二行");
  CHECK(y[odd]["annual_spend"] == 123450);

  // Importing the export into the replica it came from changes nothing.
  json pending_before = a.status()["pending"];
  json again = a.run_json({"import", csv});
  CHECK(again["unchanged"] == 301);
  CHECK(again["created"] == 0);
  CHECK(again["updated"] == 0);
  CHECK(again["followups"] == 0);
  CHECK(a.status()["pending"] == pending_before);
}

TEST_CASE("history after add, edit, delete and restore", "[cli]") {
  Kehu k(EnvChanges{{"KEHU_USER", "测试员"}});
  std::string code = k.add_customer("历史客户", "13800138000");
  REQUIRE(k.run({"customer", "edit", code, "--set", "phone=13900139000", "--set", "city=苏州"})
              .exit_code == 0);
  REQUIRE(k.run({"customer", "delete", code}).exit_code == 0);
  REQUIRE(k.run({"customer", "restore", code}).exit_code == 0);
  const std::string device = k.status()["device_id"];
  REQUIRE_FALSE(device.empty());

  json h = k.run_json({"history", code});
  REQUIRE(h.size() == 4);
  std::vector<std::string> ops;
  for (json e : h) {
    ops.push_back(e["op"]);
    CHECK(e["rev"] == "pending");
    CHECK(e["author"] == "测试员");
    CHECK(e["device"] == device);
    CHECK_FALSE(e["at"].get<std::string>().empty());
  }
  CHECK(ops == std::vector<std::string>{"restore", "delete", "update", "create"});
  // Newest first, by the hybrid clock too.
  CHECK(h[0]["hlc"] > h[1]["hlc"]);
  CHECK(h[1]["hlc"] > h[2]["hlc"]);
  CHECK(h[2]["hlc"] > h[3]["hlc"]);
  json edit = h[2]["changes"];
  CHECK(edit.size() == 2);
  CHECK(edit["phone"]["old"] == "13800138000");
  CHECK(edit["phone"]["new"] == "13900139000");
  CHECK(edit["city"]["old"].is_null());
  CHECK(edit["city"]["new"] == "苏州");
  CHECK(h[1]["changes"]["deleted"]["new"] == true);
  CHECK(h[0]["changes"]["deleted"]["new"] == false);
  CHECK(h[3]["changes"]["name"]["new"] == "历史客户");

  for (const std::string field : {"phone", "联系电话"}) {
    json hp = k.run_json({"history", code, "--field", field});
    REQUIRE(hp.size() == 2);
    CHECK(hp[0]["op"] == "update");
    CHECK(hp[1]["op"] == "create");
    // That field alone: the create set the name and every other field too.
    for (const json& e : hp) {
      CHECK(e["changes"].size() == 1);
      CHECK(e["changes"].contains("phone"));
    }
  }
  CliResult phone_table = k.run({"history", code, "--field", "phone"});
  CHECK(phone_table.exit_code == 0);
  CHECK_THAT(phone_table.out, !Contains("历史客户"));
  CHECK(k.run_json({"history", code, "--field", "city"}).size() == 1);

  // The table for people shows the same, with old → new.
  CliResult t = k.run({"history", code});
  CHECK(t.exit_code == 0);
  CHECK_THAT(t.out, Contains("13800138000 → 13900139000"));
  CHECK_THAT(t.out, Contains("pending"));
  CHECK(k.run({"history", "C209912999"}).exit_code == 1);
}

TEST_CASE("delete moves a customer to the recycle bin and restore brings it back", "[cli]") {
  Kehu k;
  std::string keep = k.add_customer("留下的客户");
  std::string gone = k.add_customer("删除的客户");
  auto codes = [](const json& list) {
    std::set<std::string> out;
    for (json c : list) out.insert(c["code"].get<std::string>());
    return out;
  };

  CliResult del = k.run({"customer", "delete", gone});
  INFO(del.describe());
  REQUIRE(del.exit_code == 0);
  CHECK(codes(k.list()) == std::set<std::string>{keep});
  json bin = k.list({"--deleted"});
  CHECK(codes(bin) == std::set<std::string>{gone});
  CHECK(bin[0]["deleted"] == true);
  json st = k.status();
  CHECK(st["customers"] == 1);
  CHECK(st["deleted_customers"] == 1);

  CliResult twice = k.run({"customer", "delete", gone});
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Contains(gone));
  CHECK_THAT(twice.err, Contains("recycle bin"));
  CHECK(k.status()["pending"] == st["pending"]);

  REQUIRE(k.run({"customer", "restore", gone}).exit_code == 0);
  CHECK(codes(k.list()) == std::set<std::string>{keep, gone});
  CHECK(k.list({"--deleted"}).empty());
  CHECK(k.show(gone)["name"] == "删除的客户");
  CHECK(k.run({"customer", "restore", gone}).exit_code == 2);

  CliResult unknown = k.run({"customer", "delete", "C209912999"});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.err, Contains("C209912999"));
}

TEST_CASE("follow-ups, last follow-up date and orders in fen", "[cli]") {
  Kehu k;
  std::string code = k.add_customer("跟进客户");
  CHECK_FALSE(k.show(code).contains("last_followup_at"));
  // The later follow-up is added first: the latest date wins, not the last added.
  for (const auto& [date, content] : std::vector<std::pair<std::string, std::string>>{
           {"2024-06-15", "第二次拜访"}, {"2024-05-01", "首次电话"}}) {
    CliResult r = k.run({"followup", "add", code, "--set", "date=" + date, "--set", "跟进人=李四",
                         "--set", "content=" + content, "--set", "跟进方式=电话沟通"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }
  json fus = k.run_json({"followup", "list", code});
  REQUIRE(fus.size() == 2);
  std::set<std::string> dates;
  for (json f : fus) {
    dates.insert(f["date"].get<std::string>());
    CHECK(f["method"] == "phone");
    CHECK(f["person"] == "李四");
  }
  CHECK(dates == std::set<std::string>{"2024-05-01", "2024-06-15"});
  CHECK(k.show(code)["last_followup_at"] == "2024-06-15");
  CHECK(k.run({"followup", "add", code, "--set", "date=2024-07-02", "--set", "person=王五", "--set",
               "content=回访"})
            .exit_code == 0);
  CHECK(k.show(code)["last_followup_at"] == "2024-07-02");
  CHECK(k.run({"followup", "add", "C209912999", "--set", "date=2024-07-02", "--set", "person=王五",
               "--set", "content=回访"})
            .exit_code == 1);

  json order = k.run_json({"order", "add", code, "--set", "product=礼盒", "--set",
                           "amount=1,234.50", "--set", "quantity=3", "--set", "status=已发货"});
  CHECK(order["amount"] == 123450);
  CHECK(order["quantity"] == 3);
  CHECK(order["status"] == "shipped");
  json small = k.run_json({"order", "add", code, "--set", "product=样品", "--set", "金额=¥0.29"});
  CHECK(small["amount"] == 29);
  json orders = k.run_json({"order", "list", code});
  REQUIRE(orders.size() == 2);
  std::set<long long> amounts;
  for (json o : orders) amounts.insert(o["amount"].get<long long>());
  CHECK(amounts == std::set<long long>{29, 123450});
  // The table shows yuan.
  CHECK_THAT(k.run({"order", "list", code}).out, Contains("1,234.50"));
}

TEST_CASE("a follow-up's next date becomes the customer's, and kehu due reminds of it", "[cli][due]") {
  Kehu k;
  EnvChanges today = {{"KEHU_TODAY", "2026-12-01"}};
  std::string code = k.add_customer("回访客户");
  auto followup = [&](const std::string& date, std::vector<std::string> more) {
    std::vector<std::string> args = {"followup", "add", code, "--set", "date=" + date, "--set", "person=李四",
                                     "--set", "content=拜访"};
    for (auto& m : more) args.insert(args.end(), {"--set", m});
    CliResult r = k.run(args, today);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  };
  // "Next visit on the 8th": before the fix it reached neither the customer nor due.
  followup("2026-12-01", {"下次跟进日期=2026-12-08", "next_plan=送样品"});
  json c = k.show(code);
  CHECK(c["next_date"] == "2026-12-08");
  CHECK(c["next_plan"] == "送样品");
  json due = k.run_json({"due", "--days", "7"}, today);
  REQUIRE(due["followups"].size() == 1);
  CHECK(due["followups"][0]["code"] == code);
  CHECK(due["followups"][0]["date"] == "2026-12-08");
  CHECK_THAT(due["followups"][0]["reason"].get<std::string>(), Contains("送样品"));
  // The customer's edit is the user's own, pending like the follow-up.
  json h = k.run_json({"history", code, "--field", "next_date"});
  REQUIRE(h.size() == 1);
  CHECK(h[0]["rev"] == "pending");

  // A back-dated follow-up does not replace the later plan.
  followup("2026-11-20", {"next_date=2026-11-25"});
  CHECK(k.show(code)["next_date"] == "2026-12-08");
  // A newer one without a plan of its own keeps the date it names, and no stale
  // plan (logged the next day: a follow-up dated after today is refused).
  today["KEHU_TODAY"] = "2026-12-02";
  followup("2026-12-02", {"next_date=2026-12-20"});
  today["KEHU_TODAY"] = "2026-12-01";
  c = k.show(code);
  CHECK(c["next_date"] == "2026-12-20");
  CHECK_FALSE(c.contains("next_plan"));
  CHECK(k.run_json({"due", "--days", "7"}, today)["followups"].empty());
  CHECK(k.run_json({"due", "--days", "30"}, today)["followups"].size() == 1);
}

TEST_CASE("contacts are added and listed back, by name, for a customer with none too", "[cli]") {
  Kehu k;
  std::string code = k.add_customer("联系人客户");
  std::string none = k.add_customer("无联系人客户", "13800138001");
  // Before the fix every contact list failed: contacts have no 日期 to sort by.
  json empty = k.run_json({"contact", "list", none});
  CHECK(empty == json::array());
  CliResult empty_table = k.run({"contact", "list", none});
  INFO(empty_table.describe());
  CHECK(empty_table.exit_code == 0);

  for (const auto& [name, title] : std::vector<std::pair<std::string, std::string>>{
           {"周八", "经理"}, {"吴九", "采购"}}) {
    CliResult r = k.run({"contact", "add", code, "--set", "姓名=" + name, "--set", "title=" + title,
                         "--set", "phone=13900000033"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }
  json list = k.run_json({"contact", "list", code});
  REQUIRE(list.size() == 2);
  CHECK(list[0]["name"] == "吴九");
  CHECK(list[1]["name"] == "周八");
  CHECK(list[1]["title"] == "经理");
  CliResult table = k.run({"contact", "list", code});
  INFO(table.describe());
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.out, Contains("周八") && Contains("吴九") && Contains("采购"));
  // No empty 客户 column: the list is of one customer's contacts.
  CHECK(table.out.find("Customer") == std::string::npos);
  CHECK(k.run_json({"contact", "list", none}) == json::array());
  CHECK(k.run({"contact", "list", "C209912999"}).exit_code == 1);
}

namespace {

// (display column, byte offset) of every character boundary of a line.
std::vector<std::pair<std::size_t, std::size_t>> boundaries(const std::string& line) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t col = 0, i = 0;
  while (i < line.size()) {
    out.push_back({col, i});
    auto b = static_cast<unsigned char>(line[i]);
    std::size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    col += kehu::display_width(line.substr(i, n));
    i += n;
  }
  out.push_back({col, i});
  return out;
}

// Cuts a table line into cells at the given display columns. Fails the test if a
// column start falls inside a character or is not preceded by the two-space gap.
std::vector<std::string> cut(const std::string& line, const std::vector<std::size_t>& starts) {
  auto bounds = boundaries(line);
  const std::size_t width = bounds.back().first;
  auto offset_at = [&](std::size_t col) -> std::size_t {
    if (col >= width) return line.size();
    for (const auto& [c, off] : bounds) {
      if (c == col) return off;
    }
    FAIL_CHECK("display column " << col << " falls inside a character in:\n" << line);
    return line.size();
  };
  std::vector<std::string> cells;
  for (std::size_t j = 0; j < starts.size(); ++j) {
    std::size_t from = offset_at(starts[j]);
    std::size_t to = j + 1 < starts.size() ? offset_at(starts[j + 1]) : line.size();
    std::string cell = line.substr(from, to - from);
    if (j + 1 < starts.size() && starts[j + 1] < width) {
      INFO("column " << j << " of:\n" << line);
      CHECK(cell.size() >= 2);
      CHECK(cell.substr(cell.size() - 2) == "  ");
    }
    while (!cell.empty() && cell.back() == ' ') cell.pop_back();
    cells.push_back(cell);
  }
  return cells;
}

}  // namespace

TEST_CASE("customer list lines up Chinese text by display width", "[cli]") {
  Kehu k;
  struct Row {
    std::string name, contact, phone, type;
  };
  const std::vector<Row> rows = {
      {"甲", "欧阳娜娜", "13800000001", "意向客户"},
      {"测试ABC有限公司", "李", "13800000002", ""},
      {"ＡＢＣ全角公司", "Tom Lee", "13800000003", "潜在客户"},
      {"独特测试客户甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥", "诸葛亮", "13800000004",
       "成交客户"},
      {"Acme Trading", "张三丰", "13800000005", ""},
  };
  std::map<std::string, Row> by_code_rows;
  for (const auto& r : rows) {
    std::vector<std::string> sets = {"contact=" + r.contact};
    if (!r.type.empty()) sets.push_back("客户类型=" + r.type);
    by_code_rows[k.add_customer(r.name, r.phone, sets)] = r;
  }

  // A wide terminal: cells are capped (into a pipe without COLUMNS they are whole).
  CliResult r = k.run({"customer", "list"}, {{"KEHU_LANG", "zh"}, {"COLUMNS", "250"}});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == rows.size() + 3);  // header, dashes, rows, count
  CHECK_THAT(lines.back(), Contains("5 条记录"));

  // Column starts from the separator line: each run of dashes is a column.
  const std::string& sep = lines[1];
  std::vector<std::size_t> starts, widths;
  for (std::size_t i = 0; i < sep.size(); ++i) {
    if (sep[i] == '-' && (i == 0 || sep[i - 1] == ' ')) starts.push_back(i);
    if (sep[i] == '-' && (i + 1 == sep.size() || sep[i + 1] == ' '))
      widths.push_back(i + 1 - starts.back());
  }
  REQUIRE(sep.find_first_not_of("- ") == std::string::npos);
  REQUIRE(starts.size() == 10);

  auto header = cut(lines[0], starts);
  REQUIRE(header.size() == starts.size());
  CHECK(header[0] == "客户编号");
  CHECK(header[1] == "客户名称");
  CHECK(header[2] == "客户类型");
  CHECK(header[4] == "联系人");
  CHECK(header[5] == "联系电话");
  for (std::size_t j = 0; j < header.size(); ++j)
    CHECK(kehu::display_width(header[j]) <= widths[j]);

  std::set<std::string> seen;
  for (std::size_t i = 2; i < lines.size() - 1; ++i) {
    auto cells = cut(lines[i], starts);
    INFO("line: " << lines[i]);
    for (std::size_t j = 0; j < cells.size(); ++j)
      CHECK(kehu::display_width(cells[j]) <= widths[j]);
    std::string code = cells[0];
    if (!code.empty() && code.back() == '*') code.pop_back();  // pending mark
    REQUIRE(by_code_rows.count(code) == 1);
    seen.insert(code);
    const Row& want = by_code_rows[code];
    if (kehu::display_width(want.name) <= 40) {
      CHECK(cells[1] == want.name);
    } else {
      // Long names are cut to the column limit with an ellipsis, still aligned.
      CHECK(kehu::display_width(cells[1]) <= 40);
      CHECK(cells[1].size() > 3);
      CHECK(want.name.rfind(cells[1].substr(0, cells[1].size() - 3), 0) == 0);
      CHECK(cells[1].substr(cells[1].size() - 3) == "…");
    }
    CHECK(cells[2] == want.type);
    CHECK(cells[4] == want.contact);
    CHECK(cells[5] == want.phone);
  }
  CHECK(seen.size() == rows.size());
}

TEST_CASE("status shows pending changes and the schema version", "[cli]") {
  Kehu k;
  json s0 = k.status();
  CHECK(s0["pending"] == 0);
  CHECK(s0["schema_version"] == static_cast<int>(kehu::ReplicaVersion::current));
  CHECK(s0["path"] == k.db);
  std::string code = k.add_customer("状态客户");
  REQUIRE(k.run({"customer", "edit", code, "--set", "city=南京"}).exit_code == 0);
  REQUIRE(k.run({"followup", "add", code, "--set", "date=2024-01-02", "--set", "person=李四",
                 "--set", "content=电话"})
              .exit_code == 0);
  json s = k.status();
  CHECK(s["pending"] == 3);
  CHECK(s["customers"] == 1);
  CHECK(s["rejected"] == 0);
  CHECK(s["conflicts"] == 0);

  CliResult t = k.run({"status"});
  REQUIRE(t.exit_code == 0);
  auto value_of = [&](const std::string& label) {
    for (const auto& line : lines_of(t.out)) {
      if (line.rfind(label + " ", 0) == 0)
        return chomp(line.substr(line.find_first_not_of(' ', label.size())));
    }
    FAIL("no line " << label << " in:\n" << t.out);
    return std::string();
  };
  CHECK(value_of("pending changes") == "3");
  CHECK(value_of("schema version") ==
        std::to_string(static_cast<int>(kehu::ReplicaVersion::current)));
  CliResult zh = k.run({"status"}, {{"KEHU_LANG", "zh"}});
  CHECK_THAT(zh.out, Contains("待同步修改"));
}

TEST_CASE("backup while another process has the replica open", "[cli]") {
  Kehu k;
  k.add_customer("备份前客户");
  {
    // This process keeps the replica open and writes to it (the edits sit in the WAL).
    auto open = kehu::Replica::open(k.db, kPass);
    open->add(
        "customers",
        {{"name", "打开中添加"}, {"contact", "王五"}, {"phone", "13800000009"}, {"need", "x"}});
    const std::string copy = k.dir.file("backup.db");
    CliResult b = k.run({"backup", copy});
    INFO(b.describe());
    REQUIRE(b.exit_code == 0);

    json orig = k.list();
    CHECK(orig.size() == 2);
    json copied = k.run_json({"--db", copy, "customer", "list"});
    CHECK(copied == orig);
    CHECK(k.run_json({"--db", copy, "status"})["pending"] == k.status()["pending"]);
    // Same passphrase, and only that one.
    CliResult wrong = k.run({"--db", copy, "status"}, {{"KEHU_PASSPHRASE", "other"}});
    CHECK(wrong.exit_code == 1);
    CHECK_THAT(wrong.err, Contains("passphrase"));
    // The copy is encrypted too.
    std::string bytes = read_bytes(copy).value();
    CHECK(bytes.rfind("SQLite format 3", 0) != 0);
    CHECK(bytes.find("打开中添加") == std::string::npos);
    // An existing file is never overwritten.
    CliResult again = k.run({"backup", copy});
    CHECK(again.exit_code == 2);
    CHECK_THAT(again.err, Contains("already exists: add --force"));
    CHECK_THAT(again.err, Contains("exists"));
    CHECK(read_bytes(copy).value() == bytes);
  }
  // Edits after the backup are in the replica, not in the copy.
  k.add_customer("备份后客户");
  CHECK(k.list().size() == 3);
  CHECK(k.run_json({"--db", k.dir.file("backup.db"), "customer", "list"}).size() == 2);
}

TEST_CASE("rekey changes the passphrase", "[cli]") {
  Kehu k;
  k.add_customer("换密客户一");
  k.add_customer("换密客户二");
  json before = k.list();
  const std::string next = "新的 'pass' phrase";

  CliResult r = k.run({"rekey"}, {{"KEHU_NEW_PASSPHRASE", next}});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);

  CliResult old = k.run({"status"});
  CHECK(old.exit_code == 1);
  CHECK_THAT(old.err, Contains("passphrase"));
  CHECK(k.run_json({"customer", "list"}, {{"KEHU_PASSPHRASE", next}}) == before);
  // Writable under the new key.
  CHECK(k.run({"customer", "add", "--set", "name=新钥客户", "--set", "contact=x", "--set",
               "phone=13900139000", "--set", "need=y"},
              {{"KEHU_PASSPHRASE", next}})
            .exit_code == 0);
  CHECK(k.run_json({"status"}, {{"KEHU_PASSPHRASE", next}})["customers"] == 3);
  // No new passphrase and no terminal to ask on: usage error, nothing changed.
  CHECK(k.run({"rekey"}, {{"KEHU_PASSPHRASE", next}}).exit_code == 2);
  CHECK(k.run({"status"}, {{"KEHU_PASSPHRASE", next}}).exit_code == 0);
}

TEST_CASE("rekey while another process has the replica open changes nothing", "[cli]") {
  Kehu k;
  k.add_customer("并发换密客户");
  json before = k.list();
  {
    auto holder = kehu::Replica::open(k.db, kPass);
    CliResult r = k.run({"rekey"}, {{"KEHU_NEW_PASSPHRASE", "never used"}});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("another program has it open"));
    // Still one key: the old one, for both the holder and new processes.
    CHECK(holder->status().customers == 1);
    CHECK(k.list() == before);
    CHECK(k.run({"status"}, {{"KEHU_PASSPHRASE", "never used"}}).exit_code == 1);
  }
  // Once nobody else has it open, rekey works.
  CHECK(k.run({"rekey"}, {{"KEHU_NEW_PASSPHRASE", "now used"}}).exit_code == 0);
  CHECK(k.run_json({"customer", "list"}, {{"KEHU_PASSPHRASE", "now used"}}) == before);
}

TEST_CASE("usage errors exit with 2", "[cli]") {
  Kehu k;
  std::string code = k.add_customer("用法客户");
  json before = k.status();
  const std::vector<std::vector<std::string>> cases = {
      {"frobnicate"},
      {},
      {"customer"},
      {"customer", "add"},
      {"customer", "edit", code},
      {"customer", "add", "--set", "no-equals-sign"},
      {"customer", "add", "--set", "=value"},
      {"followup", "add", code},
      {"customer", "list", "--where", "nonsense"},
      {"customer", "list", "--limit", "many"},
      {"history"},
  };
  for (const auto& args : cases) {
    CliResult r = k.run(args);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    INFO("kehu " << cmd << "\n" << r.describe());
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  json after = k.status();
  CHECK(after["pending"] == before["pending"]);
  CHECK(after["customers"] == before["customers"]);

  // init on an existing replica refuses to overwrite it.
  CliResult init = k.run({"init"});
  CHECK(init.exit_code == 1);
  CHECK_THAT(init.err, Contains("exists"));
  CHECK(k.status()["customers"] == 1);
}
