// 查重 and merge (kehu/duplicates.h, core/replica/duplicates.cc, duplicate_index.cc,
// replica_dups.cc, cli/commands_dups.cc): the normaliser on real-looking company
// names, the replica's key index (v5 migration, edits, recycle bin, pulls), the
// real `kehu` binary (add, import, duplicates, merge) and two devices on a real
// kehu-server.
#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "device.h"
#include "kehu/duplicates.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/sqlite.h"
#include "replica_cli.h"
#include "replica_impl.h"  // kehu::migrate(db, target): a replica as kehu v4 made it
#include "server_fixture.h"

using namespace kehu;
using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::Device;
using kehu::test::ReplicaCli;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;

namespace {

bool same_name(const std::string& a, const std::string& b) {
  NameKey x = name_key(a), y = name_key(b);
  return !x.key.empty() && x.key == y.key && regions_compatible(x.region, y.region);
}

FieldInputs customer(const std::string& name, const std::string& phone, FieldInputs more = {}) {
  FieldInputs in = {{"name", name}, {"contact", "张三"}, {"phone", phone}, {"need", "办公用品"}};
  in.insert(in.end(), more.begin(), more.end());
  return in;
}

std::set<std::string> codes_of(const std::vector<DuplicateMatch>& ms) {
  std::set<std::string> out;
  for (const auto& m : ms) out.insert(m.customer.code);
  return out;
}

std::vector<std::string> add_args(const std::string& name, const std::string& phone,
                                  const std::vector<std::string>& more = {}) {
  std::vector<std::string> a = {"customer", "add",          "--set", "name=" + name,
                                "--set",    "contact=张三", "--set", "phone=" + phone,
                                "--set",    "need=办公用品"};
  for (const auto& m : more) {
    a.push_back("--set");
    a.push_back(m);
  }
  return a;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace

TEST_CASE("dups: names that are the same company share a key", "[dups]") {
  const std::vector<std::vector<std::string>> same = {
      {"北京明达科技有限公司", "明达科技（北京）有限公司", "明达科技",
       "北京市明达科技股份有限公司"},
      {"明达科技有限公司", "明达科技股份有限公司", "明达科技有限责任公司", "明达科技 有限公司"},
      {"深圳市华信电子有限公司", "华信电子（深圳）有限公司", "华信电子", "华信电子(深圳市)"},
      {"ＡＢＣ贸易有限公司", "abc贸易公司", "A.B.C 贸易"},
      {"上海·东方国际贸易集团有限公司", "东方国际贸易", "东方国际贸易集团"},
      {"杭州 云图 工作室", "云图工作室", "云图"},
      {"广东省深圳市腾达五金厂", "腾达五金(深圳)", "腾达五金厂"},
      {"Acme Co., Ltd.", "ACME Limited", "acme inc"},
      {"恒通机械（集团）有限公司", "恒通机械集团", "恒通机械集团股份有限公司"},
      {"新疆维吾尔自治区天山牧业有限公司", "天山牧业（新疆）", "天山牧业"},
      {"南京【金陵】建材商行", "金陵建材", "南京金陵建材"},
  };
  for (const auto& group : same) {
    for (const auto& a : group) {
      for (const auto& b : group) {
        INFO(a << " vs " << b << ": " << name_key(a).key << "/" << name_key(a).region << " vs "
               << name_key(b).key << "/" << name_key(b).region);
        CHECK(same_name(a, b));
      }
    }
  }
  CHECK(name_key("北京明达科技有限公司").key == "明达科技");
  CHECK(name_key("北京明达科技有限公司").region == "北京");
  CHECK(name_key("明达科技（北京）有限公司").region == "北京");
  CHECK(name_key("广东省深圳市腾达五金厂").region == "深圳");
  CHECK(name_key("Acme Co., Ltd.").key == "acme");
}

TEST_CASE("dups: near-misses and generic names do not match", "[dups]") {
  const std::vector<std::pair<std::string, std::string>> apart = {
      {"明达科技有限公司", "明达贸易有限公司"},
      {"北京明达科技有限公司", "上海明达科技有限公司"},
      {"明达科技（北京）有限公司", "明达科技（上海）有限公司"},
      {"华信电子", "华信电器"},
      {"明达科技有限公司北京分公司", "明达科技有限公司"},
      {"中国平安", "平安"},
      {"江苏恒通机械", "浙江恒通机械"},
      {"云图工作室", "云途工作室"},
      {"ABC Trading Ltd", "ABD Trading Ltd"},
      {"明达", "明达科技"},
  };
  for (const auto& [a, b] : apart) {
    INFO(a << " vs " << b << ": " << name_key(a).key << "/" << name_key(a).region << " vs "
           << name_key(b).key << "/" << name_key(b).region);
    CHECK_FALSE(same_name(a, b));
  }
  // Nothing but legal words or a region: no key (never flagged by name).
  for (const char* generic :
       {"有限公司", "公司", "集团有限公司", "北京", "北京公司", "A", "（北京）有限公司", "  "}) {
    INFO(generic);
    CHECK(name_key(generic).key.empty());
  }
  // Stripping stops at two characters.
  CHECK(name_key("华为公司").key == "华为");
  CHECK(name_key("华公司").key == "华公司");
}

TEST_CASE("dups: phone and WeChat keys", "[dups]") {
  CHECK(phone_key("138-0013-8000") == "13800138000");
  CHECK(phone_key("+86 138 0013 8000") == phone_key("13800138000"));
  CHECK(phone_key("0086-13800138000") == "13800138000");
  CHECK(phone_key("13800138001") != phone_key("13800138000"));
  // A landline's extension is dropped: one switchboard, one company.
  CHECK_FALSE(phone_key("0755-12345678-801").empty());
  CHECK(phone_key("0755-12345678-801") == phone_key("(0755) 1234 5678 转 802"));
  CHECK(phone_key("0755-12345678") == phone_key("075512345678"));
  CHECK(phone_key("0755-12345678") != phone_key("0755-12345679"));
  CHECK(phone_key("not a phone").empty());
  CHECK(wechat_key(" MingDa_2024 ") == "mingda_2024");
  CHECK(wechat_key("mingda_2024") == wechat_key("MINGDA_2024"));
  CHECK(wechat_key("mingda2024") != wechat_key("mingda_2024"));
  // A masked id (a pool customer as sales see it) is no key: w****6 is many ids.
  CHECK(wechat_key("w****6").empty());
  CHECK(duplicate_keys(json{{"wechat", "w****6"}}).empty());
  CHECK(wechat_key("   ").empty());

  json fields = {{"name", "北京明达科技有限公司"}, {"phone", "13800138000"}, {"wechat", "MingDa"}};
  auto keys = duplicate_keys(fields);
  REQUIRE(keys.size() == 3);
  CHECK(keys[0].kind == "name");
  CHECK(keys[0].key == "明达科技");
  CHECK(keys[1].kind == "phone");
  CHECK(keys[2].kind == "wechat");
  CHECK(keys[2].key == "mingda");
}

TEST_CASE("dups: the replica finds live duplicates through its key index", "[dups]") {
  ScratchDir dir("kehu-dups");
  auto rep = Replica::create(dir.file("r.db"), "pw");
  CHECK(rep->schema_version() >= static_cast<int>(ReplicaVersion::v5_duplicate_keys));
  const std::string a = rep->add("customers", customer("北京明达科技有限公司", "13800138000")).code;
  const std::string b =
      rep->add("customers", customer("华信电子", "13900139000", {{"wechat", "HuaXin88"}})).code;
  const std::string c = rep->add("customers", customer("上海明达科技有限公司", "13700137000")).code;

  // Same phone in another spelling.
  auto m = rep->find_duplicates({{"name", "完全不同"}, {"phone", "+86 138-0013-8000"}});
  REQUIRE(m.size() == 1);
  CHECK(m[0].customer.code == a);
  CHECK(m[0].kind == "phone");
  CHECK(m[0].value == "13800138000");
  CHECK_THAT(describe_match(m[0]), Contains(a) && Contains("same phone 13800138000"));
  // Name: compatible regions only.
  CHECK(codes_of(rep->find_duplicates({{"name", "明达科技（北京）有限公司"}})) ==
        std::set<std::string>{a});
  CHECK(codes_of(rep->find_duplicates({{"name", "明达科技"}})) == std::set<std::string>{a, c});
  CHECK(rep->find_duplicates({{"name", "明达科技（广州）"}}).empty());
  // WeChat, case-insensitive.
  CHECK(codes_of(rep->find_duplicates({{"wechat", "huaxin88"}})) == std::set<std::string>{b});
  // A customer is not its own duplicate.
  CHECK(rep->find_duplicates(rep->require(a).fields, rep->require(a).id).empty());

  // Edits move the keys; the recycle bin hides them; restore brings them back.
  rep->edit(a, {{"phone", "13600136000"}});
  CHECK(rep->find_duplicates({{"phone", "13800138000"}}).empty());
  CHECK(codes_of(rep->find_duplicates({{"phone", "13600136000"}})) == std::set<std::string>{a});
  rep->remove(b);
  CHECK(rep->find_duplicates({{"wechat", "huaxin88"}}).empty());
  rep->restore(b);
  CHECK(codes_of(rep->find_duplicates({{"wechat", "huaxin88"}})) == std::set<std::string>{b});

  // Groups: one pass over the index.
  rep->add("customers", customer("华信电子有限公司", "13600136000"));
  auto groups = rep->duplicate_groups();
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].kind == "phone");
  CHECK(groups[0].key == "13600136000");
  CHECK(groups[0].customers.size() == 2);
  CHECK(groups[1].kind == "name");
  CHECK(groups[1].key == "华信电子");
  // Pairs involving given customers (the sync check).
  auto pairs = rep->duplicates_involving({rep->require(b).id});
  REQUIRE(pairs.size() == 1);
  CHECK(pairs[0].kinds == std::vector<std::string>{"name"});
  CHECK_THAT(describe_pair(pairs[0]), Contains("possible duplicate: ") && Contains("华信电子"));
  // 明达 in 北京 and in 上海 stay apart even though both lack a third holder.
  for (const auto& g : groups) CHECK(g.key != "明达科技");
}

TEST_CASE("dups: pairs from a key many customers share are bounded by the limit", "[dups]") {
  // 60 customers with one name make 1,770 pairs; sync asks for a bounded number
  // (a first sync of a large team pulls thousands of customers with common names).
  ScratchDir dir("kehu-dups-many");
  auto rep = Replica::create(dir.file("r.db"), "pw");
  std::vector<std::string> ids;
  rep->batch([&] {
    for (int i = 0; i < 60; ++i) {
      char phone[16];
      std::snprintf(phone, sizeof phone, "139%08d", i);
      ids.push_back(rep->add("customers", customer("华信电子有限公司", phone)).id);
    }
  });
  bool truncated = true;
  CHECK(rep->duplicates_involving(ids, 0, &truncated).size() == 1770);
  CHECK_FALSE(truncated);
  CHECK(rep->duplicates_involving(ids, 2000, &truncated).size() == 1770);
  CHECK_FALSE(truncated);
  auto some = rep->duplicates_involving(ids, 50, &truncated);
  CHECK(some.size() == 50);
  CHECK(truncated);
  for (const auto& p : some) CHECK(p.kinds == std::vector<std::string>{"name"});
  // One customer's pairs (the lookup path, fewer ids than the scan threshold).
  CHECK(rep->duplicates_involving({ids[7]}, 10, &truncated).size() == 10);
  CHECK(truncated);
  CHECK(rep->duplicates_involving({ids[7]}, 59, &truncated).size() == 59);
  CHECK_FALSE(truncated);
  // More than 500 ids: one pass over every shared key (the scan path).
  rep->batch([&] {
    for (int i = 0; i < 500; ++i) {
      char phone[16];
      std::snprintf(phone, sizeof phone, "137%08d", i);
      ids.push_back(
          rep->add("customers", customer("远景物流" + std::to_string(i) + "号", phone)).id);
    }
  });
  CHECK(rep->duplicates_involving(ids, 0, &truncated).size() == 1770);
  CHECK_FALSE(truncated);
  CHECK(rep->duplicates_involving(ids, 3, &truncated).size() == 3);
  CHECK(truncated);
}

TEST_CASE("dups: migration v5 builds the keys of an older replica, live customers only", "[dups]") {
  ScratchDir dir("kehu-dups-mig");
  const std::string path = dir.file("old.db");
  std::string live, binned;
  {
    auto rep = Replica::create(path, "pw");
    live = rep->add("customers", customer("明达科技", "13800138000")).code;
    binned = rep->add("customers", customer("明达科技有限公司", "13900139000")).code;
    rep->remove(binned);
  }
  {
    // Back to v4 as an older kehu left it: no customer_keys table.
    db::Database db(path, false);
    db.key("pw");
    db.exec("DROP TABLE customer_keys; PRAGMA user_version = 4;");
  }
  auto rep = Replica::open(path, "pw");
  CHECK(rep->schema_version() == 7);
  CHECK(codes_of(rep->find_duplicates({{"name", "明达科技集团"}})) == std::set<std::string>{live});
  CHECK(rep->find_duplicates({{"phone", "13900139000"}}).empty());
  rep->restore(binned);
  CHECK(codes_of(rep->find_duplicates({{"name", "明达科技集团"}})) ==
        std::set<std::string>{live, binned});
}

TEST_CASE("dups: kehu customer add refuses a likely duplicate, --force adds it", "[dups]") {
  ReplicaCli k;
  const std::string a =
      first_line(k.ok(add_args("北京明达科技有限公司", "13800138000", {"owner=王五"})).out);
  CliResult refused = k.run(add_args("明达科技（北京）有限公司", "+86 138 0013 8000"));
  INFO(refused.describe());
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains(a) && Contains("北京明达科技有限公司") &&
                              Contains("owner 王五") && Contains("same phone 13800138000") &&
                              Contains("similar name") && Contains("use --force to add anyway"));
  CHECK(json::parse(k.ok({"--json", "status"}).out)["customers"] == 1);

  CliResult wechat = k.run(add_args("别的公司", "13900139000", {"wechat=MD_2024"}));
  CHECK(wechat.exit_code == 0);
  CliResult same_wechat = k.run(add_args("又一家", "13700137000", {"wechat=md_2024"}));
  CHECK(same_wechat.exit_code == 2);
  CHECK_THAT(same_wechat.err, Contains("same wechat MD_2024"));

  CliResult forced = k.run([] {
    auto a = add_args("明达科技（北京）有限公司", "+86 138 0013 8000");
    a.push_back("--force");
    return a;
  }());
  INFO(forced.describe());
  REQUIRE(forced.exit_code == 0);
  CHECK_THAT(forced.err, Contains("warning") && Contains(a));
  const std::string b = first_line(forced.out);
  CHECK(b != a);
  json list = json::parse(k.ok({"--json", "customer", "list"}).out);
  CHECK(list.size() == 3);
  // A different company is added without a word.
  CliResult other = k.run(add_args("上海明达科技有限公司", "13600136000"));
  CHECK(other.exit_code == 0);
  CHECK(other.err.empty());
}

TEST_CASE("dups: import flags duplicates of other customers and within the file", "[dups]") {
  ReplicaCli k;
  const std::string a = first_line(k.ok(add_args("恒通机械有限公司", "13800138000")).out);
  const std::string csv = k.dir.file("in.csv");
  write_file(csv,
             "客户名称,联系人,联系电话,核心需求\n"
             "恒通机械集团,李四,13911112222,机床\n"        // line 2: name of A
             "华东医疗设备有限公司,赵六,13800138000,CT\n"  // line 3: phone of A
             "新华书店,钱七,13622223333,图书\n"            // line 4: fine
             "新华书店有限公司,孙八,13755556666,图书\n");  // line 5: name of line 4
  CliResult r = k.run({"import", csv});
  INFO(r.describe());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.out, Contains("nothing written"));
  CHECK_THAT(r.err, Contains(":2:") && Contains(a) && Contains("恒通机械有限公司"));
  CHECK_THAT(r.err, Contains(":3:") && Contains("same phone 13800138000"));
  CHECK_THAT(r.err, Contains(":5:") && Contains("line 4") && Contains("新华书店"));
  CHECK(r.err.find(":4:") == std::string::npos);
  CHECK(json::parse(k.ok({"--json", "customer", "list"}).out).size() == 1);

  CliResult skipped = k.run({"--json", "import", csv, "--skip-bad"});
  INFO(skipped.describe());
  REQUIRE(skipped.exit_code == 0);
  json rep = json::parse(skipped.out);
  CHECK(rep["created"] == 1);
  CHECK(rep["bad_rows"] == 3);
  json names = json::array();
  for (const auto& c : json::parse(k.ok({"--json", "customer", "list"}).out))
    names.push_back(c["name"]);
  CHECK(names.size() == 2);
  CHECK(std::find(names.begin(), names.end(), "新华书店") != names.end());

  CliResult forced = k.run({"--json", "import", csv, "--force"});
  INFO(forced.describe());
  REQUIRE(forced.exit_code == 0);
  CHECK(json::parse(forced.out)["created"] == 4);
  CHECK(json::parse(k.ok({"--json", "customer", "list"}).out).size() == 6);

  // Re-importing an export (same codes) flags nothing, although the replica
  // now holds duplicates.
  const std::string exported = k.dir.file("out.csv");
  k.ok({"export", exported});
  CliResult again = k.run({"--json", "import", exported});
  INFO(again.describe());
  CHECK(again.exit_code == 0);
  json rj = json::parse(again.out);
  CHECK(rj["bad_rows"] == 0);
  CHECK(rj["created"] == 0);
  CHECK(json::parse(k.ok({"--json", "customer", "list"}).out).size() == 6);
}

TEST_CASE("dups: kehu customer duplicates lists groups with the shared key", "[dups]") {
  ReplicaCli k;
  const std::string a = first_line(k.ok(add_args("北京明达科技有限公司", "13800138000")).out);
  const std::string b = first_line(k.ok([] {
                                      auto x = add_args("明达科技", "13800138000");
                                      x.push_back("--force");
                                      return x;
                                    }())
                                       .out);
  const std::string c = first_line(k.ok(add_args("华信电子", "13900139000", {"wechat=hx01"})).out);
  const std::string d = first_line(k.ok([] {
                                      auto x = add_args("另一家", "13700137000", {"wechat=HX01"});
                                      x.push_back("--force");
                                      return x;
                                    }())
                                       .out);
  k.ok(add_args("无关公司", "13600136000"));
  json groups = json::parse(k.ok({"--json", "customer", "duplicates"}).out);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0]["key"] == "phone");
  CHECK(groups[0]["value"] == "13800138000");
  CHECK(groups[0]["customers"][0]["code"] == a);
  CHECK(groups[0]["customers"][1]["code"] == b);
  CHECK(groups[1]["key"] == "wechat");
  CHECK(groups[1]["customers"][0]["code"] == c);
  CHECK(groups[1]["customers"][1]["code"] == d);
  CHECK(groups[2]["key"] == "name");
  CHECK(groups[2]["value"] == "明达科技");
  CliResult text = k.ok({"customer", "duplicates"});
  CHECK_THAT(text.out, Contains("same phone 13800138000") && Contains(a) && Contains(b) &&
                           Contains("similar name 明达科技") && Contains("kehu customer merge"));
  // Into the recycle bin: no longer a duplicate.
  k.ok({"customer", "delete", b});
  groups = json::parse(k.ok({"--json", "customer", "duplicates"}).out);
  CHECK(groups.size() == 1);
  CHECK(groups[0]["key"] == "wechat");
}

TEST_CASE("dups: kehu customer merge moves children, fills fields and keeps both histories",
          "[dups]") {
  ReplicaCli k;
  const std::string keep = first_line(
      k.ok(add_args("北京明达科技有限公司", "13800138000", {"tags=重点客户", "city=北京"})).out);
  const std::string other =
      first_line(k.ok([] {
                    auto x = add_args(
                        "明达科技", "13911112222",
                        {"wechat=mingda", "tags=高预算;重点客户", "city=天津", "notes=老客户介绍"});
                    x.push_back("--force");
                    return x;
                  }())
                     .out);
  k.ok({"followup", "add", other, "--set", "date=2026-11-01", "--set", "person=王五", "--set",
        "content=电话沟通需求"});
  k.ok({"followup", "add", other, "--set", "date=2026-11-20", "--set", "person=王五", "--set",
        "content=上门拜访"});
  k.ok({"order", "add", other, "--set", "product=打印机"});
  k.ok({"followup", "add", keep, "--set", "date=2026-10-01", "--set", "person=李四", "--set",
        "content=初次接触"});

  // Refusals: into itself, across collections, unknown.
  CliResult self = k.run({"customer", "merge", keep, keep});
  CHECK(self.exit_code == 2);
  CHECK_THAT(self.err, Contains("into itself"));
  json fus = json::parse(k.ok({"--json", "followup", "list", keep}).out);
  REQUIRE(fus.size() == 1);
  CliResult across = k.run({"customer", "merge", keep, fus[0]["id"].get<std::string>()});
  CHECK(across.exit_code == 2);
  CHECK_THAT(across.err, Contains("not a customer"));

  // Dry run: the report, nothing written.
  CliResult dry = k.ok({"--json", "customer", "merge", keep, other, "--dry-run"});
  json dj = json::parse(dry.out);
  CHECK(dj["moved"]["followups"] == 2);
  CHECK(dj["moved"]["orders"] == 1);
  CHECK(json::parse(k.ok({"--json", "followup", "list", other}).out).size() == 2);
  CHECK(json::parse(k.ok({"--json", "customer", "show", other}).out)["deleted"] == false);

  CliResult merged = k.ok({"--json", "customer", "merge", keep, other});
  json mj = json::parse(merged.out);
  CHECK(mj["moved"]["followups"] == 2);
  CHECK(mj["moved"]["orders"] == 1);
  CHECK(mj["filled"] == json::array({"wechat", "notes"}));
  CHECK(mj["tags_added"] == json::array({"高预算"}));
  std::set<std::string> differing(mj["differing"].begin(), mj["differing"].end());
  CHECK(differing == std::set<std::string>{"city", "phone", "name"});

  json k_after = json::parse(k.ok({"--json", "customer", "show", keep}).out);
  CHECK(k_after["wechat"] == "mingda");
  CHECK(k_after["phone"] == "13800138000");
  CHECK(k_after["city"] == "北京");
  CHECK(k_after["tags"] == json::array({"重点客户", "高预算"}));
  const std::string notes = k_after["notes"].get<std::string>();
  CHECK_THAT(notes, Contains("合并自 " + other) && Contains("13911112222") && Contains("天津") &&
                        Contains("老客户介绍"));
  CHECK(k_after["last_followup_at"] == "2026-11-20");
  CHECK(json::parse(k.ok({"--json", "followup", "list", keep}).out).size() == 3);
  CHECK(json::parse(k.ok({"--json", "order", "list", keep}).out).size() == 1);
  CHECK(json::parse(k.ok({"--json", "followup", "list", other}).out).empty());

  // OTHER is in the recycle bin, with its cause; both histories are there.
  // Its code finds KEEP now (issue 22), saying it was merged.
  json o_after = json::parse(k.ok({"--json", "customer", "show", other}).out);
  CHECK(o_after["code"] == keep);
  CHECK(o_after["merged_from"] == other);
  json bin = json::parse(k.ok({"--json", "customer", "list", "--deleted"}).out);
  REQUIRE(bin.size() == 1);
  CHECK(bin[0]["code"] == other);
  CliResult oh = k.ok({"history", other});
  CHECK_THAT(oh.out, Contains("merged into " + keep));
  CliResult kh = k.ok({"history", keep});
  CHECK_THAT(kh.out, Contains("merged " + other + " into " + keep));
  CHECK_THAT(kh.out, Contains("mingda"));
  json moved_fu = json::parse(k.ok({"--json", "followup", "list", keep}).out);
  std::string moved_id;
  for (const auto& f : moved_fu)
    if (f["content"] == "上门拜访") moved_id = f["id"];
  REQUIRE_FALSE(moved_id.empty());
  CliResult fh = k.ok({"history", moved_id});
  CHECK_THAT(fh.out, Contains("merged " + other + " into " + keep));

  // Merging into or from a deleted customer is refused.
  CliResult from_bin = k.run({"customer", "merge", keep, other});
  CHECK(from_bin.exit_code == 2);
  CHECK_THAT(from_bin.err, Contains("recycle bin"));
  // Restorable.
  k.ok({"customer", "restore", other});
  json restored = json::parse(k.ok({"--json", "customer", "show", other}).out);
  CHECK(restored["deleted"] == false);
  CHECK(restored["name"] == "明达科技");
  CHECK(restored["phone"] == "13911112222");
}

TEST_CASE(
    "dups: two devices add the same company offline, sync names the pair, a merge moves the "
    "children",
    "[dups]") {
  ServerFixture server;
  ScratchDir dir("kehu-dups-sync");
  Device wang(dir, server, "wang");
  Device li(dir, server, "li");
  // Offline on both devices: the same company, typed differently.
  const std::string w = wang.replica
                            ->add("customers", customer("南京恒通机械有限公司", "13812345678",
                                                        {{"province", "江苏"}, {"city", "南京"}}))
                            .code;
  const std::string l = li.replica
                            ->add("customers", customer("恒通机械（南京）", "+86 138 1234 5678",
                                                        {{"province", "江苏"}}))
                            .code;
  li.replica->add("followups", {{"date", "2026-11-25"}, {"person", "li"}, {"content", "展会认识"}},
                  l);
  li.replica->add("orders", {{"product", "数控机床"}}, l);

  auto wr = wang.sync();
  CHECK(wr.possible_duplicates.empty());  // li's customer is not on the server yet
  CliResult lsync = li.kehu({"sync"});
  INFO(lsync.describe());
  REQUIRE(lsync.exit_code == 0);
  const std::string lc = li.replica->require(l).code;  // final code after the push
  const std::string wc = wang.replica->require(w).code;
  CHECK_THAT(lsync.out, Contains("possible duplicate: ") && Contains(wc) && Contains(lc) &&
                            Contains("same phone 13812345678") && Contains("similar name"));
  CliResult wsync = wang.kehu({"--json", "sync"});
  REQUIRE(wsync.exit_code == 0);
  json wj = json::parse(wsync.out);
  REQUIRE(wj["possible_duplicates"].size() == 1);
  CHECK_THAT(wj["possible_duplicates"][0].get<std::string>(), Contains(wc) && Contains(lc));
  json groups = json::parse(wang.kehu({"--json", "customer", "duplicates"}).out);
  REQUIRE(groups.size() == 2);  // phone and name

  // An edit that leaves name, phone and WeChat alone does not name the pair again;
  // one that changes the name does.
  li.replica->edit(lc, {{"need", "机床配件"}});
  li.sync();
  auto quiet = wang.sync();
  CHECK(quiet.pulled_revisions == 1);
  CHECK(quiet.possible_duplicates.empty());
  li.replica->edit(lc, {{"name", "恒通机械（南京）有限公司"}});
  li.sync();
  auto renamed = wang.sync();
  REQUIRE(renamed.possible_duplicates.size() == 1);
  CHECK_THAT(renamed.possible_duplicates[0], Contains(wc) && Contains(lc));

  // wang merges li's into his; the server accepts the moves; li sees them.
  CliResult merged = wang.kehu({"customer", "merge", wc, lc});
  INFO(merged.describe());
  REQUIRE(merged.exit_code == 0);
  auto pushed = wang.sync();
  for (const auto& x : pushed.rejections) UNSCOPED_INFO(x.code << ": " << x.reason);
  CHECK(pushed.rejected == 0);
  li.sync();
  const Record keep_on_li = li.replica->require(wc);
  ListQuery fq;
  fq.collection = "followups";
  fq.parent = keep_on_li.id;
  auto fus = li.replica->list(fq);
  REQUIRE(fus.size() == 1);
  CHECK(fus[0].fields["content"] == "展会认识");
  ListQuery oq;
  oq.collection = "orders";
  oq.parent = keep_on_li.id;
  CHECK(li.replica->list(oq).size() == 1);
  CHECK(li.replica->require(lc).deleted);
  CHECK(keep_on_li.fields.value("last_followup_at", "") == "2026-11-25");
  // The server's revision of the moved follow-up carries the cause.
  auto h = li.replica->history(fus[0].id);
  REQUIRE_FALSE(h.empty());
  CHECK(h[0].revision.cause == "merged " + lc + " into " + wc);
  CHECK(h[0].state == "server");
  // It says where the follow-up came from, not "old: null".
  auto moved = h[0].revision.changes.find("customer");
  REQUIRE(moved != h[0].revision.changes.end());
  CHECK(moved->second.old_value == json(li.replica->require(lc).id));
  CHECK(moved->second.new_value == json(keep_on_li.id));
  // And nothing is a duplicate any more.
  CHECK(json::parse(li.kehu({"--json", "customer", "duplicates"}).out).empty());
}
