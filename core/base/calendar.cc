#include "kehu/calendar.h"

#include <cstdio>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu {
namespace {

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(std::int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : kDays[m - 1];
}

// Howard Hinnant's days_from_civil / civil_from_days: exact for every
// Gregorian date, no tables, no time zones.
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  std::int64_t y;
  int m, d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

std::optional<int> digits(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<Civil> parse(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = digits(s.substr(0, 4)), m = digits(s.substr(5, 2)), d = digits(s.substr(8, 2));
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
    return std::nullopt;
  return Civil{*y, *m, *d};
}

}  // namespace

std::optional<std::int64_t> day_number(std::string_view ymd) {
  auto c = parse(ymd);
  if (!c) return std::nullopt;
  return days_from_civil(c->y, c->m, c->d);
}

std::string date_of_day(std::int64_t day) {
  const Civil c = civil_from_days(day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

std::string add_days(std::string_view ymd, std::int64_t days) {
  auto n = day_number(ymd);
  if (!n) throw Error(Errc::internal, "add_days: \"" + std::string(ymd) + "\" is not a date");
  return date_of_day(*n + days);
}

std::optional<std::string> next_anniversary(std::string_view birthday, std::string_view today) {
  auto b = parse(birthday);
  auto t = parse(today);
  if (!b || !t) return std::nullopt;
  for (std::int64_t y = t->y;; ++y) {
    const int d = (b->m == 2 && b->d == 29 && !is_leap(y)) ? 28 : b->d;
    if (days_from_civil(y, b->m, d) >= days_from_civil(t->y, t->m, t->d)) {
      return date_of_day(days_from_civil(y, b->m, d));
    }
  }
}

std::string checked_today(std::string_view ymd, std::string_view what) {
  if (!day_number(ymd)) {
    const std::string typed(ymd), name(what);
    throw Error(Errc::usage, tr(name + " \"" + typed + "\" is not a date: expected YYYY-MM-DD, a real day (e.g. 2026-11-27)",
                                name + " “" + typed + "”不是日期：应为 YYYY-MM-DD，且是真实存在的一天（如 2026-11-27）"));
  }
  return std::string(ymd);
}

}  // namespace kehu
