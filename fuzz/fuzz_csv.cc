// A sheet as `kehu import` reads it: bytes decoded (UTF-8 with or without BOM, or
// GB18030), parsed as CSV, each cell validated against a customer field. The
// contract: Error(validation) names the problem; nothing else escapes. A cell
// that validates displays and validates again to the same value (the import /
// export round trip).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kehu/error.h"
#include "kehu/schema.h"
#include "kehu/text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  kehu::DecodedText text;
  try {
    text = kehu::decode_sheet_bytes(bytes);
  } catch (const kehu::Error&) {
    return 0;
  }
  if (!kehu::is_valid_utf8(text.utf8)) __builtin_trap();
  std::vector<kehu::CsvRow> rows;
  try {
    rows = kehu::parse_csv(text.utf8);
  } catch (const kehu::Error&) {
    return 0;
  }
  const auto& fields = kehu::Schema::builtin().collection("customers").fields;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.cells.size(); ++i) {
      const kehu::FieldDef& f = fields[i % fields.size()];
      try {
        const nlohmann::json v = kehu::normalize_value(f, row.cells[i]);
        const std::string shown = kehu::display_value(f, v, kehu::Lang::zh);
        if (kehu::normalize_value(f, shown) != v) __builtin_trap();
        (void)kehu::csv_escape(shown);
      } catch (const kehu::Error&) {
      }
    }
  }
  return 0;
}
