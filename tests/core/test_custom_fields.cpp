// Custom fields (issue 5): definitions, the schema they extend, values that
// validate like built-in ones, and the way they travel: an admin adds a field on
// the server, every device copies it at sync, a restricted one never reaches
// sales, and a device that does not know a field keeps its values untouched.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <string>

#include "cli_runner.h"
#include "device.h"
#include "kehu/custom_fields.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/sheet.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using kehu::json;
using kehu::test::CliResult;
using kehu::test::Device;
using kehu::test::new_customer;
using kehu::test::Reply;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;
using Catch::Matchers::Contains;

namespace {

// The message of the Error(validation) `fn` throws; FAILs if it throws none.
template <typename Fn>
std::string validation_message(Fn&& fn) {
  try {
    fn();
  } catch (const kehu::Error& e) {
    CHECK(e.code() == kehu::Errc::validation);
    return e.what();
  }
  FAIL("no error thrown");
  return {};
}

json def(const std::string& key, const std::string& type, const std::string& label,
         const json& values = nullptr, const std::string& collection = "customers") {
  json d = {{"collection", collection}, {"key", key}, {"type", type}, {"label", label}};
  if (!values.is_null()) d["values"] = values;
  return d;
}

// A list of custom fields as the server keeps it: 会员等级 (enum) and 首次合作日期 (date)
// on customers, 随访次数 (integer) on follow-ups.
json sample_list() {
  return {{"version", 3},
          {"fields",
           {def("vip_level", "enum", "会员等级", "gold:金卡,银卡"), def("first_deal", "date", "首次合作日期"),
            def("visits", "integer", "随访次数", nullptr, "followups")}}};
}

std::string read_file(const std::string& path) {
  auto bytes = kehu::test::read_bytes(path);
  REQUIRE(bytes.has_value());
  return *bytes;
}

// The line of a CSV export that holds `needle`, split into cells (no quoted commas expected).
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::vector<std::string> csv_line_with(const std::string& text, const std::string& needle) {
  std::size_t at = text.find(needle);
  REQUIRE(at != std::string::npos);
  std::size_t start = text.rfind('\n', at);
  start = start == std::string::npos ? 0 : start + 1;
  std::size_t end = text.find('\n', at);
  return csv_cells(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
}

std::size_t column_of(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name || header[i] == "\xEF\xBB\xBF" + name) return i;
  }
  FAIL("no column " << name);
  return 0;
}

const json* pulled_by_code(const json& pull, const std::string& code) {
  for (const auto& r : pull["records"]) {
    if (r["code"] == code) return &r;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("fields: a definition is checked and errors name the value and the rule", "[fields]") {
  const kehu::Schema& builtin = kehu::Schema::builtin();
  SECTION("a good enum definition is normalised, values as KEY:LABEL or LABEL") {
    json d = kehu::check_custom_field(builtin, def("vip_level", "enum", " 会员等级 ", "gold:金卡，银卡"));
    CHECK(d["label"] == "会员等级");
    CHECK(d["required"] == false);
    CHECK(d["restricted"] == false);
    CHECK(d["values"] == json::parse(R"([{"key":"gold","label":"金卡"},{"key":"银卡","label":"银卡"}])"));
  }
  SECTION("bad keys") {
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("VIP", "text", "会员")); }),
               Catch::Contains("key \"VIP\" must match [a-z][a-z0-9_]{0,31}"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("1abc", "text", "会员")); }),
               Catch::Contains("\"1abc\""));
    CHECK_THAT(
        validation_message([&] { kehu::check_custom_field(builtin, def(std::string(33, 'a'), "text", "会员")); }),
        Catch::Contains("must match"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("phone", "text", "会员电话")); }),
               Catch::Contains("key \"phone\" is already used by 联系电话 (phone), a built-in field"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("deleted", "text", "删了")); }),
               Catch::Contains("reserved"));
  }
  SECTION("labels that clash or are missing") {
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("tel2", "phone", "联系电话")); }),
               Catch::Contains("label \"联系电话\" is already used by 联系电话 (phone)"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("x_name", "text", "Name")); }),
               Catch::Contains("label \"Name\" is already used"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("fu_date", "date", "跟进日期")); }),
               Catch::Contains("column of the customer sheet"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "text", " ")); }),
               Catch::Contains("--label is required"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "text", "a=b")); }),
               Catch::Contains("must not contain"));
    // The same label is fine in another collection.
    CHECK(kehu::check_custom_field(builtin, def("vip", "text", "联系电话", nullptr, "orders"))["key"] == "vip");
  }
  SECTION("types, values and collections") {
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "reference", "会员")); }),
               Catch::Contains("type \"reference\" is not a field type: expected one of text, integer, money"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "enum", "会员")); }),
               Catch::Contains("type enum needs --values"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "text", "会员", "a,b")); }),
               Catch::Contains("--values is only for type enum, not for type text"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "enum", "会员", "金卡,,银卡")); }),
               Catch::Contains("an empty value"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "enum", "会员", "金卡,金卡")); }),
               Catch::Contains("\"金卡\" is given twice"));
    CHECK_THAT(validation_message([&] { kehu::check_custom_field(builtin, def("vip", "enum", "会员", "a b:金卡")); }),
               Catch::Contains("value key \"a b\""));
    CHECK_THAT(
        validation_message([&] { kehu::check_custom_field(builtin, def("vip", "text", "会员", nullptr, "deals")); }),
        Catch::Contains("collection \"deals\" does not exist: expected one of customers, followups"));
  }
}

TEST_CASE("fields: the schema is the built-in one plus the custom fields, in order", "[fields]") {
  auto schema = kehu::schema_with_custom_fields(sample_list());
  const kehu::CollectionDef& cust = schema->collection("customers");
  const std::size_t builtin_count = kehu::Schema::builtin().collection("customers").fields.size();
  REQUIRE(cust.fields.size() == builtin_count + 2);
  CHECK(cust.fields[builtin_count].key == "vip_level");
  CHECK(cust.fields[builtin_count + 1].key == "first_deal");
  const kehu::FieldDef* vip = cust.find("会员等级");
  REQUIRE(vip != nullptr);
  CHECK(vip->custom);
  CHECK(vip->type == kehu::FieldType::enumeration);
  CHECK(vip->find_value("金卡")->key == "gold");
  CHECK(schema->collection("followups").find("visits")->type == kehu::FieldType::integer);
  CHECK_FALSE(cust.find("phone")->custom);
  CHECK(kehu::custom_fields_version(sample_list()) == 3);

  SECTION("definitions this build cannot use are skipped, the others kept") {
    json list = sample_list();
    list["fields"].push_back(def("hologram", "hologram", "全息"));   // a type from the future
    list["fields"].push_back(def("vip_level", "text", "会员等级二"));  // clashes with the first
    list["fields"].push_back(def("note2", "text", "附注"));
    auto s = kehu::schema_with_custom_fields(list);
    const auto& c = s->collection("customers");
    CHECK(c.fields.size() == builtin_count + 3);
    CHECK(c.find("hologram") == nullptr);
    CHECK(c.find("vip_level")->type == kehu::FieldType::enumeration);
    CHECK(c.find("附注") != nullptr);
  }
  SECTION("no list is the built-in schema") {
    CHECK(kehu::schema_with_custom_fields(json())->collection("customers").fields.size() == builtin_count);
    CHECK(kehu::custom_fields_version(json()) == 0);
  }
}

TEST_CASE("fields: custom values validate, list, export and import like built-in ones", "[fields]") {
  ScratchDir dir;
  auto rep = kehu::Replica::create(dir.file("r.db"), "pw");
  CHECK(rep->schema().collection("customers").find("vip_level") == nullptr);
  rep->set_meta(kehu::kCustomFieldsMeta, sample_list().dump());
  REQUIRE(rep->schema().collection("customers").find("vip_level") != nullptr);

  kehu::FieldInputs in = new_customer("甲公司");
  in.emplace_back("会员等级", "金卡");
  in.emplace_back("first_deal", "2026/3/5");
  kehu::Record a = rep->add("customers", in);
  CHECK(a.fields["vip_level"] == "gold");
  CHECK(a.fields["first_deal"] == "2026-03-05");
  kehu::Record b = rep->add("customers", new_customer("乙公司"));

  // The normal messages of the normal rules, naming the custom field.
  CHECK(validation_message([&] { rep->edit(b.code, {{"vip_level", "钻石卡"}}); }) ==
        "会员等级 (vip_level): \"钻石卡\" is not one of: 金卡/gold, 银卡/银卡");
  CHECK_THAT(validation_message([&] { rep->edit(b.code, {{"首次合作日期", "2026-02-30"}}); }),
             Catch::StartsWith("首次合作日期 (first_deal): \"2026-02-30\""));
  kehu::Record fu = rep->add("followups", {{"date", "2026-11-20"}, {"person", "王"}, {"content", "拜访"},
                                           {"随访次数", "3"}},
                             a.code);
  CHECK(fu.fields["visits"] == 3);
  CHECK_THAT(validation_message([&] { rep->edit(fu.id, {{"visits", "三次"}}); }),
             Catch::StartsWith("随访次数 (visits): \"三次\""));

  rep->edit(b.code, {{"vip_level", "银卡"}});
  kehu::ListQuery q;
  q.where = {{"会员等级", "金卡"}};
  auto gold = rep->list(q);
  REQUIRE(gold.size() == 1);
  CHECK(gold[0].code == a.code);
  q.where = {{"vip_level", "银卡"}};
  REQUIRE(rep->list(q).size() == 1);
  CHECK(rep->list(q)[0].code == b.code);

  // Export: the custom columns after the built-in ones, with labels and display values.
  const std::string csv = dir.file("out.csv");
  CHECK(kehu::export_csv(*rep, csv) == 2);
  const std::string text = read_file(csv);
  const auto header = csv_line_with(text, "客户名称");
  const auto row_a = csv_line_with(text, "甲公司");
  const std::size_t vip_col = column_of(header, "会员等级"), deal_col = column_of(header, "首次合作日期");
  REQUIRE(row_a.size() > std::max(vip_col, deal_col));
  CHECK(row_a[vip_col] == "金卡");
  CHECK(row_a[deal_col] == "2026-03-05");
  CHECK(csv_line_with(text, "乙公司")[vip_col] == "银卡");

  // Import into a replica that knows the fields reads them back.
  auto other = kehu::Replica::create(dir.file("other.db"), "pw");
  other->set_meta(kehu::kCustomFieldsMeta, sample_list().dump());
  kehu::ImportReport report = kehu::import_csv(*other, csv, {});
  CHECK(report.unknown_columns.empty());
  CHECK(report.created == 2);
  CHECK(other->require(a.code).fields["vip_level"] == "gold");
  CHECK(other->require(a.code).fields["first_deal"] == "2026-03-05");
  // One that does not know them names the columns it skipped.
  auto plain = kehu::Replica::create(dir.file("plain.db"), "pw");
  kehu::ImportReport plain_report = kehu::import_csv(*plain, csv, {});
  CHECK(plain_report.unknown_columns == std::vector<std::string>{"会员等级", "首次合作日期"});
  CHECK_FALSE(plain->require(a.code).fields.contains("vip_level"));
}

TEST_CASE("fields: a required custom field is required for new records, not for older ones", "[fields]") {
  ScratchDir dir;
  auto rep = kehu::Replica::create(dir.file("r.db"), "pw");
  kehu::Record old = rep->add("customers", new_customer("老客户"));
  json list = {{"version", 1}, {"fields", {def("region_code", "text", "区域编码")}}};
  list["fields"][0]["required"] = true;
  rep->set_meta(kehu::kCustomFieldsMeta, list.dump());
  CHECK(validation_message([&] { rep->add("customers", new_customer("新客户")); }) ==
        "区域编码 (region_code) is required");
  // The older record stays editable without it ...
  CHECK(rep->edit(old.code, {{"city", "南京"}}).fields["city"] == "南京");
  // ... until it has a value, which then cannot be cleared.
  rep->edit(old.code, {{"区域编码", "JS-01"}});
  CHECK(validation_message([&] { rep->edit(old.code, {{"region_code", ""}}); }) ==
        "区域编码 (region_code) is required");
}

TEST_CASE("fields: a replica keeps a pulled field it does not know through its own edits", "[fields]") {
  ScratchDir dir;
  auto rep = kehu::Replica::create(dir.file("r.db"), "pw");
  kehu::PulledRecord p;
  p.id = "11111111-2222-3333-4444-555555555555";
  p.collection = "customers";
  p.code = "C202611001";
  p.rev = 4;
  p.fields = {{"name", "甲公司"}, {"contact", "张三"}, {"phone", "13800138000"},
              {"need", "办公家具"}, {"vip_level", "gold"}, {"future_field", json::array({"x"})}};
  rep->apply_pulled({p}, {}, "4");
  REQUIRE(rep->schema().collection("customers").find("vip_level") == nullptr);

  kehu::Record after = rep->edit(p.code, {{"need", "会议桌"}});
  CHECK(after.fields["vip_level"] == "gold");
  CHECK(after.fields["future_field"] == json::array({"x"}));
  auto pending = rep->pending_changes(0, 10);
  REQUIRE(pending.size() == 1);
  std::set<std::string> keys;
  for (const auto& [k, v] : pending[0].change.fields) keys.insert(k);
  CHECK(keys == std::set<std::string>{"need"});
  // Listing and exporting a record with unknown keys works and simply leaves them out.
  CHECK(rep->list({}).size() == 1);
  CHECK(kehu::export_csv(*rep, dir.file("x.csv")) == 1);
  CHECK(read_file(dir.file("x.csv")).find("gold") == std::string::npos);
  // The server's answer (a newer revision) keeps them too.
  rep->mark_accepted(pending[0].change.change_id, 5, "");
  p.rev = 5;
  p.fields["need"] = "会议桌";
  rep->apply_pulled({p}, {}, "5");
  CHECK(rep->require(p.code).fields["vip_level"] == "gold");
}

TEST_CASE("fields: an admin adds a field, a sales replica syncs it, sets it and finds it", "[fields]") {
  ServerFixture s;
  ScratchDir dir;
  Device root(dir, s, "root");
  const kehu::Record a = root.replica->add("customers", new_customer("江苏甲公司"));
  root.replica->edit(a.code, {{"province", "江苏"}, {"owner", "wang"}});
  root.sync();
  Device wang(dir, s, "wang");
  REQUIRE(wang.replica->find_customer(a.code).has_value());

  // Only an admin: the CLI says so, and the server refuses a direct request.
  CliResult refused = wang.kehu({"schema", "add-field", "customers", "vip_level", "--type", "enum", "--label",
                                 "会员等级", "--values", "gold:金卡,银卡"});
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.err, Catch::Contains("only an admin may add fields") &&
                              Catch::Contains("logged in as wang (role sales)") &&
                              Catch::Contains("on their own device") && !Catch::Contains("kehu login"));
  // So for the rules, in Chinese: a replica is one user's, logging in as an admin is no way out.
  CliResult rules = wang.kehu({"rules", "set", "churn-days", "30"}, "zh");
  CHECK(rules.exit_code == 1);
  CHECK_THAT(rules.err, Catch::Contains("只有管理员可以修改规则") && Catch::Contains("请管理员在自己的设备上操作") &&
                            !Catch::Contains("kehu login"));
  Reply direct = s.post("/v1/schema/fields", def("vip_level", "enum", "会员等级", "金卡"), s.login("wang"));
  CHECK(direct.status == 403);
  // A bad definition is a usage error naming the value and the rule, before any request.
  CliResult bad = root.kehu({"schema", "add-field", "customers", "phone", "--type", "text", "--label", "电话二"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("key \"phone\" is already used by 联系电话 (phone)"));
  // The server checks too: a direct request with a clashing label.
  Reply clash = s.post("/v1/schema/fields", def("tel3", "text", "联系电话"), s.login("root"));
  CHECK(clash.status >= 400);
  CHECK(clash.body.dump().find("联系电话") != std::string::npos);

  CliResult added = root.kehu({"schema", "add-field", "customers", "vip_level", "--type", "enum", "--label",
                               "会员等级", "--values", "gold:金卡,银卡"});
  INFO(added.describe());
  REQUIRE(added.exit_code == 0);
  CHECK_THAT(added.out, Catch::Contains("schema version 1"));
  CHECK_THAT(s.log(), Catch::Contains("schema: root added field customers.vip_level (会员等级, enum)"));
  Reply listed = s.get("/v1/schema", s.login("audit"));
  REQUIRE(listed.status == 200);
  CHECK(listed.body["version"] == 1);
  REQUIRE(listed.body["fields"].size() == 1);
  CHECK(listed.body["fields"][0]["added_by"] == "root");
  CHECK(listed.body["fields"][0]["values"][0] == json({{"key", "gold"}, {"label", "金卡"}}));
  // The same key again is refused by the server, whatever the client knew.
  Reply twice = s.post("/v1/schema/fields", def("vip_level", "text", "会员等级三"), s.login("root"));
  CHECK(twice.status >= 400);
  CHECK(twice.body.dump().find("already used by 会员等级 (vip_level), a custom field") != std::string::npos);

  // The admin's own replica knew it at once (the CLI stored the list).
  CliResult root_list = root.kehu({"--json", "schema", "list", "customers"});
  REQUIRE(root_list.exit_code == 0);
  CHECK(json::parse(root_list.out)["version"] == 1);

  // The sales device gets it at its next sync.
  CHECK(wang.kehu({"schema", "list"}).out.find("vip_level") == std::string::npos);
  wang.sync();
  CliResult wlist = wang.kehu({"--json", "schema", "list", "customers"});
  INFO(wlist.describe());
  REQUIRE(wlist.exit_code == 0);
  json wl = json::parse(wlist.out);
  CHECK(wl["version"] == 1);
  const json& fields = wl["collections"][0]["fields"];
  const json& last = fields[fields.size() - 1];
  CHECK(last["key"] == "vip_level");
  CHECK(last["label"] == "会员等级");
  CHECK(last["type"] == "enum");
  CHECK(last["custom"] == true);
  CHECK(last["values"][1]["key"] == "银卡");
  CliResult table = wang.kehu({"schema", "list", "customers"});
  CHECK_THAT(table.out, Catch::Contains("vip_level") && Catch::Contains("gold=金卡, 银卡") &&
                            Catch::Contains("custom"));

  // wang sets it by label, sees it in show, list --where and export.
  wang.replica.reset();  // the kehu binary writes; this test reopens afterwards
  CliResult bad_value = wang.kehu({"customer", "edit", a.code, "--set", "会员等级=钻石卡"});
  CHECK(bad_value.exit_code == 2);
  CHECK_THAT(bad_value.err, Catch::Contains("会员等级 (vip_level): \"钻石卡\" is not one of: 金卡/gold"));
  CliResult set = wang.kehu({"customer", "edit", a.code, "--set", "会员等级=金卡"});
  INFO(set.describe());
  REQUIRE(set.exit_code == 0);
  CliResult show = wang.kehu({"customer", "show", a.code});
  CHECK_THAT(show.out, Catch::Contains("会员等级") && Catch::Contains("金卡"));
  CliResult where = wang.kehu({"--json", "customer", "list", "--where", "vip_level=gold"});
  REQUIRE(where.exit_code == 0);
  json wj = json::parse(where.out);
  REQUIRE(wj.size() == 1);
  CHECK(wj[0]["code"] == a.code);
  CHECK(wj[0]["vip_level"] == "gold");
  CHECK(json::parse(wang.kehu({"--json", "customer", "list", "--where", "会员等级=银卡"}).out).empty());
  const std::string csv = dir.file("wang.csv");
  REQUIRE(wang.kehu({"export", csv}).exit_code == 0);
  const std::string text = read_file(csv);
  CHECK(csv_line_with(text, "江苏甲公司")[column_of(csv_line_with(text, "客户名称"), "会员等级")] == "金卡");

  // It syncs to the server and on to the admin.
  wang.replica = kehu::Replica::open(wang.path, "pass-wang");
  wang.sync();
  CHECK(wang.replica->changes_in_state("rejected").empty());
  root.replica = kehu::Replica::open(root.path, "pass-root");
  root.sync();
  CHECK(root.customer(a.code).fields["vip_level"] == "gold");
  CHECK(root.replica->schema().collection("customers").find("会员等级") != nullptr);
}

TEST_CASE("fields: a restricted custom field never reaches sales", "[fields]") {
  ServerFixture s;
  ScratchDir dir;
  Device root(dir, s, "root");
  const kehu::Record a = root.replica->add("customers", new_customer("江苏甲公司"));
  root.replica->edit(a.code, {{"province", "江苏"}, {"owner", "wang"}});
  root.sync();
  root.replica.reset();
  CliResult added = root.kehu({"schema", "add-field", "customers", "margin_rate", "--type", "integer", "--label",
                               "毛利率", "--restricted"});
  INFO(added.describe());
  REQUIRE(added.exit_code == 0);
  REQUIRE(root.kehu({"customer", "edit", a.code, "--set", "毛利率=37"}).exit_code == 0);
  root.replica = kehu::Replica::open(root.path, "pass-root");
  root.sync();
  REQUIRE(root.replica->changes_in_state("rejected").empty());

  // The raw pull: no trace of the field in records or revisions.
  Reply pull = s.post("/v1/pull", {{"cursor", "0"}, {"limit", 5000}}, s.login("wang"));
  REQUIRE(pull.status == 200);
  REQUIRE(pulled_by_code(pull.body, a.code) != nullptr);
  CHECK(pull.body["schema_version"] == 1);
  CHECK(pull.body.dump().find("margin_rate") == std::string::npos);
  // A manager reads it.
  Reply mpull = s.post("/v1/pull", {{"cursor", "0"}, {"limit", 5000}}, s.login("zhao"));
  REQUIRE(pulled_by_code(mpull.body, a.code) != nullptr);
  CHECK((*pulled_by_code(mpull.body, a.code))["fields"]["margin_rate"] == 37);

  Device wang(dir, s, "wang");
  CHECK_FALSE(wang.customer(a.code).fields.contains("margin_rate"));
  // The definition is known (it is not secret); a sales user may not write the field.
  const kehu::FieldDef* f = wang.replica->schema().collection("customers").find("margin_rate");
  REQUIRE(f != nullptr);
  CHECK(f->restricted);
  // The device refuses it at once (its role is known from the login)…
  CHECK_THROWS_WITH(wang.replica->edit(a.code, {{"margin_rate", "50"}}),
                    Catch::Contains("毛利率 (margin_rate) is restricted"));
  CHECK(wang.replica->pending_changes(0, 10).empty());
  // …and the server refuses it from any client.
  Reply pushed = s.post("/v1/push",
                        {{"changes", json::array({kehu::test::make_change(
                             kehu::new_uuid(), wang.customer(a.code).id, "update", wang.customer(a.code).rev,
                             kehu::test::hlc_now(), "dev-wang", 1, {{"margin_rate", {{"old", nullptr}, {"new", 50}}}})})}},
                        s.login("wang"));
  REQUIRE(pushed.status == 200);
  CHECK(pushed.body["results"][0]["status"] == "rejected");
  CHECK_THAT(pushed.body["results"][0]["error"]["message"].get<std::string>(),
             Catch::Contains("毛利率 (margin_rate) is a restricted field"));
  root.sync();
  CHECK(root.customer(a.code).fields["margin_rate"] == 37);
}

TEST_CASE("fields: a custom value survives edits by a replica that does not know the field", "[fields]") {
  ServerFixture s;
  ScratchDir dir;
  Device root(dir, s, "root");
  const kehu::Record a = root.replica->add("customers", new_customer("江苏甲公司"));
  root.replica->edit(a.code, {{"province", "江苏"}, {"owner", "wang"}});
  root.sync();
  // wang's device syncs before the field exists.
  Device wang(dir, s, "wang");
  root.replica.reset();
  REQUIRE(root.kehu({"schema", "add-field", "customers", "vip_level", "--type", "enum", "--label", "会员等级",
                     "--values", "金卡,银卡"})
              .exit_code == 0);
  REQUIRE(root.kehu({"customer", "edit", a.code, "--set", "会员等级=金卡"}).exit_code == 0);
  root.replica = kehu::Replica::open(root.path, "pass-root");
  root.sync();

  SECTION("an old client on the wire: a push of another field leaves it alone") {
    // What a client built before custom fields sends: only the field it changed,
    // based on the revision it holds, ignoring schema_version in the pull.
    const std::string token = s.login("wang", "old-device");
    Reply pull = s.post("/v1/pull", {{"cursor", "0"}, {"limit", 5000}}, token);
    const json* rec = pulled_by_code(pull.body, a.code);
    REQUIRE(rec != nullptr);
    CHECK((*rec)["fields"]["vip_level"] == "金卡");
    json change = kehu::test::make_change("0e8a3f4c-0000-4000-8000-000000000001", (*rec)["id"].get<std::string>(),
                                          "update", (*rec)["rev"].get<std::int64_t>(),
                                          kehu::test::hlc_now(), "old-device", 1,
                                          {{"need", {{"old", "办公家具"}, {"new", "会议桌"}}}});
    Reply push = s.post("/v1/push", {{"device", "old-device"}, {"changes", {change}}}, token);
    REQUIRE(push.status == 200);
    INFO(push.body.dump());
    REQUIRE(push.body["results"][0]["status"] == "applied");
    root.sync();
    CHECK(root.customer(a.code).fields["need"] == "会议桌");
    CHECK(root.customer(a.code).fields["vip_level"] == "金卡");
  }
  SECTION("a device that has not got the field: pulled, edited on another field, synced") {
    // The pull brings the record with the field before the list of fields: the
    // state of a device that has not fetched the new schema (or an old build).
    wang.sync();
    // Forget the list, as an older client never had it.
    wang.replica->set_meta(kehu::kCustomFieldsMeta, "");
    REQUIRE(wang.replica->schema().collection("customers").find("vip_level") == nullptr);
    CHECK(wang.customer(a.code).fields["vip_level"] == "金卡");
    wang.replica->edit(a.code, {{"need", "会议桌"}});
    auto pending = wang.replica->pending_changes(0, 10);
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].change.fields.count("vip_level") == 0);
    // Its show, list and export do not trip over the unknown key.
    wang.replica.reset();
    CliResult show = wang.kehu({"customer", "show", a.code});
    CHECK(show.exit_code == 0);
    CHECK(show.out.find("会员等级") == std::string::npos);
    CHECK(wang.kehu({"customer", "list"}).exit_code == 0);
    CHECK(wang.kehu({"export", dir.file("old.csv")}).exit_code == 0);
    CHECK(read_file(dir.file("old.csv")).find("会员等级") == std::string::npos);
    wang.replica = kehu::Replica::open(wang.path, "pass-wang");
    // Push, pull: the value is on the server and still in the replica.
    wang.sync();
    CHECK(wang.replica->changes_in_state("rejected").empty());
    CHECK(wang.customer(a.code).fields["vip_level"] == "金卡");
    CHECK(wang.customer(a.code).fields["need"] == "会议桌");
    Reply pull = s.post("/v1/pull", {{"cursor", "0"}, {"limit", 5000}}, s.login("root"));
    const json* rec = pulled_by_code(pull.body, a.code);
    REQUIRE(rec != nullptr);
    CHECK((*rec)["fields"]["vip_level"] == "金卡");
    CHECK((*rec)["fields"]["need"] == "会议桌");
    // The sync copied the list again (the server's version is newer than none).
    CHECK(wang.replica->schema().collection("customers").find("vip_level") != nullptr);
  }
}

TEST_CASE("fields: a required custom follow-up field imports from its column, by label or --map",
          "[fields][cli]") {
  ServerFixture s;
  ScratchDir dir;
  Device root(dir, s, "root");
  root.replica.reset();
  CliResult added = root.kehu({"schema", "add-field", "followups", "visit_no", "--type", "integer", "--label",
                               "拜访序号", "--required"});
  INFO(added.describe());
  REQUIRE(added.exit_code == 0);
  auto sheet = [&](const std::string& name, const std::string& text) {
    const std::string path = dir.file(name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  };
  auto visit_of = [&](const std::string& customer) -> json {
    json list = json::parse(root.kehu({"--json", "customer", "list", "--search", customer}).out);
    REQUIRE(list.size() == 1);
    json fus = json::parse(root.kehu({"--json", "followup", "list", list[0]["code"]}).out);
    REQUIRE(fus.size() == 1);
    return fus[0].value("visit_no", json());
  };
  const std::string head = "客户名称,联系人,联系电话,核心需求,跟进日期,跟进人,跟进内容";
  // By its label; a row without follow-up cells needs no 拜访序号. Before the fix
  // every row failed with "拜访序号 (visit_no) is required".
  const std::string by_label = sheet("label.csv", head + ",拜访序号\n"
                                                         "甲科技公司,张三,13800000001,礼盒,2026-11-01,李四,电话,1\n"
                                                         "乙贸易公司,王五,13800000002,茶叶,,,,\n");
  CliResult imp = root.kehu({"import", by_label});
  INFO(imp.describe());
  REQUIRE(imp.exit_code == 0);
  CHECK(visit_of("甲科技公司") == 1);
  CHECK(json::parse(root.kehu({"--json", "customer", "list", "--search", "乙贸易公司"}).out).size() == 1);

  // Under another header, with --map (before the fix: "no field visit_no").
  const std::string mapped = sheet("mapped.csv", head + ",第几次\n丙回收站,赵六,13800000003,纸箱,2026-11-02,李四,上门,2\n");
  CliResult imp2 = root.kehu({"import", mapped, "--map", "第几次=visit_no"});
  INFO(imp2.describe());
  REQUIRE(imp2.exit_code == 0);
  CHECK(visit_of("丙回收站") == 2);

  // A follow-up without it is refused, naming the field; nothing is written.
  const std::string missing = sheet("missing.csv", head + "\n丁商行,钱七,13800000004,文具,2026-11-03,李四,微信\n");
  CliResult bad = root.kehu({"import", missing});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err + bad.out, Catch::Matchers::Contains("拜访序号 (visit_no) is required"));
  // The sheet has no such column: the message says where it would go.
  CHECK_THAT(bad.err, Catch::Matchers::Contains("the sheet has no 拜访序号 column") &&
                          Catch::Matchers::Contains("kehu followup add"));
  CliResult zh = root.kehu({"import", missing}, "zh");
  CHECK_THAT(zh.err, Catch::Matchers::Contains("表格里没有“拜访序号”列"));
  CHECK(json::parse(root.kehu({"--json", "customer", "list", "--search", "丁商行"}).out).empty());
  // A sheet with the column and an empty cell: no word about a column.
  const std::string empty_cell = sheet("empty.csv", head + ",拜访序号\n丁商行,钱七,13800000004,文具,2026-11-03,李四,微信,\n");
  CliResult bad2 = root.kehu({"import", empty_cell});
  CHECK(bad2.exit_code == 2);
  CHECK_THAT(bad2.err, Catch::Matchers::Contains("拜访序号 (visit_no) is required") &&
                           !Catch::Matchers::Contains("no 拜访序号 column"));
}

TEST_CASE("fields: a required custom follow-up field leaves a lone 跟进日期 column out - the customers still import",
          "[fields][import]") {
  ServerFixture s;
  ScratchDir dir;
  Device root(dir, s, "root");
  root.replica.reset();
  // The README's own example.
  CliResult added = root.kehu({"schema", "add-field", "followups", "visit_no", "--type", "integer", "--label",
                               "拜访序号", "--label-en", "Visit no.", "--required"});
  INFO(added.describe());
  REQUIRE(added.exit_code == 0);
  const std::string bare = dir.file("dates.csv"), with_no = dir.file("dates-no.csv");
  std::ofstream(bare, std::ios::binary) << "客户名称,联系人,联系电话,核心需求,跟进日期\n"
                                           "日期甲公司,张三,13800138001,配件,2026-03-02\n";
  std::ofstream(with_no, std::ios::binary) << "客户名称,联系人,联系电话,核心需求,跟进日期,拜访序号\n"
                                              "日期乙公司,李四,13800138002,配件,2026-03-05,2\n";
  CliResult r = root.kehu({"import", bare});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("1 created") && Contains("跟进日期 not imported") && Contains("拜访序号 (visit_no)"));
  CliResult r2 = root.kehu({"import", with_no});
  INFO(r2.describe());
  REQUIRE(r2.exit_code == 0);
  CHECK_THAT(r2.out, Contains("1 created") && Contains("1 follow-up"));
  CliResult synced = root.kehu({"--json", "sync"});
  INFO(synced.describe());
  REQUIRE(synced.exit_code == 0);
  CHECK(json::parse(synced.out)["rejected"] == 0);
}
