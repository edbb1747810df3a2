#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/schema.h"
#include "kehu/sheet.h"

namespace kehu {
namespace {

constexpr const char* kCustomers = "customers";
constexpr const char* kFollowups = "followups";

// The template's columns in its order. Follow-up columns belong to the follow-up
// record the row carries; 下次跟进计划/日期 fill both the customer and it.
const std::vector<std::string>& template_columns() {
  static const std::vector<std::string> cols = {
      "序号", "客户编号", "客户名称", "所属行业", "客户类型", "销售阶段", "联系人",
      "联系人职位", "联系电话", "邮箱", "微信", "客户来源", "省份", "城市", "地址",
      "核心需求", "跟进日期", "跟进人", "跟进方式", "跟进内容", "客户反馈", "合作状态",
      "下次跟进计划", "下次跟进日期", "标签", "生日", "创建日期", "最后跟进日期", "备注"};
  return cols;
}

const std::map<std::string, std::string>& followup_columns() {
  static const std::map<std::string, std::string> m = {{"跟进日期", "date"},
                                                       {"跟进人", "person"},
                                                       {"跟进方式", "method"},
                                                       {"跟进内容", "content"},
                                                       {"客户反馈", "feedback"}};
  return m;
}

// How one column of the file is used.
struct Column {
  std::string header;
  const FieldDef* customer = nullptr;  // customer field it fills
  const FieldDef* followup = nullptr;  // follow-up field it fills
  bool ignored = false;                // 序号 and derived columns: known, not imported
};

std::vector<Column> map_columns(const std::vector<std::string>& header,
                                std::vector<std::string>& unknown) {
  const auto& schema = Schema::builtin();
  const CollectionDef& cust = schema.collection(kCustomers);
  const CollectionDef& fu = schema.collection(kFollowups);
  std::vector<Column> cols;
  for (const auto& raw : header) {
    Column c;
    c.header = trim(raw);
    if (auto it = followup_columns().find(c.header); it != followup_columns().end()) {
      c.followup = fu.find(it->second);
    } else if (c.header == "序号" || c.header == "最后跟进日期" || c.header == "last_followup_at") {
      c.ignored = true;
    } else if ((c.customer = cust.find(c.header)) != nullptr) {
      if (c.customer->key == "next_plan" || c.customer->key == "next_date") {
        c.followup = fu.find(c.customer->key);
      }
    } else if (!c.header.empty()) {
      unknown.push_back(c.header);
      c.ignored = true;
    } else {
      c.ignored = true;
    }
    cols.push_back(c);
  }
  return cols;
}

struct ParsedRow {
  std::size_t line = 0;
  json customer = json::object();
  json followup = json::object();  // empty: the row carries no follow-up
  std::vector<ImportIssue> issues;
};

// Validates one row into stored values; collects every bad field.
ParsedRow parse_row(const CsvRow& row, const std::vector<Column>& cols) {
  const auto& schema = Schema::builtin();
  ParsedRow out;
  out.line = row.line;
  bool has_followup = false;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const Column& c = cols[i];
    if (c.ignored) continue;
    std::string cell = i < row.cells.size() ? row.cells[i] : std::string();
    try {
      if (c.customer) {
        json v = normalize_value(*c.customer, cell);
        if (!v.is_null()) out.customer[c.customer->key] = v;
      }
      if (c.followup) {
        json v = normalize_value(*c.followup, cell);
        if (!v.is_null()) {
          out.followup[c.followup->key] = v;
          if (!c.customer) has_followup = true;
        }
      }
    } catch (const Error& e) {
      out.issues.push_back({row.line, c.header, cell, e.what()});
    }
  }
  if (!has_followup) out.followup = json::object();
  auto required = [&](const CollectionDef& coll, const json& values) {
    for (const auto& f : coll.fields) {
      if (!f.required || f.derived) continue;
      if (values.contains(f.key)) continue;
      bool already = false;  // a bad value is reported once, not again as missing
      for (const auto& is : out.issues) already |= (is.field == f.zh || is.field == f.key);
      if (!already) {
        out.issues.push_back({row.line, f.zh, "", f.zh + " (" + f.key + ") is required"});
      }
    }
  };
  required(schema.collection(kCustomers), out.customer);
  if (!out.followup.empty()) required(schema.collection(kFollowups), out.followup);
  return out;
}

// The customer's fields that differ from what the replica has (set-once fields
// such as created_at are not updated).
json changed_fields(const Record& have, const json& want) {
  json diff = json::object();
  for (const auto& [k, v] : want.items()) {
    if (k == "code" || k == "created_at") continue;
    if (have.fields.value(k, json()) != v) diff[k] = v;
  }
  return diff;
}

bool has_same_followup(const Replica& replica, const Record& customer, const json& fu) {
  ListQuery q;
  q.collection = kFollowups;
  q.parent = customer.id;
  for (const auto& r : replica.list(q)) {
    if (r.fields.value("date", json()) == fu.value("date", json()) &&
        r.fields.value("person", json()) == fu.value("person", json()) &&
        r.fields.value("content", json()) == fu.value("content", json())) {
      return true;
    }
  }
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(Errc::io, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ImportReport import_csv(Replica& replica, const std::string& path, const ImportOptions& opts) {
  DecodedText text = decode_sheet_bytes(read_file(path));
  std::vector<CsvRow> rows = parse_csv(text.utf8);
  if (rows.empty()) throw Error(Errc::validation, path + ": the sheet is empty (no header row)");
  ImportReport report;
  report.encoding = text.encoding;
  std::vector<Column> cols = map_columns(rows[0].cells, report.unknown_columns);
  bool any = false;
  for (const auto& c : cols) any |= (c.customer != nullptr);
  if (!any) {
    throw Error(Errc::validation, path + ": no column maps to a customer field (header: " +
                                      (rows[0].cells.empty() ? "" : rows[0].cells[0]) + " …)");
  }
  std::vector<ParsedRow> good;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ++report.rows;
    ParsedRow pr = parse_row(rows[i], cols);
    if (pr.issues.empty()) {
      good.push_back(std::move(pr));
    } else {
      ++report.bad_rows;
      for (auto& is : pr.issues) report.issues.push_back(std::move(is));
    }
  }
  if (report.bad_rows > 0 && !opts.skip_bad) return report;

  // Codes seen earlier in this file count as existing, so a dry run reports the
  // same creates and updates as the real run.
  std::set<std::string> seen_codes;
  auto run = [&] {
    for (const ParsedRow& pr : good) {
      std::string code = pr.customer.value("code", "");
      std::optional<Record> have = code.empty() ? std::nullopt : replica.find_customer(code);
      if (opts.dry_run) {
        bool exists = have || seen_codes.count(code);
        if (!exists) {
          ++report.created;
        } else if (!have || !changed_fields(*have, pr.customer).empty()) {
          ++report.updated;
        } else {
          ++report.unchanged;
        }
        if (!pr.followup.empty() && !(have && has_same_followup(replica, *have, pr.followup))) {
          ++report.followups;
        }
        if (!code.empty()) seen_codes.insert(code);
        continue;
      }
      Record cust;
      if (!have) {
        cust = replica.add_values(kCustomers, pr.customer);
        ++report.created;
      } else {
        json diff = changed_fields(*have, pr.customer);
        if (diff.empty()) {
          cust = *have;
          ++report.unchanged;
        } else {
          cust = replica.edit_values(have->id, diff);
          ++report.updated;
        }
      }
      if (!pr.followup.empty() && !(have && has_same_followup(replica, cust, pr.followup))) {
        replica.add_values(kFollowups, pr.followup, cust.id);
        ++report.followups;
      }
    }
  };
  if (opts.dry_run) {
    run();
  } else {
    replica.batch(run);
    report.written = true;
  }
  return report;
}

std::size_t export_csv(const Replica& replica, const std::string& path) {
  const auto& schema = Schema::builtin();
  const CollectionDef& cust = schema.collection(kCustomers);
  const CollectionDef& fu = schema.collection(kFollowups);
  // Columns: the template's, then every other customer field in schema order.
  std::vector<std::string> header = template_columns();
  std::set<std::string> in_template(header.begin(), header.end());
  for (const auto& f : cust.fields) {
    if (!in_template.count(f.zh)) header.push_back(f.zh);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(Errc::io, "cannot write " + path);
  out << "\xEF\xBB\xBF";
  auto write_row = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out << ',';
      out << csv_escape(cells[i]);
    }
    out << "\r\n";
  };
  write_row(header);
  std::size_t n = 0;
  for (const Record& c : replica.list(ListQuery{})) {
    ListQuery fq;
    fq.collection = kFollowups;
    fq.parent = c.id;
    fq.sort = "-date";
    fq.limit = 1;
    auto latest = replica.list(fq);
    std::vector<std::string> cells;
    for (const auto& h : header) {
      if (h == "序号") {
        cells.push_back(std::to_string(n + 1));
      } else if (auto it = followup_columns().find(h); it != followup_columns().end()) {
        cells.push_back(latest.empty() ? std::string()
                                       : display_value(*fu.find(it->second),
                                                       latest[0].fields.value(it->second, json()),
                                                       Lang::zh));
      } else if (h == "客户编号") {
        cells.push_back(c.code);
      } else {
        const FieldDef* f = cust.find(h);
        cells.push_back(f ? display_value(*f, c.fields.value(f->key, json()), Lang::zh) : "");
      }
    }
    write_row(cells);
    ++n;
  }
  out.flush();
  if (!out) throw Error(Errc::io, "cannot write " + path);
  return n;
}

}  // namespace kehu
