// Customer codes: "C" + YYYYMM + serial, the serial at least 3 digits
// (C202611001 ... C202611999, then C2026111000). A device that has no leased
// serial left uses a provisional code starting with "P" (by convention
// "P" + YYYYMM + "-" + device tag + "-" + counter) until its first push.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kehu {

// The highest serial of a code a manager or an admin chooses (a sheet's 客户编号
// kept as it is); the server replaces a chosen code beyond it, and kehu refuses
// one at once (walkthrough 15, R15-1).
inline constexpr std::int64_t kMaxChosenCodeSerial = 99999;

struct CustomerCode {
  std::string month;      // "202611"
  std::int64_t serial = 0;  // >= 1
};

// True for "YYYYMM" with a month 01-12 and a year 2000-2999.
bool is_code_month(std::string_view yyyymm);

// The parts of a well-formed code; nullopt for anything else (including
// provisional codes and serial 0).
std::optional<CustomerCode> parse_customer_code(std::string_view code);

// "C" + month + serial, zero-padded to 3 digits.
std::string format_customer_code(std::string_view month, std::int64_t serial);

// True for a code month from 2000-01 up to the month after today's
// (this_month_local(): a device's calendar may run a little ahead). Codes and
// leases of later months are refused: they would only waste the counters.
bool is_usable_code_month(std::string_view yyyymm);

// The spelling of a code as a person typed it: a customer code in any case
// ("c202611001") is upper-cased ("C202611001"), and a provisional code in any
// case ("p202611-3FA9-001") is "P" + month, then its device tag and serial in
// lower case, as Kehu makes them ("P202611-3fa9-001"). Anything else comes back
// unchanged.
std::string canonical_code(std::string_view typed);

// The order codes were made in: by month, then by serial as a number, so
// C202611999 comes before C2026111000 (as text it would not). code_sort_key(a) <
// code_sort_key(b) exactly when code_less(a, b); it is the key of the replica's
// code-order index: substr(code, 1, 7), length(code), code.
std::string code_sort_key(std::string_view code);
bool code_less(std::string_view a, std::string_view b);

// A code a person typed for one new customer (`kehu customer add --set code=`):
// one that reads as a Kehu code (C + month + serial) but is not one the server
// keeps is refused with Error(validation), not replaced at the sync
// (walkthrough 15, R15-1): a serial with a leading zero past 3 digits
// (C2026120998 is C202612998), or a serial past kMaxChosenCodeSerial. Other
// codes (a sheet's JS001) pass: the server gives the customer a Kehu code and
// keeps the typed one as an alias. Imports keep a sheet's codes so too.
void check_chosen_code(std::string_view typed);

// The month a code was made in: its YYYYMM after the leading "C" or "P" if that
// is a valid month, else nullopt.
std::optional<std::string> code_month(std::string_view code);

}  // namespace kehu
