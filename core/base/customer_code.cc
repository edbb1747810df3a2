#include "kehu/customer_code.h"

#include <cstdio>
#include <ctime>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/record.h"

namespace kehu {

namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Serials beyond 9 digits would only come from garbage; refusing them keeps the
// arithmetic far from overflow.
constexpr std::size_t kMaxSerialDigits = 9;

}  // namespace

bool is_code_month(std::string_view m) {
  if (m.size() != 6 || !all_digits(m)) return false;
  const int year = std::stoi(std::string(m.substr(0, 4)));
  const int month = std::stoi(std::string(m.substr(4, 2)));
  return year >= 2000 && year <= 2999 && month >= 1 && month <= 12;
}

bool is_usable_code_month(std::string_view m) {
  if (!is_code_month(m)) return false;
  const std::string now = this_month_local();
  int year = std::stoi(now.substr(0, 4)), month = std::stoi(now.substr(4, 2)) + 1;
  if (month == 13) {
    month = 1;
    ++year;
  }
  char next[32];
  std::snprintf(next, sizeof next, "%04d%02d", year, month);
  return m <= std::string_view(next);
}

std::optional<CustomerCode> parse_customer_code(std::string_view code) {
  if (code.size() < 1 + 6 + 3 || code.size() > 1 + 6 + kMaxSerialDigits || code[0] != 'C') {
    return std::nullopt;
  }
  std::string_view month = code.substr(1, 6), serial = code.substr(7);
  if (!is_code_month(month) || !all_digits(serial)) return std::nullopt;
  CustomerCode out{std::string(month), std::stoll(std::string(serial))};
  // A serial of more than 3 digits must not have leading zeros, so every serial
  // has exactly one spelling and "C2026110001" cannot shadow "C202611001".
  if (out.serial < 1 || format_customer_code(out.month, out.serial) != code) return std::nullopt;
  return out;
}

std::string format_customer_code(std::string_view month, std::int64_t serial) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%03lld", static_cast<long long>(serial));
  return "C" + std::string(month) + buf;
}

std::string canonical_code(std::string_view typed) {
  std::string upper(typed);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (parse_customer_code(upper)) return upper;
  std::string out(typed);
  if (out.size() > 8 && (out[0] == 'p' || out[0] == 'P') && out[7] == '-' && is_code_month(out.substr(1, 6))) {
    // P + month, then the device tag (lower-case hex) and the serial.
    out = "P" + upper.substr(1, 7);
    for (std::size_t i = 8; i < typed.size(); ++i) {
      const char c = typed[i];
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return out;
}

std::string code_sort_key(std::string_view code) {
  char len[16];
  std::snprintf(len, sizeof len, "%06zu", code.size());
  std::string key(code.substr(0, 7));
  key.append(7 - key.size(), '\0');
  return key + len + std::string(code);
}

bool code_less(std::string_view a, std::string_view b) {
  const std::string_view pa = a.substr(0, 7), pb = b.substr(0, 7);
  if (pa != pb) return pa < pb;
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

void check_chosen_code(std::string_view typed) {
  const std::string code(typed);
  if (code.size() < 8 || (code[0] != 'C' && code[0] != 'c') || !all_digits(code.substr(1))) return;
  // C + digits: a Kehu code, or a mistyped one (walkthrough 16, R16-3: month 13 was renumbered at the sync).
  const std::string month = code.substr(1, 6);
  if (!is_usable_code_month(month)) {
    throw Error(Errc::validation,
                tr("客户编号 (code): \"" + code + "\": " + month +
                       " is not a month a code can have (C + year and month, 200001 up to next month, + serial)",
                   "客户编号 (code)：“" + code + "”：" + month + " 不是编号可用的年月（C + 年月（200001 至下个月）+ 序号）"));
  }
  const std::string serial = code.substr(7);
  const std::size_t first = serial.find_first_not_of('0');
  const std::string digits = first == std::string::npos ? "0" : serial.substr(first);  // the number, unpadded
  if (serial.size() > 3 && serial[0] == '0' && digits.size() <= 5) {
    const std::string fixed = format_customer_code(code.substr(1, 6), std::stoll(digits));
    throw Error(Errc::validation,
                tr("客户编号 (code): \"" + code + "\" is not a code the server keeps: a serial of more than 3 digits has "
                       "no leading zero (" + fixed + ")",
                   "客户编号 (code)：“" + code + "”不是服务器会保留的编号：超过 3 位的序号不能以 0 开头（应为 " + fixed + "）"));
  }
  if (digits.size() > 5) {
    throw Error(Errc::validation,
                tr("客户编号 (code): \"" + code + "\": a chosen code's serial goes up to " +
                       std::to_string(kMaxChosenCodeSerial) + " (C + month + 3 to 5 digits)",
                   "客户编号 (code)：“" + code + "”：自定编号的序号最多为 " + std::to_string(kMaxChosenCodeSerial) +
                       "（C + 年月 + 3 到 5 位数字）"));
  }
  // Short serials (C2026121) and serial 0 (attacker review 16).
  if (!parse_customer_code(canonical_code(code))) {
    throw Error(Errc::validation,
                tr("客户编号 (code): \"" + code + "\" is not a code the server keeps: C + year and month + a serial of "
                       "3 to 5 digits, 001 to " + std::to_string(kMaxChosenCodeSerial) + " (C202612001)",
                   "客户编号 (code)：“" + code + "”不是服务器会保留的编号：应为 C + 年月 + 3 到 5 位序号（001 到 " +
                       std::to_string(kMaxChosenCodeSerial) + "，如 C202612001）"));
  }
}

std::optional<std::string> code_month(std::string_view code) {
  if (code.size() < 7 || (code[0] != 'C' && code[0] != 'P')) return std::nullopt;
  std::string_view month = code.substr(1, 6);
  if (!is_code_month(month)) return std::nullopt;
  return std::string(month);
}

}  // namespace kehu
