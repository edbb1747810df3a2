// Reading .xlsx workbooks (Office Open XML spreadsheets) as rows of text.
//
// The reader opens the zip with libzip and stream-parses the parts it needs with
// expat: xl/workbook.xml (sheet names, date1904), xl/_rels/workbook.xml.rels
// (sheet part paths), xl/sharedStrings.xml (rich-text runs concatenated, phonetic
// runs dropped), xl/styles.xml (which cell styles show dates) and the worksheet.
//
// Cells become text the way a person sees them in the sheet:
//   shared / inline / formula strings -> the string
//   numbers   -> the shortest decimal text ("13800138000", "1234.5"; never 1.38e10)
//   dates     -> "YYYY-MM-DD" (numbers in a date style; 1900 system with Excel's
//                1900-02-29, or 1904); with a time of day "YYYY-MM-DD HH:MM:SS"
//   booleans  -> "TRUE" / "FALSE"; errors -> their text ("#N/A")
// Missing cells and rows (gaps in r="C12" references) are empty.
//
// Hostile files fail with Error(validation) naming the file and the part: not a
// zip, a missing part, bad XML, a DTD, nesting deeper than max_xml_depth, a cell
// reference out of Excel's range, more than the limits below. Nothing crashes and
// nothing grows without bound. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kehu/text.h"

namespace kehu {

struct XlsxLimits {
  std::uint64_t max_uncompressed_bytes = 512ull << 20;  // all parts read, together
  std::size_t max_cells = 8u << 20;  // cells kept, counting the empty ones of gaps
  // Text of the cells kept, together. A shared string counts each time a cell
  // uses it, so a long one repeated in many cells cannot multiply memory.
  std::uint64_t max_cell_text_bytes = 512ull << 20;
  std::size_t max_xml_depth = 256;
};

struct XlsxTable {
  std::vector<std::string> sheets;  // every worksheet name, in workbook order
  std::string sheet;                // the one read
  // Rows that hold at least one non-empty cell, in sheet order; `line` is the
  // 1-based row number in the sheet (r="12"), so a report can point at it.
  std::vector<CsvRow> rows;
  // The workbook counts serial days from 1904-01-01 (old Mac workbooks). Cells
  // in a date style are converted already; a number in a General cell is not.
  bool date1904 = false;
};

// Reads one worksheet: `sheet_name`, or the first when empty. `path` names the
// file in messages. Throws Error(io) if the file cannot be read, Error(validation)
// for everything wrong inside it; an unknown sheet name lists the sheets.
XlsxTable read_xlsx(const std::string& path, const std::string& sheet_name,
                    const XlsxLimits& limits = {});

// The same on bytes in memory (the fuzzing entry point). `name` is used in messages.
XlsxTable read_xlsx_bytes(std::string_view bytes, const std::string& sheet_name,
                          const std::string& name = "workbook", const XlsxLimits& limits = {});

// Excel serial day number -> "YYYY-MM-DD" (with " HH:MM:SS" when it has a time of
// day). 1900 system: serial 1 is 1900-01-01 and 60 is Excel's phantom 1900-02-29.
// Serials below 1 or beyond 9999-12-31 give "" (not a date).
std::string excel_serial_to_date(double serial, bool date1904);

// Is this number format (a built-in id or a custom format code) a date format?
bool is_date_format(int num_fmt_id, std::string_view format_code);

}  // namespace kehu
