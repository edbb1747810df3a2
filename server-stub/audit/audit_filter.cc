#include "audit_filter.h"

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool valid_date(std::string_view s) {
  int y = 0, m = 0, d = 0;
  return s.size() >= 10 && digits(s, 0, 4, y) && s[4] == '-' && digits(s, 5, 2, m) && s[7] == '-' &&
         digits(s, 8, 2, d) && y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

bool valid_time(std::string_view s) {
  // "YYYY-MM-DDTHH:MM:SSZ"
  int h = 0, mi = 0, se = 0;
  return s.size() == 20 && valid_date(s) && s[10] == 'T' && digits(s, 11, 2, h) && s[13] == ':' &&
         digits(s, 14, 2, mi) && s[16] == ':' && digits(s, 17, 2, se) && s[19] == 'Z' && h <= 23 &&
         mi <= 59 && se <= 59;
}

}  // namespace

std::string parse_time_bound(std::string_view field, std::string_view text, TimeBound bound) {
  if (text.size() == 10 && valid_date(text)) {
    return std::string(text) + (bound == TimeBound::start ? "T00:00:00Z" : "T23:59:59Z");
  }
  if (valid_time(text)) return std::string(text);
  throw Error(Errc::validation, tr("\"" + std::string(field) + "\": \"" + std::string(text) +
                                    "\" is not a date: expected YYYY-MM-DD (a UTC day) or "
                                    "YYYY-MM-DDTHH:MM:SSZ (UTC), a day that exists",
                                "\"" + std::string(field) + "\"：“" + std::string(text) +
                                    "”不是日期：应为存在的日期，格式为 YYYY-MM-DD（UTC 日期）或 "
                                    "YYYY-MM-DDTHH:MM:SSZ（UTC）"));
}

void AuditFilter::check() const {
  if (!since.empty() && !until.empty() && since > until) {
    throw Error(Errc::validation, tr("\"since\": \"" + since + "\" is after \"until\": \"" + until +
                                      "\": since must not be later than until",
                                  "\"since\"：“" + since + "”晚于 \"until\"：“" + until + "”：since 不能晚于 until"));
  }
}

bool AuditFilter::matches(const json& revision) const {
  if (!user.empty() && revision.value("author", std::string()) != user) return false;
  if (!since.empty() || !until.empty()) {
    const std::string at = revision.value("at", std::string());
    if (!since.empty() && at < since) return false;
    if (!until.empty() && at > until) return false;
  }
  return records.empty() || records.count(revision.value("record_id", std::string())) > 0;
}

bool AuditFilter::may_match(std::string_view body) const {
  if (user.empty()) return true;
  return body.find("\"author\":" + json(user).dump()) != std::string_view::npos;
}

}  // namespace kehu::server
