// Text utilities: encodings, CSV, and terminal display width.
//
// Everything inside Kehu is UTF-8. Sheets saved by Excel on Chinese Windows are
// GB18030/GBK; decode_sheet_bytes() turns either into UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kehu {

enum class SourceEncoding { utf8, utf8_bom, gb18030 };

struct DecodedText {
  std::string utf8;          // the text, UTF-8, without BOM
  SourceEncoding encoding;   // what it was
};

// Decodes the bytes of a sheet: a UTF-8 BOM is stripped; valid UTF-8 is kept;
// anything else is decoded as GB18030 (a superset of GBK/GB2312) with iconv.
// Throws Error(validation) if the bytes are neither valid UTF-8 nor GB18030,
// naming the byte offset.
DecodedText decode_sheet_bytes(std::string_view bytes);

// True if `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// One parsed CSV row with the 1-based physical line number where it starts
// (quoted fields may span lines, so this is not the row index).
struct CsvRow {
  std::size_t line = 0;
  std::vector<std::string> cells;
};

// RFC 4180 CSV: comma separated, double-quote quoting with "" escapes, CRLF or LF,
// quoted fields may contain commas and newlines. Blank lines are skipped.
// Throws Error(validation) on an unterminated quote, naming the line. A leading
// apostrophe before = + - @ (csv_escape's formula guard) is removed.
std::vector<CsvRow> parse_csv(std::string_view utf8_text);

// Quotes a cell when it contains a comma, quote, CR or LF (RFC 4180). A cell a
// spreadsheet would run as a formula (starting with = + - @ tab or CR, and not a
// plain number) gets a leading apostrophe, which parse_csv removes again.
std::string csv_escape(std::string_view cell);

// Columns a string occupies on a terminal: East Asian wide and fullwidth
// characters (CJK, Hangul, fullwidth forms, most emoji) count 2, combining marks 0,
// others 1. Invalid UTF-8 bytes count 1 each.
std::size_t display_width(std::string_view utf8);

// Pads `s` with spaces on the right to `width` display columns (no truncation).
std::string pad_right(std::string_view s, std::size_t width);

// Cuts `s` to at most `width` display columns, ending with "…" when cut; never
// splits a UTF-8 sequence.
std::string truncate_display(std::string_view s, std::size_t width);

// Renders an aligned text table: a header row, a separator of dashes, then rows.
// Columns are separated by two spaces and aligned by display width, so Chinese
// text lines up. Cells wider than max_cell_width are truncated with "…"
// (0 = no limit). When a line would be wider than max_line_width (0 = no limit),
// the first column (what a row is known by) stays whole, the widest others are
// narrowed first, each to no less than 6 columns, and cells cut to fit end with
// "…"; when even that is too wide, columns are left off from the right and their
// number goes to *hidden_columns. Each line ends with '\n'; no trailing spaces.
std::string render_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows,
                         std::size_t max_cell_width = 0, std::size_t max_line_width = 0,
                         std::size_t* hidden_columns = nullptr);

// Trims from both ends ASCII whitespace, the ideographic space U+3000 (what
// Chinese input methods type as a "full-width space"), and the blanks and
// invisible characters copied text carries: NBSP, the Unicode spaces, zero-width
// space/joiners, word joiner and BOM. "\u200B 华东公司\u00A0" -> "华东公司".
std::string_view trim_view(std::string_view s);
inline std::string trim(std::string_view s) { return std::string(trim_view(s)); }

// The first invisible formatting character in `s` that can make text show other
// than it reads, as its code point, or 0: the bidi embeddings, overrides and
// isolates (U+202A..U+202E, U+2066..U+2069: "Trojan Source"), the zero-width
// space, the word joiner and the BOM (U+200B, U+2060, U+FEFF: "张\u200b三" is not
// "张三" to a duplicate check), the line and paragraph separators (U+2028,
// U+2029), the direction marks (U+200E, U+200F, U+061C), the soft hyphen, the
// invisible operators (U+2061..U+2064), tag characters (U+E0000..U+E007F) and
// letters drawn as blanks (Hangul fillers, the braille blank). ZWNJ and ZWJ are
// not among them: emoji sequences need them.
char32_t invisible_format(std::string_view s);

// A client's text as a log line may show it: at most `max_bytes` of it ("..."
// after a cut), ASCII controls, the blank and '\\' as \xHH, bytes that are not
// UTF-8 as \xHH, and the C1 controls and every invisible_format() character as
// <U+XXXX>: no line, terminal code, bidi override or line separator can reach
// the log from outside (attacker review 19, A19-3: U+202E made a login-failure
// line read "user=admin").
std::string loggable(std::string_view s, std::size_t max_bytes);

// Folds what a Chinese input method types in full-width mode to ASCII:
// U+FF01..U+FF5E become U+0021..U+007E (１ -> 1, ，-> ",", ．-> ".", ：-> ":",
// －-> "-", ＠-> "@", ｃ -> c), the ideographic space U+3000 a space and the
// ideographic full stop 。(U+3002, what the "." key types in Chinese
// punctuation mode) a ".". Everything else, invalid UTF-8 included, is copied
// as is. For values that are numbers, dates, money, phones, codes and email
// addresses; names and notes keep what was typed.
std::string fold_fullwidth(std::string_view s);

}  // namespace kehu
