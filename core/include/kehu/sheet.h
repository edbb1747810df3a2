// Sheets in and out: the layout of the seed template 客户信息记录标准模板, as CSV
// or as an Excel workbook (.xlsx; the format is chosen by the file's extension).
//
// Import maps Chinese headers (or canonical keys) to fields by themselves: one row
// is one customer, and the follow-up columns (跟进日期, 跟进人, 跟进方式, 跟进内容,
// 客户反馈) become a follow-up record of it. Codes in the file are kept; a code the
// replica already has updates that customer instead of duplicating it.
//
// CSV and xlsx share one pipeline: a reader yields the header and the rows as
// text with their physical row numbers; mapping, validation and the report are
// the same for both. Export builds typed columns once and writes either format.
// Fields come from replica.schema(), so custom fields are columns too.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "kehu/text.h"

namespace kehu {

class Replica;

struct ImportOptions {
  ImportOptions() = default;
  ImportOptions(bool dry, bool skip) : dry_run(dry), skip_bad(skip) {}
  bool dry_run = false;   // validate and count, write nothing
  bool skip_bad = false;  // import the good rows even if some rows are bad
  std::string sheet;      // xlsx: the worksheet to read; empty: the first one
  // --map "列名=field": the column headed 列名 fills `field` (a customer or
  // follow-up field: key, Chinese or English label). Given maps are remembered in
  // the replica for this set of headers (not on a dry run); without any, a
  // remembered map for the same headers is used.
  std::vector<std::pair<std::string, std::string>> map;
  // 查重: rows that look like duplicates of a customer with another code or of
  // an earlier row (duplicates.h) are bad rows. `kehu import` turns it on
  // unless --force; library callers choose.
  bool check_duplicates = false;
};

// One field a row would change on an existing customer, as displayed text.
struct FieldChangeText {
  std::string field;  // "联系电话 (phone)"
  std::string before, after;
  bool pending = false;  // the customer has an unsynced local change of this field
};

// What a row does to an existing customer (the report lists every update).
struct RowChange {
  std::size_t line = 0;
  std::string code;
  // "update": fields change. "conflict": at least one changed field has a local
  // change not yet synced, which the sheet overwrites (it is still applied: the
  // overwritten value stays in `kehu history`; the dry run is where to look).
  // "deleted": the code is in the recycle bin; the row is skipped (restore it
  // first), neither restored nor duplicated.
  std::string kind;
  std::vector<FieldChangeText> fields;
};

struct ImportIssue {
  std::size_t line = 0;  // physical line in the file (the header is line 1)
  std::string field;     // the column's header as written in the file
  std::string value;
  std::string reason;    // the validation message
};

struct ImportReport {
  SourceEncoding encoding = SourceEncoding::utf8;
  std::size_t rows = 0;        // data rows read
  std::size_t created = 0;     // new customers
  std::size_t updated = 0;     // existing codes whose fields changed
  std::size_t unchanged = 0;   // existing codes with nothing new
  std::size_t followups = 0;   // follow-up records added
  std::size_t bad_rows = 0;
  bool written = false;        // false on dry run, or when bad rows stopped the import
  std::vector<ImportIssue> issues;               // every bad field of every bad row
  std::vector<std::string> unknown_columns;      // headers that map to no field
  std::string format = "csv";                    // "csv" | "xlsx"
  std::string sheet;                             // xlsx: the worksheet read
  std::size_t conflicts = 0;                     // rows of kind "conflict"
  std::size_t skipped_deleted = 0;               // rows of kind "deleted"
  std::vector<RowChange> changes;                // every update, conflict and deleted code
  // The --map applied (header -> field key), and whether it was remembered from
  // an earlier import rather than given now.
  std::vector<std::pair<std::string, std::string>> column_map;
  bool map_remembered = false;
};

enum class SheetFormat { csv, xlsx };

// The format by the file's extension (.csv / .xlsx, any case). Throws
// Error(usage) naming the extension otherwise.
SheetFormat sheet_format(const std::string& path);

// Imports a CSV or xlsx sheet by its extension (see import_csv / import_xlsx).
ImportReport import_sheet(Replica& replica, const std::string& path, const ImportOptions& opts);

// Imports the first worksheet (or opts.sheet) of an .xlsx workbook; otherwise
// exactly like import_csv. Throws Error(validation) for a damaged or hostile
// file (naming the file and the part) or an unknown sheet (listing the sheets).
ImportReport import_xlsx(Replica& replica, const std::string& path, const ImportOptions& opts);

// Writes all live customers as an Excel workbook. Its first worksheet 客户 has
// the columns of export_csv; 跟进记录 lists every follow-up and 订单 every order of
// those customers (客户编号 and 客户名称 first, sorted by code, then date). Every
// sheet: bold frozen header, widths by display width, codes and phones as text,
// dates as dates, money in yuan with a money format, enum columns with a
// dropdown of their Chinese labels. Colours: 合作状态 已签约 green / 洽谈中 yellow,
// 下次跟进日期 before TODAY() red; 订单状态 已交付 green / 已下单, 生产中, 已发货
// yellow / 已取消 red. import_xlsx reads the first sheet back unchanged.
// Returns the number of customers.
std::size_t export_xlsx(const Replica& replica, const std::string& path);

// Writes CSV or xlsx by the file's extension.
std::size_t export_sheet(const Replica& replica, const std::string& path);

// Imports a CSV sheet (UTF-8 with or without BOM, or GB18030). All rows are
// written in one transaction, or none: with bad rows and without skip_bad nothing
// is written. Throws Error(io) if the file cannot be read, Error(validation) if it
// has no header or no column maps to a customer field.
ImportReport import_csv(Replica& replica, const std::string& path, const ImportOptions& opts);

// Writes all live customers as CSV: UTF-8 with BOM (so Excel opens it), the
// template's Chinese headers first, then the other fields; the follow-up columns
// hold each customer's latest follow-up. import_csv reads it back unchanged.
// Returns the number of customers written. Throws Error(io).
std::size_t export_csv(const Replica& replica, const std::string& path);

}  // namespace kehu
