// Times are shown in the user's time zone (TZ), in UTC with --utc, and as
// ISO-8601 UTC in --json. Through the real `kehu` binary.
#include <catch2/catch.hpp>
#include <ctime>
#include <regex>

#include "kehu/record.h"
#include "kehu/text.h"
#include "replica_cli.h"

using Catch::Contains;
using kehu::json;
using kehu::test::ReplicaCli;

namespace {

// The first "YYYY-MM-DD HH:MM" in `text` as Unix seconds read as UTC, or -1.
std::int64_t first_time(const std::string& text) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"((\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}))"))) return -1;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace

TEST_CASE("time: history shows the edit's time in TZ, in UTC with --utc, ISO-8601 in --json",
          "[cli][time]") {
  // POSIX zone rules (CST-8 is UTC+8), so the test needs no tzdata.
  ReplicaCli k;
  auto add = k.run({"customer", "add", "--set", "name=时区测试公司", "--set", "contact=钱七", "--set",
                    "phone=13900003333", "--set", "need=x"});
  REQUIRE(add.exit_code == 0);
  const std::string code = kehu::trim(add.out);

  auto utc = k.run({"--utc", "history", code}, {{"TZ", "CST-8"}});
  INFO(utc.describe());
  REQUIRE(utc.exit_code == 0);
  CHECK_THAT(utc.out, Contains(" UTC"));
  CHECK_FALSE(std::regex_search(utc.out, std::regex(R"(\d{2}T\d{2}:)")));  // no raw ISO text
  const std::int64_t at_utc = first_time(utc.out);
  REQUIRE(at_utc > 0);

  auto shanghai = k.run({"history", code}, {{"TZ", "CST-8"}});
  INFO(shanghai.describe());
  CHECK(first_time(shanghai.out) - at_utc == 8 * 3600);
  CHECK_THAT(shanghai.out, !Contains(" UTC"));
  auto new_york = k.run({"history", code}, {{"TZ", "EST5"}});
  CHECK(first_time(new_york.out) - at_utc == -5 * 3600);

  json hist = json::parse(k.run({"--json", "history", code}, {{"TZ", "CST-8"}}).out);
  REQUIRE(!hist.empty());
  const std::string edited = hist[0].value("edited_at", "");
  INFO(edited);
  CHECK(std::regex_match(edited, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)")));
}
