// What Chinese users type (validate.cc, text.cc fold_fullwidth, customer_code.cc
// canonical_code): full-width digits and punctuation, 2026年12月1日 and other
// date spellings, Excel serial days, 1.2万 amounts, lower-case codes, ambiguous
// day/month orders refused, and every missing required field named at once.
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/schema.h"
#include "kehu/text.h"
#include "kehu/xlsx.h"

using namespace kehu;
using json = nlohmann::json;
using Catch::Matchers::Contains;

namespace {

const FieldDef& fld(std::string_view collection, std::string_view key) {
  return Schema::builtin().collection(collection).field(key);
}

const FieldDef& customer(std::string_view key) { return fld("customers", key); }

// The built-in schema has no datetime field; custom fields may be one.
FieldDef datetime_field() {
  FieldDef f;
  f.key = "visited_at";
  f.zh = "拜访时间";
  f.en = "Visited at";
  f.type = FieldType::datetime;
  return f;
}

json accepted(const FieldDef& f, std::string_view input) {
  INFO(f.key << " <- \"" << input << "\"");
  json got;
  REQUIRE_NOTHROW(got = normalize_value(f, input));
  return got;
}

// The validation message normalising `input` throws ("" if it is accepted).
std::string rejection(const FieldDef& f, std::string_view input) {
  try {
    (void)normalize_value(f, input);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::validation);
    return e.what();
  }
  return "";
}

std::string required_message(const CollectionDef& coll, const json& fields) {
  try {
    check_required(coll, fields);
  } catch (const Error& e) {
    CHECK(e.code() == Errc::validation);
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("fold_fullwidth: full-width forms, the ideographic space and full stop to ASCII",
          "[text][input]") {
  CHECK(fold_fullwidth("１３９１２３４９９９９") == "13912349999");
  CHECK(fold_fullwidth("ｃ２０２６１１００１") == "c202611001");
  CHECK(fold_fullwidth("ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ") == "ABC@example.com");
  CHECK(fold_fullwidth("（０１０）１２３４－５６７８") == "(010)1234-5678");
  CHECK(fold_fullwidth("１２，０００．５０") == "12,000.50");
  CHECK(fold_fullwidth("０９：３０") == "09:30");
  CHECK(fold_fullwidth("！～") == "!~");  // both ends of U+FF01..U+FF5E
  CHECK(fold_fullwidth("1\u30002") == "1 2");
  CHECK(fold_fullwidth("1。5") == "1.5");
  // Everything else is kept: CJK, ￥ (U+FFE5), 、 (U+3001), the neighbours of the
  // range (U+FF00, U+FF5F), and bytes that are not UTF-8.
  CHECK(fold_fullwidth("明达科技、￥") == "明达科技、￥");
  CHECK(fold_fullwidth("\xEF\xBC\x80\xEF\xBD\x9F") == "\xEF\xBC\x80\xEF\xBD\x9F");
  CHECK(fold_fullwidth("a\xEF\xBC") == "a\xEF\xBC");
  CHECK(fold_fullwidth("\xFF\x80z") == "\xFF\x80z");
  CHECK(fold_fullwidth("") == "");
}

TEST_CASE("full-width input is folded for numbers, dates, money, phones, codes and email only",
          "[schema][input]") {
  CHECK(accepted(customer("phone"), "１３９１２３４９９９９") == "13912349999");
  CHECK(accepted(customer("phone"), "＋８６　１３９－１２３４－９９９９") == "13912349999");
  CHECK(accepted(customer("phone"), "（０１０）１２３４５６７８") == "010-12345678");
  CHECK(normalize_phone("１３９１２３４９９９９") == "13912349999");
  CHECK(accepted(fld("orders", "quantity"), "１，２００") == 1200);
  CHECK(accepted(fld("orders", "amount"), "￥１２，０００．５０") == 1200050);
  CHECK(accepted(customer("birthday"), "１９９０－０５－０８") == "1990-05-08");
  CHECK(accepted(customer("email"), "ＺＨＡＮＧ＠ＥＸＡＭＰＬＥ．ＣＯＭ") == "ZHANG@example.com");
  CHECK(accepted(customer("code"), "Ｃ２０２６１１００１") == "C202611001");
  CHECK(accepted(fld("targets", "period"), "２０２６－ｑ４") == "2026-Q4");
  CHECK(accepted(customer("credit_rating"), "Ａ级") == "A");
  // Free text keeps what was typed.
  CHECK(accepted(customer("name"), "ＡＢＣ科技（北京）") == "ＡＢＣ科技（北京）");
  CHECK(accepted(customer("notes"), "电话１３９１２３４９９９９") == "电话１３９１２３４９９９９");
  CHECK(accepted(customer("tags"), "ＶＩＰ") == json{"ＶＩＰ"});
  // A rejection quotes the value as typed, not as folded.
  const std::string msg = rejection(customer("phone"), "１３９１２３");
  CHECK_THAT(msg, Contains("联系电话 (phone): \"１３９１２３\" is not a phone number"));
}

TEST_CASE("dates: year first with - / . or 年月日, five-digit Excel serials", "[schema][input]") {
  const FieldDef& d = customer("next_date");
  for (const char* typed : {"2026-12-01", "2026-12-1", "2026/12/1", "2026.12.1", "2026/12/01",
                            "2026年12月1日", "2026年12月01日", "2026年12月1号", "2026年12月1",
                            "２０２６年１２月１日", "２０２６／１２／１", "2026。12。1", "46357"})
    CHECK(accepted(d, typed) == "2026-12-01");
  // With a time of day, as other systems export a date and Excel shows it as
  // the day: the day (walkthrough 19, R19-7).
  for (const char* typed : {"2026-12-01 0:00", "2026/12/1 12:00:00", "2026年12月1日 09:30", "2026-12-01T09:30:00Z",
                            "2026-12-01T00:00:00", "46357.5", "46357.99"})
    CHECK(accepted(d, typed) == "2026-12-01");
  CHECK_THAT(rejection(d, "2026-12-01 25:00"), Contains("is not a valid date"));
  CHECK_THAT(rejection(d, "2026-02-30 09:30"), Contains("is not a day"));
  // The serial rule agrees with the xlsx reader's conversion of date cells.
  for (int serial : {10000, 25569, 45658, 46000, 46357, 73051, 99999})
    CHECK(accepted(d, std::to_string(serial)) == excel_serial_to_date(serial, false));
  CHECK(accepted(d, "10000") == "1927-05-18");
  CHECK(accepted(d, "99999") == "2173-10-13");
  // Year last: taken when only one order gives a real date, or both the same day.
  CHECK(accepted(d, "25/12/2026") == "2026-12-25");
  CHECK(accepted(d, "12/25/2026") == "2026-12-25");
  CHECK(accepted(d, "5.5.2026") == "2026-05-05");
  CHECK(accepted(d, "31-1-2026") == "2026-01-31");

  const std::string rule =
      "is not a valid date: expected YYYY-MM-DD, YYYY/M/D, YYYY.M.D or YYYY年M月D日";
  for (const char* bad : {"2026", "202612", "20261201", "09999", "100000", "2026年12月",
                          "26年12月1日", "12月1日", "1/12/26",
                          "13/13/2026", "31/2/2026", "2026/12-1", "46,357"}) {
    INFO(bad);
    CHECK_THAT(rejection(d, bad), Contains("下次跟进日期 (next_date): \"" + std::string(bad) + "\"") &&
                                      Contains(rule));
  }
  CHECK_THAT(rejection(d, "1899年12月31日"), Contains("is out of range"));
  // The form is right, the day does not exist: said as such.
  CHECK_THAT(rejection(d, "2026年2月30日"), Contains("is not a day: February 2026 has no day 30"));
  CHECK_THAT(rejection(d, "2026年13月1日"), Contains("is not a day: there is no month 13"));
  CHECK_THAT(rejection(d, "2026.13.1"), Contains("is not a day: there is no month 13"));
}

TEST_CASE("a date whose day and month could be swapped is refused, saying why", "[schema][input]") {
  const FieldDef& d = fld("followups", "date");
  CHECK(rejection(d, "12/1/2026") ==
        "跟进日期 (date): \"12/1/2026\" is ambiguous: the order of day and month is unknown "
        "(2026-12-01 or 2026-01-12); write the year first: YYYY-MM-DD, YYYY/M/D, YYYY.M.D or "
        "YYYY年M月D日");
  CHECK_THAT(rejection(d, "1/12/2026"),
             Contains("\"1/12/2026\" is ambiguous") && Contains("(2026-01-12 or 2026-12-01)"));
  CHECK_THAT(rejection(d, "3.4.2026"), Contains("is ambiguous"));
  CHECK_THAT(rejection(d, "１２／１／２０２６"),
             Contains("\"１２／１／２０２６\" is ambiguous"));
  CHECK_THAT(rejection(datetime_field(), "12/1/2026 09:30"),
             Contains("拜访时间 (visited_at): \"12/1/2026 09:30\" is ambiguous"));
}

TEST_CASE("datetimes: the same date forms plus the time, or an Excel serial with a fraction",
          "[schema][input]") {
  const FieldDef dt = datetime_field();
  CHECK(accepted(dt, "2026/12/1 09:30") == "2026-12-01T09:30:00Z");
  CHECK(accepted(dt, "2026.12.1 09:30:15") == "2026-12-01T09:30:15Z");
  CHECK(accepted(dt, "2026年12月1日 09:30") == "2026-12-01T09:30:00Z");
  CHECK(accepted(dt, "2026年12月1日09:30") == "2026-12-01T09:30:00Z");
  CHECK(accepted(dt, "２０２６－１２－０１　０９：３０") == "2026-12-01T09:30:00Z");
  CHECK(accepted(dt, "25/12/2026 18:00") == "2026-12-25T18:00:00Z");
  CHECK(accepted(dt, "46357") == "2026-12-01T00:00:00Z");
  CHECK(accepted(dt, "46357.5") == "2026-12-01T12:00:00Z");
  CHECK(accepted(dt, "46357.375") == "2026-12-01T09:00:00Z");
  CHECK(accepted(dt, "46357.99999999") == "2026-12-02T00:00:00Z");  // rounds to the second
  CHECK(accepted(dt, "2026-12-01T09:30:00Z") == "2026-12-01T09:30:00Z");
  // A one-digit hour, as people type it.
  CHECK(accepted(dt, "2026/12/1 9:30") == "2026-12-01T09:30:00Z");
  CHECK(accepted(dt, "2026年12月1日9:05:07") == "2026-12-01T09:05:07Z");
  for (const char* bad : {"2026年12月1日", "2026年12月1日 25:00", "46357.x", "2026/12/1T09:30:00",
                          "4635.5", "2026/12/1 9:3", "2026/12/1 :30", "2026-12-01T9:30:00Z",
                          "2026/12/1 9:60"}) {
    INFO(bad);
    CHECK_THAT(rejection(dt, bad), Contains("is not a valid date and time"));
  }
}

TEST_CASE("money: 1.2万, 3亿, ¥ ￥ 元 and thousands separators, in whole fen", "[schema][input]") {
  const FieldDef& amount = fld("orders", "amount");
  CHECK(accepted(amount, "1.2万") == 1200000);
  CHECK(accepted(amount, "1.2 万") == 1200000);
  CHECK(accepted(amount, "¥1.2万元") == 1200000);
  CHECK(accepted(amount, "１．２万") == 1200000);
  CHECK(accepted(amount, "1.2345万") == 1234500);
  CHECK(accepted(amount, "1.234567万") == 1234567);  // 12,345.67 yuan
  CHECK(accepted(amount, "-0.5万") == -500000);
  CHECK(accepted(amount, "1,200万") == 1200000000);
  CHECK(accepted(amount, "3亿") == std::int64_t{30000000000});
  CHECK(accepted(amount, "¥12,000.50") == 1200050);
  CHECK(accepted(amount, "￥12,000.50") == 1200050);
  CHECK(accepted(amount, "12,000.50元") == 1200050);
  CHECK(accepted(amount, "¥１２，０００．５０") == 1200050);
  // The precision rule is unchanged: whole fen.
  CHECK_THAT(rejection(amount, "1.2345678万"),
             Contains("金额 (amount): \"1.2345678万\" has more than 6 decimals") &&
                 Contains("whole fen"));
  CHECK_THAT(rejection(amount, "12.345"), Contains("has more than 2 decimals"));
  CHECK_THAT(rejection(amount, "100000000000亿"), Contains("is too large"));
  for (const char* bad : {"万", "1.2万万", "万1", "1.2千", "1,20万", "1.2w"}) {
    INFO(bad);
    CHECK_THAT(rejection(amount, bad), Contains("is not an amount of money"));
  }
  // Integers take the units too, when the result is whole.
  const FieldDef& qty = fld("orders", "quantity");
  CHECK(accepted(qty, "1.2万") == 12000);
  CHECK(accepted(qty, "2亿") == 200000000);
  CHECK_THAT(rejection(qty, "1.23456万"), Contains("is not a whole number"));
  CHECK_THAT(rejection(qty, "1.5"), Contains("is not an integer"));
}

TEST_CASE("customer codes in any case are the upper-case code", "[schema][input]") {
  CHECK(canonical_code("c202611001") == "C202611001");
  CHECK(canonical_code("C202611001") == "C202611001");
  CHECK(canonical_code("c2026111000") == "C2026111000");
  CHECK(canonical_code("p202611-3fa9-001") == "P202611-3fa9-001");
  CHECK(canonical_code("P202611-3FA9-001") == "P202611-3fa9-001");  // the device tag typed in capitals
  CHECK(canonical_code("p202611-3Fa9-001") == "P202611-3fa9-001");
  // Not a code's shape: unchanged (provisional tags, record ids, anything).
  CHECK(canonical_code("P-7f3a-0001") == "P-7f3a-0001");
  CHECK(canonical_code("c202613001") == "c202613001");   // month 13
  CHECK(canonical_code("c2026110001") == "c2026110001");  // leading zero in a long serial
  CHECK(canonical_code("0190a6c2-7d9f") == "0190a6c2-7d9f");
  CHECK(canonical_code("") == "");

  const FieldDef& code = customer("code");
  CHECK(accepted(code, "c202611001") == "C202611001");
  CHECK(accepted(code, " c202611001 ") == "C202611001");
  CHECK(accepted(code, "P-7f3a-0001") == "P-7f3a-0001");
  CHECK_NOTHROW(check_stored_value(code, "C202611001"));
}

TEST_CASE("check_required names every missing field in one message", "[schema][input]") {
  const CollectionDef& customers = Schema::builtin().collection("customers");
  CHECK(required_message(customers, {{"phone", "13800138000"}, {"need", "x"}}) ==
        "客户名称 (name), 联系人 (contact) are required");
  CHECK(required_message(customers, {{"name", "明达"}, {"contact", ""}, {"phone", nullptr},
                                     {"need", "x"}}) ==
        "联系人 (contact), 联系电话 (phone) are required");
  CHECK(required_message(customers,
                         {{"name", "明达"}, {"contact", "高敏"}, {"phone", "13800138000"}}) ==
        "核心需求 (need) is required");
  CHECK(required_message(Schema::builtin().collection("targets"), {{"period", "2026"}}) ==
        "负责人 (owner), 目标金额 (amount) are required");
  CHECK(required_message(Schema::builtin().collection("followups"), {{"date", "2026-12-01"}}) ==
        "跟进人 (person), 跟进内容 (content) are required");
}
