// Tests of the field schema (schema.cc) and validation (validate.cc).
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/schema.h"

using namespace kehu;
using json = nlohmann::json;
using Catch::Matchers::Contains;

namespace {

const FieldDef& fld(std::string_view collection, std::string_view key) {
  return Schema::builtin().collection(collection).field(key);
}

const FieldDef& customer(std::string_view key) { return fld("customers", key); }

// The built-in schema has no datetime field; validation must still handle custom ones.
FieldDef datetime_field() {
  FieldDef f;
  f.key = "visited_at";
  f.zh = "拜访时间";
  f.en = "Visited at";
  f.type = FieldType::datetime;
  return f;
}

// The message of the validation error that normalising `input` throws, or nullopt.
std::optional<std::string> rejection(const FieldDef& f, std::string_view input) {
  try {
    (void)normalize_value(f, input);
  } catch (const Error& e) {
    if (e.code() != Errc::validation)
      return std::string("wrong error code: ") + errc_name(e.code());
    return std::string(e.what());
  }
  return std::nullopt;
}

std::optional<std::string> stored_rejection(const FieldDef& f, const json& value) {
  try {
    check_stored_value(f, value);
  } catch (const Error& e) {
    if (e.code() != Errc::validation)
      return std::string("wrong error code: ") + errc_name(e.code());
    return std::string(e.what());
  }
  return std::nullopt;
}

// `input` must be rejected with a message naming the field (label and key), the
// value (as `shown`, which defaults to the input itself) and the rule.
void check_rejects(const FieldDef& f, std::string_view input, const std::string& rule,
                   std::optional<std::string> shown = std::nullopt) {
  INFO(f.key << " <- \"" << input << "\"");
  const std::optional<std::string> msg = rejection(f, input);
  REQUIRE(msg);
  CHECK_THAT(*msg, Contains(f.zh + " (" + f.key + "): ") &&
                       Contains("\"" + shown.value_or(std::string(input)) + "\"") &&
                       Contains(rule));
}

void check_accepts(const FieldDef& f, std::string_view input, const json& expected) {
  INFO(f.key << " <- \"" << input << "\"");
  json got;
  REQUIRE_NOTHROW(got = normalize_value(f, input));
  CHECK(got == expected);
}

void check_stored_rejects(const FieldDef& f, const json& value, const std::string& rule) {
  INFO(f.key << " stored " << value.dump());
  const std::optional<std::string> msg = stored_rejection(f, value);
  REQUIRE(msg);
  CHECK_THAT(*msg, Contains(f.zh + " (" + f.key + "): ") && Contains(rule));
}

std::vector<std::string> keys_of(const CollectionDef& c) {
  std::vector<std::string> keys;
  for (const FieldDef& f : c.fields) keys.push_back(f.key);
  return keys;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// The built-in schema.

TEST_CASE("built-in collections, parents and customer field order", "[schema]") {
  const Schema& s = Schema::builtin();
  std::vector<std::string> names;
  for (const CollectionDef& c : s.collections()) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"customers", "followups", "orders", "contacts",
                                          "services", "activities", "targets"});
  CHECK(&Schema::builtin() == &s);  // one static instance

  for (const CollectionDef& c : s.collections()) {
    INFO(c.name);
    if (c.name == "customers" || c.name == "targets") {
      CHECK(c.parent_field.empty());
    } else {
      CHECK(c.parent_field == "customer");
      const FieldDef& ref = c.field("customer");
      CHECK(ref.type == FieldType::reference);
      CHECK(ref.ref == "customers");
      CHECK(ref.derived);
    }
  }

  CHECK(keys_of(s.collection("customers")) ==
        std::vector<std::string>{"code",         "name",          "industry",
                                 "type",         "stage",         "contact",
                                 "title",        "phone",         "email",
                                 "wechat",       "source",        "province",
                                 "city",         "address",       "need",
                                 "owner",        "status",        "next_plan",
                                 "next_date",    "tags",          "birthday",
                                 "notes",        "credit_rating", "annual_spend",
                                 "credit_limit", "created_at",    "last_followup_at"});
  CHECK(keys_of(s.collection("followups")) ==
        std::vector<std::string>{"customer", "date", "person", "method", "content", "feedback",
                                 "next_plan", "next_date"});
  CHECK(keys_of(s.collection("orders")) == std::vector<std::string>{"customer", "order_no", "date",
                                                                    "product", "quantity", "amount",
                                                                    "status"});
  CHECK(keys_of(s.collection("contacts")) == std::vector<std::string>{"customer", "name", "title",
                                                                      "phone", "email", "wechat",
                                                                      "is_primary", "notes"});
  CHECK(keys_of(s.collection("services")) == std::vector<std::string>{"customer", "date", "kind",
                                                                      "content", "handler",
                                                                      "status", "resolution"});
  CHECK(keys_of(s.collection("activities")) ==
        std::vector<std::string>{"customer", "name", "date", "kind", "result", "cost"});
  CHECK(keys_of(s.collection("targets")) ==
        std::vector<std::string>{"owner", "period", "amount", "customers_target", "notes"});
}

TEST_CASE("built-in field types and flags", "[schema]") {
  std::vector<std::string> required;
  for (const FieldDef& f : Schema::builtin().collection("customers").fields)
    if (f.required) required.push_back(f.key);
  CHECK(required == std::vector<std::string>{"name", "contact", "phone", "need"});

  CHECK(customer("code").derived);
  CHECK(customer("created_at").derived);
  CHECK(customer("last_followup_at").derived);
  CHECK(customer("created_at").type == FieldType::date);
  for (const char* key : {"credit_rating", "annual_spend", "credit_limit"})
    CHECK(customer(key).restricted);
  CHECK_FALSE(customer("name").restricted);
  CHECK(customer("annual_spend").type == FieldType::money);
  CHECK(customer("tags").type == FieldType::tags);
  CHECK(customer("phone").type == FieldType::phone);
  CHECK(customer("email").type == FieldType::email);
  CHECK(customer("type").type == FieldType::enumeration);
  CHECK(customer("type").values.size() == 4);
  CHECK(customer("stage").values.size() == 6);
  CHECK(customer("source").values.size() == 7);
  CHECK(fld("orders", "quantity").type == FieldType::integer);
  CHECK(fld("targets", "amount").required);
  CHECK(fld("services", "kind").required);
  CHECK(fld("followups", "date").required);
}

TEST_CASE("keys and labels are unique and every one finds its field", "[schema]") {
  for (const CollectionDef& c : Schema::builtin().collections()) {
    std::set<std::string> keys, zh, en;
    for (const FieldDef& f : c.fields) {
      INFO(c.name << "." << f.key);
      CHECK(keys.insert(f.key).second);
      CHECK(zh.insert(f.zh).second);
      CHECK(en.insert(lower(f.en)).second);
      CHECK_FALSE(f.en.empty());
      CHECK(c.find(f.key) == &f);
      CHECK(c.find(f.zh) == &f);
      CHECK(c.find(f.en) == &f);
      CHECK(c.find(lower(f.en)) == &f);
      CHECK(&c.field(f.zh) == &f);
      CHECK(f.label(Lang::zh) == f.zh);
      CHECK(f.label(Lang::en) == f.en);

      // Within an enum, no key or label may name two different values.
      std::set<std::string> tokens;
      for (const EnumValue& v : f.values) {
        CHECK_FALSE(v.en.empty());
        CHECK(tokens.insert(lower(v.key)).second);
        CHECK(tokens.insert(v.zh).second);
        if (lower(v.en) != lower(v.key)) CHECK(tokens.insert(lower(v.en)).second);
        CHECK(f.find_value(v.key) == &v);
        CHECK(f.find_value(v.zh) == &v);
        CHECK(f.find_value(v.en) == &v);
      }
    }
  }
}

TEST_CASE("fields are found by key, Chinese label and English label", "[schema]") {
  const CollectionDef& c = Schema::builtin().collection("customers");
  CHECK(c.find("phone")->key == "phone");
  CHECK(c.find("联系电话")->key == "phone");
  CHECK(c.find("Phone")->key == "phone");
  CHECK(c.find("PHONE")->key == "phone");
  CHECK(c.find("客户名称")->key == "name");
  CHECK(c.find("下次跟进日期")->key == "next_date");
  CHECK(c.find("Next follow-up date")->key == "next_date");
  CHECK(c.find("跟进日期") == nullptr);  // a follow-up column, not a customer field
  CHECK(c.find("") == nullptr);
  CHECK(c.find("nope") == nullptr);
  CHECK(Schema::builtin().collection("followups").find("跟进日期")->key == "date");

  try {
    (void)c.field("大客户等级");
    FAIL("field() should throw");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::validation);
    // English names the collection in English (the walkthrough's R5-9).
    CHECK(std::string(e.what()) == "customers has no field \"大客户等级\"");
  }
  {
    kehu::MessageLangScope zh(kehu::Lang::zh);
    try {
      (void)c.field("大客户等级");
      FAIL("field() should throw");
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Contains("客户 (customers)") && Contains("“大客户等级”"));
    }
  }

  CHECK(Schema::builtin().find("orders")->name == "orders");
  CHECK(Schema::builtin().find("nope") == nullptr);
  try {
    (void)Schema::builtin().collection("nope");
    FAIL("collection() should throw");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::usage);
    CHECK_THAT(e.what(), Contains("\"nope\"") && Contains("customers"));
  }
}

TEST_CASE("every customer column of the sample sheet resolves to a customers field", "[schema]") {
  // First line of /work/shared/data/customers-sample.csv without 序号 and the
  // follow-up columns (跟进日期, 跟进人, 跟进方式, 跟进内容, 客户反馈).
  const std::vector<std::string> headers = {
      "客户编号",   "客户名称", "所属行业", "客户类型",     "销售阶段",     "联系人",
      "联系人职位", "联系电话", "邮箱",     "微信",         "客户来源",     "省份",
      "城市",       "地址",     "核心需求", "合作状态",     "下次跟进计划", "下次跟进日期",
      "标签",       "生日",     "创建日期", "最后跟进日期", "备注"};
  const CollectionDef& c = Schema::builtin().collection("customers");
  std::set<const FieldDef*> seen;
  for (const std::string& h : headers) {
    INFO(h);
    const FieldDef* f = c.find(h);
    REQUIRE(f != nullptr);
    CHECK(f->zh == h);
    CHECK(seen.insert(f).second);
  }
  const CollectionDef& fu = Schema::builtin().collection("followups");
  for (const char* h : {"跟进日期", "跟进人", "跟进方式", "跟进内容", "客户反馈"}) {
    INFO(h);
    CHECK(fu.find(h) != nullptr);
  }
}

TEST_CASE("field_type_name", "[schema]") {
  CHECK(std::string(field_type_name(FieldType::text)) == "text");
  CHECK(std::string(field_type_name(FieldType::integer)) == "integer");
  CHECK(std::string(field_type_name(FieldType::money)) == "money");
  CHECK(std::string(field_type_name(FieldType::date)) == "date");
  CHECK(std::string(field_type_name(FieldType::datetime)) == "datetime");
  CHECK(std::string(field_type_name(FieldType::enumeration)) == "enum");
  CHECK(std::string(field_type_name(FieldType::tags)) == "tags");
  CHECK(std::string(field_type_name(FieldType::phone)) == "phone");
  CHECK(std::string(field_type_name(FieldType::email)) == "email");
  CHECK(std::string(field_type_name(FieldType::reference)) == "reference");
}

// ---------------------------------------------------------------------------
// normalize_value, type by type.

TEST_CASE("empty input is null for every type", "[schema]") {
  const std::vector<const FieldDef*> fields = {
      &customer("name"),         &fld("orders", "quantity"), &customer("annual_spend"),
      &customer("birthday"),     &customer("type"),          &customer("tags"),
      &customer("phone"),        &customer("email"),         &fld("orders", "customer"),
      &fld("targets", "period"), &customer("code")};
  const FieldDef dt = datetime_field();
  for (const FieldDef* f : fields) {
    INFO(f->key);
    CHECK(normalize_value(*f, "").is_null());
    CHECK(normalize_value(*f, " \t\r\n").is_null());
    CHECK(normalize_value(*f, "\u3000 \u3000").is_null());
  }
  CHECK(normalize_value(dt, "  ").is_null());
}

TEST_CASE("text: trimmed, no control characters, at most 2000 bytes", "[schema]") {
  const FieldDef& notes = customer("notes");
  check_accepts(notes, "  需经董事会审批\u3000", "需经董事会审批");
  check_accepts(notes, "line one\nline\ttwo", "line one\nline\ttwo");
  check_accepts(notes, "line one\r\nline two", "line one\nline two");  // Windows line ends
  check_accepts(notes, "a  b", "a  b");                                // inner spaces kept

  check_rejects(notes, "bell\x07here",
                "contains a control character (only tab and newline are allowed)", "bell\\x07here");
  check_rejects(notes, "a\rb", "contains a control character", "a\\rb");
  check_rejects(notes, "del\x7f", "contains a control character", "del\\x7f");
  check_rejects(notes, "c1\xc2\x85", "contains a control character", "c1\xc2\x85");
  check_rejects(notes, "bad\xff", "is not valid UTF-8", "bad\\xff");

  const std::string max(2000, 'x');
  check_accepts(notes, max, max);
  std::string too_long;
  for (int i = 0; i < 667; ++i) too_long += "中";  // 2001 bytes, 667 characters
  const std::optional<std::string> msg = rejection(notes, too_long);
  REQUIRE(msg);
  CHECK_THAT(*msg, Contains("备注 (notes): \"中") && Contains("…\"") &&
                       Contains("is too long: 2001 bytes, at most 2000 bytes of UTF-8"));
  CHECK(msg->size() < 400);  // the quoted value is cut, not repeated in full
}

TEST_CASE("customer code: C + yyyymm + serial or a provisional code", "[schema]") {
  const FieldDef& code = customer("code");
  check_accepts(code, "C202405001", "C202405001");
  check_accepts(code, " C2024051234 ", "C2024051234");
  check_accepts(code, "P-7f3a-0001", "P-7f3a-0001");
  check_accepts(code, std::string(32, 'A'), std::string(32, 'A'));
  const std::string rule = "is not a customer code: expected C + yyyymm + serial";
  check_rejects(code, "C2024 05001", rule);
  check_rejects(code, "客户001", rule);
  check_rejects(code, "C_202405001", rule);
  check_rejects(code, std::string(33, 'A'), rule);
}

TEST_CASE("target period: YYYY, YYYY-MM or YYYY-Qn", "[schema]") {
  const FieldDef& period = fld("targets", "period");
  check_accepts(period, "2024", "2024");
  check_accepts(period, "2024-05", "2024-05");
  check_accepts(period, "2024-5", "2024-05");
  check_accepts(period, "2024-12", "2024-12");
  check_accepts(period, "2024-Q2", "2024-Q2");
  check_accepts(period, "2024-q4", "2024-Q4");
  const std::string rule = "is not a period: expected YYYY, YYYY-MM or YYYY-Qn";
  for (const char* bad : {"24", "2024-13", "2024-00", "2024-Q5", "2024-Q0", "2024Q1", "2024/05",
                          "2024-05-01", "1899", "2201-01", "二〇二四", "2024-"})
    check_rejects(period, bad, rule);
}

TEST_CASE("integer: sign, digits, thousands commas, int64", "[schema]") {
  const FieldDef& qty = fld("orders", "quantity");
  check_accepts(qty, "0", 0);
  check_accepts(qty, "42", 42);
  check_accepts(qty, " +42 ", 42);
  check_accepts(qty, "-7", -7);
  check_accepts(qty, "1,200", 1200);
  check_accepts(qty, "-1,234,567", -1234567);
  check_accepts(qty, "007", 7);
  check_accepts(qty, "1000000000000000", std::int64_t{1000000000000000});
  check_accepts(qty, "-1,000,000,000,000,000", std::int64_t{-1000000000000000});

  const std::string rule =
      "is not an integer: expected digits with an optional sign and thousands commas";
  for (const char* bad : {"abc", "1.5", "1,20", "12,34,567", ",100", "1,,200", "1,200,", "1 200",
                          "--1", "+-1", "-", "1e3", "0x10"})
    check_rejects(qty, bad, rule);
  // Reports add them in int64: an int64 extreme made totals wrap (A18-1).
  check_rejects(qty, "1000000000000001", "is too large: an integer is at most 1,000,000,000,000,000 either way");
  check_rejects(qty, "-1000000000000001", "is too large");
  check_rejects(qty, "9223372036854775807", "is too large");
  check_rejects(qty, "99999999999999999999999", "is too large");
}

TEST_CASE("money: yuan text to integer fen, never through floating point", "[schema]") {
  const FieldDef& spend = customer("annual_spend");
  check_accepts(spend, "0.29", 29);  // 0.29 * 100 in double is 28.999999999999996
  check_accepts(spend, "19999999.99", 1999999999);
  check_accepts(spend, "1,234.5", 123450);
  check_accepts(spend, "1234", 123400);
  check_accepts(spend, "0", 0);
  check_accepts(spend, "0.1", 10);
  check_accepts(spend, "¥1,234.50", 123450);
  check_accepts(spend, "￥88", 8800);
  check_accepts(spend, "50000元", 5000000);
  check_accepts(spend, "3.5 元", 350);
  check_accepts(spend, "-12.34", -1234);
  check_accepts(spend, "-¥12.34", -1234);
  check_accepts(spend, "¥-12.34", -1234);
  check_accepts(spend, "-0.01", -1);
  check_accepts(spend, "100,000,000,000.00", std::int64_t{10000000000000});
  check_accepts(spend, "-1000亿", std::int64_t{-10000000000000});

  check_rejects(spend, "1.005", "has more than 2 decimals");
  check_rejects(spend, "0.290", "has more than 2 decimals");
  const std::string rule = "is not an amount of money: expected yuan with at most 2 decimals";
  for (const char* bad : {"abc", "1.", ".5", "1.2.3", "1,23.00", "$12", "12 34", "1e3", "--1", "-",
                          "¥", "1.-5", "五千"})
    check_rejects(spend, bad, rule);
  check_rejects(spend, "100000000000.01", "is too large: an amount is at most 100,000,000,000.00 yuan (1000亿元) either way");
  check_rejects(spend, "-1000.01亿", "is too large");
  check_rejects(spend, "92233720368547758.07", "is too large");
  check_rejects(spend, "100000000000000000000", "is too large");
}

TEST_CASE("date: YYYY-MM-DD and common sheet spellings, real calendar dates", "[schema]") {
  const FieldDef& birthday = customer("birthday");
  check_accepts(birthday, "2024-05-08", "2024-05-08");
  check_accepts(birthday, "2024/05/08", "2024-05-08");
  check_accepts(birthday, "2024.05.08", "2024-05-08");
  check_accepts(birthday, "2024/5/8", "2024-05-08");
  check_accepts(birthday, "2024-5-18", "2024-05-18");
  check_accepts(birthday, "2024-02-29", "2024-02-29");  // leap year
  check_accepts(birthday, "2000-02-29", "2000-02-29");  // divisible by 400
  check_accepts(birthday, "1900-01-01", "1900-01-01");
  check_accepts(birthday, "2200-12-31", "2200-12-31");

  const std::string rule = "is not a valid date: expected YYYY-MM-DD";
  // A date of the right shape on a day the month does not have says so.
  check_rejects(birthday, "2023-02-29", "is not a day: February 2023 has no day 29");
  check_rejects(birthday, "1900-02-29", "is not a day: February 1900 has no day 29");
  check_rejects(birthday, "2024-04-31", "is not a day: April 2024 has no day 31");
  // So does a month that does not exist, and day 0.
  check_rejects(birthday, "2024-13-45", "is not a day: there is no month 13 (months are 1 to 12)");
  check_rejects(birthday, "2024-00-10", "is not a day: there is no month 0");
  check_rejects(birthday, "2024年13月8日", "is not a day: there is no month 13");
  check_rejects(birthday, "2024-01-00", "is not a day: January 2024 has no day 0");
  for (const char* bad : {"2024-13-45x", "2024-13/45", "2024-05/08", "24-05-08", "2024-005-08", "2024-05-08 10:70",
                          "20240508", "May 8 2024", "2024年13月8日后", "2024-05-"})
    check_rejects(birthday, bad, rule);
  check_rejects(birthday, "1899-12-31", "is out of range: the year must be between 1900 and 2200");
  check_rejects(birthday, "2201-01-01", "is out of range");
}

TEST_CASE("datetime: ISO UTC or date with HH:MM[:SS]", "[schema]") {
  const FieldDef dt = datetime_field();
  check_accepts(dt, "2024-05-08T09:30:00Z", "2024-05-08T09:30:00Z");
  check_accepts(dt, "2024-05-08 09:30", "2024-05-08T09:30:00Z");
  check_accepts(dt, "2024-05-08 23:59:59", "2024-05-08T23:59:59Z");
  check_accepts(dt, "2024/5/8 00:00", "2024-05-08T00:00:00Z");
  check_accepts(dt, "2024-05-08 9:30", "2024-05-08T09:30:00Z");  // a one-digit hour, as typed

  const std::string rule = "is not a valid date and time (a date as YYYY-MM-DD";
  for (const char* bad : {"2024-05-08", "2024-05-08T09:30:00", "2024-05-08T09:30Z",
                          "2024-05-08 24:00", "2024-05-08 12:60", "2024-05-08 12:00:60",
                          "2024-05-08 9:3", "2024-02-30 10:00", "2024-05-08 10:00Z", "10:00"})
    check_rejects(dt, bad, rule);
  check_rejects(dt, "1800-01-01 10:00", "is out of range");
}

TEST_CASE("enum: key, Chinese label or English label (any case) to the key", "[schema]") {
  const FieldDef& type = customer("type");
  check_accepts(type, "intention", "intention");
  check_accepts(type, "意向客户", "intention");
  check_accepts(type, "Intention", "intention");
  check_accepts(type, "INTENTION", "intention");
  check_accepts(type, " 成交客户 ", "deal");
  check_accepts(customer("stage"), "潜在客户", "potential");
  check_accepts(customer("stage"), "Contract signing", "contract");
  check_accepts(customer("source"), "客户转介绍", "referral");
  check_accepts(customer("credit_rating"), "A级", "A");
  check_accepts(customer("credit_rating"), "b", "B");
  check_accepts(customer("credit_rating"), "grade c", "C");
  check_accepts(fld("followups", "method"), "微信沟通", "wechat");
  check_accepts(fld("followups", "feedback"), "犹豫", "hesitant");
  check_accepts(fld("contacts", "is_primary"), "是", "yes");

  check_rejects(
      type, "大客户",
      "is not one of: 潜在客户/potential, 意向客户/intention, 成交客户/deal, 流失客户/lost");
  check_rejects(type, "意向", "is not one of:");
  check_rejects(customer("stage"), "签约", "is not one of: 潜在客户/potential, 初步接触/contact");

  CHECK(type.find_value("nope") == nullptr);
  CHECK(type.find_value("") == nullptr);
  CHECK(type.find_value("意向客户")->key == "intention");
}

TEST_CASE("tags: split on six separators, trimmed, unique, sorted", "[schema]") {
  const FieldDef& tags = customer("tags");
  check_accepts(tags, "老客户转介绍;需要演示", json{"老客户转介绍", "需要演示"});
  check_accepts(tags, "b;a;b", json{"a", "b"});
  check_accepts(tags, "c；b,a，d、e|f", json{"a", "b", "c", "d", "e", "f"});
  check_accepts(tags, " 重点客户 ; ;\u3000高预算\u3000;", json{"重点客户", "高预算"});
  check_accepts(tags, "Zeta;alpha;Beta", json{"Beta", "Zeta", "alpha"});  // byte order
  check_accepts(tags, "单个", json{"单个"});
  check_accepts(tags, ";；,", nullptr);  // only separators: no tags
  check_accepts(tags, std::string(50, 't'), json{std::string(50, 't')});

  check_rejects(tags, "ok;" + std::string(51, 't'), "has a tag of 51 bytes",
                "ok;" + std::string(51, 't'));
  std::string long_cn;
  for (int i = 0; i < 17; ++i) long_cn += "标";  // 51 bytes
  check_rejects(tags, long_cn, "each tag may have at most 50 bytes");
  check_rejects(tags, "a\tb", "contains a control character", "a\\tb");
}

TEST_CASE("phone: CN mobiles, landlines with area code, 400/800", "[schema]") {
  const FieldDef& phone = customer("phone");
  // Mobiles.
  check_accepts(phone, "13800138000", "13800138000");
  check_accepts(phone, "138 0013 8000", "13800138000");
  check_accepts(phone, "138-0013-8000", "13800138000");
  check_accepts(phone, "+86 138 0013 8000", "13800138000");
  check_accepts(phone, "+86-13800138000", "13800138000");
  check_accepts(phone, "008613800138000", "13800138000");
  check_accepts(phone, "8613800138000", "13800138000");
  check_accepts(phone, "(+86) 19912345678", "19912345678");
  check_accepts(phone, "14159010928", "14159010928");
  // Landlines.
  check_accepts(phone, "010-12345678", "010-12345678");
  check_accepts(phone, "01012345678", "010-12345678");
  check_accepts(phone, "(010) 1234 5678", "010-12345678");
  check_accepts(phone, "021-8765432", "021-8765432");
  check_accepts(phone, "0755-12345678", "0755-12345678");
  check_accepts(phone, "0755 1234 5678", "0755-12345678");
  check_accepts(phone, "0571-8765432", "0571-8765432");
  check_accepts(phone, "+86 10 12345678", "010-12345678");
  check_accepts(phone, "+86 755 12345678", "0755-12345678");
  check_accepts(phone, "010-12345678-8001", "010-12345678-8001");
  check_accepts(phone, "010-12345678转8001", "010-12345678-8001");
  check_accepts(phone, "0755-1234567 转 12", "0755-1234567-12");
  // Service numbers.
  check_accepts(phone, "400-123-4567", "4001234567");
  check_accepts(phone, "800 123 4567", "8001234567");

  for (const char* bad :
       {"1395678", "12345678901", "10012345678", "138001380001", "1380013800", "12345678",
        "010-123456", "010-123456789", "0155-1234567", "86138001380", "+1 415 555 0100",
        "13800138000-123", "13800138000转1", "010-12345678转", "010-12345678转abc", "400-123-456",
        "tel:13800138000", "+8613800138000x"})
    check_rejects(phone, bad,
                  "is not a phone number: expected a CN mobile (11 digits starting with 1, "
                  "optional +86/0086) or a "
                  "landline with area code (e.g. 010-12345678)");

  CHECK(normalize_phone(" 138 0013 8000 ") == "13800138000");
  CHECK(normalize_phone("0755-12345678-9") == "0755-12345678-9");
  CHECK(normalize_phone("1395678").empty());
  CHECK(normalize_phone("").empty());
}

TEST_CASE("email: one @, local part, dotted domain, domain lower-cased", "[schema]") {
  const FieldDef& email = customer("email");
  check_accepts(email, "hcrnbs@example.com", "hcrnbs@example.com");
  check_accepts(email, " Zhang.San+crm@Example.COM ", "Zhang.San+crm@example.com");
  check_accepts(email, "wang@mail.sub-domain.example.cn", "wang@mail.sub-domain.example.cn");
  check_accepts(email, "用户@example.com", "用户@example.com");
  for (const char* bad : {"not-an-email", "@example.com", "a@b@example.com", "a b@example.com",
                          "a@example", "a@.example.com", "a@example..com", "a@example.com.",
                          "a@exa_mple.com", "a@例子.com", "a@", "a@exa mple.com"})
    check_rejects(email, bad, "is not an email address");
  check_rejects(email, std::string(250, 'a') + "@example.com", "is not an email address",
                std::string(80, 'a') + "…");  // quoted value is cut for long input
  // Invisible and bidi characters, quoted or not, as in any text (A17-6).
  check_rejects(email, "a\u202e@b.cn", "contains the invisible character U+202E", "a<U+202E>@b.cn");
  check_rejects(email, "\"\u200b\"@b.cn", "contains the invisible character U+200B", "\\\"<U+200B>\\\"@b.cn");
  check_rejects(email, "x\ufeff@b.cn", "contains the invisible character U+FEFF", "x<U+FEFF>@b.cn");
  check_rejects(email, "x\u2028@b.cn", "contains the invisible character U+2028", "x<U+2028>@b.cn");
}

TEST_CASE("reference: a non-empty record id", "[schema]") {
  const FieldDef& ref = fld("orders", "customer");
  check_accepts(ref, " 7d9f0c2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f ",
                "7d9f0c2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f");
  check_rejects(ref, "id\nwith newline", "contains a control character", "id\\nwith newline");
}

TEST_CASE("the five bad values of the sample sheet get exact messages", "[schema]") {
  CHECK(rejection(customer("phone"), "1395678") ==
        "联系电话 (phone): \"1395678\" is not a phone number: expected a CN mobile (11 digits "
        "starting with 1, "
        "optional +86/0086) or a landline with area code (e.g. 010-12345678)");

  json row = {
      {"name", nullptr}, {"contact", "无名"}, {"phone", "13956781234"}, {"need", "办公用品"}};
  try {
    check_required(Schema::builtin().collection("customers"), row);
    FAIL("missing 客户名称 accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::validation);
    CHECK(std::string(e.what()) == "客户名称 (name) is required");
  }

  CHECK(rejection(customer("type"), "大客户") ==
        "客户类型 (type): \"大客户\" is not one of: 潜在客户/potential, 意向客户/intention, "
        "成交客户/deal, "
        "流失客户/lost");
  CHECK(rejection(fld("followups", "date"), "2024-31-45") ==
        "跟进日期 (date): \"2024-31-45\" is not a day: there is no month 31 (months are 1 to 12)");
  CHECK(rejection(fld("followups", "date"), "2024-5-8x") ==
        "跟进日期 (date): \"2024-5-8x\" is not a valid date: expected YYYY-MM-DD, YYYY/M/D, "
        "YYYY.M.D or YYYY年M月D日 (or an Excel serial day number)");
  CHECK(rejection(customer("email"), "not-an-email") ==
        "邮箱 (email): \"not-an-email\" is not an email address");
}

TEST_CASE("check_required names every missing required field and skips derived ones",
          "[schema]") {
  const CollectionDef& customers = Schema::builtin().collection("customers");
  json full = {{"name", "明达医疗器械有限公司"},
               {"contact", "高敏"},
               {"phone", "15908301661"},
               {"need", "门店装修设计"}};
  CHECK_NOTHROW(check_required(customers, full));  // code/created_at are derived

  auto message = [&](const CollectionDef& c, const json& fields) -> std::string {
    try {
      check_required(c, fields);
    } catch (const Error& e) {
      CHECK(e.code() == Errc::validation);
      return e.what();
    }
    return "accepted";
  };
  json no_contact = full;
  no_contact.erase("contact");
  CHECK(message(customers, no_contact) == "联系人 (contact) is required");
  json empty_phone = full;
  empty_phone["phone"] = "";
  CHECK(message(customers, empty_phone) == "联系电话 (phone) is required");
  CHECK(message(customers, json::object()) ==
        "客户名称 (name), 联系人 (contact), 联系电话 (phone), 核心需求 (need) are required");
  CHECK_THAT(message(customers, json::array()), Contains("客户 (customers)"));

  // Child collections: the derived customer reference is not the user's to give.
  const CollectionDef& followups = Schema::builtin().collection("followups");
  CHECK_NOTHROW(check_required(
      followups, {{"date", "2024-05-08"}, {"person", "张三"}, {"content", "电话回访"}}));
  CHECK(message(followups, {{"date", "2024-05-08"}, {"person", "张三"}}) ==
        "跟进内容 (content) is required");
  CHECK(message(Schema::builtin().collection("targets"), {{"owner", "张三"}, {"period", "2024"}}) ==
        "目标金额 (amount) is required");
}

// ---------------------------------------------------------------------------
// Stored values.

TEST_CASE("check_stored_value accepts stored shapes", "[schema]") {
  CHECK_NOTHROW(check_stored_value(customer("name"), "明达医疗器械有限公司"));
  CHECK_NOTHROW(check_stored_value(customer("name"), nullptr));
  CHECK_NOTHROW(check_stored_value(fld("orders", "quantity"), -3));
  CHECK_NOTHROW(
      check_stored_value(customer("annual_spend"), json::parse("123450")));  // unsigned after parse
  CHECK_NOTHROW(check_stored_value(customer("birthday"), "1968-10-19"));
  CHECK_NOTHROW(check_stored_value(datetime_field(), "2024-05-08T09:30:00Z"));
  CHECK_NOTHROW(check_stored_value(customer("type"), "intention"));
  CHECK_NOTHROW(check_stored_value(customer("tags"), json{"华东地区", "需要演示"}));
  CHECK_NOTHROW(check_stored_value(customer("tags"), json::array()));
  CHECK_NOTHROW(check_stored_value(customer("phone"), "15908301661"));
  CHECK_NOTHROW(check_stored_value(customer("phone"), "010-12345678-8001"));
  CHECK_NOTHROW(check_stored_value(customer("email"), "hcrnbs@example.com"));
  CHECK_NOTHROW(check_stored_value(fld("orders", "customer"), "7d9f0c2e"));
  CHECK_NOTHROW(check_stored_value(customer("code"), "C202405001"));
  CHECK_NOTHROW(check_stored_value(fld("targets", "period"), "2024-Q2"));
}

TEST_CASE("check_stored_value rejects wrong shapes and non-normalised values", "[schema]") {
  check_stored_rejects(customer("name"), 42, "is not a text string");
  check_stored_rejects(customer("name"), " padded ", "is not in stored form: expected \"padded\"");
  // What a report adds in int64 is bounded, pushed as typed (A18-1).
  check_stored_rejects(fld("orders", "amount"), std::numeric_limits<std::int64_t>::max(), "is too large");
  check_stored_rejects(fld("orders", "amount"), std::numeric_limits<std::int64_t>::min(), "is too large");
  check_stored_rejects(fld("orders", "quantity"), std::int64_t{-1000000000000001}, "is too large");
  CHECK_NOTHROW(check_stored_value(fld("orders", "amount"), std::int64_t{-10000000000000}));
  check_stored_rejects(customer("name"), "", "is not in stored form");
  check_stored_rejects(customer("notes"), "bell\x07", "contains a control character");
  check_stored_rejects(fld("orders", "quantity"), "12", "is not a stored integer");
  check_stored_rejects(fld("orders", "quantity"), 1.5, "is not a stored integer");
  check_stored_rejects(fld("orders", "quantity"), json::parse("18446744073709551615"),
                       "is not a stored integer");
  check_stored_rejects(customer("annual_spend"), 12.5,
                       "is not a stored amount: expected an integer number of fen");
  check_stored_rejects(customer("annual_spend"), "1234.50", "is not a stored amount");
  check_stored_rejects(customer("birthday"), "2024/05/08",
                       "is not in stored form: expected \"2024-05-08\"");
  check_stored_rejects(customer("birthday"), "2024-13-45", "there is no month 13");
  check_stored_rejects(customer("birthday"), "2024-05-0x", "is not a valid date: expected YYYY-MM-DD");
  check_stored_rejects(customer("birthday"), 20240508, "is not a date string");
  check_stored_rejects(datetime_field(), "2024-05-08 09:30", "is not in stored form");
  check_stored_rejects(customer("type"), "意向客户",
                       "is not in stored form: expected \"intention\"");
  check_stored_rejects(customer("type"), "大客户", "is not one of:");
  check_stored_rejects(customer("type"), "Intention", "is not in stored form");
  check_stored_rejects(customer("tags"), "a;b",
                       "is not a stored tag set: expected an array of strings");
  check_stored_rejects(customer("tags"), json{"a", 1}, "expected an array of strings");
  check_stored_rejects(customer("tags"), json{"b", "a"}, "tags must be trimmed, unique and sorted");
  check_stored_rejects(customer("tags"), json{"a", "a"}, "tags must be trimmed, unique and sorted");
  check_stored_rejects(customer("tags"), json{" a"}, "tags must be trimmed, unique and sorted");
  check_stored_rejects(customer("tags"), json{"a;b"}, "tags must be trimmed, unique and sorted");
  check_stored_rejects(customer("tags"), json{""}, "tags must be trimmed, unique and sorted");
  check_stored_rejects(customer("phone"), "138-0013-8000",
                       "is not in stored form: expected \"13800138000\"");
  check_stored_rejects(customer("phone"), "1395678", "is not a phone number");
  check_stored_rejects(customer("email"), "a@Example.com",
                       "is not in stored form: expected \"a@example.com\"");
  check_stored_rejects(customer("email"), "not-an-email", "is not an email address");
  check_stored_rejects(fld("orders", "customer"), 17, "is not a reference string");
  check_stored_rejects(fld("targets", "period"), "2024-q2",
                       "is not in stored form: expected \"2024-Q2\"");

  // Non-string stored values are quoted in their JSON spelling.
  CHECK(stored_rejection(fld("orders", "quantity"), 1.5) ==
        "数量 (quantity): \"1.5\" is not a stored integer: expected a 64-bit JSON integer");
}

// ---------------------------------------------------------------------------
// Display and round trips.

TEST_CASE("display_value per type and language", "[schema]") {
  CHECK(display_value(customer("type"), "intention", Lang::zh) == "意向客户");
  CHECK(display_value(customer("type"), "intention", Lang::en) == "Intention");
  CHECK(display_value(customer("type"), "vip", Lang::zh) == "vip");  // unknown key as is
  CHECK(display_value(customer("annual_spend"), 123450, Lang::zh) == "1234.50");
  CHECK(display_value(customer("annual_spend"), 29, Lang::zh) == "0.29");
  CHECK(display_value(customer("annual_spend"), 0, Lang::zh) == "0.00");
  CHECK(display_value(customer("annual_spend"), -5, Lang::zh) == "-0.05");
  CHECK(display_value(customer("annual_spend"), -123456, Lang::zh) == "-1234.56");
  CHECK(display_value(customer("annual_spend"), json::parse("1999999999"), Lang::en) ==
        "19999999.99");
  CHECK(display_value(customer("annual_spend"), std::numeric_limits<std::int64_t>::min(),
                      Lang::zh) == "-92233720368547758.08");
  CHECK(display_value(customer("tags"), json{"华东地区", "需要演示"}, Lang::zh) ==
        "华东地区;需要演示");
  CHECK(display_value(customer("tags"), json::array(), Lang::zh) == "");
  CHECK(display_value(fld("orders", "quantity"), -1200, Lang::zh) == "-1200");
  CHECK(display_value(customer("birthday"), "1968-10-19", Lang::en) == "1968-10-19");
  CHECK(display_value(customer("phone"), "010-12345678", Lang::zh) == "010-12345678");
  for (const FieldDef* f :
       {&customer("name"), &customer("type"), &customer("annual_spend"), &customer("tags")})
    CHECK(display_value(*f, nullptr, Lang::zh) == "");
}

TEST_CASE("normalize_value(display_value(v)) gives back v for every type", "[schema]") {
  struct Case {
    const FieldDef* field;
    std::vector<json> values;
  };
  const FieldDef dt = datetime_field();
  const std::vector<Case> cases = {
      {&customer("name"), {"明达医疗器械有限公司", "line one\nline\ttwo", "a  \"quoted\"  b"}},
      {&customer("code"), {"C202405001", "P-7f3a-0001"}},
      {&fld("targets", "period"), {"2024", "2024-05", "2024-Q3"}},
      {&fld("orders", "quantity"),
       {0, 1, -1, 1200, std::int64_t{1000000000000000}, std::int64_t{-1000000000000000}}},
      {&customer("annual_spend"),
       {0, 1, 29, -5, 10, 123450, 1999999999, -123456, std::int64_t{10000000000000},
        std::int64_t{-10000000000000}, json::parse("123450")}},
      {&customer("birthday"), {"1968-10-19", "2024-02-29", "1900-01-01", "2200-12-31"}},
      {&dt, {"2024-05-08T09:30:00Z", "1999-12-31T23:59:59Z"}},
      {&customer("tags"),
       {json{"华东地区", "需要演示"}, json{"Beta", "Zeta", "alpha"}, json{"单个"}}},
      {&customer("phone"),
       {"13800138000", "010-12345678", "0755-1234567", "010-12345678-8001", "4001234567"}},
      {&customer("email"), {"hcrnbs@example.com", "Zhang.San+crm@example.com"}},
      {&fld("orders", "customer"), {"7d9f0c2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f"}},
  };
  for (const Case& c : cases) {
    for (const json& v : c.values) {
      for (Lang lang : {Lang::zh, Lang::en}) {
        INFO(c.field->key << " " << v.dump() << (lang == Lang::zh ? " zh" : " en"));
        CHECK_NOTHROW(check_stored_value(*c.field, v));
        CHECK(normalize_value(*c.field, display_value(*c.field, v, lang)) == v);
      }
    }
  }
  // Every value of every built-in enum, in both languages.
  for (const CollectionDef& coll : Schema::builtin().collections())
    for (const FieldDef& f : coll.fields)
      for (const EnumValue& v : f.values)
        for (Lang lang : {Lang::zh, Lang::en}) {
          INFO(coll.name << "." << f.key << " " << v.key);
          CHECK(normalize_value(f, display_value(f, v.key, lang)) == v.key);
        }
  // null displays as "" which normalises back to null.
  CHECK(normalize_value(customer("annual_spend"),
                        display_value(customer("annual_spend"), nullptr, Lang::zh))
            .is_null());
}
