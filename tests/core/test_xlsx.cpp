// Excel sheets in and out (core/sheet/xlsx_reader.cc, sheet_xlsx.cc, the shared
// import in sheet_csv.cc): the reader on hand-built odd workbooks (made here with
// libzip) and hostile files, the writer read back cell by cell, and the real
// `kehu` binary: export -> import round trip, re-import reporting updates and
// conflicts, --map and the remembered map, bad files and their exit codes.
#include <zip.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli_runner.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/sheet.h"
#include "kehu/xlsx.h"

using namespace kehu;
using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::EnvChanges;
using kehu::test::read_bytes;
using kehu::test::ScratchDir;
using kehu::test::write_bytes;

namespace {

using Parts = std::vector<std::pair<std::string, std::string>>;

// A zip archive holding `parts` (name, bytes), written with libzip to `path`.
void write_zip(const std::string& path, const Parts& parts) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  REQUIRE(z != nullptr);
  for (const auto& [name, bytes] : parts) {
    zip_source_t* src = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    REQUIRE(src != nullptr);
    REQUIRE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8) >= 0);
  }
  REQUIRE(zip_close(z) == 0);
}

std::string zip_bytes(const ScratchDir& dir, const Parts& parts) {
  const std::string path = dir.file("tmp.zip");
  write_zip(path, parts);
  return read_bytes(path).value();
}

// The text of one part of a zip archive on disk.
std::string read_part(const std::string& path, const std::string& part) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  REQUIRE(z != nullptr);
  zip_stat_t st;
  REQUIRE(zip_stat(z, part.c_str(), 0, &st) == 0);
  zip_file_t* f = zip_fopen(z, part.c_str(), 0);
  REQUIRE(f != nullptr);
  std::string out(st.size, '\0');
  REQUIRE(zip_fread(f, out.data(), st.size) == static_cast<zip_int64_t>(st.size));
  zip_fclose(f);
  zip_discard(z);
  return out;
}

const char* kNs =
    "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"";

std::string workbook_xml(const std::vector<std::string>& sheets, bool date1904 = false) {
  std::string s = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook ") + kNs + ">";
  if (date1904) s += "<workbookPr date1904=\"1\"/>";
  s += "<sheets>";
  for (std::size_t i = 0; i < sheets.size(); ++i) {
    std::string n = std::to_string(i + 1);
    s += "<sheet name=\"" + sheets[i] + "\" sheetId=\"" + n + "\" r:id=\"rId" + n + "\"/>";
  }
  return s + "</sheets></workbook>";
}

std::string rels_xml(std::size_t nsheets) {
  std::string s =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
      "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">";
  for (std::size_t i = 0; i < nsheets; ++i) {
    std::string n = std::to_string(i + 1);
    s +=
        "<Relationship Id=\"rId" + n +
        "\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
        "Target=\"worksheets/sheet" +
        n + ".xml\"/>";
  }
  return s + "</Relationships>";
}

std::string sheet_xml(const std::string& rows) {
  return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet ") + kNs +
         "><sheetData>" + rows + "</sheetData></worksheet>";
}

// A workbook of one sheet "Sheet1" with inline-string rows.
Parts one_sheet(const std::string& rows) {
  return {{"xl/workbook.xml", workbook_xml({"Sheet1"})},
          {"xl/_rels/workbook.xml.rels", rels_xml(1)},
          {"xl/worksheets/sheet1.xml", sheet_xml(rows)}};
}

std::string istr(const std::string& ref, const std::string& text) {
  return "<c r=\"" + ref + "\" t=\"inlineStr\"><is><t>" + text + "</t></is></c>";
}

// Runs `fn`, requires Error(validation), returns its message.
template <typename Fn>
std::string validation_error(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    CHECK(e.code() == Errc::validation);
    return e.what();
  }
  FAIL("no kehu::Error thrown");
  return {};
}

const std::string kPass = "xlsx 测试 pass";

// One replica driven through the real `kehu` binary.
class Kehu {
 public:
  Kehu() {
    CliResult r = run({"init"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }
  ScratchDir dir{"kehu-xlsx"};
  std::string db = dir.file("replica.db");

  CliResult run(const std::vector<std::string>& args) const {
    kehu::test::RunOptions o;
    o.env = {{"KEHU_DB", db},     {"KEHU_PASSPHRASE", kPass}, {"HOME", dir.path()},
             {"KEHU_LANG", "en"}, {"LANG", "C.UTF-8"},        {"LC_ALL", std::nullopt}};
    return kehu::test::run_kehu(args, o);
  }
  nlohmann::json run_json(std::vector<std::string> args) const {
    args.insert(args.begin(), "--json");
    CliResult r = run(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    nlohmann::json j;
    REQUIRE_NOTHROW(j = nlohmann::json::parse(r.out));
    return j;
  }
  std::map<std::string, nlohmann::json> customers() const {
    std::map<std::string, nlohmann::json> out;
    for (auto c : run_json({"customer", "list"})) {
      c.erase("id");  // made by each replica
      out[c["code"].get<std::string>()] = c;
    }
    return out;
  }
};

std::string sample(const char* name) { return kehu::test::sample_sheet(name); }

// Column index of `header` in the first row of a table.
std::size_t col(const XlsxTable& t, const std::string& header) {
  const auto& h = t.rows.at(0).cells;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (h[i] == header) return i;
  }
  FAIL("no column " << header);
  return 0;
}

std::string cell(const CsvRow& row, std::size_t i) {
  return i < row.cells.size() ? row.cells[i] : "";
}

// Text of the row's cells, trailing empty cells dropped.
std::vector<std::string> cells(const CsvRow& row) {
  std::vector<std::string> c = row.cells;
  while (!c.empty() && c.back().empty()) c.pop_back();
  return c;
}

// The value of attribute `name` in the first tag of `xml` from `from` on.
std::string attr(const std::string& xml, std::size_t from, const std::string& name) {
  const std::string key = " " + name + "=\"";
  std::size_t a = xml.find(key, from);
  if (a == std::string::npos || a > xml.find('>', from)) return {};
  a += key.size();
  return xml.substr(a, xml.find('"', a) - a);
}

// The conditional format a worksheet gives cells equal to "VALUE": the range it
// covers and its fill colour (the bgColor of its dxf in styles.xml).
struct ValueColour {
  std::string range;
  std::string fill;
};
ValueColour value_colour(const std::string& sheet, const std::string& styles,
                         const std::string& value) {
  const std::size_t f = sheet.find("<formula>\"" + value + "\"</formula>");
  if (f == std::string::npos) return {};
  ValueColour out;
  out.range = attr(sheet, sheet.rfind("<conditionalFormatting ", f), "sqref");
  const std::string dxf_id = attr(sheet, sheet.rfind("<cfRule ", f), "dxfId");
  if (dxf_id.empty()) return out;
  std::size_t d = styles.find("<dxfs ");
  for (int i = 0; i <= std::stoi(dxf_id) && d != std::string::npos; ++i)
    d = styles.find("<dxf>", d + 1);
  if (d == std::string::npos) return out;
  const std::size_t bg = styles.find("<bgColor ", d);
  if (bg < styles.find("</dxf>", d)) out.fill = attr(styles, bg, "rgb");
  return out;
}

}  // namespace

TEST_CASE("xlsx reader: shared strings with rich runs, inline strings, gaps, dates and numbers",
          "[xlsx]") {
  ScratchDir dir{"kehu-xlsx"};
  const std::string sst =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst "
      "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"3\" "
      "uniqueCount=\"3\">"
      "<si><t>客户名称</t></si>"
      "<si><r><t>明达</t></r><r><rPr><b/></rPr><t xml:space=\"preserve\">医疗 </t></r>"
      "<rPh sb=\"0\" eb=\"2\"><t>ミンダ</t></rPh></si>"
      "<si><t>a&amp;b &lt;c&gt;</t></si></sst>";
  const std::string styles =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><styleSheet "
      "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
      "<numFmts count=\"3\"><numFmt numFmtId=\"164\" "
      "formatCode=\"yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;\"/>"
      "<numFmt numFmtId=\"165\" formatCode=\"h:mm:ss\"/>"
      "<numFmt numFmtId=\"166\" formatCode=\"[$¥-804]#,##0.00\"/></numFmts>"
      "<cellStyleXfs count=\"1\"><xf numFmtId=\"14\"/></cellStyleXfs>"
      "<cellXfs count=\"5\"><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/><xf numFmtId=\"164\"/>"
      "<xf numFmtId=\"165\"/><xf numFmtId=\"166\"/></cellXfs></styleSheet>";
  const std::string rows =
      "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c>" +
      istr("C1", "<r><t>富</t></r><r><t>文本</t></r>") +
      "</row>"
      // Row 2 is missing; row 3 has gaps and every cell type.
      "<row r=\"3\"><c r=\"A3\" t=\"s\"><v>1</v></c><c r=\"B3\"><v>13800138000</v></c>"
      "<c r=\"D3\" s=\"1\"><v>45000</v></c><c r=\"E3\" s=\"2\"><v>60</v></c>"
      "<c r=\"F3\" s=\"3\"><v>0.5</v></c><c r=\"G3\" s=\"4\"><v>1234.5</v></c>"
      "<c r=\"H3\" t=\"b\"><v>1</v></c><c r=\"I3\" t=\"e\"><v>#N/A</v></c>"
      "<c r=\"J3\" t=\"str\"><f>A3&amp;\"x\"</f><v>明达x</v></c><c r=\"K3\"><v>1.5E-3</v></c>"
      "<c r=\"L3\" t=\"s\"><v>2</v></c><c r=\"M3\" s=\"1\"><v>45000.75</v></c></row>"
      // No r attributes: the row after 3, cells from column A on.
      "<row><c t=\"inlineStr\"><is><t>甲</t></is></c><c><v>-0</v></c><c r=\"E4\"><v>7</v></c></row>"
      "<row r=\"6\"><c r=\"A6\" s=\"1\"/></row>";  // an empty row is no row
  Parts parts = {
      {"xl/workbook.xml", workbook_xml({"客户", "数据"})},
      {"xl/_rels/workbook.xml.rels", rels_xml(2)},
      {"xl/sharedStrings.xml", sst},
      {"xl/styles.xml", styles},
      {"xl/worksheets/sheet1.xml", sheet_xml(rows)},
      {"xl/worksheets/sheet2.xml", sheet_xml("<row r=\"2\">" + istr("B2", "第二张") + "</row>")}};
  const std::string path = dir.file("odd.xlsx");
  write_zip(path, parts);

  XlsxTable t = read_xlsx(path, "");
  CHECK(t.sheets == std::vector<std::string>{"客户", "数据"});
  CHECK(t.sheet == "客户");
  REQUIRE(t.rows.size() == 3);
  CHECK(t.rows[0].line == 1);
  CHECK(t.rows[0].cells == std::vector<std::string>{"客户名称", "", "富文本"});
  const CsvRow& r3 = t.rows[1];
  CHECK(r3.line == 3);
  CHECK(cell(r3, 0) == "明达医疗 ");  // runs joined, the phonetic guide left out
  CHECK(cell(r3, 1) == "13800138000");
  CHECK(cell(r3, 2) == "");
  CHECK(cell(r3, 3) == "2023-03-15");
  CHECK(cell(r3, 4) == "1900-02-29");  // Excel's phantom leap day, as Excel shows it
  CHECK(cell(r3, 5) == "0.5");         // a time-only style is not a date
  CHECK(cell(r3, 6) == "1234.5");
  CHECK(cell(r3, 7) == "TRUE");
  CHECK(cell(r3, 8) == "#N/A");
  CHECK(cell(r3, 9) == "明达x");
  CHECK(cell(r3, 10) == "0.0015");
  CHECK(cell(r3, 11) == "a&b <c>");
  CHECK(cell(r3, 12) == "2023-03-15 18:00:00");
  const CsvRow& r4 = t.rows[2];
  CHECK(r4.line == 4);
  CHECK(r4.cells == std::vector<std::string>{"甲", "0", "", "", "7"});

  XlsxTable second = read_xlsx_bytes(read_bytes(path).value(), "数据", "mem.xlsx");
  CHECK(second.sheet == "数据");
  REQUIRE(second.rows.size() == 1);
  CHECK(second.rows[0].line == 2);
  CHECK(second.rows[0].cells == std::vector<std::string>{"", "第二张"});

  std::string msg = validation_error([&] { read_xlsx(path, "没有"); });
  CHECK_THAT(msg, Contains(path));
  CHECK_THAT(msg, Contains("\"没有\""));
  CHECK_THAT(msg, Contains("\"客户\", \"数据\""));
}

TEST_CASE("xlsx reader: Excel serial dates in the 1900 and 1904 systems, and date formats",
          "[xlsx]") {
  CHECK(excel_serial_to_date(1, false) == "1900-01-01");
  CHECK(excel_serial_to_date(59, false) == "1900-02-28");
  CHECK(excel_serial_to_date(60, false) == "1900-02-29");
  CHECK(excel_serial_to_date(61, false) == "1900-03-01");
  CHECK(excel_serial_to_date(45658, false) == "2025-01-01");
  CHECK(excel_serial_to_date(45658.5, false) == "2025-01-01 12:00:00");
  CHECK(excel_serial_to_date(2958465, false) == "9999-12-31");
  CHECK(excel_serial_to_date(2958466, false).empty());
  CHECK(excel_serial_to_date(0.25, false).empty());
  CHECK(excel_serial_to_date(0, true) == "1904-01-01");
  CHECK(excel_serial_to_date(44196, true) == "2025-01-01");

  CHECK(is_date_format(14, ""));
  CHECK(is_date_format(22, ""));
  CHECK(is_date_format(31, ""));  // zh-CN built-in yyyy"年"m"月"d"日"
  CHECK_FALSE(is_date_format(0, ""));
  CHECK_FALSE(is_date_format(4, ""));
  CHECK(is_date_format(164, "yyyy-mm-dd"));
  CHECK(is_date_format(164, "m/d"));
  CHECK(is_date_format(164, "[$-804]yyyy\"年\"m\"月\""));
  CHECK_FALSE(is_date_format(164, "h:mm:ss"));
  CHECK_FALSE(is_date_format(164, "[h]:mm"));
  CHECK_FALSE(is_date_format(164, "#,##0.00\"元\""));
  CHECK_FALSE(is_date_format(164, "[Red]0.00"));

  // A 1904 workbook read end to end.
  ScratchDir dir{"kehu-xlsx"};
  Parts parts = {{"xl/workbook.xml", workbook_xml({"S"}, true)},
                 {"xl/_rels/workbook.xml.rels", rels_xml(1)},
                 {"xl/styles.xml",
                  "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
                  "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs></styleSheet>"},
                 {"xl/worksheets/sheet1.xml",
                  sheet_xml("<row r=\"1\"><c r=\"A1\" s=\"1\"><v>44196</v></c></row>")}};
  XlsxTable t = read_xlsx_bytes(zip_bytes(dir, parts), "", "d1904.xlsx");
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0].cells == std::vector<std::string>{"2025-01-01"});
}

TEST_CASE("xlsx import: a General-format serial in a date column follows the workbook's date system",
          "[xlsx][cli]") {
  // 44196 is 2025-01-01 counted from 1904, 2020-12-31 counted from 1900. Its cell
  // has no date style, as when someone typed the number or pasted it as values.
  // A five-digit number in a text column, and a year, stay numbers.
  auto workbook = [](bool date1904) {
    return Parts{{"xl/workbook.xml", workbook_xml({"客户"}, date1904)},
                 {"xl/_rels/workbook.xml.rels", rels_xml(1)},
                 {"xl/worksheets/sheet1.xml",
                  sheet_xml("<row r=\"1\">" + istr("A1", "客户名称") + istr("B1", "联系人") + istr("C1", "联系电话") +
                            istr("D1", "核心需求") + istr("E1", "下次跟进日期") + istr("F1", "备注") +
                            "</row><row r=\"2\">" + istr("A2", "苹果园贸易") + istr("B2", "周敏") +
                            istr("C2", "13800138000") + istr("D2", "包装") +
                            "<c r=\"E2\"><v>44196</v></c><c r=\"F2\"><v>44196</v></c></row>")}};
  };
  for (bool date1904 : {true, false}) {
    INFO("date1904 " << date1904);
    Kehu k;
    const std::string path = k.dir.file("serial.xlsx");
    write_zip(path, workbook(date1904));
    CliResult r = k.run({"import", path});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    auto list = k.run_json({"customer", "list"});
    REQUIRE(list.size() == 1);
    CHECK(list[0]["next_date"] == (date1904 ? "2025-01-01" : "2020-12-31"));
    CHECK(list[0]["notes"] == "44196");
  }
}

TEST_CASE("xlsx reader: hostile and broken files are a clear Error naming the file and the part",
          "[xlsx][hostile]") {
  ScratchDir dir{"kehu-xlsx"};
  auto read = [&](const Parts& parts, XlsxLimits limits = {}) {
    return read_xlsx_bytes(zip_bytes(dir, parts), "", "bad.xlsx", limits);
  };
  SECTION("not a zip") {
    std::string msg =
        validation_error([&] { read_xlsx_bytes("序号,客户名称\n1,甲\n", "", "csv.xlsx"); });
    CHECK_THAT(msg, Contains("csv.xlsx"));
    CHECK_THAT(msg, Contains("not an xlsx file"));
    validation_error([&] { read_xlsx_bytes("", "", "empty.xlsx"); });
  }
  SECTION("missing parts") {
    std::string msg = validation_error([&] { read({{"hello.txt", "hi"}}); });
    CHECK_THAT(msg, Contains("bad.xlsx: xl/workbook.xml: missing part"));
    Parts p = one_sheet("");
    p.pop_back();  // the worksheet
    msg = validation_error([&] { read(p); });
    CHECK_THAT(msg, Contains("xl/worksheets/sheet1.xml: missing part"));
  }
  SECTION("bad XML names the part and the line") {
    Parts p = one_sheet("<row r=\"1\">\n<c r=\"A1\"><v>1</c></row>");
    std::string msg = validation_error([&] { read(p); });
    CHECK_THAT(msg, Contains("bad.xlsx: xl/worksheets/sheet1.xml: bad XML at line 2"));
  }
  SECTION("a DTD (entity expansion) is refused") {
    Parts p = one_sheet("");
    p[2].second =
        "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
        "\"&a;&a;&a;&a;&a;\">]>"
        "<worksheet><sheetData><row r=\"1\"><c r=\"A1\" "
        "t=\"inlineStr\"><is><t>&b;</t></is></c></row>"
        "</sheetData></worksheet>";
    CHECK_THAT(validation_error([&] { read(p); }), Contains("DOCTYPE"));
  }
  SECTION("deep nesting") {
    std::string deep;
    for (int i = 0; i < 1000; ++i) deep += "<x>";
    for (int i = 0; i < 1000; ++i) deep += "</x>";
    Parts p = one_sheet(deep);
    CHECK_THAT(validation_error([&] { read(p); }), Contains("nested deeper than 256"));
  }
  SECTION("a zip bomb stops at the byte limit") {
    std::string big(4u << 20, ' ');  // 4 MiB of spaces compresses to a few KiB
    Parts p = one_sheet("<row r=\"1\">" + istr("A1", "x") + "</row>" + big);
    XlsxLimits small;
    small.max_uncompressed_bytes = 1u << 20;
    std::string msg = validation_error([&] { read(p, small); });
    CHECK_THAT(msg, Contains("xl/worksheets/sheet1.xml"));
    CHECK_THAT(msg, Contains("zip bomb"));
    CHECK(read(p).rows.size() == 1);  // within the default limit it reads
  }
  SECTION("the cell limit counts the empty cells of gaps") {
    Parts p = one_sheet("<row r=\"1\">" + istr("XFD1", "far") + "</row><row r=\"2\">" +
                        istr("XFD2", "far") + "</row>");
    XlsxLimits small;
    small.max_cells = 20000;
    CHECK_THAT(validation_error([&] { read(p, small); }), Contains("more than 20000 cells"));
  }
  SECTION("a long shared string repeated in many cells stops at the text limit") {
    // 1 MiB of text, compressed to a few KiB, in 600 cells: 600 MiB if copied.
    Parts p = one_sheet("");
    std::string rows;
    for (int r = 1; r <= 20; ++r) {
      rows += "<row r=\"" + std::to_string(r) + "\">";
      for (int c = 0; c < 30; ++c) rows += "<c t=\"s\"><v>0</v></c>";
      rows += "</row>";
    }
    p[2].second = sheet_xml(rows);
    p.emplace_back("xl/sharedStrings.xml", std::string("<sst ") + kNs + "><si><t>" +
                                               std::string(1u << 20, 'a') + "</t></si></sst>");
    XlsxLimits small;
    small.max_cell_text_bytes = 64u << 20;
    std::string msg = validation_error([&] { read(p, small); });
    // The 65th cell (30 a row) passes 64 MiB.
    CHECK_THAT(
        msg, Contains("bad.xlsx: xl/worksheets/sheet1.xml: row 3: more than 64 MiB of cell text"));
    small.max_cell_text_bytes = 1024;
    CHECK_THAT(validation_error([&] { read(p, small); }), Contains("more than 1024 bytes"));
    // A short shared string in the same cells is fine.
    p.back().second = std::string("<sst ") + kNs + "><si><t>甲</t></si></sst>";
    small.max_cell_text_bytes = 600 * 3;  // 甲 is 3 bytes of UTF-8: exactly at the limit
    XlsxTable t = read(p, small);
    REQUIRE(t.rows.size() == 20);
    CHECK(t.rows[19].cells.size() == 30);
    CHECK(t.rows[19].cells[29] == "甲");
  }
  SECTION("bad references and indexes") {
    CHECK_THAT(
        validation_error([&] { read(one_sheet("<row r=\"1\">" + istr("XFE1", "x") + "</row>")); }),
        Contains("cell reference \"XFE1\""));
    CHECK_THAT(validation_error([&] { read(one_sheet("<row r=\"1048577\"></row>")); }),
               Contains("row number"));
    std::string msg = validation_error(
        [&] { read(one_sheet("<row r=\"1\"><c r=\"B1\" t=\"s\"><v>7</v></c></row>")); });
    CHECK_THAT(
        msg,
        Contains("bad.xlsx: xl/worksheets/sheet1.xml: cell B1: shared string 7 does not exist"));
    CHECK_THAT(validation_error(
                   [&] { read(one_sheet("<row r=\"1\"><c r=\"A1\"><v>1e999</v></c></row>")); }),
               Contains("\"1e999\" is not a number"));
  }
  SECTION("truncated and bit-flipped copies of a valid file never crash") {
    std::string good =
        zip_bytes(dir, one_sheet("<row r=\"1\">" + istr("A1", "客户名称") + "</row>"));
    REQUIRE(read_xlsx_bytes(good, "", "good.xlsx").rows.size() == 1);
    int errors = 0;
    for (std::size_t cut = 0; cut < good.size(); cut += 7) {
      try {
        read_xlsx_bytes(good.substr(0, cut), "", "cut.xlsx");
      } catch (const Error&) {
        ++errors;
      }
    }
    for (std::size_t i = 0; i < good.size(); i += 5) {
      std::string flipped = good;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
      try {
        read_xlsx_bytes(flipped, "", "flipped.xlsx");
      } catch (const Error&) {
        ++errors;
      }
    }
    CHECK(errors > 0);
  }
}

TEST_CASE("xlsx writer: the export read back cell by cell, with formats, dropdowns and colours",
          "[xlsx]") {
  ScratchDir dir{"kehu-xlsx"};
  auto rep = Replica::create(dir.file("a.db"), kPass);
  ImportOptions skip;
  skip.skip_bad = true;
  ImportReport in = import_csv(*rep, sample("customers-sample.csv"), skip);
  REQUIRE(in.created > 100);
  std::string odd = rep->add("customers", {{"name", "=公式,引号\"公司"},
                                           {"contact", "张三"},
                                           {"phone", "010-87654321"},
                                           {"need", "第一行\n第二行"},
                                           {"annual_spend", "1234.5"},
                                           {"credit_limit", "98765432.1"},
                                           {"next_date", "2026-01-02"},
                                           {"status", "已签约"},
                                           {"tags", "甲;乙"}})
                        .code;
  const std::string path = dir.file("export.xlsx");
  std::size_t n = export_xlsx(*rep, path);
  CHECK(n == in.created + 1);

  XlsxTable t = read_xlsx(path, "");
  CHECK(t.sheets == std::vector<std::string>{"客户", "跟进记录", "订单", "联系人", "服务记录", "市场活动"});
  REQUIRE(t.rows.size() == n + 1);
  const std::vector<std::string> head = {"序号",     "客户编号", "客户名称", "所属行业",
                                         "客户类型", "销售阶段", "联系人",   "联系人职位",
                                         "联系电话", "邮箱"};
  CHECK(std::vector<std::string>(t.rows[0].cells.begin(), t.rows[0].cells.begin() + 10) == head);
  // Every customer's cells are its values as shown (labels, dates, yuan).
  std::map<std::string, const CsvRow*> by_code;
  for (std::size_t i = 1; i < t.rows.size(); ++i)
    by_code[cell(t.rows[i], col(t, "客户编号"))] = &t.rows[i];
  REQUIRE(by_code.size() == n);
  REQUIRE(by_code.count("C202411001") == 1);
  const CsvRow& first = *by_code["C202411001"];
  CHECK(cell(first, col(t, "客户名称")) == "明达医疗器械有限公司");
  CHECK(cell(first, col(t, "联系电话")) == "15908301661");
  CHECK(cell(first, col(t, "客户类型")) == "潜在客户");
  CHECK(cell(first, col(t, "创建日期")) == "2024-11-27");
  CHECK(cell(first, col(t, "下次跟进日期")) == "2025-01-17");
  CHECK(cell(first, col(t, "跟进日期")) == "2024-12-25");
  CHECK(cell(first, col(t, "跟进内容")) == "客户反馈礼盒设计需增加企业LOGO，预计下周确认方案");
  CHECK(cell(first, col(t, "标签")) == "老客户转介绍;需要演示");
  const CsvRow& o = *by_code[odd];
  CHECK(cell(o, col(t, "客户名称")) == "=公式,引号\"公司");
  CHECK(cell(o, col(t, "联系电话")) == "010-87654321");
  CHECK(cell(o, col(t, "核心需求")) == "第一行\n第二行");
  CHECK(cell(o, col(t, "年消费额")) == "1234.5");
  CHECK(cell(o, col(t, "信用额度")) == "98765432.1");
  CHECK(cell(o, col(t, "合作状态")) == "已签约");

  // The formats themselves, in the workbook's XML.
  const std::string sheet = read_part(path, "xl/worksheets/sheet1.xml");
  const std::string styles = read_part(path, "xl/styles.xml");
  CHECK_THAT(
      sheet,
      Contains(
          "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"));
  CHECK_THAT(sheet, Contains("<dataValidation type=\"list\""));
  CHECK_THAT(sheet, Contains("<formula1>\"潜在客户,意向客户,成交客户,流失客户\"</formula1>"));
  CHECK_THAT(sheet, Contains("<formula1>\"洽谈中,已签约,暂停合作,已终止\"</formula1>"));
  CHECK_THAT(sheet, Contains("<formula>\"已签约\"</formula>"));
  CHECK_THAT(sheet, Contains("<formula>\"洽谈中\"</formula>"));
  CHECK_THAT(sheet, Contains("&lt;TODAY()"));
  CHECK_THAT(sheet, Contains("<col "));
  CHECK_THAT(styles, Contains("formatCode=\"yyyy-mm-dd\""));
  CHECK_THAT(styles, Contains("formatCode=\"¥#,##0.00\""));
  CHECK_THAT(styles, Contains("formatCode=\"@\""));  // text for codes and phones
  // The phone is a string cell, not a number Excel would show as 1.59E+10.
  CHECK(sheet.find("<v>15908301661</v>") == std::string::npos);

  // Imported into another replica, every customer is the same.
  auto other = Replica::create(dir.file("b.db"), kPass);
  ImportReport back = import_xlsx(*other, path, {});
  CHECK(back.bad_rows == 0);
  CHECK(back.format == "xlsx");
  CHECK(back.sheet == "客户");
  CHECK(back.created == n);
  for (const Record& c : rep->list(ListQuery{})) {
    INFO(c.code);
    auto b = other->find_customer(c.code);
    REQUIRE(b.has_value());
    CHECK(b->fields == c.fields);
  }
}

TEST_CASE(
    "xlsx writer: the 跟进记录, 订单 and 联系人 sheets list every follow-up, order and contact, typed "
    "and coloured",
    "[xlsx]") {
  ScratchDir dir{"kehu-xlsx"};
  auto rep = Replica::create(dir.file("a.db"), kPass);
  auto customer = [&](const char* code, const char* name, const char* phone) {
    rep->add("customers", {{"code", code},
                           {"name", name},
                           {"contact", "联系人"},
                           {"phone", phone},
                           {"need", "礼盒"},
                           {"status", "洽谈中"}});
  };
  // Added out of code order; the sheets sort by code.
  customer("C202601002", "乙贸易公司", "13900000002");
  customer("C202601001", "甲科技有限公司", "13900000001");
  customer("C202601003", "丙回收站", "13900000003");
  auto followup = [&](const char* code, FieldInputs in) { rep->add("followups", in, code); };
  followup("C202601002", {{"date", "2026-03-05"},
                          {"person", "王五"},
                          {"method", "现场拜访"},
                          {"content", "现场演示样品，客户满意"},
                          {"feedback", "积极"}});
  followup("C202601001", {{"date", "2026-02-01"},
                          {"person", "李四"},
                          {"method", "微信沟通"},
                          {"content", "发送报价单，客户要求再降5%"},
                          {"feedback", "犹豫"},
                          {"next_plan", "申请折扣后回电"},
                          {"next_date", "2026-02-08"}});
  followup("C202601002", {{"date", "2026-01-10"},
                          {"person", "王五"},
                          {"method", "电话沟通"},
                          {"content", "首次电话，约定拜访"}});
  followup("C202601003", {{"date", "2026-01-05"}, {"person", "赵六"}, {"content", "不会出现"}});
  auto order = [&](const char* code, FieldInputs in) { rep->add("orders", in, code); };
  order("C202601001", {{"order_no", "D-002"},
                       {"date", "2026-04-01"},
                       {"product", "定制礼盒"},
                       {"quantity", "200"},
                       {"amount", "5000"},
                       {"status", "生产中"}});
  order("C202601002", {{"order_no", "D-003"},
                       {"date", "2026-01-20"},
                       {"product", "茶叶礼盒"},
                       {"amount", "999.5"},
                       {"status", "已取消"}});
  order("C202601001", {{"order_no", "D-001"},
                       {"date", "2026-02-03"},
                       {"product", "企业LOGO礼盒"},
                       {"quantity", "100"},
                       {"amount", "12345.67"},
                       {"status", "已交付"}});
  order("C202601002", {{"order_no", "D-004"},
                       {"date", "2026-03-01"},
                       {"product", "月饼礼盒"},
                       {"amount", "1234567.8"},
                       {"status", "已发货"}});
  order("C202601003", {{"order_no", "D-999"}, {"product", "不会出现"}, {"status", "已下单"}});
  auto contact = [&](const char* code, FieldInputs in) { rep->add("contacts", in, code); };
  contact("C202601002", {{"name", "孙七"}, {"title", "采购"}, {"phone", "13900000022"}});
  contact("C202601001", {{"name", "周八"}, {"title", "经理"}, {"is_primary", "是"}});
  contact("C202601001", {{"name", "吴九"}, {"email", "wu@example.com"}});
  contact("C202601003", {{"name", "不会出现"}});
  rep->add("services", {{"date", "2026-03-09"}, {"kind", "投诉"}, {"content", "包装破损"}}, "C202601002");
  rep->add("activities", {{"name", "春季展会"}, {"date", "2026-04-10"}}, "C202601001");
  rep->add("services", {{"date", "2026-03-09"}, {"kind", "咨询"}, {"content", "不会出现"}}, "C202601003");
  // A customer in the recycle bin takes its follow-ups, orders and contacts off the sheets.
  rep->remove("C202601003");

  const std::string path = dir.file("export.xlsx");
  CHECK(export_xlsx(*rep, path) == 2);

  XlsxTable f = read_xlsx(path, "跟进记录");
  CHECK(f.sheets == std::vector<std::string>{"客户", "跟进记录", "订单", "联系人", "服务记录", "市场活动"});
  CHECK(f.sheet == "跟进记录");
  REQUIRE(f.rows.size() == 4);
  CHECK(cells(f.rows[0]) == std::vector<std::string>{"客户编号", "客户名称", "跟进日期", "跟进人",
                                                     "跟进方式", "跟进内容", "客户反馈",
                                                     "下次跟进计划", "下次跟进日期"});
  CHECK(cells(f.rows[1]) == std::vector<std::string>{"C202601001", "甲科技有限公司", "2026-02-01",
                                                     "李四", "微信沟通",
                                                     "发送报价单，客户要求再降5%", "犹豫",
                                                     "申请折扣后回电", "2026-02-08"});
  CHECK(cells(f.rows[2]) == std::vector<std::string>{"C202601002", "乙贸易公司", "2026-01-10",
                                                     "王五", "电话沟通", "首次电话，约定拜访"});
  CHECK(cells(f.rows[3]) == std::vector<std::string>{"C202601002", "乙贸易公司", "2026-03-05",
                                                     "王五", "现场拜访", "现场演示样品，客户满意",
                                                     "积极"});

  XlsxTable o = read_xlsx(path, "订单");
  REQUIRE(o.rows.size() == 5);
  CHECK(cells(o.rows[0]) == std::vector<std::string>{"客户编号", "客户名称", "订单编号", "下单日期",
                                                     "产品", "数量", "金额", "订单状态"});
  CHECK(cells(o.rows[1]) == std::vector<std::string>{"C202601001", "甲科技有限公司", "D-001",
                                                     "2026-02-03", "企业LOGO礼盒", "100",
                                                     "12345.67", "已交付"});
  CHECK(cells(o.rows[2]) == std::vector<std::string>{"C202601001", "甲科技有限公司", "D-002",
                                                     "2026-04-01", "定制礼盒", "200", "5000",
                                                     "生产中"});
  CHECK(cells(o.rows[3]) == std::vector<std::string>{"C202601002", "乙贸易公司", "D-003",
                                                     "2026-01-20", "茶叶礼盒", "", "999.5",
                                                     "已取消"});
  CHECK(cells(o.rows[4]) == std::vector<std::string>{"C202601002", "乙贸易公司", "D-004",
                                                     "2026-03-01", "月饼礼盒", "", "1234567.8",
                                                     "已发货"});

  // Contacts by customer code, then by name (they have no date).
  XlsxTable ct = read_xlsx(path, "联系人");
  REQUIRE(ct.rows.size() == 4);
  CHECK(cells(ct.rows[0]) == std::vector<std::string>{"客户编号", "客户名称", "姓名", "职位", "电话",
                                                      "邮箱", "微信", "主要联系人", "备注"});
  CHECK(cells(ct.rows[1]) == std::vector<std::string>{"C202601001", "甲科技有限公司", "吴九", "", "",
                                                      "wu@example.com"});
  CHECK(cells(ct.rows[2]) == std::vector<std::string>{"C202601001", "甲科技有限公司", "周八", "经理",
                                                      "", "", "", "是"});
  CHECK(cells(ct.rows[3]) == std::vector<std::string>{"C202601002", "乙贸易公司", "孙七", "采购",
                                                      "13900000022"});
  // Service records and activities have sheets too: nothing a customer holds is left out.
  XlsxTable sv = read_xlsx(path, "服务记录");
  REQUIRE(sv.rows.size() == 2);
  CHECK(cells(sv.rows[1]).at(0) == "C202601002");
  CHECK(cells(sv.rows[1]).at(3) == "投诉");
  CHECK(cells(sv.rows[1]).at(4) == "包装破损");
  XlsxTable ac = read_xlsx(path, "市场活动");
  REQUIRE(ac.rows.size() == 2);
  CHECK(cells(ac.rows[1]).at(0) == "C202601001");
  CHECK(cells(ac.rows[1]).at(2) == "春季展会");

  // The XML: dates and amounts are numbers (serials, yuan), not text; frozen
  // headers, dropdowns, and the order status colours in the shared palette.
  const std::string customers_xml = read_part(path, "xl/worksheets/sheet1.xml");
  const std::string followups_xml = read_part(path, "xl/worksheets/sheet2.xml");
  const std::string orders_xml = read_part(path, "xl/worksheets/sheet3.xml");
  const std::string styles = read_part(path, "xl/styles.xml");
  const std::string frozen =
      "<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>";
  CHECK_THAT(followups_xml, Contains(frozen));
  CHECK_THAT(orders_xml, Contains(frozen));
  CHECK_THAT(followups_xml, Contains("<col "));
  CHECK_THAT(orders_xml, Contains("<col "));
  CHECK_THAT(followups_xml, Contains("<v>46054</v>"));  // 2026-02-01
  CHECK(followups_xml.find("2026-02-01") == std::string::npos);
  CHECK_THAT(orders_xml, Contains("<v>46056</v>"));  // 2026-02-03
  CHECK_THAT(orders_xml, Contains("<v>12345.67</v>"));
  CHECK(orders_xml.find("2026-02-03") == std::string::npos);
  CHECK_THAT(followups_xml,
             Contains("<formula1>\"电话沟通,现场拜访,邮件发送,微信沟通,其他\"</formula1>"));
  CHECK_THAT(followups_xml, Contains("<formula1>\"积极,犹豫,消极\"</formula1>"));
  CHECK_THAT(orders_xml, Contains("<formula1>\"已下单,生产中,已发货,已交付,已取消\"</formula1>"));
  // A follow-up's next date is history: no overdue colour on that sheet.
  CHECK(followups_xml.find("<conditionalFormatting") == std::string::npos);

  const std::string green = "FFC6EFCE", yellow = "FFFFEB9C", red = "FFFFC7CE";
  const std::string status_col = "H2:H1048576";  // 订单状态, and the rows added below
  const std::vector<std::pair<std::string, std::string>> expected = {{"已交付", green},
                                                                     {"已下单", yellow},
                                                                     {"生产中", yellow},
                                                                     {"已发货", yellow},
                                                                     {"已取消", red}};
  for (const auto& [value, fill] : expected) {
    INFO(value);
    ValueColour c = value_colour(orders_xml, styles, value);
    CHECK(c.range == status_col);
    CHECK(c.fill == fill);
  }
  // The customer sheet keeps its 合作状态 colours, in the same palette.
  CHECK(value_colour(customers_xml, styles, "已签约").fill == green);
  CHECK(value_colour(customers_xml, styles, "洽谈中").fill == yellow);

  // Import still reads the customer sheet by default.
  auto other = Replica::create(dir.file("b.db"), kPass);
  ImportReport back = import_xlsx(*other, path, {});
  CHECK(back.sheet == "客户");
  CHECK(back.bad_rows == 0);
  CHECK(back.created == 2);
  REQUIRE(other->find_customer("C202601001").has_value());
  CHECK(other->find_customer("C202601001")->fields.value("name", "") == "甲科技有限公司");
  // The child sheets are refused by name, before any row is read as a customer.
  for (const char* sheet : {"跟进记录", "订单", "联系人", "服务记录", "市场活动"}) {
    INFO(sheet);
    ImportOptions o;
    o.sheet = sheet;
    o.dry_run = true;
    try {
      import_xlsx(*other, path, o);
      FAIL("importing the child sheet should fail");
    } catch (const Error& e) {
      CHECK(e.code() == Errc::validation);
      CHECK_THAT(e.what(), Contains(std::string("sheet \"") + sheet + "\" lists") &&
                               Contains("does not import"));
    }
  }
  CHECK(other->list(ListQuery{}).size() == 2);
}

TEST_CASE("kehu export and import of xlsx round-trip every customer, and re-import changes nothing",
          "[xlsx]") {
  Kehu a;
  REQUIRE(a.run({"import", "--skip-bad", sample("customers-sample.csv")}).exit_code == 0);
  const std::string file = a.dir.file("客户.xlsx");
  nlohmann::json ex = a.run_json({"export", file});
  auto x = a.customers();
  CHECK(ex["customers"] == x.size());
  REQUIRE(x.size() > 100);
  XlsxTable t = read_xlsx(file, "");
  CHECK(t.rows.size() == x.size() + 1);

  Kehu b;
  nlohmann::json rep = b.run_json({"import", file});
  CHECK(rep["format"] == "xlsx");
  CHECK(rep["sheet"] == "客户");
  CHECK(rep["bad_rows"] == 0);
  CHECK(rep["created"] == x.size());
  CHECK(rep["followups"] == x.size());
  auto y = b.customers();
  REQUIRE(y.size() == x.size());
  for (const auto& [code, cx] : x) {
    INFO(code);
    REQUIRE(y.count(code) == 1);
    CHECK(y[code] == cx);
  }
  // The same file again, into the replica it came from: nothing new.
  nlohmann::json again = a.run_json({"import", file});
  CHECK(again["unchanged"] == x.size());
  CHECK(again["created"] == 0);
  CHECK(again["updated"] == 0);
  CHECK(again["followups"] == 0);
  CHECK(again["changes"].empty());
  CHECK(a.customers().size() == x.size());
}

TEST_CASE("kehu import --dry-run of an older export reports updates, conflicts and recycled codes",
          "[xlsx]") {
  Kehu k;
  REQUIRE(k.run({"import", "--skip-bad", sample("customers-sample.csv")}).exit_code == 0);
  const std::string file = k.dir.file("old.xlsx");
  REQUIRE(k.run({"export", file}).exit_code == 0);
  const std::size_t total = k.customers().size();
  REQUIRE(k.customers().count("C202411001") == 1);
  REQUIRE(k.customers().count("C202404001") == 1);
  REQUIRE(k.customers().count("C202503001") == 1);
  // Synced since (as a server would acknowledge them): nothing pending.
  REQUIRE(k.run({"customer", "edit", "C202404001", "--set", "city=苏州"}).exit_code == 0);
  {
    auto rep = Replica::open(k.db, kPass);
    std::int64_t rev = 1;
    for (const auto& lc : rep->changes_in_state("pending"))
      rep->mark_accepted(lc.change.change_id, rev++, "");
    REQUIRE(rep->changes_in_state("pending").empty());
  }
  // Then a local edit not yet synced, and a customer moved to the recycle bin.
  REQUIRE(k.run({"customer", "edit", "C202411001", "--set", "phone=13900139000"}).exit_code == 0);
  REQUIRE(k.run({"customer", "delete", "C202503001"}).exit_code == 0);

  nlohmann::json dry = k.run_json({"import", "--dry-run", file});
  CHECK(dry["written"] == false);
  CHECK(dry["created"] == 0);
  CHECK(dry["updated"] == 2);
  CHECK(dry["conflicts"] == 1);
  CHECK(dry["skipped_deleted"] == 1);
  CHECK(dry["unchanged"] == total - 3);
  std::map<std::string, nlohmann::json> changes;
  for (const auto& c : dry["changes"]) changes[c["code"].get<std::string>()] = c;
  REQUIRE(changes.size() == 3);
  CHECK(changes["C202404001"]["kind"] == "update");
  REQUIRE(changes["C202404001"]["fields"].size() == 1);
  CHECK(changes["C202404001"]["fields"][0]["field"] == "城市 (city)");
  CHECK(changes["C202404001"]["fields"][0]["before"] == "苏州");
  CHECK(changes["C202404001"]["fields"][0]["after"] == "广州");
  CHECK(changes["C202404001"]["fields"][0]["pending"] == false);
  CHECK(changes["C202411001"]["kind"] == "conflict");
  REQUIRE(changes["C202411001"]["fields"].size() == 1);
  CHECK(changes["C202411001"]["fields"][0]["before"] == "13900139000");
  CHECK(changes["C202411001"]["fields"][0]["after"] == "15908301661");
  CHECK(changes["C202411001"]["fields"][0]["pending"] == true);
  CHECK(changes["C202503001"]["kind"] == "deleted");
  // The text report says the same, line by line; nothing was written.
  CliResult text = k.run({"import", "--dry-run", file});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.out, Contains(": C202404001: update"));
  CHECK_THAT(text.out, Contains("城市 (city): \"苏州\" -> \"广州\""));
  CHECK_THAT(text.out, Contains(": C202411001: conflict"));
  CHECK_THAT(text.out, Contains("(local change not yet synced)"));
  CHECK_THAT(text.out, Contains(": C202503001: in the recycle bin"));
  CHECK_THAT(text.out, Contains("dry run: would be 0 created, 2 updated"));
  CHECK(k.customers()["C202404001"]["city"] == "苏州");

  // The real import: updates by code, the recycled customer stays there.
  nlohmann::json real = k.run_json({"import", file});
  CHECK(real["updated"] == 2);
  CHECK(real["created"] == 0);
  auto after = k.customers();
  CHECK(after.size() == total - 1);
  CHECK(after["C202404001"]["city"] == "广州");
  CHECK(after["C202411001"]["phone"] == "15908301661");
  CHECK(after.count("C202503001") == 0);
}

TEST_CASE("kehu import --map names odd headers, and the map is remembered per header set",
          "[xlsx]") {
  Kehu k;
  const std::string csv = k.dir.file("odd.csv");
  write_bytes(csv, "公司,联系,手机,需求,备注\n甲公司,张三,13800138000,办公用品,老客户\n");
  CliResult none = k.run({"import", csv});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Contains("--map"));

  CliResult unknown = k.run({"import", csv, "--map", "公司=没有这个字段"});
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Contains("没有这个字段"));
  CliResult nocol = k.run({"import", csv, "--map", "单位=name"});
  CHECK(nocol.exit_code == 2);
  CHECK_THAT(nocol.err, Contains("no column \"单位\""));
  CHECK(k.run({"import", csv, "--map", "公司"}).exit_code == 2);

  // A dry run with the map does not remember it.
  const std::vector<std::string> maps = {"--map", "公司=name",  "--map", "联系=联系人",
                                         "--map", "手机=phone", "--map", "需求=need"};
  std::vector<std::string> dry = {"import", "--dry-run", csv};
  dry.insert(dry.end(), maps.begin(), maps.end());
  CHECK(k.run_json(dry)["created"] == 1);
  CHECK(k.run({"import", "--dry-run", csv}).exit_code == 2);

  std::vector<std::string> args = {"import", csv};
  args.insert(args.end(), maps.begin(), maps.end());
  CliResult first = k.run(args);
  INFO(first.describe());
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.out, Contains("column map (remembered for these headers): --map \"公司=name\""));
  CHECK_THAT(first.out, Contains("--map \"联系=contact\""));
  CHECK_THAT(first.out, Contains("1 created"));

  // An xlsx with the same headers in another order: the remembered map is used and printed.
  const std::string xlsx = k.dir.file("odd.xlsx");
  write_zip(xlsx,
            one_sheet("<row r=\"1\">" + istr("A1", "手机") + istr("B1", "公司") +
                      istr("C1", "需求") + istr("D1", "联系") + istr("E1", "备注") +
                      "</row><row r=\"2\">" + "<c r=\"A2\"><v>13900139000</v></c>" +
                      istr("B2", "乙公司") + istr("C2", "打印机") + istr("D2", "李四") + "</row>"));
  CliResult second = k.run({"import", xlsx});
  INFO(second.describe());
  REQUIRE(second.exit_code == 0);
  CHECK_THAT(second.out, Contains("using the column map remembered for these headers:"));
  CHECK_THAT(second.out, Contains("--map \"手机=phone\""));
  CHECK_THAT(second.out, Contains("(xlsx, sheet \"Sheet1\"): 1 row, 0 bad; 1 created"));
  auto got = k.customers();
  REQUIRE(got.size() == 2);
  std::set<std::string> names;
  for (const auto& [code, c] : got) names.insert(c["name"].get<std::string>());
  CHECK(names == std::set<std::string>{"甲公司", "乙公司"});
  for (const auto& [code, c] : got) {
    if (c["name"] == "乙公司") {
      CHECK(c["phone"] == "13900139000");
      CHECK(c["contact"] == "李四");
      CHECK(c["need"] == "打印机");
    } else {
      CHECK(c["notes"] == "老客户");
    }
  }
}

TEST_CASE("kehu import and export refuse bad files with clear messages and exit codes",
          "[xlsx][hostile]") {
  Kehu k;
  const std::string fake = k.dir.file("fake.xlsx");
  write_bytes(fake, "序号,客户名称\n1,甲\n");
  CliResult r = k.run({"import", fake});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(fake));
  CHECK_THAT(r.err, Contains("not an xlsx file"));

  const std::string two = k.dir.file("two.xlsx");
  Parts p = {{"xl/workbook.xml", workbook_xml({"客户", "订单"})},
             {"xl/_rels/workbook.xml.rels", rels_xml(2)},
             {"xl/worksheets/sheet1.xml", sheet_xml("")},
             {"xl/worksheets/sheet2.xml", sheet_xml("")}};
  write_zip(two, p);
  CliResult nosheet = k.run({"import", two, "--sheet", "联系人"});
  CHECK(nosheet.exit_code == 2);
  CHECK_THAT(nosheet.err, Contains("no sheet named \"联系人\"; the sheets are \"客户\", \"订单\""));
  CliResult empty = k.run({"import", two, "--sheet", "订单"});
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.err, Contains("sheet \"订单\" is empty"));

  CliResult ext = k.run({"import", k.dir.file("customers.txt")});
  CHECK(ext.exit_code == 2);
  CHECK_THAT(ext.err, Contains("unsupported extension \".txt\""));
  CliResult xext = k.run({"export", k.dir.file("out.xls")});
  CHECK(xext.exit_code == 2);
  CHECK_THAT(xext.err, Contains("\".xls\""));
  CHECK_FALSE(read_bytes(k.dir.file("out.xls")).has_value());
  CliResult missing = k.run({"import", k.dir.file("missing.xlsx")});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Contains("cannot read"));
  CliResult sheet_csv = k.run({"import", sample("customers-sample.csv"), "--sheet", "x"});
  CHECK(sheet_csv.exit_code == 2);
  CHECK_THAT(sheet_csv.err, Contains("--sheet"));
  CHECK(k.customers().empty());
}
