// Stored UTC times shown as the local minute (kehu/display_time.h).
#include "kehu/display_time.h"

#include <cstdio>
#include <ctime>

namespace kehu {

std::string display_time(const std::string& iso, bool utc) {
  std::tm tm{};
  int end = 0;
  if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &end) != 6) {
    return iso;
  }
  // Whole seconds, or a fraction (a device's clock: 01:55:26.923Z); then Z.
  std::size_t rest = static_cast<std::size_t>(end);
  if (rest < iso.size() && iso[rest] == '.') {
    ++rest;
    while (rest < iso.size() && iso[rest] >= '0' && iso[rest] <= '9') ++rest;
  }
  if (rest + 1 != iso.size() || iso[rest] != 'Z') return iso;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  std::tm shown{};
  if (utc) {
    gmtime_r(&t, &shown);
  } else {
    localtime_r(&t, &shown);
  }
  char buf[40];
  std::strftime(buf, sizeof buf, utc ? "%Y-%m-%d %H:%M UTC" : "%Y-%m-%d %H:%M", &shown);
  return buf;
}

}  // namespace kehu
