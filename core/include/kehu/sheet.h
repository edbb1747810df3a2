// Sheets in and out: the CSV layout of the seed template 客户信息记录标准模板.
//
// Import maps Chinese headers (or canonical keys) to fields by themselves: one row
// is one customer, and the follow-up columns (跟进日期, 跟进人, 跟进方式, 跟进内容,
// 客户反馈) become a follow-up record of it. Codes in the file are kept; a code the
// replica already has updates that customer instead of duplicating it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "kehu/text.h"

namespace kehu {

class Replica;

struct ImportOptions {
  bool dry_run = false;   // validate and count, write nothing
  bool skip_bad = false;  // import the good rows even if some rows are bad
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
};

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
