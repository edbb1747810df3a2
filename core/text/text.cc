// Text utilities; the contracts are in kehu/text.h.

#include "kehu/text.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu {
namespace {

constexpr std::size_t kNone = std::string_view::npos;

// ---------------------------------------------------------------------------
// UTF-8

// Decodes the UTF-8 sequence at s[i] into *cp and returns its length, or returns 0
// when the bytes there are malformed. Overlong forms, surrogates and values above
// U+10FFFF are malformed too (RFC 3629): accepting them would let two different
// byte strings compare unequal yet display the same.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len;
  char32_t min;
  char32_t c;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, c = b0 & 0x07;
  } else {
    return 0;  // a continuation byte or 0xF8..0xFF cannot start a sequence
  }
  if (s.size() - i < len) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

// Offset of the first byte that does not start a well-formed sequence, or kNone.
std::size_t first_invalid_utf8(std::string_view s) {
  char32_t cp;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = decode_utf8(s, i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return kNone;
}

// ---------------------------------------------------------------------------
// GB18030

// Owns an iconv descriptor so that every exit path closes it.
class IconvHandle {
 public:
  IconvHandle(const char* to, const char* from) : cd_(iconv_open(to, from)) {
    if (cd_ == kInvalid) {
      // Not the user's fault: the C library lacks the converter (e.g. a trimmed
      // container image without gconv modules).
      throw Error(Errc::internal, std::string("iconv cannot convert ") + from + " to " + to + ": " +
                                      std::strerror(errno));
    }
  }
  ~IconvHandle() { iconv_close(cd_); }
  IconvHandle(const IconvHandle&) = delete;
  IconvHandle& operator=(const IconvHandle&) = delete;

  iconv_t get() const { return cd_; }

 private:
  static inline const iconv_t kInvalid = reinterpret_cast<iconv_t>(std::intptr_t{-1});
  iconv_t cd_;
};

std::string gb18030_to_utf8(std::string_view bytes) {
  IconvHandle cd("UTF-8", "GB18030");
  // A GB18030 character of n bytes becomes at most 1.5n bytes of UTF-8 (two bytes
  // become three for the BMP; four stay four), so this is enough in one go. The
  // E2BIG branch below is only a safety net.
  std::string out(bytes.size() * 2 + 4, '\0');
  // iconv's prototype is not const-correct; it never writes through the input.
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  std::size_t used = 0;
  while (in_left > 0) {
    char* dst = out.data() + used;
    std::size_t dst_left = out.size() - used;
    const std::size_t rc = iconv(cd.get(), &in, &in_left, &dst, &dst_left);
    used = out.size() - dst_left;
    if (rc != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    const std::size_t at = static_cast<std::size_t>(in - bytes.data());
    throw Error(Errc::validation,
                tr("byte " + std::to_string(at) + ": not valid UTF-8 or GB18030" +
                       (errno == EINVAL ? " (incomplete character at end of input)" : ""),
                   "第 " + std::to_string(at) + " 字节：不是有效的 UTF-8 或 GB18030 编码" +
                       (errno == EINVAL ? "（末尾有不完整的字符）" : "")));
  }
  // GB18030 is stateless, so there is no shift state left to flush.
  out.resize(used);
  return out;
}

// ---------------------------------------------------------------------------
// CSV

// Reading position in the CSV text. `line` is the 1-based physical line at `pos`.
struct Cursor {
  std::string_view s;
  std::size_t pos = 0;
  std::size_t line = 1;

  bool at_end() const { return pos >= s.size(); }
  char peek() const { return s[pos]; }
};

// Consumes one line break (LF, CRLF, or a lone CR as old Mac Excel wrote) if the
// cursor is on one.
bool consume_line_break(Cursor& c) {
  if (c.at_end()) return false;
  if (c.peek() == '\n') {
    ++c.pos;
  } else if (c.peek() == '\r') {
    ++c.pos;
    if (!c.at_end() && c.peek() == '\n') ++c.pos;
  } else {
    return false;
  }
  ++c.line;
  return true;
}

// Line breaks inside a quoted cell, counted the same way consume_line_break does.
std::size_t count_line_breaks(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))) ++n;
  }
  return n;
}

// Skips a line that holds nothing or only spaces/tabs. Such lines are editing
// debris, not records; a line of only commas is not blank (it is a row of
// empty cells, which the importer should see and report).
bool skip_blank_line(Cursor& c) {
  std::size_t p = c.pos;
  while (p < c.s.size() && (c.s[p] == ' ' || c.s[p] == '\t')) ++p;
  if (p < c.s.size() && c.s[p] != '\n' && c.s[p] != '\r') return false;
  c.pos = p;
  consume_line_break(c);
  return true;
}

// Appends text up to the next comma or line break. A quote here is literal:
// RFC 4180 forbids it, but Excel reads it that way and rejecting the whole sheet
// for it helps nobody.
void read_unquoted(Cursor& c, std::string& cell) {
  std::size_t end = c.pos;
  while (end < c.s.size()) {
    const char ch = c.s[end];
    if (ch == ',' || ch == '\n' || ch == '\r') break;
    ++end;
  }
  cell.append(c.s.data() + c.pos, end - c.pos);
  c.pos = end;
}

// Reads a quoted cell; the cursor is on the opening quote. Text between quotes is
// copied in whole chunks rather than char by char, which keeps large sheets fast.
void read_quoted(Cursor& c, std::string& cell) {
  const std::size_t open_line = c.line;
  ++c.pos;
  for (;;) {
    const std::size_t q = c.s.find('"', c.pos);
    if (q == kNone) {
      throw Error(Errc::validation,
                  tr("line " + std::to_string(open_line) + ": unterminated quoted field",
                     "第 " + std::to_string(open_line) + " 行：引号内的字段没有结束引号"));
    }
    const std::string_view chunk = c.s.substr(c.pos, q - c.pos);
    c.line += count_line_breaks(chunk);
    cell.append(chunk);
    c.pos = q + 1;
    if (c.at_end() || c.peek() != '"') break;
    cell.push_back('"');  // "" is an escaped quote
    ++c.pos;
  }
  // Anything between the closing quote and the delimiter is kept, as Excel does.
  read_unquoted(c, cell);
}

// Reads one record, including its line break. `width_hint` is the previous row's
// cell count, so the cell vector is allocated once.
CsvRow read_row(Cursor& c, std::size_t width_hint) {
  CsvRow row;
  row.line = c.line;
  row.cells.reserve(width_hint);
  for (;;) {
    std::string& cell = row.cells.emplace_back();
    if (!c.at_end() && c.peek() == '"') {
      read_quoted(c, cell);
    } else {
      read_unquoted(c, cell);
    }
    if (c.at_end() || c.peek() != ',') break;
    ++c.pos;
  }
  consume_line_break(c);
  return row;
}

// ---------------------------------------------------------------------------
// Display width

struct Range {
  char32_t first;
  char32_t last;
};

// East Asian Wide (W) and Fullwidth (F) blocks. U+3000, the ideographic space,
// falls in the second range.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
    {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
    {0x30000, 0x3FFFD},
};

// Combining marks, zero-width spaces/joiners and variation selectors: they attach
// to the previous character and take no column of their own.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xE0100, 0xE01EF},
};

template <std::size_t N>
bool in_ranges(const Range (&table)[N], char32_t cp) {
  return std::any_of(table, table + N,
                     [cp](const Range& r) { return cp >= r.first && cp <= r.last; });
}

std::size_t code_point_width(char32_t cp) {
  if (cp < 0x300) return 1;  // ASCII and Latin-1: most text, no table lookup
  if (in_ranges(kZeroWidth, cp)) return 0;
  if (in_ranges(kWide, cp)) return 2;
  return 1;
}

// Byte length of the character at s[i] and, in *width, its columns. A malformed
// byte is a one-byte, one-column unit, so display code never throws on bad input.
std::size_t next_display_unit(std::string_view s, std::size_t i, std::size_t* width) {
  char32_t cp;
  const std::size_t len = decode_utf8(s, i, &cp);
  if (len == 0) {
    *width = 1;
    return 1;
  }
  *width = code_point_width(cp);
  return len;
}

// ---------------------------------------------------------------------------
// Tables

// A cell as it goes into a one-line table: line breaks and tabs would break the
// alignment of every later column, so they become spaces.
std::string table_cell(std::string_view cell, std::size_t max_width) {
  std::string out(cell);
  std::replace_if(
      out.begin(), out.end(), [](char ch) { return ch == '\n' || ch == '\r' || ch == '\t'; }, ' ');
  return max_width == 0 ? out : truncate_display(out, max_width);
}

// Appends one table line. The last column is not padded and trailing spaces are
// dropped, so an empty last cell does not leave blanks behind.
void append_line(std::string& out, const std::vector<std::string>& cells,
                 const std::vector<std::size_t>& widths) {
  const std::size_t line_start = out.size();
  for (std::size_t j = 0; j < widths.size(); ++j) {
    if (j > 0) out += "  ";
    const std::string_view cell = j < cells.size() ? std::string_view(cells[j]) : "";
    out += cell;
    if (j + 1 < widths.size()) out.append(widths[j] - display_width(cell), ' ');
  }
  while (out.size() > line_start && out.back() == ' ') out.pop_back();
  out += '\n';
}

bool is_ascii_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";  // U+3000

}  // namespace

bool is_valid_utf8(std::string_view s) { return first_invalid_utf8(s) == kNone; }

DecodedText decode_sheet_bytes(std::string_view bytes) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (bytes.starts_with(kBom)) {
    // The BOM declares UTF-8, so bad bytes after it are an error, not a hint to
    // try GB18030.
    const std::string_view body = bytes.substr(kBom.size());
    if (const std::size_t bad = first_invalid_utf8(body); bad != kNone) {
      throw Error(Errc::validation,
                  tr("byte " + std::to_string(bad + kBom.size()) +
                         ": not valid UTF-8 (the file starts with a UTF-8 BOM)",
                     "第 " + std::to_string(bad + kBom.size()) + " 字节：不是有效的 UTF-8 编码（文件以 UTF-8 BOM 开头）"));
    }
    return {std::string(body), SourceEncoding::utf8_bom};
  }
  if (is_valid_utf8(bytes)) return {std::string(bytes), SourceEncoding::utf8};
  return {gb18030_to_utf8(bytes), SourceEncoding::gb18030};
}

namespace {

// A cell a spreadsheet would run as a formula ("=HYPERLINK(...)", "@SUM(...)"):
// it starts with = + - @ or a tab/CR, and is not a plain number like "-12.5".
bool is_formula_trigger(std::string_view cell) {
  if (cell.empty() || std::string_view("=+-@\t\r").find(cell[0]) == kNone) return false;
  std::size_t i = (cell[0] == '+' || cell[0] == '-') ? 1 : 0;
  bool digits = false, dot = false;
  for (; i < cell.size(); ++i) {
    if (cell[i] >= '0' && cell[i] <= '9') {
      digits = true;
    } else if (cell[i] == '.' && !dot) {
      dot = true;
    } else {
      return true;
    }
  }
  return !digits;
}

// A value csv_escape() guards with a leading apostrophe.
bool needs_guard(std::string_view cell) {
  // "'=x" as typed needs one too, or the import would take its own apostrophe
  // for the guard (walkthrough 17, R17-24).
  return is_formula_trigger(cell) || (cell.size() > 1 && cell[0] == '\'' && needs_guard(cell.substr(1)));
}

}  // namespace

std::vector<CsvRow> parse_csv(std::string_view utf8_text) {
  std::vector<CsvRow> rows;
  // Counting LFs is a cheap pass that sizes the vector once for LF/CRLF files.
  rows.reserve(static_cast<std::size_t>(std::count(utf8_text.begin(), utf8_text.end(), '\n')) + 1);
  Cursor c{utf8_text};
  std::size_t width_hint = 0;
  while (!c.at_end()) {
    if (skip_blank_line(c)) continue;
    rows.push_back(read_row(c, width_hint));
    width_hint = rows.back().cells.size();
    for (auto& cell : rows.back().cells) {
      if (cell.size() > 1 && cell[0] == '\'' && needs_guard(std::string_view(cell).substr(1))) cell.erase(0, 1);
    }
  }
  return rows;
}

std::string csv_escape(std::string_view raw) {
  // OWASP's CSV-injection defence: a leading apostrophe makes Excel/WPS show the
  // cell as text. parse_csv takes it off again, so a round trip keeps the value.
  std::string neutral;
  if (needs_guard(raw)) neutral = "'" + std::string(raw);
  std::string_view cell = neutral.empty() ? raw : std::string_view(neutral);
  if (cell.find_first_of(",\"\r\n") == kNone) return std::string(cell);
  std::string out;
  out.reserve(cell.size() + 2);
  out += '"';
  for (const char ch : cell) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
  return out;
}

std::size_t display_width(std::string_view utf8) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    std::size_t w;
    i += next_display_unit(utf8, i, &w);
    total += w;
  }
  return total;
}

std::string pad_right(std::string_view s, std::size_t width) {
  std::string out(s);
  const std::size_t w = display_width(s);
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string truncate_display(std::string_view s, std::size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return {};
  const std::size_t budget = width - 1;  // one column is kept for the ellipsis
  std::size_t used = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t w;
    const std::size_t len = next_display_unit(s, i, &w);
    if (used + w > budget) break;
    used += w;
    i += len;
  }
  return std::string(s.substr(0, i)) + "…";
}

namespace {

// Narrows `widths` so that the columns and their two-space gaps fit in
// `line_width`. The first column (the code or ID a row is known by) and the
// `whole` ones (dates: a cut date says nothing) keep their width; the others may
// go down to 6 columns each (their own width when less).
// When even that does not fit, columns are left off from the right. Then a cap
// on the others is lowered from the widest down until the line fits, so the
// widest columns give up the most. Returns how many columns are shown.
std::size_t fit_widths(std::vector<std::size_t>& widths, const std::vector<bool>& whole, std::size_t line_width) {
  constexpr std::size_t kNarrowest = 6;
  std::vector<std::size_t> floor(widths.size());
  for (std::size_t j = 0; j < widths.size(); ++j)
    floor[j] = j == 0 || whole[j] ? widths[j] : std::min(widths[j], kNarrowest);
  auto line_at = [&](std::size_t n, std::size_t cap) {
    std::size_t total = 2 * (n - 1);
    for (std::size_t j = 0; j < n; ++j) total += std::max(floor[j], std::min(widths[j], cap));
    return total;
  };
  std::size_t shown = widths.size();
  while (shown > 1 && line_at(shown, 0) > line_width) --shown;
  widths.resize(shown);
  std::size_t cap = *std::max_element(widths.begin(), widths.end());
  while (cap > 0 && line_at(shown, cap) > line_width) --cap;
  for (std::size_t j = 0; j < shown; ++j) widths[j] = std::max(floor[j], std::min(widths[j], cap));
  return shown;
}

// A date or a date and time as tables show them: "2026-12-21", "2026-12-05 22:26".
bool date_cell(std::string_view s) {
  if (s.size() != 10 && s.size() != 16) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (i == 4 || i == 7)  ? c == '-'
                    : i == 10           ? c == ' '
                    : i == 13           ? c == ':'
                                        : (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// A customer code as tables show it: "C202612001", "C202612001*" (a pending edit).
bool code_cell(std::string_view s) {
  if (!s.empty() && s.back() == '*') s.remove_suffix(1);
  if (s.size() != 10 || s[0] != 'C') return false;
  return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows,
                         std::size_t max_cell_width, std::size_t max_line_width,
                         std::size_t* hidden_columns) {
  std::size_t ncols = header.size();
  for (const auto& row : rows) ncols = std::max(ncols, row.size());

  // Fit every cell first: the column widths depend on the fitted text.
  std::vector<std::vector<std::string>> grid;
  grid.reserve(rows.size() + 1);
  for (std::size_t r = 0; r <= rows.size(); ++r) {
    const std::vector<std::string>& src = r == 0 ? header : rows[r - 1];
    std::vector<std::string>& line = grid.emplace_back();
    line.reserve(src.size());
    for (const auto& cell : src) line.push_back(table_cell(cell, max_cell_width));
  }
  std::vector<std::size_t> widths(ncols, 0);
  std::vector<bool> filled(ncols, false);  // a row has something in the column
  for (std::size_t r = 0; r < grid.size(); ++r) {
    for (std::size_t j = 0; j < grid[r].size(); ++j) {
      widths[j] = std::max(widths[j], display_width(grid[r][j]));
      if (r > 0 && !grid[r][j].empty()) filled[j] = true;
    }
  }
  auto line_width = [&] {
    std::size_t line = widths.empty() ? 0 : 2 * (widths.size() - 1);
    for (const std::size_t w : widths) line += w;
    return line;
  };
  if (hidden_columns != nullptr) *hidden_columns = 0;
  if (max_line_width > 0 && !widths.empty() && line_width() > max_line_width) {
    // Columns no row fills say nothing here: they go first.
    std::vector<std::size_t> keep{0};
    for (std::size_t j = 1; j < ncols; ++j) {
      if (filled[j] || rows.empty()) keep.push_back(j);
    }
    // A column of dates, or of customer codes, is never cut: a cut one names
    // nothing. Other columns give way first.
    std::vector<bool> whole;
    for (const std::size_t j : keep) {
      bool any = false, only_fixed = true;
      for (std::size_t r = 1; r < grid.size() && only_fixed; ++r) {
        if (j >= grid[r].size() || grid[r][j].empty()) continue;
        any = true;
        only_fixed = date_cell(grid[r][j]) || code_cell(grid[r][j]);
      }
      whole.push_back(any && only_fixed);
    }
    const std::size_t shown = [&] {
      std::vector<std::size_t> kept;
      for (const std::size_t j : keep) kept.push_back(widths[j]);
      widths = std::move(kept);
      return fit_widths(widths, whole, max_line_width);
    }();
    keep.resize(shown);
    if (hidden_columns != nullptr) *hidden_columns = ncols - shown;
    ncols = shown;
    for (auto& cells : grid) {
      std::vector<std::string> fitted;
      for (std::size_t k = 0; k < shown; ++k) {
        fitted.push_back(keep[k] < cells.size() ? truncate_display(cells[keep[k]], widths[k]) : "");
      }
      cells = std::move(fitted);
    }
    // A row whose every shown cell is empty (the second line of a revision
    // that changed several fields, its fields hidden) would be a blank line.
    grid.erase(std::remove_if(grid.begin() + 1, grid.end(),
                              [](const std::vector<std::string>& cells) {
                                return std::all_of(cells.begin(), cells.end(),
                                                   [](const std::string& c) { return c.empty(); });
                              }),
               grid.end());
  }

  std::vector<std::string> dashes;
  dashes.reserve(ncols);
  for (const std::size_t w : widths) dashes.emplace_back(w, '-');

  std::string out;
  append_line(out, grid[0], widths);
  append_line(out, dashes, widths);
  for (std::size_t r = 1; r < grid.size(); ++r) append_line(out, grid[r], widths);
  return out;
}

namespace {

// Blanks and invisible characters that text copied from the web, a PDF or an
// office suite carries at its ends: NBSP, the Unicode spaces U+2000..U+200A,
// zero-width space, non-joiner and joiner, narrow NBSP, medium math space, word
// joiner, BOM, ideographic space.
constexpr std::string_view kEdgeBlanks[] = {
    "\xC2\xA0",     "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84",
    "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A",
    "\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE2\x81\xA0",
    "\xEF\xBB\xBF", kIdeographicSpace};

std::size_t blank_prefix(std::string_view s) {
  if (!s.empty() && is_ascii_space(s.front())) return 1;
  for (std::string_view b : kEdgeBlanks)
    if (s.starts_with(b)) return b.size();
  return 0;
}

std::size_t blank_suffix(std::string_view s) {
  if (!s.empty() && is_ascii_space(s.back())) return 1;
  for (std::string_view b : kEdgeBlanks)
    if (s.ends_with(b)) return b.size();
  return 0;
}

}  // namespace

char32_t invisible_format(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0xC2) {  // ASCII (or a stray byte): never one of these
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = decode_utf8(s, i, &cp);
    i += len ? len : 1;
    // Direction marks and controls, zero-width and joiner-like spaces that show
    // nothing, invisible math operators, tag characters, the other format
    // characters (interlinear annotation, musical, shorthand and Egyptian
    // format controls), the combining grapheme joiner, and letters that draw as
    // blanks (Hangul fillers, the braille blank, the Khmer inherent vowels).
    // ZWJ/ZWNJ stay: scripts and emoji need them.
    if (cp == 0x00AD || cp == 0x034F || (cp >= 0x0600 && cp <= 0x0605) || cp == 0x061C || cp == 0x06DD ||
        cp == 0x070F || cp == 0x0890 || cp == 0x0891 || cp == 0x08E2 || cp == 0x110BD || cp == 0x110CD ||
        cp == 0x115F || cp == 0x1160 || cp == 0x17B4 ||
        cp == 0x17B5 || cp == 0x180E || cp == 0x200B || cp == 0x200E || cp == 0x200F ||
        (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206F) ||
        cp == 0x2800 || cp == 0x3164 || cp == 0xFEFF || cp == 0xFFA0 || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
        (cp >= 0x13430 && cp <= 0x1343F) || (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0x1D173 && cp <= 0x1D17A) ||
        (cp >= 0xE0000 && cp <= 0xE007F)) {
      return cp;
    }
  }
  return 0;
}

std::string loggable(std::string_view s, std::size_t max_bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  std::size_t i = 0;
  while (i < s.size() && i < max_bytes) {
    const auto b = static_cast<unsigned char>(s[i]);
    char32_t cp = 0;
    const std::size_t len = decode_utf8(s, i, &cp);
    if (len == 0 || b < 0x20 || b == 0x7F || b == ' ' || b == '\\') {
      out += "\\x";
      out += hex[b >> 4];
      out += hex[b & 0xF];
      ++i;
      continue;
    }
    if (i + len > max_bytes) break;
    if ((cp >= 0x80 && cp <= 0x9F) || invisible_format(s.substr(i, len)) != 0) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "<U+%04X>", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return i < s.size() ? out + "..." : out;
}

std::string_view trim_view(std::string_view s) {
  while (std::size_t n = blank_prefix(s)) s.remove_prefix(n);
  while (std::size_t n = blank_suffix(s)) s.remove_suffix(n);
  return s;
}

std::string fold_fullwidth(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 == 0xEF || b0 == 0xE3) {
      char32_t cp = 0;
      const std::size_t len = decode_utf8(s, i, &cp);
      if (len == 3) {
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
          out += static_cast<char>(cp - 0xFF01 + 0x21);
          i += len;
          continue;
        }
        if (cp == 0x3000 || cp == 0x3002) {
          out += cp == 0x3000 ? ' ' : '.';
          i += len;
          continue;
        }
      }
    }
    out += s[i];
    ++i;
  }
  return out;
}

}  // namespace kehu
