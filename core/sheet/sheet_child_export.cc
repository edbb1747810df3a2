// build_child_export: the follow-up, order and contact sheets of the xlsx export
// (sheet_internal.h). One row per child record, led by its customer's code and name.
#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kehu/customer_code.h"
#include "kehu/replica.h"
#include "kehu/schema.h"
#include "sheet_internal.h"

namespace kehu::sheet {

ExportTable build_child_export(const Replica& replica, const std::string& collection) {
  const Schema& schema = replica.schema();
  const CollectionDef& cust = schema.collection("customers");
  const CollectionDef& coll = schema.collection(collection);
  ExportTable t;
  t.collection = coll.name;
  ExportColumn code;
  code.header = "客户编号";
  code.kind = ExportColumn::Kind::code;
  t.columns.push_back(code);
  ExportColumn name;
  name.field = &cust.field("name");
  name.header = name.field->zh;
  t.columns.push_back(name);
  for (const FieldDef& f : coll.fields) {
    if (f.type == FieldType::reference) continue;  // the customer: the two columns above
    ExportColumn c;
    c.header = f.zh;
    c.kind = ExportColumn::Kind::child;
    c.field = &f;
    t.columns.push_back(c);
  }

  // Live customers only, as on the customer sheet: a customer in the recycle bin
  // takes its follow-ups and orders with it.
  std::unordered_map<std::string, Record> customers;
  for (Record& c : replica.list(ListQuery{})) {
    std::string id = c.id;
    customers.emplace(std::move(id), std::move(c));
  }
  ListQuery q;
  q.collection = coll.name;  // list()'s order: by date (contacts: by name), stable on ties
  std::vector<std::pair<const Record*, Record>> rows;
  for (Record& r : replica.list(q)) {
    auto it = customers.find(r.parent);
    if (it != customers.end()) rows.emplace_back(&it->second, std::move(r));
  }
  // By code, keeping list()'s order within a customer.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return code_less(a.first->code, b.first->code); });

  t.rows.reserve(rows.size());
  for (const auto& [customer, record] : rows) {
    std::vector<json> row;
    row.reserve(t.columns.size());
    for (const ExportColumn& c : t.columns) {
      if (c.kind == ExportColumn::Kind::code) {
        row.emplace_back(customer->code);
      } else {
        const Record& from = c.kind == ExportColumn::Kind::child ? record : *customer;
        row.push_back(from.fields.value(c.field->key, json()));
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace kehu::sheet
