// Field validation: user-typed text -> stored JSON, stored JSON checks, display.
//
// Every rejection throws Error(validation) with a message of the form
//   中文标签 (key): "value" <what is wrong and what is expected>
// so that an importer can show it next to a sheet line as is.
//
// Numbers are parsed as text and kept as integers: money is whole fen and never
// passes through floating point, so 0.29 yuan is exactly 29 fen.
//
// What Chinese users type is accepted where it cannot be misread: full-width
// digits and punctuation in numbers, dates, money, phones, codes and email
// (folded to ASCII, text.h fold_fullwidth; names and notes keep what was typed),
// 2026年12月1日 / 2026/12/1 / 2026.12.1 dates and Excel serial day numbers,
// 1.2万 and 3亿 amounts, and customer codes in any case. A date whose day and
// month could be swapped (12/1/2026) is refused rather than guessed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kehu/calendar.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/record.h"
#include "kehu/schema.h"
#include "kehu/text.h"

namespace kehu {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxTextBytes = 2000;
constexpr std::size_t kMaxTagBytes = 50;
// Tags of one value: a customer's labels, not a list of everything (a value of
// a million tags made every later write of the record slow).
constexpr std::size_t kMaxTags = 50;
constexpr std::size_t kMaxEmailBytes = 254;  // RFC 5321 path limit
constexpr std::size_t kMaxCodeChars = 32;
constexpr std::size_t kMaxQuotedBytes = 80;  // longer values are cut in messages
constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2200;

constexpr std::string_view kIdeographicSpace = "\u3000";

// ---------------------------------------------------------------------------
// Small text helpers (trimming is kehu::trim_view, text.h).

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

bool consume_prefix(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool consume_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower_ascii(x) == lower_ascii(y);
         });
}

std::string two_digits(int v) {
  return {static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF), or 0 if the bytes there are malformed.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF)
    len = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return len;
}

bool is_valid_utf8_text(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// C0 controls except those in `allowed`, DEL, and the C1 controls U+0080..U+009F
// (encoded C2 80..C2 9F), which turn up when cp1252 text was mis-decoded.
bool has_control(std::string_view s, std::string_view allowed) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b < 0x20 && allowed.find(s[i]) == std::string_view::npos) || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

std::string code_point_name(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// ---------------------------------------------------------------------------
// Messages.

void append_hex_escape(std::string& out, unsigned char b) {
  static const char* hex = "0123456789abcdef";
  out += "\\x";
  out += hex[b >> 4];
  out += hex[b & 0xF];
}

// The value as it appears in a message: double-quoted, control characters and
// invalid bytes escaped (the message may go to a terminal), long values cut
// after kMaxQuotedBytes on a character boundary.
std::string quote_value(std::string_view v) {
  std::string out = "\"";
  std::size_t i = 0;
  while (i < v.size()) {
    if (i >= kMaxQuotedBytes) {
      out += "…";
      break;
    }
    const auto b = static_cast<unsigned char>(v[i]);
    const std::size_t n = utf8_sequence_length(v, i);
    if (b == '\n')
      out += "\\n";
    else if (b == '\t')
      out += "\\t";
    else if (b == '\r')
      out += "\\r";
    else if (b == '"' || b == '\\')
      (out += '\\') += static_cast<char>(b);
    else if (n == 0 || b < 0x20 || b == 0x7F)
      append_hex_escape(out, b);
    else if (n == 3 && invisible_format(v.substr(i, 3)) != 0)
      out += "<" + code_point_name(invisible_format(v.substr(i, 3))) + ">";  // shown, not obeyed
    else
      out.append(v.substr(i, n));
    i += (n == 0 ? 1 : n);
  }
  return out + "\"";
}

// An option read as a field (read_day) is named once: "--since", not "--since (--since)".
std::string field_name(const FieldDef& f) { return f.key == f.zh ? f.zh : f.zh + " (" + f.key + ")"; }

[[noreturn]] void reject(const FieldDef& f, std::string_view value, const std::string& rule) {
  throw Error(Errc::validation, field_name(f) + tr(": ", "：") + quote_value(value) + " " + rule);
}

// Stored values that are not strings are quoted in their JSON spelling.
[[noreturn]] void reject_stored(const FieldDef& f, const json& value, const std::string& rule) {
  reject(f, value.is_string() ? value.get_ref<const std::string&>() : value.dump(), rule);
}

// ---------------------------------------------------------------------------
// Text.

// Text that is valid UTF-8 without control characters other than `allowed`.
// Also used for tags and references, so the rule is checked in one place.
struct Said {
  const char* en;
  const char* zh;
};

void check_clean_text(const FieldDef& f, std::string_view s, std::string_view allowed, Said allowed_desc) {
  if (!is_valid_utf8_text(s)) reject(f, s, tr("is not valid UTF-8 text", "不是有效的 UTF-8 文本"));
  if (has_control(s, allowed))
    reject(f, s, tr(std::string("contains a control character (") + allowed_desc.en + ")",
                    std::string("含有控制字符（") + allowed_desc.zh + "）"));
  if (const char32_t cp = invisible_format(s)) {
    reject(f, s, tr("contains the invisible character " + code_point_name(cp) +
                        " (bidi controls, zero-width spaces, word joiners, BOMs and line separators are not "
                        "allowed inside text: they make it show other than it reads)",
                    "含有不可见字符 " + code_point_name(cp) + "（文本中不允许双向控制符、零宽空格、连接符、BOM 和行分隔符：它们会让文字显示得与实际不同）"));
  }
}

// A customer code: C + yyyymm + serial (C202405001), or a provisional code the
// server replaces later; both fit [A-Za-z0-9-]{1,32}, so that is what is checked.
void check_customer_code(const FieldDef& f, std::string_view s) {
  const bool ok =
      s.size() <= kMaxCodeChars && std::all_of(s.begin(), s.end(), [](char c) {
        return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
      });
  if (!ok)
    reject(f, s,
           tr("is not a customer code: expected C + yyyymm + serial (e.g. C202405001) or a "
              "provisional code of up to 32 letters, digits and dashes",
              "不是客户编号：应为 C + 年月 + 序号（如 C202405001），或最多 32 个字母、数字和连字符的临时编号"));
}

// A target period: YYYY, YYYY-MM or YYYY-Qn. Normalises "2024-5" -> "2024-05"
// and "2024-q2" -> "2024-Q2".
std::string normalize_period(const FieldDef& f, std::string_view s) {
  auto bad = [&]() -> std::string {
    reject(f, s,
           tr("is not a period: expected YYYY, YYYY-MM or YYYY-Qn (e.g. 2024, 2024-05, 2024-Q2)",
              "不是期间：应为 YYYY、YYYY-MM 或 YYYY-Qn（如 2024、2024-05、2024-Q2）"));
  };
  if (s.size() < 4 || !all_digits(s.substr(0, 4))) return bad();
  const std::string_view year = s.substr(0, 4);
  const int y = std::stoi(std::string(year));
  if (y < kMinYear || y > kMaxYear) return bad();
  if (s.size() == 4) return std::string(year);
  std::string_view rest = s.substr(4);
  if (!consume_prefix(rest, "-")) return bad();
  if (rest.size() == 2 && (rest[0] == 'Q' || rest[0] == 'q') && rest[1] >= '1' && rest[1] <= '4')
    return std::string(year) + "-Q" + rest[1];
  if ((rest.size() == 1 || rest.size() == 2) && all_digits(rest)) {
    const int m = std::stoi(std::string(rest));
    if (m >= 1 && m <= 12) return std::string(year) + "-" + two_digits(m);
  }
  return bad();
}

// A few built-in text fields carry a format. The schema has no slot for a
// per-field pattern, so they are recognised by key; custom fields should not
// reuse these keys.
enum class TextFormat { plain, customer_code, period };

TextFormat text_format(const FieldDef& f) {
  if (f.key == "code") return TextFormat::customer_code;
  if (f.key == "period") return TextFormat::period;
  return TextFormat::plain;
}

json normalize_text(const FieldDef& f, std::string_view s) {
  // Windows line ends from sheets become plain newlines; a lone CR stays a control.
  std::string t;
  t.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) t += s[i];

  check_clean_text(f, t, "\t\n", {"only tab and newline are allowed", "只允许制表符和换行"});
  switch (text_format(f)) {
    case TextFormat::customer_code:
      check_customer_code(f, t);
      return canonical_code(t);  // c202611001 is C202611001
    case TextFormat::period:
      return normalize_period(f, t);
    case TextFormat::plain:
      break;
  }
  if (t.size() > kMaxTextBytes)
    reject(f, t,
           tr("is too long: " + std::to_string(t.size()) + " bytes, at most " + std::to_string(kMaxTextBytes) +
                  " bytes of UTF-8 are allowed",
              "太长：" + std::to_string(t.size()) + " 字节，最多允许 " + std::to_string(kMaxTextBytes) +
                  " 字节（UTF-8）"));
  return t;
}

json normalize_reference(const FieldDef& f, std::string_view s) {
  check_clean_text(f, s, "", {"record ids have none", "记录编号里不能有"});
  if (s.size() > kMaxTextBytes) reject(f, s, tr("is not a record id: too long", "不是记录编号：太长"));
  return std::string(s);
}

// ---------------------------------------------------------------------------
// Integers and money.

enum class NumParse { ok, bad, overflow, too_precise };

// Digits with optional thousands commas ("1,234,567"), as an unsigned magnitude
// that must not exceed `limit`.
NumParse parse_grouped_digits(std::string_view s, std::uint64_t limit, std::uint64_t& out) {
  if (s.empty()) return NumParse::bad;
  if (const std::size_t first = s.find(','); first != std::string_view::npos) {
    // Commas must really be thousands separators: 1-3 digits, then ",ddd" groups.
    if (first == 0 || first > 3) return NumParse::bad;
    const std::string_view groups = s.substr(first);
    if (groups.size() % 4 != 0) return NumParse::bad;
    for (std::size_t i = 0; i < groups.size(); ++i)
      if ((groups[i] == ',') != (i % 4 == 0)) return NumParse::bad;
  }
  out = 0;
  for (char c : s) {
    if (c == ',') continue;
    if (!is_digit(c)) return NumParse::bad;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (out > (limit - d) / 10) return NumParse::overflow;
    out = out * 10 + d;
  }
  return NumParse::ok;
}

// A decimal ("1,234.5") times 10^exp as a whole number no larger than `limit`:
// grouped digits, then at most `exp` decimals (too_precise if there are more).
// exp is at most 10, so 10^exp and the scaled fraction fit easily.
NumParse parse_scaled_decimal(std::string_view s, int exp, std::uint64_t limit,
                              std::uint64_t& out) {
  std::string_view whole = s, fraction;
  if (const std::size_t dot = s.find('.'); dot != std::string_view::npos) {
    whole = s.substr(0, dot);
    fraction = s.substr(dot + 1);
    if (!all_digits(fraction)) return NumParse::bad;
    if (fraction.size() > static_cast<std::size_t>(exp)) return NumParse::too_precise;
  }
  std::uint64_t scale = 1, frac = 0;
  for (int i = 0; i < exp; ++i) {
    scale *= 10;
    const auto k = static_cast<std::size_t>(i);
    frac = frac * 10 + static_cast<std::uint64_t>(k < fraction.size() ? fraction[k] - '0' : 0);
  }
  std::uint64_t w = 0;
  if (const NumParse p = parse_grouped_digits(whole, limit, w); p != NumParse::ok) return p;
  if (w > (limit - frac) / scale) return NumParse::overflow;
  out = w * scale + frac;
  return NumParse::ok;
}

// The Chinese units of large numbers: 1.2万 is 12,000 and 3亿 300,000,000.
// Strips one from the end of `v` and returns its power of ten, or 0.
int consume_cn_unit(std::string_view& v) {
  if (consume_suffix(v, "万")) return 4;
  if (consume_suffix(v, "亿")) return 8;
  return 0;
}

constexpr std::uint64_t kInt64Max =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

// The largest magnitudes stored: 10^15 for integers, 10^13 fen (1000亿元) for
// money. Reports add and weight them in int64 (a million orders at the largest
// amount still fit); an int64 extreme made totals wrap (attacker review 18, A18-1).
constexpr std::uint64_t kMaxIntegerMagnitude = 1000000000000000ULL;
constexpr std::uint64_t kMaxMoneyFen = 10000000000000ULL;

std::string too_large_rule(const FieldDef& f) {
  return f.type == FieldType::money
             ? tr("is too large: an amount is at most 100,000,000,000.00 yuan (1000亿元) either way",
                  "太大：金额最多 1000亿元（正负都是）")
             : tr("is too large: an integer is at most 1,000,000,000,000,000 either way",
                  "太大：整数最多 1,000,000,000,000,000（正负都是）");
}

// Applies the sign to a magnitude already checked against kInt64Max (+1 if negative).
std::int64_t apply_sign(std::uint64_t magnitude, bool negative) {
  if (!negative) return static_cast<std::int64_t>(magnitude);
  if (magnitude == kInt64Max + 1) return std::numeric_limits<std::int64_t>::min();
  return -static_cast<std::int64_t>(magnitude);
}

json normalize_integer(const FieldDef& f, std::string_view s) {
  std::string_view digits = s;
  const bool negative = consume_prefix(digits, "-");
  if (!negative) consume_prefix(digits, "+");
  const int unit = consume_cn_unit(digits);  // 1.2万 = 12000
  std::uint64_t magnitude = 0;
  switch (parse_scaled_decimal(digits, unit, kMaxIntegerMagnitude, magnitude)) {
    case NumParse::ok:
      return apply_sign(magnitude, negative);
    case NumParse::overflow:
      reject(f, s, too_large_rule(f));
    case NumParse::too_precise:
      if (unit > 0)
        reject(f, s,
               tr("is not a whole number: at most " + std::to_string(unit) + " decimals with " +
                      (unit == 4 ? "万" : "亿"),
                  std::string("不是整数：带“") + (unit == 4 ? "万" : "亿") + "”时最多 " + std::to_string(unit) +
                      " 位小数"));
      break;
    case NumParse::bad:
      break;
  }
  reject(f, s,
         tr("is not an integer: expected digits with an optional sign and thousands commas (e.g. "
            "1,200 or 1.2万)",
            "不是整数：应为数字，可带正负号和千位逗号（如 1,200 或 1.2万）"));
}

json normalize_money(const FieldDef& f, std::string_view s) {
  // Accepted spellings: "-¥1,234.50", "¥-1,234.50", "1234.5元", "-0.29", "1.2万",
  // "¥1.2万元", "3亿".
  std::string_view v = s;
  consume_suffix(v, "元");
  v = trim_view(v);
  const int unit = consume_cn_unit(v);
  v = trim_view(v);
  bool negative = consume_prefix(v, "-");
  if (consume_prefix(v, "¥") || consume_prefix(v, "￥")) {
    v = trim_view(v);
    if (!negative) negative = consume_prefix(v, "-");
  }
  const int exp = 2 + unit;  // fen per yuan, times the unit
  std::uint64_t fen = 0;
  switch (parse_scaled_decimal(v, exp, kMaxMoneyFen, fen)) {
    case NumParse::ok:
      return apply_sign(fen, negative);
    case NumParse::overflow:
      reject(f, s, too_large_rule(f));
    case NumParse::too_precise:
      reject(f, s,
             tr("has more than " + std::to_string(exp) + " decimals: money is kept in whole fen (0.01 yuan)",
                "小数超过 " + std::to_string(exp) + " 位：金额只精确到分（0.01 元）"));
    case NumParse::bad:
      break;
  }
  reject(f, s,
         tr("is not an amount of money: expected yuan with at most 2 decimals (e.g. ¥1,234.50, "
            "-12.5元 or 1.2万)",
            "不是金额：应为以元计、最多 2 位小数的数（如 ¥1,234.50、-12.5元 或 1.2万）"));
}

// ---------------------------------------------------------------------------
// Dates and times.

struct Ymd {
  int y, m, d;
};

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : days[m - 1];
}

// Digits already checked by the caller, at most 5 of them.
int small_number(std::string_view digits) { return std::stoi(std::string(digits)); }

std::optional<Ymd> calendar_date(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  return Ymd{y, m, d};
}

std::string format_date(const Ymd& d) {
  return std::to_string(d.y) + "-" + two_digits(d.m) + "-" + two_digits(d.d);
}

constexpr const char* kDateForms = "YYYY-MM-DD, YYYY/M/D, YYYY.M.D or YYYY年M月D日";
constexpr const char* kDateFormsZh = "YYYY-MM-DD、YYYY/M/D、YYYY.M.D 或 YYYY年M月D日";

enum class DateParse { ok, bad, ambiguous };

struct TypedDate {
  DateParse result = DateParse::bad;
  Ymd date{};
  Ymd other{};  // when ambiguous: the day-first reading (date is month-first)
};

// "a<sep>b<sep>c" with one separator throughout, one of - / .
bool split_numeric_date(std::string_view s, std::string_view& a, std::string_view& b,
                        std::string_view& c) {
  const std::size_t p1 = s.find_first_of("-/.");
  if (p1 == std::string_view::npos) return false;
  const std::size_t p2 = s.find(s[p1], p1 + 1);
  if (p2 == std::string_view::npos) return false;
  a = s.substr(0, p1);
  b = s.substr(p1 + 1, p2 - p1 - 1);
  c = s.substr(p2 + 1);
  return true;
}

// "2026年12月1日" (or ...1号, or ...1 without either).
bool split_chinese_date(std::string_view s, std::string_view& y, std::string_view& m,
                        std::string_view& d) {
  const std::size_t nian = s.find("年");
  if (nian == std::string_view::npos) return false;
  std::string_view rest = s.substr(nian + std::string_view("年").size());
  const std::size_t yue = rest.find("月");
  if (yue == std::string_view::npos) return false;
  y = s.substr(0, nian);
  m = rest.substr(0, yue);
  d = rest.substr(yue + std::string_view("月").size());
  if (!consume_suffix(d, "日")) consume_suffix(d, "号");
  return true;
}

// A date as people write it. The year comes first (2026-12-1, 2026/12/1,
// 2026.12.1, 2026年12月1日) or last (25/12/2026, 12/25/2026); with the year last
// the order of day and month is unknown, so such a date is taken only when one
// reading is a real date or both give the same day (5/5/2026), and is
// `ambiguous` otherwise (12/1/2026: 1 December or 12 January). Checks the
// calendar; the year range is checked by callers.
TypedDate parse_typed_date(std::string_view s) {
  TypedDate out;
  std::string_view a, b, c;
  const bool chinese = split_chinese_date(s, a, b, c);
  if (!chinese && !split_numeric_date(s, a, b, c)) return out;
  auto short_part = [](std::string_view p) { return p.size() <= 2 && all_digits(p); };
  auto year_part = [](std::string_view p) { return p.size() == 4 && all_digits(p); };
  if (year_part(a) && short_part(b) && short_part(c)) {
    if (auto d = calendar_date(small_number(a), small_number(b), small_number(c))) {
      out.result = DateParse::ok;
      out.date = *d;
    }
    return out;
  }
  if (chinese || !short_part(a) || !short_part(b) || !year_part(c)) return out;
  const int y = small_number(c), first = small_number(a), second = small_number(b);
  const std::optional<Ymd> month_first = calendar_date(y, first, second);
  const std::optional<Ymd> day_first = calendar_date(y, second, first);
  if (month_first && day_first && first != second) {
    out.result = DateParse::ambiguous;
    out.date = *month_first;
    out.other = *day_first;
  } else if (month_first || day_first) {
    out.result = DateParse::ok;
    out.date = month_first ? *month_first : *day_first;
  }
  return out;
}

[[noreturn]] void reject_ambiguous(const FieldDef& f, std::string_view s, const TypedDate& t) {
  const std::string a = format_date(t.date), b = format_date(t.other);
  reject(f, s,
         tr("is ambiguous: the order of day and month is unknown (" + a + " or " + b +
                "); write the year first: " + kDateForms,
            "有歧义：看不出哪个是月、哪个是日（" + a + " 还是 " + b + "）；请把年份写在前面：" + kDateFormsZh));
}

void check_year(const FieldDef& f, std::string_view s, const Ymd& d) {
  if (d.y < kMinYear || d.y > kMaxYear)
    reject(f, s,
           tr("is out of range: the year must be between " + std::to_string(kMinYear) + " and " +
                  std::to_string(kMaxYear),
              "超出范围：年份必须在 " + std::to_string(kMinYear) + " 到 " + std::to_string(kMaxYear) + " 之间"));
}

// Excel keeps a date as a serial day number (1 = 1900-01-01 in the default 1900
// date system); a sheet shows it when a date column is formatted as a number,
// and a CSV saved from such a column holds it. A whole number of exactly five
// digits, 10000-99999 (1927-05-18 to 2173-10-13), is taken as one; fewer digits
// look like a year or a count, more like 20261201, and both are refused. The
// 1904 system of old Mac workbooks cannot be told from the number: xlsx cells
// in a date style are converted by the reader (xlsx.h), which knows the system.
// With `allow_fraction` (datetime) a fraction is the time of day, written to
// *time_of_day as HH:MM:SS.
std::optional<std::string> excel_serial(std::string_view s, bool allow_fraction,
                                        std::string* time_of_day) {
  std::string_view whole = s, fraction;
  if (const std::size_t dot = s.find('.'); allow_fraction && dot != std::string_view::npos) {
    whole = s.substr(0, dot);
    fraction = s.substr(dot + 1);
    if (!all_digits(fraction)) return std::nullopt;
  }
  if (whole.size() != 5 || !all_digits(whole) || whole[0] == '0') return std::nullopt;
  // Serial 25569 is 1970-01-01, and every five-digit serial is after Excel's
  // phantom 1900-02-29 (serial 60), so the offset is the same for all of them.
  std::int64_t day = small_number(whole) - 25569;
  long long secs = 0;
  if (!fraction.empty()) {
    // A time of day to the second: rounding the fraction as Excel does.
    secs = std::llround(std::strtod(("0." + std::string(fraction)).c_str(), nullptr) * 86400.0);
    if (secs >= 86400) {
      ++day;
      secs = 0;
    }
  }
  if (time_of_day)
    *time_of_day = two_digits(static_cast<int>(secs / 3600)) + ":" +
                   two_digits(static_cast<int>(secs / 60 % 60)) + ":" +
                   two_digits(static_cast<int>(secs % 60));
  return date_of_day(day);
}

// "2026-02-30" or "2026-13-02" (and 2026/2/30, 2026年13月2日): the form is right
// and the day or the month does not exist, which is what the person must be
// told. nullopt when s is not year, month and day in digits, or the day exists.
std::optional<std::string> impossible_day(std::string_view s) {
  int y = 0, m = 0, d = 0, end = -1;
  char a[8] = {}, b[8] = {};
  const std::string text(s);
  const int whole = static_cast<int>(text.size());
  const bool ascii = std::sscanf(text.c_str(), "%4d%1[-/.]%2d%1[-/.]%2d%n", &y, a, &m, b, &d, &end) == 5 &&
                     end == whole && a[0] == b[0];
  end = -1;
  const bool chinese = !ascii && std::sscanf(text.c_str(), "%4d年%2d月%2d日%n", &y, &m, &d, &end) == 3 && end == whole;
  if (!(ascii || chinese) || y < 1000 || m < 0 || d < 0) return std::nullopt;
  if (m < 1 || m > 12) {
    return tr("is not a day: there is no month " + std::to_string(m) + " (months are 1 to 12)",
              "不是真实存在的日期：没有 " + std::to_string(m) + " 月（月份为 1 到 12）");
  }
  if (day_number(std::to_string(y) + "-" + (m < 10 ? "0" : "") + std::to_string(m) + "-" + (d < 10 ? "0" : "") +
                 std::to_string(d))) {
    return std::nullopt;
  }
  static const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                        "July",    "August",   "September", "October", "November", "December"};
  return tr("is not a day: " + std::string(kMonths[m - 1]) + " " + std::to_string(y) + " has no day " +
                std::to_string(d),
            "不是真实存在的日期：" + std::to_string(y) + "年" + std::to_string(m) + "月没有" + std::to_string(d) + "日");
}

std::optional<std::string> parse_time(std::string_view s, bool iso);

json normalize_date(const FieldDef& f, std::string_view s) {
  // A serial's fraction is a time of day, which a day does not keep.
  if (std::optional<std::string> serial = excel_serial(s, true, nullptr)) return *serial;
  // As people say it when they type it (a service record dated today).
  const std::string_view word = trim_view(s);
  if (word == "今天" || word == "today") return today_local();
  // A day with a time of day after it ("2026-12-23 0:00", "2026/12/24 12:00:00",
  // "2026-12-24T09:30:00Z"): how other systems export a date, and what Excel shows
  // as the day in a date column; the day is taken (walkthrough 19, R19-7).
  if (const std::size_t sep = word.find_first_of("T "); sep != std::string_view::npos && sep >= 8) {
    std::string_view time = trim_view(word.substr(sep + 1));
    const bool iso = word[sep] == 'T';
    if (iso) consume_suffix(time, "Z");
    if (parse_time(time, iso)) return normalize_date(f, word.substr(0, sep));
  }
  const TypedDate t = parse_typed_date(s);
  if (t.result == DateParse::ambiguous) reject_ambiguous(f, s, t);
  if (t.result == DateParse::bad)
    if (std::optional<std::string> why = impossible_day(s)) reject(f, s, *why);
  if (t.result == DateParse::bad)
    reject(f, s,
           tr(std::string("is not a valid date: expected ") + kDateForms + " (or an Excel serial day number)",
              std::string("不是有效日期：应为 ") + kDateFormsZh + "（或 Excel 日期序号）"));
  check_year(f, s, t.date);
  return format_date(t.date);
}

// HH:MM or HH:MM:SS, two digits each. Returns "HH:MM:SS" or nullopt.
// "HH:MM" or "HH:MM:SS"; the hour may have one digit ("9:30") unless the form
// is ISO's (`iso`: seconds required, two-digit hour).
std::optional<std::string> parse_time(std::string_view s, bool iso) {
  // A one-digit hour is read as if it had its leading zero.
  const std::string padded = !iso && s.size() > 1 && s[1] == ':' ? "0" + std::string(s) : std::string(s);
  if (padded.size() != 5 && padded.size() != 8) return std::nullopt;
  if (iso && padded.size() != 8) return std::nullopt;
  int parts[3] = {0, 0, 0};
  for (std::size_t i = 0; i * 3 < padded.size(); ++i) {
    const std::string_view p = std::string_view(padded).substr(i * 3, 2);
    if (!all_digits(p) || (i * 3 + 2 < padded.size() && padded[i * 3 + 2] != ':')) return std::nullopt;
    parts[i] = (p[0] - '0') * 10 + (p[1] - '0');
  }
  if (parts[0] > 23 || parts[1] > 59 || parts[2] > 59) return std::nullopt;
  return two_digits(parts[0]) + ":" + two_digits(parts[1]) + ":" + two_digits(parts[2]);
}

// "YYYY-MM-DDTHH:MM:SSZ", or a date in any form normalize_date takes (but a
// serial) followed by HH:MM[:SS] ("2026/12/1 09:30", "2026年12月1日 09:30"), or an
// Excel serial with the time as its fraction (46357.375). Only the first form
// has a zone; the others are stored as given (the caller decides what clock a
// user typed in).
json normalize_datetime(const FieldDef& f, std::string_view s) {
  auto bad = [&]() -> json {
    reject(f, s,
           tr(std::string("is not a valid date and time (a date as ") + kDateForms +
                  ", then HH:MM[:SS]; or YYYY-MM-DDTHH:MM:SSZ)",
              std::string("不是有效的日期时间（日期写作 ") + kDateFormsZh +
                  "，后接 HH:MM[:SS]；或 YYYY-MM-DDTHH:MM:SSZ）"));
  };
  std::string serial_time;
  if (std::optional<std::string> day = excel_serial(s, true, &serial_time))
    return *day + "T" + serial_time + "Z";
  std::size_t sep = s.find_first_of("T ");
  const bool iso = sep != std::string_view::npos && s[sep] == 'T';
  std::size_t time_at = sep + 1;
  if (sep == std::string_view::npos) {
    // 2026年12月1日09:30: the 日 ends the date.
    sep = s.find("日");
    if (sep == std::string_view::npos) return bad();
    sep += std::string_view("日").size();
    time_at = sep;
  }
  const TypedDate date = parse_typed_date(s.substr(0, sep));
  std::string_view time = trim_view(s.substr(time_at));
  if (iso && !consume_suffix(time, "Z")) return bad();
  if (date.result == DateParse::ambiguous) reject_ambiguous(f, s, date);
  const std::optional<std::string> hms = parse_time(time, iso);
  if (date.result != DateParse::ok || !hms) return bad();
  check_year(f, s, date.date);
  return format_date(date.date) + "T" + *hms + "Z";
}

// ---------------------------------------------------------------------------
// Enums and tags.

std::string enum_choices(const FieldDef& f) {
  std::string out;
  for (const EnumValue& v : f.values) out += (out.empty() ? "" : ", ") + v.zh + "/" + v.key;
  return out;
}

json normalize_enum(const FieldDef& f, std::string_view s) {
  if (const EnumValue* v = f.find_value(s)) return v->key;
  if (const EnumValue* v = f.find_value(fold_fullwidth(s))) return v->key;  // Ａ级 is A级
  reject(f, s, tr("is not one of: ", "不是可选值之一：") + enum_choices(f));
}

constexpr std::string_view kTagSeparators[] = {";", "；", ",", "，", "、", "|"};

std::size_t separator_length_at(std::string_view s, std::size_t i) {
  for (std::string_view sep : kTagSeparators)
    if (s.substr(i).starts_with(sep)) return sep.size();
  return 0;
}

std::vector<std::string> split_tags(std::string_view s) {
  std::vector<std::string> tags;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size();) {
    const std::size_t sep = i < s.size() ? separator_length_at(s, i) : 1;
    if (sep == 0) {
      ++i;
      continue;
    }
    if (std::string_view tag = trim_view(s.substr(start, i - start)); !tag.empty())
      tags.emplace_back(tag);
    i += sep;
    start = i;
  }
  return tags;
}

json normalize_tags(const FieldDef& f, std::string_view s) {
  std::vector<std::string> tags = split_tags(s);
  for (const std::string& tag : tags) {
    check_clean_text(f, tag, "", {"tags cannot contain tabs or newlines", "标签里不能有制表符或换行"});
    if (tag.size() > kMaxTagBytes) {
      const std::string n = std::to_string(tag.size()), max = std::to_string(kMaxTagBytes);
      reject(f, s,
             tr("has a tag of " + n + " bytes, " + quote_value(tag) + ": each tag may have at most " + max +
                    " bytes of UTF-8",
                "有一个标签 " + quote_value(tag) + " 长 " + n + " 字节：每个标签最多 " + max + " 字节（UTF-8）"));
    }
  }
  if (tags.empty()) return nullptr;  // only separators: the same as no tags
  // std::string compares through char_traits<char>, i.e. as unsigned bytes.
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  if (tags.size() > kMaxTags) {
    reject(f, s, tr("has " + std::to_string(tags.size()) + " tags: at most " + std::to_string(kMaxTags),
                    "有 " + std::to_string(tags.size()) + " 个标签：最多 " + std::to_string(kMaxTags) + " 个"));
  }
  return tags;
}

// ---------------------------------------------------------------------------
// Phone numbers and email.

constexpr const char* kPhoneRule =
    "is not a phone number: expected a CN mobile (11 digits starting with 1, optional +86/0086) or "
    "a landline "
    "with area code (e.g. 010-12345678)";
constexpr const char* kPhoneRuleZh =
    "不是电话号码：应为中国大陆手机号（1 开头的 11 位数字，可带 +86/0086）或带区号的座机（如 010-12345678）";

bool is_mobile(std::string_view d) {
  return d.size() == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9';
}

// Length of the area code a landline number starts with: 010 and 02X are three
// digits, every other area code (03XX..09XX) four. 0 if it cannot be one.
std::size_t area_code_length(std::string_view d) {
  if (d.size() < 3 || d[0] != '0') return 0;
  if (d.starts_with("010") || d[1] == '2') return 3;
  return (d[1] >= '3' && d[1] <= '9') ? 4 : 0;
}

// Digits of a landline (area code + 7-8 digit number) -> "0755-12345678"; "" if not one.
std::string format_landline(std::string_view d) {
  const std::size_t area = area_code_length(d);
  if (area == 0) return {};
  const std::size_t rest = d.size() - area;
  if (rest < 7 || rest > 8) return {};
  return std::string(d.substr(0, area)) + "-" + std::string(d.substr(area));
}

// Number without extension, spaces, dashes and parentheses removed: digits only,
// possibly after "+86". Returns the canonical form or "".
std::string normalize_phone_digits(std::string_view p) {
  bool international = consume_prefix(p, "+86") || consume_prefix(p, "0086");
  if (!international && p.size() == 13 && p.starts_with("861")) {
    p.remove_prefix(2);
    international = true;
  }
  if (!all_digits(p)) return {};
  if (is_mobile(p)) return std::string(p);
  if (p.size() == 10 && (p.starts_with("400") || p.starts_with("800"))) return std::string(p);
  if (international && !p.starts_with("0"))
    return format_landline("0" + std::string(p));  // +86 10 ... drops the 0
  return format_landline(p);
}

std::string strip_phone_punctuation(std::string_view s, bool keep_dashes) {
  std::string out;
  for (char c : s)
    if (!is_ascii_space(c) && c != '(' && c != ')' && (keep_dashes || c != '-')) out += c;
  for (std::size_t pos; (pos = out.find(kIdeographicSpace)) != std::string::npos;)
    out.erase(pos, kIdeographicSpace.size());
  return out;
}

bool is_extension(std::string_view e) { return all_digits(e) && e.size() <= 6; }

// "0755-12345678-801": only landlines have extensions. "" if either part is bad.
std::string landline_with_extension(std::string_view number, std::string_view extension) {
  const std::string ext = strip_phone_punctuation(extension, false);
  const std::string main = normalize_phone_digits(strip_phone_punctuation(number, false));
  if (!is_extension(ext) || main.find('-') == std::string::npos) return {};
  return main + "-" + ext;
}

std::string normalize_email(std::string_view s) {
  if (s.size() > kMaxEmailBytes) return {};
  const std::size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || s.find('@', at + 1) != std::string_view::npos)
    return {};
  const std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (!is_valid_utf8_text(local) || has_control(local, "")) return {};
  if (std::any_of(local.begin(), local.end(), is_ascii_space)) return {};
  if (domain.find('.') == std::string_view::npos) return {};
  std::string lowered;
  std::size_t label_len = 0;
  for (char c : domain) {
    if (c == '.') {
      if (label_len == 0) return {};
      label_len = 0;
    } else if (is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-') {
      ++label_len;
    } else {
      return {};
    }
    lowered += lower_ascii(c);
  }
  if (label_len == 0) return {};
  return std::string(local) + "@" + lowered;
}

json normalize_by_type(const FieldDef& f, std::string_view s) {
  switch (f.type) {
    case FieldType::text:
      return normalize_text(f, s);
    case FieldType::integer:
      return normalize_integer(f, s);
    case FieldType::money:
      return normalize_money(f, s);
    case FieldType::date:
      return normalize_date(f, s);
    case FieldType::datetime:
      return normalize_datetime(f, s);
    case FieldType::enumeration:
      return normalize_enum(f, s);
    case FieldType::tags:
      return normalize_tags(f, s);
    case FieldType::reference:
      return normalize_reference(f, s);
    case FieldType::phone: {
      std::string p = normalize_phone(s);
      if (p.empty()) reject(f, s, tr(kPhoneRule, kPhoneRuleZh));
      return p;
    }
    case FieldType::email: {
      // Invisible and bidi characters as in any text: an RLO made an address
      // read as another one, a zero-width space hid a duplicate (A17-6).
      check_clean_text(f, s, "", {"email addresses have none", "电子邮箱里不能有"});
      std::string e = normalize_email(s);
      if (e.empty()) reject(f, s, tr("is not an email address", "不是电子邮箱地址"));
      return e;
    }
  }
  throw Error(Errc::internal, field_name(f) + ": unknown field type");
}

// Values that are ASCII by nature, where a full-width input method's forms
// (１３９, ２０２６／１２／１, ｃ２０２６１１００１) mean the same as ASCII. Free text
// (names, notes, tags, references) keeps what was typed; enums try both.
bool folds_fullwidth(const FieldDef& f) {
  switch (f.type) {
    case FieldType::integer:
    case FieldType::money:
    case FieldType::date:
    case FieldType::datetime:
    case FieldType::phone:
    case FieldType::email:
      return true;
    case FieldType::text:
      return text_format(f) != TextFormat::plain;
    default:
      return false;
  }
}

// normalize_by_type on the folded value; a rejection quotes the value as it was
// typed, not as folded, so that the user finds it in their sheet.
json normalize_folded(const FieldDef& f, std::string_view typed) {
  const std::string folded = fold_fullwidth(typed);
  if (folded == typed) return normalize_by_type(f, typed);
  try {
    return normalize_by_type(f, folded);
  } catch (const Error& e) {
    const std::string as_folded = field_name(f) + tr(": ", "：") + quote_value(folded);
    const std::string msg = e.what();
    if (e.code() != Errc::validation || msg.compare(0, as_folded.size(), as_folded) != 0) throw;
    throw Error(Errc::validation,
                field_name(f) + tr(": ", "：") + quote_value(typed) + msg.substr(as_folded.size()));
  }
}

// Integer and money are stored as JSON integers that fit int64.
void check_stored_integer(const FieldDef& f, const json& value) {
  const bool fits = value.is_number_integer() &&
                    (!value.is_number_unsigned() || value.get<std::uint64_t>() <= kInt64Max);
  if (!fits)
    reject_stored(f, value,
                  f.type == FieldType::money
                      ? tr("is not a stored amount: expected an integer number of fen", "不是存储格式的金额：应为以分计的整数")
                      : tr("is not a stored integer: expected a 64-bit JSON integer", "不是存储格式的整数：应为 64 位 JSON 整数"));
  const std::int64_t n = value.get<std::int64_t>();
  const std::uint64_t magnitude = n < 0 ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
  if (magnitude > (f.type == FieldType::money ? kMaxMoneyFen : kMaxIntegerMagnitude)) reject_stored(f, value, too_large_rule(f));
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

const EnumValue* FieldDef::find_value(std::string_view key_or_label) const {
  // Exact key and Chinese label first; then English labels and keys ignoring ASCII
  // case, so "Intention", "INTENTION" and "intention" all work from a sheet.
  for (const EnumValue& v : values)
    if (v.key == key_or_label || v.zh == key_or_label) return &v;
  for (const EnumValue& v : values)
    if (iequals_ascii(v.en, key_or_label) || iequals_ascii(v.key, key_or_label)) return &v;
  return nullptr;
}

json normalize_value(const FieldDef& field, std::string_view input) {
  const std::string_view s = trim_view(input);
  if (s.empty()) return nullptr;
  return folds_fullwidth(field) ? normalize_folded(field, s) : normalize_by_type(field, s);
}

std::string read_day(const std::string& what, std::string_view typed) {
  FieldDef as_date;
  as_date.key = as_date.zh = as_date.en = what;
  as_date.type = FieldType::date;
  const json day = normalize_value(as_date, typed);
  if (!day.is_string()) reject(as_date, typed, tr("is empty: a day is needed", "为空：需要一个日期"));
  return day.get<std::string>();
}

void check_stored_value(const FieldDef& field, const json& value) {
  if (value.is_null()) return;  // absent; required-ness is check_required's business
  switch (field.type) {
    case FieldType::integer:
    case FieldType::money:
      check_stored_integer(field, value);
      return;
    case FieldType::tags: {
      if (!value.is_array() ||
          !std::all_of(value.begin(), value.end(), [](const json& t) { return t.is_string(); }))
        reject_stored(field, value, tr("is not a stored tag set: expected an array of strings",
                                       "不是存储格式的标签：应为字符串数组"));
      if (value.empty()) return;  // an emptied set (after merges) is fine
      if (value.size() > kMaxTags) {
        reject_stored(field, json(std::to_string(value.size()) + " tags"),
                      tr("has more than " + std::to_string(kMaxTags) + " tags", "标签超过 " + std::to_string(kMaxTags) + " 个"));
      }
      std::string joined;
      for (const json& t : value) joined += (joined.empty() ? "" : ";") + t.get<std::string>();
      // The canonical form is what normalisation of the joined tags produces.
      if (normalize_value(field, joined) != value)
        reject_stored(field, value, tr("is not a stored tag set: tags must be trimmed, unique and sorted",
                                       "不是存储格式的标签：标签须去掉首尾空白、不重复并排好序"));
      return;
    }
    default:
      break;
  }
  // Every other type is stored as a string in its normalised form: a stored value
  // must be a fixed point of normalize_value (which also explains what is wrong).
  if (!value.is_string())
    reject_stored(field, value, tr(std::string("is not a ") + field_type_name(field.type) + " string",
                                   std::string("不是 ") + field_type_name(field.type) + " 类型的字符串"));
  const std::string& s = value.get_ref<const std::string&>();
  const json normalized = normalize_value(field, s);
  if (normalized != value) {
    const std::string expected =
        normalized.is_string() ? normalized.get<std::string>() : normalized.dump();
    reject(field, s, tr("is not in stored form: expected ", "不是存储格式：应为 ") + quote_value(expected));
  }
}

void check_required(const CollectionDef& coll, const json& fields) {
  if (!fields.is_object())
    throw Error(Errc::validation, coll.zh + " (" + coll.name + ")" +
                                      tr(": fields must be a JSON object", "：字段必须是 JSON 对象"));
  // Every missing field in one message, so a form or a sheet row is fixed at once.
  std::string missing;
  std::size_t count = 0;
  for (const FieldDef& f : coll.fields) {
    if (!f.required || f.derived) continue;
    const auto it = fields.find(f.key);
    if (it == fields.end() || it->is_null() ||
        (it->is_string() && it->get_ref<const std::string&>().empty()) ||
        (it->is_array() && it->empty())) {
      missing += (count++ == 0 ? "" : ", ") + field_name(f);
    }
  }
  if (count > 0)
    throw Error(Errc::validation, tr(missing + (count == 1 ? " is required" : " are required"), "必须填写：" + missing));
}

std::string display_value(const FieldDef& field, const json& value, Lang lang) {
  if (value.is_null()) return "";
  switch (field.type) {
    case FieldType::enumeration:
      if (value.is_string()) {
        const std::string& key = value.get_ref<const std::string&>();
        for (const EnumValue& v : field.values)
          if (v.key == key) return lang == Lang::zh ? v.zh : v.en;
        return key;  // a key this schema does not know (yet): show it as is
      }
      break;
    case FieldType::money:
      // Parsed JSON keeps non-negative numbers as unsigned; both kinds are fen.
      if (value.is_number_integer() &&
          (!value.is_number_unsigned() || value.get<std::uint64_t>() <= kInt64Max)) {
        const auto fen = value.get<std::int64_t>();
        // Magnitude in unsigned arithmetic so that INT64_MIN does not overflow.
        const std::uint64_t mag =
            fen < 0 ? 0 - static_cast<std::uint64_t>(fen) : static_cast<std::uint64_t>(fen);
        return (fen < 0 ? "-" : "") + std::to_string(mag / 100) + "." +
               two_digits(static_cast<int>(mag % 100));
      }
      break;
    case FieldType::tags:
      if (value.is_array()) {
        std::string out;
        for (const json& t : value)
          out += (out.empty() ? "" : ";") + (t.is_string() ? t.get<std::string>() : t.dump());
        return out;
      }
      break;
    default:
      break;
  }
  // Integers print in decimal through dump(); strings as themselves.
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string normalize_phone(std::string_view input) {
  const std::string folded = fold_fullwidth(input);  // １３９… and （０１０）
  const std::string_view s = trim_view(folded);
  // "转" always introduces an extension.
  if (const std::size_t zhuan = s.find("转"); zhuan != std::string_view::npos)
    return landline_with_extension(s.substr(0, zhuan),
                                   s.substr(zhuan + std::string_view("转").size()));
  // Dashes are usually just grouping ("138-0013-8000", "0755-1234-5678"); only when
  // the whole is not a number is a last "-NNNN" group taken as an extension.
  if (std::string whole = normalize_phone_digits(strip_phone_punctuation(s, false)); !whole.empty())
    return whole;
  const std::string with_dashes = strip_phone_punctuation(s, true);
  const std::size_t dash = with_dashes.rfind('-');
  if (dash == std::string::npos) return {};
  return landline_with_extension(std::string_view(with_dashes).substr(0, dash),
                                 std::string_view(with_dashes).substr(dash + 1));
}

}  // namespace kehu
