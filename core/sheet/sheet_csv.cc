// The sheet pipeline (sheet_internal.h) and its CSV ends: import_csv, export_csv.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include <unistd.h>

#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/schema.h"
#include "kehu/sheet.h"
#include "kehu/xlsx.h"
#include "import_duplicates.h"
#include "sheet_internal.h"

namespace kehu {
namespace sheet {

// A header cell as its column is named: trimmed, and without the marks that
// import templates put on it, a required column's * (*客户名称, 联系人*) and a
// bracketed 必填 or 选填 (备注（选填）) (walkthrough 19, R19-6). --map names
// columns so too.
std::string header_name(std::string_view raw) {
  std::string_view s = trim_view(raw);
  for (bool again = true; again && !s.empty();) {
    again = false;
    for (std::string_view star : {"*", "＊", "※"}) {
      if (s.size() > star.size() && s.substr(0, star.size()) == star) s = trim_view(s.substr(star.size())), again = true;
      if (s.size() > star.size() && s.substr(s.size() - star.size()) == star)
        s = trim_view(s.substr(0, s.size() - star.size())), again = true;
    }
    for (std::string_view open : {"(", "（", "[", "【"}) {
      for (std::string_view word : {"必填", "选填", "可选", "非必填", "必填项", "选填项"}) {
        for (std::string_view close : {")", "）", "]", "】"}) {
          const std::string mark = std::string(open) + std::string(word) + std::string(close);
          if (s.size() > mark.size() && s.substr(s.size() - mark.size()) == mark) {
            s = trim_view(s.substr(0, s.size() - mark.size()));
            again = true;
          }
        }
      }
    }
  }
  return std::string(s);
}

}  // namespace sheet

namespace {

using sheet::header_name;


constexpr const char* kCustomers = "customers";
constexpr const char* kFollowups = "followups";
// What a follow-up made from a lone 跟进日期 holds where the sheet has no column.
constexpr const char* kFollowupPersonUnknown = "未填写";
constexpr const char* kFollowupDateOnly = "表格导入（原表只有跟进日期）";

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
  bool unknown = false;                // a header that names no field
  bool alias = false;                  // named by an alias of `customer` (schema.h)
};

// A custom follow-up field named `name` (key or label), when no customer field
// has that name: its column fills the row's follow-up, like 跟进人.
const FieldDef* custom_followup_field(const Schema& schema, const std::string& name) {
  const FieldDef* f = schema.collection(kFollowups).find(name);
  return f && f->custom && !schema.collection(kCustomers).find(name) ? f : nullptr;
}

// One header cell; `map`: header -> the field name (key or label) it stands for (--map).
Column resolve_column(const Schema& schema, const std::string& raw,
                      const std::map<std::string, std::string>& map) {
  const CollectionDef& cust = schema.collection(kCustomers);
  const CollectionDef& fu = schema.collection(kFollowups);
  Column c;
  c.header = header_name(raw);
  std::string name = c.header;
  if (auto m = map.find(c.header); m != map.end()) {
    // A mapped column fills the customer field of that name, else the follow-up's.
    if (const FieldDef* f = cust.find(m->second)) {
      name = f->zh;
    } else if (const FieldDef* g = fu.find(m->second)) {
      name = g->zh;
      for (const auto& [label, key] : followup_columns()) {
        if (key == g->key) name = label;
      }
    }
  }
  if (auto it = followup_columns().find(name); it != followup_columns().end()) {
    c.followup = fu.find(it->second);
  } else if (const FieldDef* g = custom_followup_field(schema, name)) {
    c.followup = g;
  } else if (name == "序号" || name == "最后跟进日期" || name == "last_followup_at") {
    c.ignored = true;
  } else if ((c.customer = cust.find(name)) != nullptr ||
             (c.customer = cust.find_header(name)) != nullptr) {
    c.alias = cust.find(name) == nullptr;
    if (c.customer->key == "next_plan" || c.customer->key == "next_date") {
      c.followup = fu.find(c.customer->key);
    }
  } else {
    c.unknown = !c.header.empty();
    c.ignored = true;
  }
  return c;
}

std::vector<Column> map_columns(const Schema& schema, const std::vector<std::string>& header,
                                const std::map<std::string, std::string>& map,
                                ImportReport& report) {
  std::vector<Column> cols;
  for (const auto& raw : header) cols.push_back(resolve_column(schema, raw, map));
  // A field two columns name (联系电话 and 手机): the column headed by its key or
  // label fills it, else the first; the other is reported, not imported.
  for (std::size_t i = 0; i < cols.size(); ++i) {
    Column& c = cols[i];
    if (!c.alias || !c.customer) continue;
    const Column* winner = nullptr;
    for (std::size_t j = 0; j < cols.size() && !winner; ++j) {
      const Column& o = cols[j];
      if (j != i && o.customer == c.customer && (!o.alias || j < i)) winner = &o;
    }
    if (winner) {
      const std::string field = c.customer->zh + " (" + c.customer->key + ")";
      report.notes.push_back(tr("column \"" + c.header + "\" not imported: " + field + " comes from column \"" +
                                    winner->header + "\"",
                                "“" + c.header + "”列未导入：" + field + " 取自“" + winner->header + "”列"));
      c.customer = nullptr;
      c.followup = nullptr;
      c.alias = false;
      c.ignored = true;
    }
  }
  for (const auto& c : cols) {
    if (c.unknown) report.unknown_columns.push_back(c.header);
    if (c.alias) report.aliased_columns.emplace_back(c.header, c.customer->key);
  }
  return cols;
}

// How many rows from the top may sit above the header (titles, notes, blanks).
constexpr std::size_t kHeaderSearchRows = 10;

// Whether `cells` look like the header: at least 2 cells name known fields,
// and one of them is 客户名称 or 客户编号 (by key, label or alias).
bool looks_like_header(const Schema& schema, const std::vector<std::string>& cells,
                       const std::map<std::string, std::string>& map) {
  std::size_t known = 0;
  bool anchor = false;
  for (const auto& cell : cells) {
    Column c = resolve_column(schema, cell, map);
    if (c.header.empty() || c.unknown) continue;
    ++known;
    anchor |= c.customer && (c.customer->key == "name" || c.customer->key == "code");
  }
  return known >= 2 && anchor;
}

bool blank_row(const CsvRow& row) {
  for (const auto& c : row.cells)
    if (!trim(c).empty()) return false;
  return true;
}

bool is_totals_word(std::string cell);

// A data row with nothing in it but its 序号: templates number empty rows ahead.
// A 合计 in the 序号 column (where sheets usually write it) is no number: the
// row is a totals row, not an empty one.
bool empty_data_row(const CsvRow& row, const std::vector<Column>& cols) {
  for (std::size_t i = 0; i < row.cells.size(); ++i) {
    if (i < cols.size() && cols[i].header == "序号" && !is_totals_word(trim(row.cells[i]))) continue;
    if (!trim(row.cells[i]).empty()) return false;
  }
  return true;
}

// The index in `rows` of the header row: the one opts.header_row names, else
// the first that looks like a header in the first rows, else the first.
std::size_t find_header(const Schema& schema, const std::vector<CsvRow>& rows,
                        const std::map<std::string, std::string>& map, const ImportOptions& opts,
                        const std::string& path) {
  if (opts.header_row > 0) {
    const std::string given = "--header-row " + std::to_string(opts.header_row);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].line != opts.header_row) continue;
      if (blank_row(rows[i])) break;
      return i;
    }
    if (opts.header_row > rows.back().line) {
      const std::string n = std::to_string(opts.header_row), last = std::to_string(rows.back().line);
      throw Error(Errc::usage, tr(given + ": " + path + " has no row " + n + " (its last row is " + last + ")",
                                  given + "：" + path + " 没有第 " + n + " 行（最后一行是第 " + last + " 行）"));
    }
    const std::string n = std::to_string(opts.header_row);
    throw Error(Errc::usage, tr(given + ": row " + n + " of " + path + " is empty; give the row that holds the column headers",
                                given + "：" + path + " 的第 " + n + " 行是空的；请给出表头所在的行"));
  }
  for (std::size_t i = 0; i < rows.size() && i < kHeaderSearchRows; ++i) {
    if (looks_like_header(schema, rows[i].cells, map)) return i;
  }
  return 0;
}

// "合计", "合 计", "总计：", "Total", "小计(3家)": the first non-empty cell of a totals row.
bool is_totals_word(std::string cell) {
  std::string s;
  for (std::size_t i = 0; i < cell.size(); ++i) {
    if (cell[i] == ' ' || cell[i] == '\t') continue;
    if (cell.compare(i, 3, "\xE3\x80\x80") == 0) {  // U+3000, the full-width space
      i += 2;
      continue;
    }
    s += static_cast<char>(cell[i] >= 'A' && cell[i] <= 'Z' ? cell[i] - 'A' + 'a' : cell[i]);
  }
  for (const char* word : {"合计", "总计", "小计", "total"}) {
    const std::string w = word;
    if (s.compare(0, w.size(), w) != 0) continue;
    std::string rest = s.substr(w.size());
    if (rest.empty() || rest[0] == ':' || rest[0] == '(' || (rest[0] >= '0' && rest[0] <= '9') ||
        rest.compare(0, 3, "\xEF\xBC\x9A") == 0 ||  // ：
        rest.compare(0, 3, "\xEF\xBC\x88") == 0) {  // （
      return true;
    }
  }
  return false;
}

// "3", "1,024", "12家", "5 户": a count a totals row puts in the name column.
bool is_count(const std::string& cell) {
  std::string s = cell;
  for (const char* unit : {"家", "个", "户", "位", "条"}) {
    const std::string u = unit;
    if (s.size() > u.size() && s.compare(s.size() - u.size(), u.size(), u) == 0) {
      s = trim(s.substr(0, s.size() - u.size()));
      break;
    }
  }
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == ',' || c == '.')) return false;
  return true;
}

// A totals row: its first non-empty cell is a totals word, and it has no code
// or name of its own (a count in the name column is no name).
bool is_totals_row(const CsvRow& row, const std::vector<Column>& cols) {
  std::size_t first = row.cells.size();
  for (std::size_t i = 0; i < row.cells.size() && first == row.cells.size(); ++i) {
    if (!trim(row.cells[i]).empty()) first = i;
  }
  if (first == row.cells.size() || !is_totals_word(trim(row.cells[first]))) return false;
  for (std::size_t i = 0; i < cols.size() && i < row.cells.size(); ++i) {
    const FieldDef* f = cols[i].customer;
    if (i == first || !f || (f->key != "code" && f->key != "name")) continue;
    const std::string cell = trim(row.cells[i]);
    if (!cell.empty() && !(f->key == "name" && is_count(cell))) return false;
  }
  return true;
}

struct ParsedRow {
  std::size_t line = 0;
  json customer = json::object();
  json followup = json::object();  // empty: the row carries no follow-up
  std::vector<ImportIssue> issues;
};

// A bare serial day number in a date column of a 1904-system workbook (a cell
// formatted General, so the reader could not tell it from a number): the date
// Excel shows, which normalize_value then reads. The same numbers count as
// serials as there (five digits, a fraction only for a date and time); anything
// else is left as it is.
std::string date_of_1904_serial(const FieldDef& f, const std::string& cell) {
  if (f.type != FieldType::date && f.type != FieldType::datetime) return cell;
  const std::size_t dot = cell.find('.');
  const std::string whole = cell.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : cell.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  if (whole.size() != 5 || !digits(whole) || !digits(fraction)) return cell;
  if (dot != std::string::npos && (fraction.empty() || f.type != FieldType::datetime)) return cell;
  const std::string date = excel_serial_to_date(std::strtod(cell.c_str(), nullptr), true);
  return date.empty() ? cell : date;
}

// A phone number, e-mail address or WeChat id as a pool customer shows it to a
// salesperson (138****5678, an export writes it so): not a value, it stands for
// the one the server keeps.
bool masked_cell(const FieldDef& f, const std::string& cell) {
  return (f.type == FieldType::phone || f.type == FieldType::email || f.key == "wechat") &&
         cell.find("****") != std::string::npos;
}

// Validates one row into stored values; collects every bad field. A row whose
// code `is_update` knows updates that customer: it needs only the code and the
// cells it changes, so required fields are checked only for new customers, and a
// masked cell leaves its field as it is. A follow-up that `followup_known` says
// the customer already has is not made again, so its fields are not required.
// `fill`: follow-up fields the sheet has no column for, set on every follow-up
// the row makes (person: the row's owner when it has one).
ParsedRow parse_row(const Schema& schema, const CsvRow& row, const std::vector<Column>& cols,
                    const std::function<bool(const std::string&)>& is_update,
                    const std::function<bool(const std::string&, const json&)>& followup_known,
                    const json& fill, bool date1904) {
  ParsedRow out;
  out.line = row.line;
  // Cells right of the header's last column would be lost: most often an
  // unquoted comma inside a cell (付款方式:月结,30天) that shifted the row. The
  // row is refused whole; its other cells are likely shifted too.
  std::string extra;
  std::size_t last = 0;
  for (std::size_t i = cols.size(); i < row.cells.size(); ++i) {
    if (trim(row.cells[i]).empty()) continue;
    extra += (extra.empty() ? "" : ",") + row.cells[i];
    last = i + 1;
  }
  if (!extra.empty()) {
    const std::string n = std::to_string(last), k = std::to_string(cols.size());
    out.issues.push_back({row.line, "", extra,
                          tr("the row has " + n + " cells but the header has " + k + " columns: \"" + extra +
                                 "\" is in no column and would be lost (a comma inside a cell? put that cell in "
                                 "double quotes, or give the column a header)",
                             "这一行有 " + n + " 个单元格，表头只有 " + k + " 列：“" + extra +
                                 "”不在任何一列里，导入会丢掉它（是不是某个单元格里有逗号？请给那个单元格加上英文双引号，"
                                 "或者给这一列加上表头）")});
    return out;
  }
  bool has_followup = false;
  std::string row_code;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].customer && cols[i].customer->key == "code" && i < row.cells.size()) row_code = trim(row.cells[i]);
  }
  const bool updates = !row_code.empty() && is_update(row_code);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const Column& c = cols[i];
    if (c.ignored) continue;
    std::string cell = i < row.cells.size() ? row.cells[i] : std::string();
    if (const FieldDef* f = c.customer ? c.customer : c.followup; date1904 && f) cell = date_of_1904_serial(*f, cell);
    if (const FieldDef* f = c.customer ? c.customer : c.followup; f && masked_cell(*f, cell)) {
      if (updates) continue;  // unchanged
      const std::string field = f->zh + " (" + f->key + ")";
      out.issues.push_back({row.line, c.header, cell,
                            tr(field + ": \"" + cell + "\" is masked (a pool customer's number as a salesperson sees it); "
                                   "give the whole value, or leave the cell empty",
                               field + "：“" + cell + "”是遮盖后的值（公海客户的号码，销售看到的样子）；请填写完整的值，或者留空")});
      continue;
    }
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
  if (has_followup && updates && followup_known(row_code, out.followup)) has_followup = false;
  if (!has_followup) {
    out.followup = json::object();
  } else {
    for (const auto& [k, v] : fill.items()) {
      if (out.followup.contains(k)) continue;
      out.followup[k] = k == "person" && out.customer.contains("owner") ? out.customer["owner"] : v;
    }
  }
  auto missing = [&](const CollectionDef& coll, const json& values) {
    std::vector<ImportIssue> found;
    for (const auto& f : coll.fields) {
      if (!f.required || f.derived) continue;
      if (values.contains(f.key)) continue;
      bool already = false;  // a bad value is reported once, not again as missing
      for (const auto& is : out.issues) already |= (is.field == f.zh || is.field == f.key);
      if (already) continue;
      std::string why = tr(f.zh + " (" + f.key + ") is required", "必须填写：" + f.zh + " (" + f.key + ")");
      // A new follow-up on a row of a sheet with no column for it (an export's
      // 客户 sheet after a team added a required follow-up field): say where.
      const bool column = std::any_of(cols.begin(), cols.end(), [&](const Column& c) {
        const FieldDef* fills = coll.name == kFollowups ? c.followup : c.customer;
        return fills && fills->key == f.key;
      });
      if (coll.name == kFollowups && !column) {
        why += tr(" for the new follow-up this row makes, and the sheet has no " +
                      f.zh + " column: add one (or --map one), or add the follow-up with `kehu followup add`",
                  "（这一行会新增一条跟进记录），表格里没有“" + f.zh +
                      "”列：加上这一列（或用 --map 指定），或者用 `kehu followup add` 添加这条跟进");
      }
      found.push_back({row.line, f.zh, "", why});
    }
    return found;
  };
  std::vector<ImportIssue> absent = missing(schema.collection(kCustomers), out.customer);
  const std::string code = out.customer.value("code", "");
  if (!absent.empty() && !code.empty() && is_update(code)) absent.clear();
  if (!out.followup.empty()) {
    for (auto& is : missing(schema.collection(kFollowups), out.followup))
      absent.push_back(std::move(is));
  }
  for (auto& is : absent) out.issues.push_back(std::move(is));
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

// What the user's role may not do (a salesperson's row for another 负责人, a
// reassignment, a pool customer's follow-up) is the row's issue, named by its
// line, before anything is written: a dry run then promises only what the
// import does, and nothing is refused later at sync.
// `other_issues`: the row is bad already; a refusal is added to its issues, so
// that all of them are named at once, and anything else is left to those.
void check_row_allowed(const Replica& replica, ParsedRow& pr, bool other_issues = false) {
  const std::string code = pr.customer.value("code", "");
  const std::optional<Record> have = code.empty() ? std::nullopt : replica.find_customer(code);
  try {
    // A row that changes nothing (an export's, a pool customer's too) asks nothing.
    const json diff = have ? changed_fields(*have, pr.customer) : pr.customer;
    if (!have || !diff.empty()) replica.check_allowed(kCustomers, have, diff);
    if (!pr.followup.empty()) replica.check_allowed(kFollowups, std::nullopt, pr.followup, have ? have->id : "");
  } catch (const Error& e) {
    // The role's refusals, and the place rules (a province no region covers,
    // walkthrough 8, R8-2: one such row ended the whole import), are the row's.
    if (e.code() != Errc::forbidden && e.code() != Errc::validation) {
      if (other_issues) return;
      throw;
    }
    ImportIssue issue;
    issue.line = pr.line;
    issue.reason = e.what();
    // A row for another 负责人, or with such a 省份, is about that cell: named
    // like a bad value.
    const std::string reason = e.what();
    for (const char* key : {"owner", "province"}) {
      const FieldDef* f = replica.schema().collection(kCustomers).find(key);
      if (f && pr.customer.contains(key) && pr.customer[key].is_string() &&
          reason.find("(" + std::string(key) + ")") != std::string::npos) {
        issue.field = f->zh;
        issue.value = pr.customer[key].get<std::string>();
        break;
      }
    }
    pr.issues.push_back(std::move(issue));
  }
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
  if (!in) throw Error(Errc::io, tr("cannot read " + path, "无法读取 " + path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The meta key a column map is remembered under: the sorted set of headers.
std::string map_meta_key(const std::vector<std::string>& header) {
  std::vector<std::string> names;
  for (const auto& h : header) {
    std::string t = header_name(h);
    if (!t.empty()) names.push_back(t);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (const auto& n : names) {
    for (unsigned char c : n + '\n') {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string("sheet_map:") + buf;
}

// Checks --map against the schema and the header; returns header -> field key.
std::vector<std::pair<std::string, std::string>> check_map(
    const Schema& schema, const std::vector<std::string>& header,
    const std::vector<std::pair<std::string, std::string>>& given) {
  const CollectionDef& cust = schema.collection(kCustomers);
  const CollectionDef& fu = schema.collection(kFollowups);
  std::set<std::string> have;
  for (const auto& h : header) have.insert(header_name(h));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [col, target] : given) {
    std::string c = header_name(col), t = trim(target);
    const FieldDef* f = cust.find(t);
    bool followup_only = false;
    if (!f) {
      f = fu.find(t);
      followup_only = f != nullptr;
    }
    if (!f || f->key == "customer" || (f->derived && f->key != "code" && f->key != "created_at")) {
      throw Error(Errc::usage, tr("--map \"" + c + "=" + t + "\": no field \"" + t +
                                      "\" (give a customer field key or label, e.g. name or 客户名称)",
                                  "--map “" + c + "=" + t + "”：没有“" + t + "”这个字段（请给出客户字段的键或名称，如 name 或 客户名称）"));
    }
    if (followup_only && !f->custom &&
        followup_columns().end() == std::find_if(followup_columns().begin(), followup_columns().end(),
                                                 [&](const auto& kv) { return kv.second == f->key; })) {
      throw Error(Errc::usage, tr("--map \"" + c + "=" + t + "\": no field \"" + t + "\"",
                                  "--map “" + c + "=" + t + "”：没有“" + t + "”这个字段"));
    }
    if (!have.count(c)) {
      throw Error(Errc::usage, tr("--map \"" + c + "=" + t + "\": the sheet has no column \"" + c + "\"",
                                  "--map “" + c + "=" + t + "”：表格里没有“" + c + "”这一列"));
    }
    out.emplace_back(c, f->key);
  }
  return out;
}

std::string display_of(const FieldDef& f, const json& v) {
  return display_value(f, v, Lang::zh);
}

}  // namespace

namespace sheet {

bool has_customer_header(const Schema& schema, const std::vector<CsvRow>& rows, const ImportOptions& opts) {
  std::map<std::string, std::string> given_map;
  for (const auto& [h, f] : opts.map) given_map[header_name(h)] = trim(f);
  for (std::size_t i = 0; i < rows.size() && i < kHeaderSearchRows; ++i) {
    if (looks_like_header(schema, rows[i].cells, given_map)) return true;
  }
  return false;
}

ImportReport import_rows(Replica& replica, const std::string& path, const std::vector<CsvRow>& rows,
                         const ImportOptions& opts, ImportReport report, bool date1904) {
  if (rows.empty()) throw Error(Errc::validation, path + tr(": the sheet is empty (no header row)", "：表格是空的（没有表头行）"));
  const Schema& schema = replica.schema();
  const CollectionDef& cust_def = schema.collection(kCustomers);
  // The column map given now picks the header row too: its columns are known.
  std::map<std::string, std::string> given_map;
  for (const auto& [h, f] : opts.map) given_map[header_name(h)] = trim(f);
  const std::size_t head = find_header(schema, rows, given_map, opts, path);
  report.header_row = rows[head].line;
  report.header_row_given = opts.header_row > 0;
  for (std::size_t i = 0; i < head; ++i) {
    std::string text;
    for (const auto& c : rows[i].cells) {
      std::string t = trim(c);
      if (!t.empty()) text += (text.empty() ? "" : " ") + t;
    }
    report.above_header.push_back(text);
  }
  const std::vector<std::string>& header = rows[head].cells;

  // The column map: given now (remembered unless dry run), or remembered before.
  const std::string map_key = map_meta_key(header);
  if (!opts.map.empty()) {
    report.column_map = check_map(schema, header, opts.map);
  } else if (std::string saved = replica.meta(map_key); !saved.empty()) {
    json j = json::parse(saved, nullptr, false);
    if (j.is_object()) {
      std::vector<std::pair<std::string, std::string>> given;
      for (const auto& [k, v] : j.items()) {
        if (v.is_string()) given.emplace_back(k, v.get<std::string>());
      }
      try {
        report.column_map = check_map(schema, header, given);
        report.map_remembered = true;
      } catch (const Error&) {
        report.column_map.clear();  // the schema changed since: ignore the stale map
      }
    }
  }
  std::map<std::string, std::string> map(report.column_map.begin(), report.column_map.end());

  std::vector<Column> cols = map_columns(schema, header, map, report);
  // A salesperson's replica (role from the last login) may not set restricted
  // fields: their columns are left out with a note, and the rest imports, where
  // refusing every row would leave the whole sheet out for one column.
  // An empty such column (the export writes it, empty, for a salesperson) is
  // left out without a note: nothing in it is lost.
  if (replica.meta("role") == "sales") {
    for (std::size_t ci = 0; ci < cols.size(); ++ci) {
      Column& c = cols[ci];
      const FieldDef* f = c.customer ? c.customer : c.followup;
      if (c.ignored || !f || !f->restricted) continue;
      const std::string field = f->zh + " (" + f->key + ")";
      bool filled = false;
      for (std::size_t r = head + 1; r < rows.size() && !filled; ++r) {
        filled = ci < rows[r].cells.size() && !trim(rows[r].cells[ci]).empty();
      }
      if (filled) report.notes.push_back(tr("column \"" + c.header + "\" not imported: " + field +
                                    " is restricted, and a salesperson may not set it; a manager can import it",
                                "“" + c.header + "”列未导入：" + field + " 是受限字段，销售不能填写；可以请经理导入这一列"));
      auto& aliased = report.aliased_columns;
      aliased.erase(std::remove_if(aliased.begin(), aliased.end(), [&](const auto& a) { return a.first == c.header; }),
                    aliased.end());
      c.customer = c.followup = nullptr;
      c.alias = false;
      c.ignored = true;
    }
  }
  bool any = false;
  for (const auto& c : cols) any |= (c.customer != nullptr);
  if (!any) {
    const std::string first = header.empty() ? "" : header[0];
    throw Error(Errc::validation,
                tr(path + ": no column maps to a customer field (header: " + first +
                       " …); name them with --map \"列名=field\"",
                   path + "：没有一列对应到客户字段（表头：" + first + " …）；请用 --map \"列名=字段\" 指定"));
  }
  // A 跟进日期 column without 跟进人 or 跟进内容 beside it: the follow-up each date
  // makes gets the missing fields, so that the date is the customer's last
  // follow-up date instead of every row being refused.
  json fill = json::object();
  {
    std::set<std::string> fu_keys;
    for (const auto& c : cols)
      if (c.followup && !c.customer) fu_keys.insert(c.followup->key);
    // Other required follow-up fields (a team's custom ones) that no column gives:
    // no follow-up can be made, so the dates are left out with a note, and the
    // customers still import.
    std::string lacking;
    for (const FieldDef& f : schema.collection(kFollowups).fields) {
      if (!f.required || f.derived || fu_keys.count(f.key) || f.key == "person" || f.key == "content") continue;
      if (f.key == schema.collection(kFollowups).parent_field) continue;
      lacking += (lacking.empty() ? "" : ", ") + f.zh + " (" + f.key + ")";
    }
    if (fu_keys.count("date") && !(fu_keys.count("person") && fu_keys.count("content")) && !lacking.empty()) {
      for (auto& c : cols) {
        if (c.followup && !c.customer) {
          c.followup = nullptr;
          c.ignored = true;
        }
      }
      report.notes.push_back(tr("跟进日期 not imported: a follow-up also needs " + lacking +
                                    ", which no column gives; add such a column (or --map one) to import the dates",
                                "跟进日期未导入：跟进记录还必须填写 " + lacking +
                                    "，表格里没有对应的列；加上这一列（或用 --map 指定）即可导入这些日期"));
    } else if (fu_keys.count("date") && !(fu_keys.count("person") && fu_keys.count("content"))) {
      if (!fu_keys.count("person")) fill["person"] = kFollowupPersonUnknown;
      if (!fu_keys.count("content")) fill["content"] = kFollowupDateOnly;
      const char* missing = fu_keys.count("person")    ? "跟进内容"
                            : fu_keys.count("content") ? "跟进人"
                                                       : "跟进人 or 跟进内容";
      const std::string missing_zh = std::string(missing) == "跟进人 or 跟进内容" ? "跟进人或跟进内容" : missing;
      report.notes.push_back(tr(std::string("跟进日期 without a ") + missing +
                                    " column: each date becomes a follow-up (跟进人: the row's 负责人, else " +
                                    kFollowupPersonUnknown + "; 跟进内容: " + kFollowupDateOnly +
                                    "), the customer's last follow-up date",
                                "有跟进日期但没有" + missing_zh + "列：每个日期记为一条跟进记录（跟进人：该行的负责人，没有则为" +
                                    kFollowupPersonUnknown + "；跟进内容：" + kFollowupDateOnly + "），即客户的最近跟进日期"));
    }
  }
  // Rows below the header: totals rows at the bottom and rows without any cell
  // are skipped.
  std::size_t end = rows.size();
  while (end > head + 1 &&
         (empty_data_row(rows[end - 1], cols) || is_totals_row(rows[end - 1], cols))) {
    --end;
    if (!empty_data_row(rows[end], cols))
      report.totals_rows.insert(report.totals_rows.begin(), rows[end].line);
  }
  std::vector<ParsedRow> good;
  good.reserve(rows.size());
  // Codes of the replica's customers, and of rows above that create one.
  std::set<std::string> codes_above;
  auto is_update = [&](const std::string& code) {
    return codes_above.count(code) > 0 || replica.find_customer(code).has_value();
  };
  // The row's follow-up as the customer already has it (an export's latest one):
  // re-importing adds no second one. `fill` is compared as the row would get it.
  auto followup_known = [&](const std::string& code, json fu) {
    const std::optional<Record> have = replica.find_customer(code);
    if (!have) return false;
    for (const auto& [k, v] : fill.items()) {
      if (!fu.contains(k)) fu[k] = v;
    }
    return has_same_followup(replica, *have, fu);
  };
  ImportDuplicateCheck duplicates(replica);  // 查重 (duplicates.h)
  for (std::size_t i = head + 1; i < rows.size(); ++i) {
    if (empty_data_row(rows[i], cols)) {
      ++report.blank_rows;
      continue;
    }
    if (i >= end) continue;  // a totals row
    ++report.rows;
    ParsedRow pr = parse_row(schema, rows[i], cols, is_update, followup_known, fill, date1904);
    std::vector<PossibleDuplicate> possible;
    if (pr.issues.empty() && opts.check_duplicates)
      pr.issues = duplicates.check(pr.line, pr.customer, possible);
    // Who may write the row is asked of a bad row too: every issue at once.
    if (pr.issues.empty() || !pr.customer.empty()) check_row_allowed(replica, pr, !pr.issues.empty());
    if (pr.issues.empty()) {
      for (auto& p : possible) report.possible_duplicates.push_back(std::move(p));
      if (pr.customer.contains("code")) codes_above.insert(pr.customer["code"].get<std::string>());
      good.push_back(std::move(pr));
    } else {
      ++report.bad_rows;
      for (auto& is : pr.issues) report.issues.push_back(std::move(is));
    }
  }
  if (report.bad_rows > 0 && !opts.skip_bad) return report;

  // Fields with a local change not yet synced, by record id (read once, lazily).
  std::optional<std::unordered_map<std::string, std::set<std::string>>> pending;
  auto pending_fields = [&](const Record& r) -> const std::set<std::string>* {
    if (!r.pending) return nullptr;
    if (!pending) {
      pending.emplace();
      for (const auto& lc : replica.changes_in_state("pending")) {
        auto& s = (*pending)[lc.change.record_id];
        for (const auto& [k, fc] : lc.change.fields) s.insert(k);
      }
    }
    auto it = pending->find(r.id);
    return it == pending->end() ? nullptr : &it->second;
  };
  // Describes an update of `have` to the report; returns false for a deleted code.
  auto describe = [&](const ParsedRow& pr, const Record& have, const json& diff) {
    RowChange rc;
    rc.line = pr.line;
    rc.code = have.code;
    if (have.deleted) {
      rc.kind = "deleted";
      ++report.skipped_deleted;
      report.changes.push_back(std::move(rc));
      return false;
    }
    if (diff.empty()) return true;
    const std::set<std::string>* pend = pending_fields(have);
    rc.kind = "update";
    for (const auto& [k, v] : diff.items()) {
      const FieldDef* f = cust_def.find(k);
      if (!f) continue;
      FieldChangeText ft;
      ft.field = f->zh + " (" + f->key + ")";
      ft.before = display_of(*f, have.fields.value(k, json()));
      ft.after = display_of(*f, v);
      ft.pending = pend && pend->count(k);
      if (ft.pending) rc.kind = "conflict";
      rc.fields.push_back(std::move(ft));
    }
    if (rc.kind == "conflict") ++report.conflicts;
    report.changes.push_back(std::move(rc));
    return true;
  };

  // Codes seen earlier in this file count as existing, so a dry run reports the
  // same creates and updates as the real run.
  std::set<std::string> seen_codes;
  std::size_t done = 0;
  auto run = [&] {
    for (const ParsedRow& pr : good) {
      if (!opts.dry_run && opts.progress && done > 0) opts.progress(done, good.size());
      ++done;
      std::string code = pr.customer.value("code", "");
      std::optional<Record> have = code.empty() ? std::nullopt : replica.find_customer(code);
      if (opts.dry_run) {
        bool exists = have || seen_codes.count(code);
        if (!exists) {
          ++report.created;
        } else if (have) {
          json diff = changed_fields(*have, pr.customer);
          if (!describe(pr, *have, diff)) continue;
          ++(diff.empty() ? report.unchanged : report.updated);
        } else {
          ++report.updated;
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
        if (!describe(pr, *have, diff)) continue;
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
    replica.batch([&] {
      run();
      if (opts.progress && done > 0) opts.progress(done, good.size());
      if (!opts.map.empty()) {
        json j = json::object();
        for (const auto& [h, k] : report.column_map) j[h] = k;
        replica.set_meta(map_key, j.dump());
      }
    });
    report.written = true;
  }
  return report;
}

ExportTable build_export(const Replica& replica) {
  const auto& schema = replica.schema();
  const CollectionDef& cust = schema.collection(kCustomers);
  const CollectionDef& fu = schema.collection(kFollowups);
  ExportTable t;
  // Columns: the template's, then every other customer field in schema order.
  std::vector<std::string> header = template_columns();
  std::set<std::string> in_template(header.begin(), header.end());
  for (const auto& f : cust.fields) {
    if (!in_template.count(f.zh)) header.push_back(f.zh);
  }
  for (const auto& h : header) {
    ExportColumn c;
    c.header = h;
    if (h == "序号") {
      c.kind = ExportColumn::Kind::serial;
    } else if (h == "客户编号") {
      c.kind = ExportColumn::Kind::code;
    } else if (auto it = followup_columns().find(h); it != followup_columns().end()) {
      c.kind = ExportColumn::Kind::followup;
      c.field = fu.find(it->second);
    } else {
      c.field = cust.find(h);
    }
    t.columns.push_back(c);
  }
  // Each customer's latest follow-up: one query for all, newest first.
  std::unordered_map<std::string, Record> latest;
  ListQuery fq;
  fq.collection = kFollowups;
  fq.sort = "-date";
  for (auto& r : replica.list(fq)) latest.emplace(r.parent, std::move(r));
  std::size_t n = 0;
  for (const Record& c : replica.list(ListQuery{})) {
    auto lf = latest.find(c.id);
    std::vector<json> row;
    row.reserve(t.columns.size());
    for (const auto& col : t.columns) {
      switch (col.kind) {
        case ExportColumn::Kind::serial: row.emplace_back(n + 1); break;
        case ExportColumn::Kind::code: row.emplace_back(c.code); break;
        case ExportColumn::Kind::followup:
          row.push_back(lf == latest.end() ? json() : lf->second.fields.value(col.field->key, json()));
          break;
        case ExportColumn::Kind::customer:
        case ExportColumn::Kind::child:  // the row's own record is the customer
          row.push_back(col.field ? c.fields.value(col.field->key, json()) : json());
          break;
      }
    }
    t.rows.push_back(std::move(row));
    ++n;
  }
  return t;
}

}  // namespace sheet

SheetFormat sheet_format(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  std::size_t dot = path.find_last_of('.');
  std::string ext = (dot == std::string::npos || (slash != std::string::npos && dot < slash))
                        ? std::string()
                        : path.substr(dot);
  std::string lower = ext;
  for (char& ch : lower) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  if (lower == ".csv") return SheetFormat::csv;
  if (lower == ".xlsx") return SheetFormat::xlsx;
  throw Error(Errc::usage, tr(path + ": unsupported extension \"" + ext +
                                  "\": sheets are .csv or .xlsx (Excel)",
                              path + "：不支持的扩展名“" + ext + "”：表格应为 .csv 或 .xlsx（Excel）"));
}

ImportReport import_sheet(Replica& replica, const std::string& path, const ImportOptions& opts) {
  if (sheet_format(path) == SheetFormat::xlsx) return import_xlsx(replica, path, opts);
  if (!opts.sheet.empty()) throw Error(Errc::usage, tr("--sheet is for .xlsx workbooks, not CSV", "--sheet 只用于 .xlsx 工作簿，不能用于 CSV"));
  return import_csv(replica, path, opts);
}

namespace {

// Refuses, before any work, a destination that cannot be written, saying why
// in the user's words (a missing folder is the usual one).
void check_destination(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (fs::is_directory(target, ec)) {
    throw Error(Errc::usage, tr("cannot write " + path + ": it is a folder; give a file name, e.g. " +
                                    (target / "客户.xlsx").string(),
                                "无法写入 " + path + "：这是一个文件夹；请给出文件名，如 " + (target / "客户.xlsx").string()));
  }
  if (!fs::exists(dir, ec)) {
    throw Error(Errc::usage, tr("cannot write " + path + ": the folder " + dir.string() + " does not exist",
                                "无法写入 " + path + "：文件夹 " + dir.string() + " 不存在"));
  }
  if (!fs::is_directory(dir, ec)) {
    throw Error(Errc::usage, tr("cannot write " + path + ": " + dir.string() + " is not a folder",
                                "无法写入 " + path + "：" + dir.string() + " 不是文件夹"));
  }
  if (::access(dir.c_str(), W_OK) != 0 || (fs::exists(target, ec) && ::access(path.c_str(), W_OK) != 0)) {
    throw Error(Errc::io, tr("cannot write " + path + ": no permission to write there",
                             "无法写入 " + path + "：没有写入权限"));
  }
}

}  // namespace

std::size_t export_sheet(const Replica& replica, const std::string& path, const RowProgress& progress) {
  const SheetFormat format = sheet_format(path);
  check_destination(path);
  // Written beside it and renamed over it once whole: a failure half-way
  // leaves the file that was there, not half a sheet.
  const std::string part = path + ".part";
  try {
    const std::size_t n = format == SheetFormat::xlsx ? export_xlsx(replica, part, progress)
                                                      : export_csv(replica, part, progress);
    std::error_code ec;
    std::filesystem::rename(part, path, ec);
    if (ec) throw Error(Errc::io, tr("cannot write " + path + ": " + ec.message(), "无法写入 " + path + "：" + ec.message()));
    return n;
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(part, ec);
    throw;
  }
}

ImportReport import_csv(Replica& replica, const std::string& path, const ImportOptions& opts) {
  DecodedText text = decode_sheet_bytes(read_file(path));
  std::vector<CsvRow> rows = parse_csv(text.utf8);
  ImportReport report;
  report.encoding = text.encoding;
  report.format = "csv";
  return sheet::import_rows(replica, path, rows, opts, std::move(report));
}

std::size_t export_csv(const Replica& replica, const std::string& path, const RowProgress& progress) {
  sheet::ExportTable t = sheet::build_export(replica);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(Errc::io, tr("cannot write " + path, "无法写入 " + path));
  out << "\xEF\xBB\xBF";
  auto write_row = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) out << ',';
      out << csv_escape(cells[i]);
    }
    out << "\r\n";
  };
  std::vector<std::string> header;
  for (const auto& c : t.columns) header.push_back(c.header);
  write_row(header);
  std::size_t written = 0;
  for (const auto& row : t.rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (std::size_t i = 0; i < row.size(); ++i) {
      const auto& col = t.columns[i];
      const json& v = row[i];
      if (col.kind == sheet::ExportColumn::Kind::serial) {
        cells.push_back(std::to_string(v.get<std::size_t>()));
      } else if (col.kind == sheet::ExportColumn::Kind::code) {
        cells.push_back(v.get<std::string>());
      } else {
        cells.push_back(col.field ? display_value(*col.field, v, Lang::zh) : "");
      }
    }
    write_row(cells);
    if (progress) progress(++written, t.rows.size());
  }
  out.flush();
  if (!out) throw Error(Errc::io, tr("cannot write " + path, "无法写入 " + path));
  return t.rows.size();
}

}  // namespace kehu
