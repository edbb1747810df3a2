// `kehu-server audit export`: the revisions of a time range as a CSV file an
// auditor opens in Excel or WPS: UTF-8 with a BOM, CRLF, Chinese headers, one
// row per changed field (a revision that changed no field, e.g. one that only
// recorded a conflict, gets one row with the field columns empty):
//
//   序号      seq of the revision          记录ID    record id
//   时间      server time "at" (UTC)       版本      rev of the record
//   用户      author (the session user)    操作      create|update|delete|restore
//   设备      device                       字段      field key ("deleted" for the recycle bin)
//   客户编号  the customer's current code  字段名称  the field's Chinese label (core's schema)
//   集合      collection (customers, ...)  旧值/新值 old/new as the sheet shows them
//   原因      cause (e.g. "revert to rev 3")   批准人  approved_by   哈希  the chain hash
//
// The file is written as FILE.tmp and renamed over FILE at the end, so a failure
// leaves no partial file (and the temporary file is removed).
#pragma once

#include <cstdint>
#include <string>

#include "audit_filter.h"
#include "store.h"

namespace kehu::server {

struct ExportReport {
  std::int64_t revisions = 0;  // revisions written
  std::int64_t rows = 0;       // CSV rows below the header
  std::int64_t damaged = 0;    // damaged revisions left out (audit verify names them)
};

class AuditExport {
 public:
  explicit AuditExport(Store& store) : store_(store) {}

  // Writes every revision that `filter` matches, in seq order, reading the log
  // in one read transaction in constant memory. Throws Error(io) when the file
  // cannot be written, Error(storage) when the store cannot be read.
  ExportReport write(const AuditFilter& filter, const std::string& path);

 private:
  Store& store_;
};

}  // namespace kehu::server
