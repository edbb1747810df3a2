// The child sheets of an export read back (sheet_internal.h): rows a person
// added to 跟进记录, 订单, 联系人, ... in Excel become records of that collection.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/replica.h"
#include "kehu/schema.h"
#include "kehu/xlsx.h"
#include "sheet_internal.h"

namespace kehu::sheet {
namespace {

constexpr const char* kCodeHeader = "客户编号";

// The index of the column named `name`, if the header has it.
std::optional<std::size_t> column_named(const std::vector<std::string>& header, const std::string& name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header_name(header[i]) == name) return i;
  }
  return std::nullopt;
}

// The codes the customer sheet's 客户编号 column holds (its header within the
// first rows): the customers an import creates, which child rows may name.
std::set<std::string> customer_sheet_codes(const std::vector<CsvRow>& rows) {
  std::set<std::string> codes;
  for (std::size_t h = 0; h < rows.size() && h < 10; ++h) {
    const std::optional<std::size_t> at = column_named(rows[h].cells, kCodeHeader);
    if (!at) continue;
    for (std::size_t i = h + 1; i < rows.size(); ++i) {
      if (*at < rows[i].cells.size()) codes.insert(canonical_code(trim(rows[i].cells[*at])));
    }
    break;
  }
  return codes;
}

// Whether `have` holds every value of `row` (the sheet's columns only).
bool holds(const Record& have, const json& row) {
  for (const auto& [key, value] : row.items()) {
    if (have.fields.value(key, json()) != value) return false;
  }
  return true;
}

}  // namespace

ChildRows read_child_sheets(const Replica& replica, const std::string& path, const XlsxTable& customers,
                            ImportReport& report) {
  ChildRows out;
  const Schema& schema = replica.schema();
  std::set<std::string> sheet_codes;
  bool sheet_codes_read = false;
  for (const CollectionDef& coll : schema.collections()) {
    if (coll.parent_field.empty()) continue;
    bool present = false;
    for (const auto& name : customers.sheets) present |= name == coll.zh && name != customers.sheet;
    if (!present) continue;
    XlsxTable table = read_xlsx(path, coll.zh);
    if (table.rows.empty()) continue;
    ChildSheetImport summary;
    summary.sheet = table.sheet;
    summary.collection = coll.name;
    const std::vector<std::string>& header = table.rows[0].cells;
    const std::optional<std::size_t> code_at = column_named(header, kCodeHeader);
    if (!code_at) {
      report.notes.push_back(tr("sheet \"" + table.sheet + "\" was not read: it has no " + kCodeHeader +
                                    " column to say whose " + coll.name + " its rows are",
                                "工作表“" + table.sheet + "”未读取：没有" + kCodeHeader + "列，看不出每行是哪个客户的" +
                                    coll.zh));
      continue;
    }
    // Each column's field; 客户编号 and 客户名称 say whose the row is.
    std::vector<const FieldDef*> fields(header.size(), nullptr);
    for (std::size_t j = 0; j < header.size(); ++j) {
      const std::string name = header_name(header[j]);
      if (j == *code_at || name.empty() || name == "客户名称") continue;
      const FieldDef* f = coll.find_header(name);
      if (f == nullptr || f->derived || f->type == FieldType::reference) {
        report.notes.push_back(tr("sheet \"" + table.sheet + "\": column \"" + name + "\" names no field of " +
                                      coll.name + "; not imported",
                                  "工作表“" + table.sheet + "”：列“" + name + "”对应不到" + coll.zh + "的字段，未导入"));
        continue;
      }
      fields[j] = f;
    }
    // A customer's records of the collection, live and in the recycle bin, read once.
    std::unordered_map<std::string, std::vector<Record>> held;
    auto records_of = [&](const std::string& customer_id) -> const std::vector<Record>& {
      auto it = held.find(customer_id);
      if (it != held.end()) return it->second;
      ListQuery q;
      q.collection = coll.name;
      q.parent = customer_id;
      std::vector<Record> all = replica.list(q);
      q.deleted = true;
      for (Record& r : replica.list(q)) all.push_back(std::move(r));
      return held.emplace(customer_id, std::move(all)).first->second;
    };
    for (std::size_t i = 1; i < table.rows.size(); ++i) {
      const CsvRow& row = table.rows[i];
      auto cell = [&](std::size_t j) { return j < row.cells.size() ? trim(row.cells[j]) : std::string(); };
      json values = json::object();
      std::vector<ImportIssue> issues;
      for (std::size_t j = 0; j < fields.size(); ++j) {
        if (fields[j] == nullptr) continue;
        const std::string text = cell(j);
        if (text.empty()) continue;
        try {
          values[fields[j]->key] = normalize_value(*fields[j], text);
        } catch (const Error& e) {
          issues.push_back({row.line, header_name(header[j]), text, e.what(), table.sheet});
        }
      }
      if (values.empty() && issues.empty()) continue;  // a row with only whose it is
      ++summary.rows;
      const std::string code = canonical_code(cell(*code_at));
      const std::optional<Record> customer = code.empty() ? std::nullopt : replica.find_customer(code);
      if (!customer) {
        if (!sheet_codes_read) sheet_codes = customer_sheet_codes(customers.rows), sheet_codes_read = true;
        if (code.empty() || !sheet_codes.count(code)) {
          issues.push_back({row.line, kCodeHeader, code,
                            code.empty() ? tr(std::string(kCodeHeader) + " (code) is empty: whose " + coll.name +
                                                  " is this row?",
                                              std::string(kCodeHeader) + " (code) 是空的：这一行是哪个客户的" + coll.zh + "？")
                                         : tr(std::string(kCodeHeader) + " (code) \"" + code +
                                                  "\" names no customer of this replica or of the sheet \"" +
                                                  customers.sheet + "\"",
                                              std::string(kCodeHeader) + " (code)“" + code + "”不是本机或工作表“" +
                                                  customers.sheet + "”中的客户"),
                            table.sheet});
        }
      }
      if (issues.empty() && customer) {
        bool known = customer->deleted;  // its records went to the recycle bin with it
        for (const Record& r : records_of(customer->id)) known |= holds(r, values);
        if (known) {
          ++summary.unchanged;
          continue;
        }
        try {
          replica.check_allowed(coll.name, std::nullopt, values, customer->id);
        } catch (const Error& e) {
          issues.push_back({row.line, kCodeHeader, code, e.what(), table.sheet});
        }
      }
      if (!issues.empty()) {
        ++report.bad_rows;
        for (auto& is : issues) report.issues.push_back(std::move(is));
        continue;
      }
      summary.added_lines.push_back(row.line);
      out.rows.push_back({coll.name, code, std::move(values)});
    }
    report.child_sheets.push_back(std::move(summary));
  }
  return out;
}

void add_child_rows(Replica& replica, const ChildRows& rows, bool dry_run, ImportReport& report) {
  if (!dry_run) {
    for (const ChildRows::Row& r : rows.rows) replica.add_values(r.collection, r.values, r.customer_code);
  }
  for (ChildSheetImport& s : report.child_sheets) s.added = s.added_lines.size();
}

}  // namespace kehu::sheet
