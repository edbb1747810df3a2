#include "kehu/hlc.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace kehu {

std::int64_t system_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string hlc_to_iso(std::int64_t hlc) {
  std::int64_t ms = hlc_ms(hlc);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int the fields can hold, so -Wformat-truncation stays quiet
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::int64_t HybridClock::now() {
  last_ = std::max(hlc_from_ms(wall_()), last_ + 1);
  return last_;
}

void HybridClock::observe(std::int64_t remote) { last_ = std::max(last_, remote); }

}  // namespace kehu
