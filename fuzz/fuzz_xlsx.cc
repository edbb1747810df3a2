// An .xlsx workbook as `kehu import` reads it (kehu/xlsx.h): the bytes as a zip,
// the workbook, relationships, shared strings, styles and one worksheet, under
// small limits so a zip bomb or a huge sheet stops early. The contract:
// Error(validation) names the problem; nothing else escapes, and memory stays
// within the limits. What comes out must hold the reader's promises (rows with
// a non-empty last cell, valid UTF-8, at most max_cells cells), and each cell
// then goes through field validation as in fuzz_csv: under the field its header
// names, else a field by column, a cell that validates displays and validates
// again to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kehu/error.h"
#include "kehu/schema.h"
#include "kehu/text.h"
#include "kehu/xlsx.h"

namespace {

kehu::XlsxLimits small_limits() {
  kehu::XlsxLimits l;
  l.max_uncompressed_bytes = 4u << 20;
  l.max_cells = 20000;
  l.max_cell_text_bytes = 8u << 20;
  l.max_xml_depth = 64;
  return l;
}

void check_table(const kehu::XlsxTable& t, const kehu::XlsxLimits& limits) {
  bool listed = false;
  for (const auto& s : t.sheets) listed = listed || s == t.sheet;
  if (!listed) __builtin_trap();
  std::size_t cells = 0;
  for (const auto& row : t.rows) {
    if (row.line == 0 || row.cells.empty() || row.cells.back().empty()) __builtin_trap();
    cells += row.cells.size();
    for (const auto& c : row.cells)
      if (!kehu::is_valid_utf8(c)) __builtin_trap();
  }
  if (cells > limits.max_cells) __builtin_trap();
}

void validate_cells(const kehu::XlsxTable& t) {
  if (t.rows.empty()) return;
  const auto& fields = kehu::Schema::builtin().collection("customers").fields;
  const auto& cust = kehu::Schema::builtin().collection("customers");
  std::vector<const kehu::FieldDef*> by_col;
  for (std::size_t i = 0; i < t.rows[0].cells.size(); ++i) {
    const kehu::FieldDef* f = cust.find(kehu::trim(t.rows[0].cells[i]));
    by_col.push_back(f ? f : &fields[i % fields.size()]);
  }
  for (std::size_t r = 1; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    for (std::size_t i = 0; i < row.cells.size(); ++i) {
      const kehu::FieldDef& f = i < by_col.size() ? *by_col[i] : fields[i % fields.size()];
      try {
        const nlohmann::json v = kehu::normalize_value(f, row.cells[i]);
        const std::string shown = kehu::display_value(f, v, kehu::Lang::zh);
        if (kehu::normalize_value(f, shown) != v) __builtin_trap();
      } catch (const kehu::Error&) {
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const kehu::XlsxLimits limits = small_limits();
  kehu::XlsxTable first;
  try {
    first = kehu::read_xlsx_bytes(bytes, "", "fuzz.xlsx", limits);
  } catch (const kehu::Error&) {
    return 0;
  }
  if (first.sheets.empty() || first.sheet != first.sheets.front()) __builtin_trap();
  check_table(first, limits);
  validate_cells(first);
  // The last sheet by name, as `--sheet NAME` reads it.
  if (first.sheets.size() > 1) {
    try {
      kehu::XlsxTable last = kehu::read_xlsx_bytes(bytes, first.sheets.back(), "fuzz.xlsx", limits);
      if (last.sheets != first.sheets) __builtin_trap();
      check_table(last, limits);
      validate_cells(last);
    } catch (const kehu::Error&) {
    }
  }
  return 0;
}
