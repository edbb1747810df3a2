// Messages of the core library in the thread's message language: Chinese under
// Lang::zh, the English ones unchanged under Lang::en.
//
// Catch2 2.13 is what the build finds (find_package(Catch2 2.13)), so this
// includes <catch2/catch.hpp> like the other tests.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "kehu/duplicates.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/record_name.h"
#include "kehu/reports.h"
#include "kehu/text.h"
#include "kehu/xlsx.h"

using Catch::Contains;
using kehu::Lang;
using kehu::MessageLangScope;
using json = nlohmann::json;

TEST_CASE("lang core: a file that is not an xlsx workbook", "[lang]") {
  const std::string bytes = "this is not a zip archive";
  {
    MessageLangScope zh(Lang::zh);
    REQUIRE_THROWS_WITH(kehu::read_xlsx_bytes(bytes, "", "客户.xlsx"),
                        Contains("客户.xlsx：不是 xlsx 文件（不是可读取的 zip 压缩包："));
  }
  REQUIRE(kehu::message_lang() == Lang::en);
  REQUIRE_THROWS_WITH(kehu::read_xlsx_bytes(bytes, "", "customers.xlsx"),
                      Contains("customers.xlsx: not an xlsx file (not a readable zip archive: "));
}

TEST_CASE("lang core: a file that cannot be read", "[lang]") {
  const std::string path = "/nonexistent-kehu-dir/无此文件.xlsx";
  {
    MessageLangScope zh(Lang::zh);
    REQUIRE_THROWS_WITH(kehu::read_xlsx(path, ""), "无法读取 " + path);
  }
  REQUIRE_THROWS_WITH(kehu::read_xlsx(path, ""), "cannot read " + path);
}

TEST_CASE("lang core: sheet bytes that are not UTF-8 after a BOM", "[lang]") {
  const std::string bytes = std::string("\xEF\xBB\xBF") + "a,b\n\xFF\xFE\n";
  {
    MessageLangScope zh(Lang::zh);
    REQUIRE_THROWS_WITH(kehu::decode_sheet_bytes(bytes),
                        Contains("字节：不是有效的 UTF-8 编码（文件以 UTF-8 BOM 开头）"));
  }
  REQUIRE_THROWS_WITH(kehu::decode_sheet_bytes(bytes),
                      Contains(": not valid UTF-8 (the file starts with a UTF-8 BOM)"));
}

TEST_CASE("lang core: an unterminated quoted CSV field", "[lang]") {
  const std::string text = "名称,电话\n\"华信电子,138\n";
  {
    MessageLangScope zh(Lang::zh);
    REQUIRE_THROWS_WITH(kehu::parse_csv(text), "第 2 行：引号内的字段没有结束引号");
  }
  REQUIRE_THROWS_WITH(kehu::parse_csv(text), "line 2: unterminated quoted field");
}

TEST_CASE("lang core: stage probabilities and targets", "[lang]") {
  {
    MessageLangScope zh(Lang::zh);
    REQUIRE_THROWS_WITH(kehu::parse_stage_probabilities("contact"),
                        "stage-probability “contact”：应为 阶段=百分比，如 contact=10,needs=25");
    REQUIRE_THROWS_WITH(kehu::checked_period("2026-13"),
                        Contains("周期 (period)：“2026-13”应为年份（2026）、月份（2026-11）或季度（2026-Q4）"));
    REQUIRE_THROWS_WITH(kehu::targets_from_json(json::array({json{{"period", "2026"}}})),
                        Contains("必须填写负责人 (owner)"));
  }
  REQUIRE_THROWS_WITH(kehu::parse_stage_probabilities("contact"),
                      "stage-probability \"contact\": expected STAGE=PERCENT, e.g. contact=10,needs=25");
  REQUIRE_THROWS_WITH(kehu::checked_period("2026-13"), Contains("周期 (period) \"2026-13\": expected a year"));
  REQUIRE_THROWS_WITH(kehu::targets_from_json(json::array({json{{"period", "2026"}}})),
                      Contains(": 负责人 (owner) is required"));
}

TEST_CASE("lang core: what makes two customers duplicates", "[lang]") {
  {
    MessageLangScope zh(Lang::zh);
    CHECK(kehu::same_what("phone", "13800138000") == "电话相同 13800138000");
    CHECK(kehu::same_what("name", "华信电子") == "名称相近（华信电子）");
  }
  CHECK(kehu::same_what("phone", "13800138000") == "same phone 13800138000");
  CHECK(kehu::same_what("name", "华信电子") == "similar name (华信电子)");
}

TEST_CASE("lang core: records are named as lists show them", "[lang]") {
  const std::string id = "0192f1c2-7a3b-7c4d-8e5f-60718293a4b5";
  CHECK(kehu::record_name("customers", id, "C202612001") == "C202612001");
  CHECK(kehu::record_name("customers", id, "") == id);
  CHECK(kehu::record_name("followups", id, "C202612001") == "follow-up 8293a4b5 of C202612001");
  CHECK(kehu::name_with(kehu::record_name("orders", id, ""), "restored", "已恢复") == "order 8293a4b5 restored");
  MessageLangScope zh(Lang::zh);
  const std::string child = kehu::record_name("followups", id, "C202612001");
  CHECK(child == "跟进记录 8293a4b5（客户 C202612001）");
  // No blank after the closing full-width bracket; one after a bare code.
  CHECK(kehu::name_with(child, "restored", "已恢复") == child + "已恢复");
  CHECK(kehu::name_with("C202612001", "restored", "已恢复") == "C202612001 已恢复");
}

TEST_CASE("lang core: a message kept for later is read in the reader's language", "[lang]") {
  const std::string kept = kehu::in_both("request #3 rejected", "申请 #3 被驳回");
  {
    MessageLangScope zh(Lang::zh);
    CHECK(kehu::in_message_lang(kept) == "申请 #3 被驳回");
  }
  {
    MessageLangScope en(Lang::en);
    CHECK(kehu::in_message_lang(kept) == "request #3 rejected");
  }
  // A text kept in one language (older replicas, the server's words) is as it is.
  CHECK(kehu::in_message_lang("合同未签") == "合同未签");
  CHECK(kehu::in_both("C202612001", "C202612001") == "C202612001");
}
