// The child sheets of an export read back (sheet_internal.h): rows a person
// added to 跟进记录, 订单, 联系人, ... in Excel become records of that collection.
#include <algorithm>
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

// A customer's records of `collection`, live and in the recycle bin.
std::vector<Record> records_of(const Replica& replica, const std::string& collection, const std::string& customer_id) {
  ListQuery q;
  q.collection = collection;
  q.parent = customer_id;
  std::vector<Record> all = replica.list(q);
  q.deleted = true;
  for (Record& r : replica.list(q)) all.push_back(std::move(r));
  return all;
}

bool held(const std::vector<Record>& records, const json& row) {
  return std::any_of(records.begin(), records.end(), [&](const Record& r) { return holds(r, row); });
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
    // Each customer's records of the collection, read once.
    std::unordered_map<std::string, std::vector<Record>> have;
    auto records_of_customer = [&](const std::string& customer_id) -> const std::vector<Record>& {
      auto it = have.find(customer_id);
      if (it != have.end()) return it->second;
      return have.emplace(customer_id, records_of(replica, coll.name, customer_id)).first->second;
    };
    const std::size_t sheet_index = report.child_sheets.size();
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
        // A customer in the recycle bin took its records with it.
        if (customer->deleted || held(records_of_customer(customer->id), values)) {
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
      out.rows.push_back({coll.name, code, std::move(values), sheet_index, row.line});
    }
    report.child_sheets.push_back(std::move(summary));
  }
  return out;
}

void add_child_rows(Replica& replica, const ChildRows& rows, bool dry_run, ImportReport& report) {
  for (const ChildRows::Row& r : rows.rows) {
    ChildSheetImport& s = report.child_sheets[r.sheet];
    if (!dry_run) {
      // A customer this import created has the follow-up its own row carried
      // (the 客户 sheet's latest one), which its 跟进记录 row repeats: not twice.
      const std::optional<Record> customer = replica.find_customer(r.customer_code);
      if (customer && held(records_of(replica, r.collection, customer->id), r.values)) {
        ++s.unchanged;
        continue;
      }
      replica.add_values(r.collection, r.values, r.customer_code);
    }
    s.added_lines.push_back(r.line);
  }
  for (ChildSheetImport& s : report.child_sheets) s.added = s.added_lines.size();
}

}  // namespace kehu::sheet
