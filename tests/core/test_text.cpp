// Tests for kehu/text.h: decoding, CSV, display width and tables.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "kehu/error.h"
#include "kehu/text.h"
#include "test_support.h"

using kehu::CsvRow;
using kehu::SourceEncoding;

namespace {

// "客户名称" as GB18030 (the same bytes as GBK for these characters).
const std::string kGbCustomerName = "\xBF\xCD\xBB\xA7\xC3\xFB\xB3\xC6";


std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Display column at which `needle` starts in `line`.
std::size_t display_column_of(const std::string& line, const std::string& needle) {
  const std::size_t at = line.find(needle);
  REQUIRE(at != std::string::npos);
  return kehu::display_width(line.substr(0, at));
}

// Display columns at which each run of dashes starts in a separator line.
std::vector<std::size_t> dash_run_columns(const std::string& line) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '-' && (i == 0 || line[i - 1] == ' ')) starts.push_back(i);
  }
  return starts;  // the separator is ASCII, so bytes are columns
}

std::string shared_data_dir() {
  if (const char* env = std::getenv("KEHU_SHARED_DATA")) return env;
#ifdef KEHU_SHARED_DATA_DIR
  return KEHU_SHARED_DATA_DIR;
#else
  return "";
#endif
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) FAIL("cannot open " << path << " (set KEHU_SHARED_DATA to the shared/data dir)");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// ---------------------------------------------------------------------------
// Encodings

TEST_CASE("is_valid_utf8 accepts well-formed text and rejects malformed bytes", "[text]") {
  CHECK(kehu::is_valid_utf8(""));
  CHECK(kehu::is_valid_utf8("plain ascii"));
  CHECK(kehu::is_valid_utf8("客户名称 😀 é"));
  CHECK_FALSE(kehu::is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(kehu::is_valid_utf8("\xED\xA0\x80"));      // UTF-16 surrogate
  CHECK_FALSE(kehu::is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  CHECK_FALSE(kehu::is_valid_utf8("\xE5\xAE"));          // truncated 客
  CHECK_FALSE(kehu::is_valid_utf8("a\x80"));             // stray continuation byte
  CHECK_FALSE(kehu::is_valid_utf8(kGbCustomerName));
}

TEST_CASE("decode_sheet_bytes keeps plain UTF-8", "[text]") {
  const auto d = kehu::decode_sheet_bytes("序号,客户名称\n1,甲\n");
  CHECK(d.encoding == SourceEncoding::utf8);
  CHECK(d.utf8 == "序号,客户名称\n1,甲\n");

  const auto empty = kehu::decode_sheet_bytes("");
  CHECK(empty.encoding == SourceEncoding::utf8);
  CHECK(empty.utf8.empty());
}

TEST_CASE("decode_sheet_bytes strips a UTF-8 BOM", "[text]") {
  const auto d = kehu::decode_sheet_bytes("\xEF\xBB\xBF客户名称,x");
  CHECK(d.encoding == SourceEncoding::utf8_bom);
  CHECK(d.utf8 == "客户名称,x");

  const auto only_bom = kehu::decode_sheet_bytes("\xEF\xBB\xBF");
  CHECK(only_bom.encoding == SourceEncoding::utf8_bom);
  CHECK(only_bom.utf8.empty());
}

TEST_CASE("decode_sheet_bytes decodes GB18030", "[text]") {
  const auto d = kehu::decode_sheet_bytes(kGbCustomerName);
  CHECK(d.encoding == SourceEncoding::gb18030);
  CHECK(d.utf8 == "客户名称");

  // ASCII, two-byte and four-byte GB18030 sequences together: "A客é😀\n".
  const auto mixed = kehu::decode_sheet_bytes("A\xBF\xCD\xA8\xA6\x94\x39\xFC\x36\n");
  CHECK(mixed.encoding == SourceEncoding::gb18030);
  CHECK(mixed.utf8 == "A客é😀\n");
}

TEST_CASE("decode_sheet_bytes names the offset of bytes it cannot decode", "[text]") {
  // 0xFF is neither UTF-8 nor GB18030.
  const std::string bad = "ab" + kGbCustomerName + "\xFF" + "cd";
  CHECK(kehu::test::validation_message([&] { kehu::decode_sheet_bytes(bad); }) ==
        "byte 10: not valid UTF-8 or GB18030");

  // A lead byte with nothing after it.
  const std::string cut = kGbCustomerName + "\x81";
  CHECK_THAT(kehu::test::validation_message([&] { kehu::decode_sheet_bytes(cut); }),
             Catch::StartsWith("byte 8: not valid UTF-8 or GB18030"));

  // A BOM promises UTF-8, so GB18030 bytes after it are an error.
  const std::string bom_then_gb =
      "\xEF\xBB\xBF"
      "ab" +
      kGbCustomerName;
  CHECK_THAT(kehu::test::validation_message([&] { kehu::decode_sheet_bytes(bom_then_gb); }),
             Catch::StartsWith("byte 5: not valid UTF-8"));
}

// ---------------------------------------------------------------------------
// CSV

TEST_CASE("parse_csv reads plain rows with their line numbers", "[text]") {
  const auto rows = kehu::parse_csv("a,b,c\n1,2,3\n");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].line == 1);
  CHECK(rows[0].cells == std::vector<std::string>{"a", "b", "c"});
  CHECK(rows[1].line == 2);
  CHECK(rows[1].cells == std::vector<std::string>{"1", "2", "3"});

  CHECK(kehu::parse_csv("").empty());
}

TEST_CASE("parse_csv handles quoting", "[text]") {
  const auto rows = kehu::parse_csv(R"(name,note
"Acme, Inc.","He said ""hi"""
"",x
plain"quote,"a""b")");
  REQUIRE(rows.size() == 4);
  CHECK(rows[1].cells == std::vector<std::string>{"Acme, Inc.", R"(He said "hi")"});
  CHECK(rows[2].cells == std::vector<std::string>{"", "x"});
  // A quote inside an unquoted cell is literal; the file ends without a newline.
  CHECK(rows[3].cells == std::vector<std::string>{R"(plain"quote)", R"(a"b)"});
  CHECK(rows[3].line == 4);
}

TEST_CASE("parse_csv counts physical lines across embedded newlines", "[text]") {
  const auto rows = kehu::parse_csv("h1,h2\n1,\"line one\nline two\nline three\"\n2,x\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].line == 2);
  CHECK(rows[1].cells[1] == "line one\nline two\nline three");
  CHECK(rows[2].line == 5);
  CHECK(rows[2].cells == std::vector<std::string>{"2", "x"});
}

TEST_CASE("parse_csv handles CRLF line endings", "[text]") {
  const auto rows = kehu::parse_csv("a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].cells == std::vector<std::string>{"a", "b"});
  CHECK(rows[1].cells == std::vector<std::string>{"1", "x\r\ny"});
  CHECK(rows[2].line == 4);
  CHECK(rows[2].cells == std::vector<std::string>{"2", "z"});
}

TEST_CASE("parse_csv skips blank lines but keeps rows of empty cells", "[text]") {
  const auto rows = kehu::parse_csv("a,b\n\n1,2\r\n\r\n  \n,\n3,\n\n");
  REQUIRE(rows.size() == 4);
  CHECK(rows[1].line == 3);
  CHECK(rows[2].line == 6);
  CHECK(rows[2].cells == std::vector<std::string>{"", ""});
  CHECK(rows[3].line == 7);
  CHECK(rows[3].cells == std::vector<std::string>{"3", ""});
}

TEST_CASE("parse_csv names the line of an unterminated quote", "[text]") {
  CHECK(kehu::test::validation_message([] { kehu::parse_csv("a,b\n1,2\n3,\"open\nmore\n"); }) ==
        "line 3: unterminated quoted field");
  CHECK(kehu::test::validation_message([] { kehu::parse_csv("\"x"); }) == "line 1: unterminated quoted field");
}

TEST_CASE("csv_escape quotes only when needed and round-trips", "[text]") {
  CHECK(kehu::csv_escape("plain 客户") == "plain 客户");
  CHECK(kehu::csv_escape("").empty());
  CHECK(kehu::csv_escape("a,b") == "\"a,b\"");
  CHECK(kehu::csv_escape("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(kehu::csv_escape("two\nlines") == "\"two\nlines\"");
  CHECK(kehu::csv_escape("cr\r") == "\"cr\r\"");

  const std::vector<std::string> cells = {"客户名称", "a,b", "\"q\"", "x\r\ny", "", " sp "};
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += ',';
    line += kehu::csv_escape(cells[i]);
  }
  const auto rows = kehu::parse_csv(line + "\r\n");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].cells == cells);
}

TEST_CASE("csv_escape keeps formulas from running in a spreadsheet, and the round trip keeps the value", "[text]") {
  CHECK(kehu::csv_escape("=HYPERLINK(\"http://x\",\"点我\")") == "\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\"");
  CHECK(kehu::csv_escape("@SUM(A1)") == "'@SUM(A1)");
  CHECK(kehu::csv_escape("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0");
  CHECK(kehu::csv_escape("-") == "'-");
  // Plain numbers are data.
  CHECK(kehu::csv_escape("-123.45") == "-123.45");
  CHECK(kehu::csv_escape("+8613800138000") == "+8613800138000");
  CHECK(kehu::csv_escape("'quoted already") == "'quoted already");

  // R17-24: a value typed with the guard's own look keeps its apostrophe.
  CHECK(kehu::csv_escape("'=不是公式") == "''=不是公式");
  const std::vector<std::string> cells = {"=1+1", "@x", "-", "-12.5", "+86", "'text", "'", "\tTAB", "'=不是公式",
                                          "''@x"};
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += ',';
    line += kehu::csv_escape(cells[i]);
  }
  const auto rows = kehu::parse_csv(line + "\n");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].cells == cells);
}

// Speed is measured in bench/, not here; this checks a large sheet parses right.
TEST_CASE("parse_csv handles a large sheet", "[text][.slow]") {
  std::string text = "序号,客户名称,备注\n";
  constexpr int kRows = 100000;
  for (int i = 1; i <= kRows; ++i) {
    text += std::to_string(i) + ",上海某某科技有限公司,\"备注, 含逗号\"\n";
  }
  const auto rows = kehu::parse_csv(text);
  REQUIRE(rows.size() == kRows + 1);
  CHECK(rows.back().line == kRows + 1);
  CHECK(rows.back().cells[2] == "备注, 含逗号");
}

// ---------------------------------------------------------------------------
// Display width

TEST_CASE("display_width counts terminal columns", "[text]") {
  CHECK(kehu::display_width("") == 0);
  CHECK(kehu::display_width("abc") == 3);
  CHECK(kehu::display_width("客户名称") == 8);
  CHECK(kehu::display_width("客户A1") == 6);
  CHECK(kehu::display_width("ＡＢ１") == 6);  // fullwidth forms
  CHECK(kehu::display_width("ｱｲ") == 2);      // halfwidth katakana stay narrow
  CHECK(kehu::display_width("\u3000") == 2);  // ideographic space
  CHECK(kehu::display_width("한국") == 4);    // Hangul
  CHECK(kehu::display_width("😀") == 2);
  CHECK(kehu::display_width("e\u0301") == 1);   // combining acute accent
  CHECK(kehu::display_width("a\u200Bb") == 2);  // zero-width space
  CHECK(kehu::display_width("\xFF\xFE") == 2);  // invalid bytes count 1 each
  CHECK(kehu::display_width("𠀀") == 2);        // CJK extension B
}

TEST_CASE("pad_right pads by display width and never truncates", "[text]") {
  CHECK(kehu::pad_right("客户", 6) == "客户  ");
  CHECK(kehu::pad_right("ab", 4) == "ab  ");
  CHECK(kehu::pad_right("客户名称", 4) == "客户名称");
  CHECK(kehu::display_width(kehu::pad_right("上海A", 10)) == 10);
}

TEST_CASE("truncate_display cuts by columns and ends with an ellipsis", "[text]") {
  CHECK(kehu::truncate_display("hello", 5) == "hello");
  CHECK(kehu::truncate_display("hello", 4) == "hel…");
  CHECK(kehu::truncate_display("客户名称", 8) == "客户名称");
  CHECK(kehu::truncate_display("客户名称", 5) == "客户…");
  CHECK(kehu::truncate_display("客户名称", 4) == "客…");  // 户 would need column 4 and 5
  CHECK(kehu::truncate_display("客户名称", 1) == "…");
  CHECK(kehu::truncate_display("客户名称", 0).empty());
}

TEST_CASE("truncate_display never splits a UTF-8 sequence", "[text]") {
  const std::string s = "A客é😀ｂ e\u0301 한𠀀";
  const std::size_t full = kehu::display_width(s);
  for (std::size_t w = 0; w <= full + 1; ++w) {
    const std::string t = kehu::truncate_display(s, w);
    INFO("width " << w << ": " << t);
    CHECK(kehu::is_valid_utf8(t));
    CHECK(kehu::display_width(t) <= w);
    if (w < full) CHECK(kehu::display_width(t) >= (w == 0 ? 0 : w - 1));
  }
}

// ---------------------------------------------------------------------------
// Tables

TEST_CASE("render_table aligns Chinese text by display width", "[text]") {
  const std::vector<std::string> header = {"编号", "客户名称", "城市"};
  const std::vector<std::vector<std::string>> rows = {
      {"C202401001", "上海某某科技有限公司", "杭州"},
      {"C2", "Acme", "Shenzhen 深圳"},
      {"C3", "北京ＡＢ", ""},
  };
  const std::string out = kehu::render_table(header, rows);
  const auto lines = split_lines(out);
  REQUIRE(lines.size() == 5);
  CHECK(out.back() == '\n');

  CHECK(lines[0] == "编号        客户名称              城市");
  CHECK(lines[1] == "----------  --------------------  -------------");
  CHECK(lines[2] == "C202401001  上海某某科技有限公司  杭州");
  CHECK(lines[3] == "C2          Acme                  Shenzhen 深圳");
  CHECK(lines[4] == "C3          北京ＡＢ");

  // Columns 2 and 3 start at the same display column on every line, where the
  // separator's dash runs start.
  CHECK(dash_run_columns(lines[1]) == std::vector<std::size_t>{0, 12, 34});
  const std::vector<std::string> col2 = {"客户名称", "", "上海某某", "Acme", "北京"};
  const std::vector<std::string> col3 = {"城市", "", "杭州", "Shenzhen", ""};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO("line " << i << ": " << lines[i]);
    CHECK(lines[i].back() != ' ');
    if (!col2[i].empty()) CHECK(display_column_of(lines[i], col2[i]) == 12);
    if (!col3[i].empty()) CHECK(display_column_of(lines[i], col3[i]) == 34);
  }
}

TEST_CASE("render_table separator, short rows and truncation", "[text]") {
  const std::string out =
      kehu::render_table({"名称", "备注"}, {{"上海某某科技有限公司", "line\nbreak"}, {"甲"}}, 8);
  const auto lines = split_lines(out);
  REQUIRE(lines.size() == 4);
  // 上海某某… would be 9 columns, so the first column is 7 wide; the line break
  // becomes a space before truncation.
  CHECK(lines[0] == "名称     备注");
  CHECK(lines[1] == "-------  --------");
  CHECK(lines[2] == "上海某…  line br…");
  CHECK(lines[3] == "甲");  // missing cells render empty, without trailing spaces
}

TEST_CASE("render_table fits a line width by narrowing the widest columns first", "[text]") {
  const std::vector<std::string> header{"编号", "名称", "备注"};
  const std::vector<std::vector<std::string>> rows{
      {"C202612001", "上海某某科技有限公司", "first visit went well, call back next week"}, {"C2", "甲", "ok"}};
  std::size_t hidden = 99;
  const auto lines = split_lines(kehu::render_table(header, rows, 0, 36, &hidden));
  REQUIRE(lines.size() == 4);
  CHECK(hidden == 0);
  for (const auto& line : lines) CHECK(kehu::display_width(line) <= 36);
  // The notes column was the widest, so it gave up the most; the first column
  // (what a row is known by) stays whole.
  CHECK(lines[2] == "C202612001  上海某某科…  first visi…");
  CHECK(lines[3] == "C2          甲           ok");
  // Wide enough: nothing is cut, the same as no limit.
  CHECK(kehu::render_table(header, rows, 0, 200, &hidden) == kehu::render_table(header, rows));
  CHECK(hidden == 0);
  // Too narrow for 6 columns each: columns are left off from the right, and
  // how many is told.
  const auto tight = split_lines(kehu::render_table(header, rows, 0, 20, &hidden));
  CHECK(hidden == 1);
  CHECK(tight[0] == "编号        名称");
  CHECK(tight[2] == "C202612001  上海某…");
  for (const auto& line : tight) CHECK(kehu::display_width(line) <= 20);
}

TEST_CASE("render_table with no rows prints header and separator", "[text]") {
  CHECK(kehu::render_table({"a", "客户"}, {}) == "a  客户\n-  ----\n");
}

// ---------------------------------------------------------------------------
// trim

TEST_CASE("trim removes ASCII whitespace and the ideographic space", "[text]") {
  CHECK(kehu::trim("  x  ") == "x");
  CHECK(kehu::trim("\t\r\n x \r\n") == "x");
  CHECK(kehu::trim("\u3000客户\u3000") == "客户");
  CHECK(kehu::trim(" \u3000 \u3000上海 浦东\u3000 ") == "上海 浦东");
  CHECK(kehu::trim("\u3000\u3000 ").empty());
  CHECK(kehu::trim("").empty());
  CHECK(kehu::trim("客") == "客");  // E5 AE A2: no byte of it is whitespace
}

TEST_CASE("trim removes the invisible characters copied text carries, only at the ends", "[text]") {
  CHECK(kehu::trim("\u200B华东公司\u00A0") == "华东公司");
  CHECK(kehu::trim("\uFEFF\u2060 上海\u200D\u200C\u202F") == "上海");
  CHECK(kehu::trim("\u2003\u200A\u205F").empty());
  CHECK(kehu::trim("\u200B").empty());
  // Inside the text they stay: a joiner inside an emoji sequence, a name's NBSP.
  CHECK(kehu::trim("a\u200Db") == "a\u200Db");
  CHECK(kehu::trim("A\u00A0B") == "A\u00A0B");
  // Characters that share lead bytes with them are not blanks.
  CHECK(kehu::trim("\u2010x\u2030") == "\u2010x\u2030");  // hyphen, per mille
  CHECK(kehu::trim("\u00A9") == "\u00A9");                  // ©
}

// ---------------------------------------------------------------------------
// The real sample sheets in shared/data.

TEST_CASE("the sample sheets decode and parse", "[text]") {
  const std::string dir = shared_data_dir();
  if (dir.empty()) FAIL("set KEHU_SHARED_DATA or compile with -DKEHU_SHARED_DATA_DIR");

  struct Sample {
    const char* file;
    SourceEncoding encoding;
    std::size_t rows;
  };
  const Sample samples[] = {
      {"customers-sample.csv", SourceEncoding::utf8_bom, 306},
      {"customers-sample-gbk.csv", SourceEncoding::gb18030, 66},
  };
  for (const Sample& sample : samples) {
    INFO(sample.file);
    const auto decoded = kehu::decode_sheet_bytes(read_file(dir + "/" + sample.file));
    CHECK(decoded.encoding == sample.encoding);
    const std::vector<CsvRow> rows = kehu::parse_csv(decoded.utf8);
    REQUIRE(rows.size() == sample.rows);
    REQUIRE(rows[0].cells.size() >= 3);
    CHECK(rows[0].cells[0] == "序号");
    CHECK(rows[0].cells[1] == "客户编号");
    CHECK(rows[0].cells[2] == "客户名称");
    for (const CsvRow& row : rows) {
      INFO("line " << row.line);
      CHECK(row.cells.size() == 29);
    }
    CHECK(rows.back().line == sample.rows);  // no sample cell spans lines
  }
}
