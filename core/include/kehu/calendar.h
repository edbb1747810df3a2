// Calendar days for the reminder rules: stored dates ("YYYY-MM-DD", the shape
// schema.h gives date fields) as day numbers, so rules can count days across
// month and year ends without time zones. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kehu {

// Days since 1970-01-01 of a stored date "YYYY-MM-DD" (proleptic Gregorian);
// nullopt unless the text is exactly that shape and a real day (2025-02-29 is not).
std::optional<std::int64_t> day_number(std::string_view ymd);

// The stored date of a day number: the inverse of day_number().
std::string date_of_day(std::int64_t day);

// `ymd` plus `days` (may be negative). REQUIRES: day_number(ymd) has a value.
std::string add_days(std::string_view ymd, std::int64_t days);

// The first day on or after `today` that has the month and day of `birthday`
// (its year is ignored). A 29 February birthday falls on 28 February in years
// without one. nullopt if either date is not a valid stored date.
std::optional<std::string> next_anniversary(std::string_view birthday, std::string_view today);

// Checks a "today" given by a user or a test (KEHU_TODAY): Error(usage) naming
// `what` and the value unless it is a valid stored date. Returns it.
std::string checked_today(std::string_view ymd, std::string_view what);

}  // namespace kehu
