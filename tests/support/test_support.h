// Small helpers shared by the unit tests.
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "kehu/error.h"
#include "kehu/record.h"

namespace kehu::test {

// Runs `fn`, which must throw kehu::Error(validation), and returns its message.
template <typename Fn>
std::string validation_message(Fn fn) {
  try {
    fn();
  } catch (const kehu::Error& e) {
    CHECK(e.code() == kehu::Errc::validation);
    return e.what();
  }
  FAIL("expected kehu::Error(validation)");
  return "";
}

// Fixes today_local() and this_month_local() (kehu::set_today) for its scope,
// then gives the calendar back: a test whose outcome depends on the date says
// which date. Binaries run by a test get KEHU_TODAY instead.
class ScopedToday {
 public:
  explicit ScopedToday(std::string_view ymd) { kehu::set_today(ymd); }
  ~ScopedToday() { kehu::set_today(""); }
  ScopedToday(const ScopedToday&) = delete;
  ScopedToday& operator=(const ScopedToday&) = delete;
  // Moves the fixed day on (to the next day, the next month, ...).
  void set(std::string_view ymd) { kehu::set_today(ymd); }
};

}  // namespace kehu::test
