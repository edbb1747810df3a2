// Internals shared by the CSV and xlsx sheet code (sheet_csv.cc, sheet_xlsx.cc).
#pragma once

#include <string>
#include <vector>

#include "kehu/record.h"
#include "kehu/schema.h"
#include "kehu/sheet.h"
#include "kehu/text.h"

namespace kehu::sheet {

// One column of an export, typed once for both writers.
struct ExportColumn {
  enum class Kind { serial, code, customer, followup };
  std::string header;  // the Chinese header
  Kind kind = Kind::customer;
  const FieldDef* field = nullptr;  // customer or follow-up field (not for serial/code)
};

// The export as stored values: rows[i][j] is column j of customer i (serial: its
// 1-based number, code: the code string, fields: the stored JSON, null if unset).
struct ExportTable {
  std::vector<ExportColumn> columns;
  std::vector<std::vector<json>> rows;
};

// The template's columns, then every other customer field of replica.schema();
// the follow-up columns hold each customer's latest follow-up.
ExportTable build_export(const Replica& replica);

// The import pipeline: rows[0] is the header, the others are data rows with their
// physical row numbers. `path` names the file in messages. Fills and returns
// `report` (format, encoding and sheet are set by the caller).
ImportReport import_rows(Replica& replica, const std::string& path, const std::vector<CsvRow>& rows,
                         const ImportOptions& opts, ImportReport report);

}  // namespace kehu::sheet
