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
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kehu/text.h"

namespace kehu {

class Replica;

// Progress of long sheet work: rows done of total, called as each one is done.
using RowProgress = std::function<void(std::size_t done, std::size_t total)>;

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
  // The sheet row (1-based, as Excel numbers it; a CSV's physical line) that
  // holds the column headers; 0: find it (see import_csv). A row the sheet does
  // not have is Error(usage) naming the value.
  std::size_t header_row = 0;
  RowProgress progress;  // after each good row is written (not on a dry run)
};

// Two rows of one sheet that share a phone, WeChat or name key (duplicates.h)
// but carry distinct codes of their own: both are imported, and listed for review.
struct PossibleDuplicate {
  std::size_t line = 0;  // the later row
  std::string code, name;
  std::string key;       // "name" | "phone" | "wechat"
  std::string value;     // the shared phone / WeChat, or the later row's name
  std::size_t other_line = 0;  // the earlier row
  std::string other_code, other_name;
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
  ImportIssue() = default;
  ImportIssue(std::size_t line_, std::string field_, std::string value_, std::string reason_, std::string sheet_ = {})
      : line(line_), field(std::move(field_)), value(std::move(value_)), reason(std::move(reason_)),
        sheet(std::move(sheet_)) {}
  std::size_t line = 0;  // physical line in the file (the header is line 1)
  std::string field;     // the column's header as written in the file
  std::string value;
  std::string reason;    // the validation message
  std::string sheet;     // xlsx: another sheet than the one read (a child sheet); else empty
};

// An export's child sheet (跟进记录, 订单, 联系人, ...) read back with its
// customer sheet: the rows Kehu does not hold (live or in the recycle bin) are
// added as records of the collection, under the customer their 客户编号 names.
struct ChildSheetImport {
  std::string sheet;       // 跟进记录
  std::string collection;  // followups
  std::size_t rows = 0;       // rows with a value
  std::size_t unchanged = 0;  // already held
  std::size_t added = 0;      // added (dry run: would be)
  std::vector<std::size_t> added_lines;
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
  // The row taken as the header (1-based sheet row) and whether --header-row
  // chose it; the text of the rows above it (a title, or "" for a blank row).
  std::size_t header_row = 1;
  bool header_row_given = false;
  std::vector<std::string> above_header;
  // Columns recognised by a header alias (header -> field key, schema.h aliases).
  std::vector<std::pair<std::string, std::string>> aliased_columns;
  std::vector<std::size_t> totals_rows;  // lines of the 合计 rows skipped at the bottom
  std::size_t blank_rows = 0;            // data rows without any cell (but 序号), skipped
  // Other things the user should know about the sheet, one sentence each
  // (a column not imported because another fills its field, follow-ups made
  // from a 跟进日期 column alone).
  std::vector<std::string> notes;
  // Rows with their own distinct codes that look like each other (imported).
  std::vector<PossibleDuplicate> possible_duplicates;
  // xlsx: the export's child sheets read with the customer sheet.
  std::vector<ChildSheetImport> child_sheets;
};

// Writes `dups` as a CSV a spreadsheet opens (UTF-8 with BOM, Chinese headers:
// 行号, 客户编号, 客户名称, 重复依据, 相同的值, 疑似重复行号, 疑似重复客户编号,
// 疑似重复客户名称). Throws Error(io).
void write_possible_duplicates_csv(const std::vector<PossibleDuplicate>& dups,
                                   const std::string& path);

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
std::size_t export_xlsx(const Replica& replica, const std::string& path, const RowProgress& progress = {});

// Writes CSV or xlsx by the file's extension.
std::size_t export_sheet(const Replica& replica, const std::string& path, const RowProgress& progress = {});

// Imports a CSV sheet (UTF-8 with or without BOM, or GB18030).
//
// Sheets as people save them: the header row is the first of the first 10 rows
// in which at least 2 cells name known fields (a key, label or alias, a --map
// column) and one of them names 客户名称 or 客户编号; rows above it (a merged
// title, blank rows) are skipped, and if no row qualifies the first row is the
// header. Rows without any cell but their 序号 are skipped. Totals rows at the bottom (the
// first non-empty cell 合计 / 总计 / 小计 / Total, no code or name of their own)
// are skipped and listed. A sheet with a 跟进日期 column but no 跟进人 or no 跟进内容
// column still makes follow-ups, with the missing field filled (跟进人: the
// row's 负责人, else 未填写; 跟进内容: 表格导入（原表只有跟进日期）), so the
// date becomes the customer's last follow-up date.
//
// All rows are
// written in one transaction, or none: with bad rows and without skip_bad nothing
// is written. Throws Error(io) if the file cannot be read, Error(validation) if it
// has no header or no column maps to a customer field.
ImportReport import_csv(Replica& replica, const std::string& path, const ImportOptions& opts);

// Writes all live customers as CSV: UTF-8 with BOM (so Excel opens it), the
// template's Chinese headers first, then the other fields; the follow-up columns
// hold each customer's latest follow-up. import_csv reads it back unchanged.
// Returns the number of customers written. Throws Error(io).
std::size_t export_csv(const Replica& replica, const std::string& path, const RowProgress& progress = {});

}  // namespace kehu
