// Internals shared by the CSV and xlsx sheet code (sheet_csv.cc, sheet_xlsx.cc).
#pragma once

#include <string>
#include <vector>

#include "kehu/record.h"
#include "kehu/schema.h"
#include "kehu/sheet.h"
#include "kehu/text.h"
#include "kehu/xlsx.h"

namespace kehu::sheet {

// One column of an export, typed once for both writers.
struct ExportColumn {
  // customer: a field of the row's customer; followup: of the customer's latest
  // follow-up (customer sheet); child: of the row's own record (child sheets).
  enum class Kind { serial, code, customer, followup, child };
  std::string header;  // the Chinese header
  Kind kind = Kind::customer;
  const FieldDef* field = nullptr;  // the field (not for serial/code)
};

// The export as stored values: rows[i][j] is column j of record i (serial: its
// 1-based number, code: the customer's code, fields: the stored JSON, null if unset).
struct ExportTable {
  std::string collection = "customers";  // whose records the rows are
  std::vector<ExportColumn> columns;
  std::vector<std::vector<json>> rows;
};

// The template's columns, then every other customer field of replica.schema();
// the follow-up columns hold each customer's latest follow-up.
ExportTable build_export(const Replica& replica);

// Every live record of a child collection ("followups", "orders") whose customer
// is live: 客户编号 and 客户名称, then the collection's fields in schema order.
// Rows are sorted by customer code, then date, keeping storage order on ties.
ExportTable build_child_export(const Replica& replica, const std::string& collection);

// The import pipeline: rows[0] is the header, the others are data rows with their
// physical row numbers. `path` names the file in messages. Fills and returns
// `report` (format, encoding and sheet are set by the caller). `date1904`: the
// rows come from a workbook that counts serial days from 1904 (xlsx.h), so a
// bare serial in a date column is read in that system.
ImportReport import_rows(Replica& replica, const std::string& path, const std::vector<CsvRow>& rows,
                         const ImportOptions& opts, ImportReport report, bool date1904 = false);

// A header cell as its column is named: trimmed, without a template's marks
// (*客户名称, 备注（选填）).
std::string header_name(std::string_view raw);

// The new rows of an export's child sheets, checked, to add once the customer
// sheet is imported (walkthrough 19, R19-17: rows added in Excel were dropped
// without a word).
struct ChildRows {
  struct Row {
    std::string collection;
    std::string customer_code;
    json values;
    std::size_t sheet = 0;  // its index in ImportReport::child_sheets
    std::size_t line = 0;   // its row in that sheet
  };
  std::vector<Row> rows;
};
// Reads every sheet of the workbook named as a child collection (跟进记录, ...)
// but the one `customers` is; bad rows go to report.issues and bad_rows, each
// sheet's counts to report.child_sheets.
ChildRows read_child_sheets(const Replica& replica, const std::string& path, const XlsxTable& customers,
                            ImportReport& report);
// Adds `rows` (on a dry run, only counts them).
void add_child_rows(Replica& replica, const ChildRows& rows, bool dry_run, ImportReport& report);

// Whether one of the first rows of `rows` is a customer header, as import_rows
// finds it (with opts.map; --header-row is not looked at).
bool has_customer_header(const Schema& schema, const std::vector<CsvRow>& rows, const ImportOptions& opts);

}  // namespace kehu::sheet
