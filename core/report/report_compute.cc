// The reports (kehu/reports.h for the exact rules): one streaming pass over
// each collection a report needs, aggregated in maps.
#include <algorithm>
#include <array>
#include <unordered_map>

#include "kehu/calendar.h"
#include "kehu/cause_text.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/field_filter.h"
#include "kehu/lang.h"
#include "kehu/place.h"
#include "kehu/replica.h"
#include "kehu/reports.h"

namespace kehu {
namespace {

constexpr const char* kNone = "-";

const std::string& str(const json& fields, const char* key) {
  static const std::string empty;
  auto it = fields.find(key);
  return it != fields.end() && it->is_string() ? it->get_ref<const std::string&>() : empty;
}

std::optional<std::int64_t> integer(const json& fields, const std::string& key) {
  auto it = fields.find(key);
  if (it == fields.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

bool is_date(const std::string& s) { return s.size() == 10 && day_number(s).has_value(); }

std::optional<double> ratio(std::int64_t part, std::int64_t whole) {
  if (whole == 0) return std::nullopt;
  return 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

Column col(const char* key, const char* zh, const char* en) { return {key, zh, en}; }

// An enum value as a text cell: its label, its key for JSON.
Cell enum_cell(const FieldDef& f, const std::string& key, Lang lang) {
  if (key.empty()) return Cell::of_text(kNone, "");
  const EnumValue* v = f.find_value(key);
  return Cell::of_text(v ? (lang == Lang::zh ? v->zh : v->en) : key, key);
}

std::string or_none(const std::string& s) { return s.empty() ? std::string(kNone) : s; }

std::string checked_report_today(const ReportOptions& opts) {
  return checked_today(opts.today, "today");
}

// A customer's province (and city) as a report groups it: 江苏, 江苏省 and
// Jiangsu are one group, as they are one region (kehu/place.h).
std::string province_of(const json& f) { return or_none(canonical_place(str(f, "province"), "").first); }

std::string region_of(const json& f, bool with_city) {
  if (!with_city) return province_of(f);
  const auto [p, c] = canonical_place(str(f, "province"), str(f, "city"));
  return or_none(p) + "/" + or_none(c);
}

// What the other reports need of a customer, read once.
struct CustomerInfo {
  std::string code, name, owner, province, stage, type;
};

std::unordered_map<std::string, CustomerInfo> customer_infos(const Replica& rep) {
  std::unordered_map<std::string, CustomerInfo> out;
  rep.for_each_record(
      "customers", {"name", "owner", "province", "stage", "type"}, [&](const Record& r) {
        const json& f = r.fields;
        out.emplace(r.id, CustomerInfo{r.code, str(f, "name"), str(f, "owner"), province_of(f),
                                       str(f, "stage"), str(f, "type")});
      });
  return out;
}

// The order fields the reports read.
const std::vector<std::string> kOrderKeys = {"status", "date", "amount"};

std::string lang_text(Lang lang, const char* zh, const std::string& en) {
  return lang == Lang::zh ? std::string(zh) : en;
}

std::int64_t weighted(std::int64_t amount, std::int64_t percent) {
  const std::int64_t n = amount * percent;
  return n >= 0 ? (n + 50) / 100 : -((-n + 50) / 100);
}

}  // namespace

// ---------------------------------------------------------------------------

Report report_funnel(const Replica& rep, const ReportOptions& opts) {
  const std::string& by = opts.by;
  if (!by.empty() && by != "owner" && by != "region" && by != "city") {
    throw Error(Errc::usage, tr("report funnel --by \"" + by + "\": expected owner, region or city",
                                "report funnel --by “" + by + "”：应为 owner、region 或 city"));
  }
  const FieldDef& stage_def = rep.schema().collection("customers").field("stage");
  const std::size_t n_stages = stage_def.values.size();
  struct Counts {
    std::vector<std::int64_t> at;
    std::int64_t none = 0, lost = 0;
  };
  std::map<std::string, Counts> groups;
  std::unordered_map<std::string, std::size_t> stage_index;
  for (std::size_t i = 0; i < n_stages; ++i) stage_index[stage_def.values[i].key] = i;
  if (by.empty()) groups[""].at.assign(n_stages, 0);
  rep.for_each_record("customers", {"type", "stage", "owner", "province", "city"},
                      [&](const Record& r) {
                        const json& f = r.fields;
                        std::string group;
                        if (by == "owner")
                          group = or_none(str(f, "owner"));
                        else if (!by.empty())
                          group = region_of(f, by == "city");
                        Counts& c = groups[group];
                        if (c.at.empty()) c.at.assign(n_stages, 0);
                        if (str(f, "type") == "lost") {
                          ++c.lost;
                          return;
                        }
                        auto it = stage_index.find(str(f, "stage"));
                        if (it == stage_index.end())
                          ++c.none;
                        else
                          ++c.at[it->second];
                      });

  Report report;
  report.name = "funnel";
  report.title = lang_text(opts.lang, "销售漏斗", "Sales funnel");
  ReportTable t;
  t.name = "funnel";
  if (!by.empty()) {
    t.columns.push_back(by == "owner" ? col("owner", "负责人", "Owner")
                                      : col("region", "地区", "Region"));
  }
  const int stage_col = static_cast<int>(t.columns.size());
  t.columns.push_back(col("stage", "销售阶段", "Stage"));
  t.columns.push_back(col("customers", "客户数", "Customers"));
  t.columns.push_back(col("reached", "到达此阶段", "Reached"));
  t.columns.push_back(col("conversion", "转化率", "Conversion"));
  std::int64_t lost_total = 0, none_total = 0;
  for (const auto& [group, c] : groups) {
    std::vector<std::int64_t> reached(n_stages, 0);
    std::int64_t acc = 0;
    for (std::size_t i = n_stages; i-- > 0;) reached[i] = acc += c.at[i];
    for (std::size_t i = 0; i < n_stages; ++i) {
      std::vector<Cell> row;
      if (!by.empty()) row.push_back(Cell::of_text(group));
      row.push_back(enum_cell(stage_def, stage_def.values[i].key, opts.lang));
      row.push_back(Cell::of_int(c.at[i]));
      row.push_back(Cell::of_int(reached[i]));
      row.push_back(i == 0 ? Cell{} : Cell::of_percent(ratio(reached[i], reached[i - 1])));
      t.rows.push_back(std::move(row));
    }
    for (int extra = 0; extra < 2; ++extra) {
      std::vector<Cell> row;
      if (!by.empty()) row.push_back(Cell::of_text(group));
      row.push_back(extra == 0 ? Cell::of_text(lang_text(opts.lang, "无阶段", "(no stage)"), "none")
                               : Cell::of_text(lang_text(opts.lang, "流失客户（不计入）",
                                                         "Lost (not in the funnel)"),
                                               "lost"));
      row.push_back(Cell::of_int(extra == 0 ? c.none : c.lost));
      row.push_back(Cell{});
      row.push_back(Cell{});
      t.rows.push_back(std::move(row));
    }
    lost_total += c.lost;
    none_total += c.none;
  }
  t.chart.kind = ChartKind::bar;
  t.chart.category_column = stage_col;
  t.chart.value_columns = {stage_col + 1, stage_col + 2};
  t.chart.first_row = 0;
  t.chart.last_row = by.empty() ? n_stages : t.rows.size();
  report.tables.push_back(std::move(t));
  report.notes.push_back(opts.lang == Lang::zh
                             ? "流失客户 " + std::to_string(lost_total) + " 个、无阶段客户 " +
                                   std::to_string(none_total) + " 个不计入漏斗"
                             : std::to_string(lost_total) + " lost and " +
                                   std::to_string(none_total) +
                                   " customers without a stage are not in the funnel");
  return report;
}

// ---------------------------------------------------------------------------

Report report_sources(const Replica& rep, const ReportOptions& opts) {
  const FieldDef& source_def = rep.schema().collection("customers").field("source");
  struct Counts {
    std::int64_t customers = 0, converted = 0;
  };
  // quarter -> source order index (values, then none last) -> counts
  std::map<std::string, std::map<std::size_t, Counts>> quarters;
  std::unordered_map<std::string, std::size_t> order;
  for (std::size_t i = 0; i < source_def.values.size(); ++i) order[source_def.values[i].key] = i;
  const std::size_t none_index = source_def.values.size();
  std::int64_t undated = 0;
  rep.for_each_record("customers", {"created_at", "source", "type", "stage"}, [&](const Record& r) {
    const json& f = r.fields;
    const std::string& created = str(f, "created_at");
    if (!is_date(created)) {
      ++undated;
      return;
    }
    if (opts.year && std::stoi(created.substr(0, 4)) != *opts.year) return;
    const int month = std::stoi(created.substr(5, 2));
    const std::string quarter = created.substr(0, 4) + "-Q" + std::to_string((month - 1) / 3 + 1);
    auto it = order.find(str(f, "source"));
    Counts& c = quarters[quarter][it == order.end() ? none_index : it->second];
    ++c.customers;
    if (str(f, "type") == "deal" || str(f, "stage") == "won") ++c.converted;
  });
  Report report;
  report.name = "sources";
  report.title = lang_text(opts.lang, "客户来源分析", "Customer sources");
  ReportTable t;
  t.name = "sources";
  t.columns = {col("quarter", "季度", "Quarter"),       col("source", "客户来源", "Source"),
               col("customers", "客户数", "Customers"), col("share", "占比", "Share"),
               col("converted", "成交数", "Converted"), col("conversion", "转化率", "Conversion")};
  std::size_t last_quarter_start = 0;
  for (const auto& [quarter, sources] : quarters) {
    std::int64_t total = 0;
    for (const auto& [i, c] : sources) total += c.customers;
    last_quarter_start = t.rows.size();
    for (const auto& [i, c] : sources) {
      t.rows.push_back(
          {Cell::of_text(quarter),
           i == none_index ? Cell::of_text(kNone, "")
                           : enum_cell(source_def, source_def.values[i].key, opts.lang),
           Cell::of_int(c.customers), Cell::of_percent(ratio(c.customers, total)),
           Cell::of_int(c.converted), Cell::of_percent(ratio(c.converted, c.customers))});
    }
  }
  t.chart.kind = ChartKind::pie;
  t.chart.category_column = 1;
  t.chart.value_columns = {2};
  t.chart.first_row = last_quarter_start;
  t.chart.last_row = t.rows.size();
  if (!quarters.empty()) {
    report.notes.push_back(opts.lang == Lang::zh
                               ? "饼图：" + quarters.rbegin()->first + " 各来源客户数"
                               : "pie chart: customers per source in " + quarters.rbegin()->first);
  }
  if (undated > 0) {
    report.notes.push_back(
        opts.lang == Lang::zh ? std::to_string(undated) + " 个客户无创建日期，未计入"
                              : std::to_string(undated) + " customers without created_at left out");
  }
  report.tables.push_back(std::move(t));
  return report;
}

// ---------------------------------------------------------------------------

Report report_churn(const Replica& rep, const ReportOptions& opts) {
  struct LostAt {
    std::string at, cause;
  };
  std::unordered_map<std::string, LostAt> lost_at;
  rep.for_each_revision("customers", "\"lost\"", [&](const Revision& r) {
    auto it = r.changes.find("type");
    if (it == r.changes.end() || it->second.new_value != "lost") return;
    LostAt& l = lost_at[r.record_id];
    if (r.at >= l.at) l = {r.at, r.cause};
  });
  std::map<std::string, std::map<std::string, std::int64_t>> years;
  std::int64_t total = 0;
  rep.for_each_record("customers", {"type", "created_at", "notes"}, [&](const Record& r) {
    const json& f = r.fields;
    if (str(f, "type") != "lost") return;
    ++total;
    std::string year, reason;
    auto it = lost_at.find(r.id);
    if (it != lost_at.end() && it->second.at.size() >= 4) {
      year = it->second.at.substr(0, 4);
      // As history and audit show it (walkthrough 17, R17-19).
      reason = cause_text(it->second.cause, opts.lang);
    } else if (is_date(str(f, "created_at"))) {
      year = str(f, "created_at").substr(0, 4);
    }
    if (reason.empty()) reason = str(f, "notes");
    ++years[or_none(year)][or_none(reason)];
  });
  Report report;
  report.name = "churn";
  report.title = lang_text(opts.lang, "流失客户分析", "Lost customers");
  ReportTable t;
  t.name = "churn";
  t.columns = {col("year", "年份", "Year"), col("reason", "原因", "Reason"),
               col("customers", "客户数", "Customers")};
  for (const auto& [year, reasons] : years) {
    std::vector<std::pair<std::string, std::int64_t>> sorted(reasons.begin(), reasons.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [reason, n] : sorted) {
      t.rows.push_back({Cell::of_text(year), Cell::of_text(reason), Cell::of_int(n)});
    }
  }
  t.chart = {ChartKind::bar, 0, {2}, 0, t.rows.size()};
  report.tables.push_back(std::move(t));
  report.notes.push_back(opts.lang == Lang::zh ? "流失客户共 " + std::to_string(total) + " 个"
                                               : std::to_string(total) + " lost customers");
  return report;
}

// ---------------------------------------------------------------------------

Report report_sum(const Replica& rep, const std::string& target, const ReportOptions& opts) {
  const std::size_t dot = target.find('.');
  if (dot == std::string::npos) {
    throw Error(Errc::usage,
                tr("report sum \"" + target + "\": expected COLLECTION.FIELD, e.g. orders.amount",
                   "report sum “" + target + "”：应为 表.字段，如 orders.amount"));
  }
  const CollectionDef& coll = rep.schema().collection(target.substr(0, dot));
  const FieldDef& field = coll.field(target.substr(dot + 1));
  if (field.type != FieldType::integer && field.type != FieldType::money) {
    throw Error(Errc::usage, tr("report sum " + target + ": " + field.zh + " (" + field.key +
                                    ") is a " + field_type_name(field.type) +
                                    " field; sum needs an integer or money field",
                                "report sum " + target + "：" + field.zh + " (" + field.key + ") 是 " +
                                    field_type_name(field.type) + " 类型的字段；求和需要整数或金额字段"));
  }
  const std::string& by = opts.by;
  if (by != "customer" && by != "owner" && by != "region" && by != "month") {
    throw Error(Errc::usage,
                tr("report sum --by \"" + by + "\": expected customer, owner, region or month",
                   "report sum --by “" + by + "”：应为 customer、owner、region 或 month"));
  }
  rep.check_readable(field);
  const std::vector<FieldFilter> filters = parse_where(coll, opts.where);
  for (const auto& f : filters) rep.check_readable(*f.field);
  const bool is_customers = coll.name == "customers";
  std::string date_key = "created_at";
  if (!is_customers) {
    date_key.clear();
    for (const auto& f : coll.fields) {
      if (f.type == FieldType::date) {
        date_key = f.key;
        break;
      }
    }
    if (by == "month" && date_key.empty()) {
      throw Error(Errc::usage,
                  tr("report sum " + target + " --by month: " + coll.name + " has no date field",
                     "report sum " + target + " --by month：" + coll.zh + "（" + coll.name + "）没有日期字段"));
    }
  }
  std::vector<std::string> keys = {field.key, date_key, "owner", "province", "name"};
  for (const auto& f : filters) keys.push_back(f.field->key);
  std::unordered_map<std::string, CustomerInfo> customers;
  // A child record counts with its customer: those of a customer in the recycle
  // bin are left out, as report value leaves them out (walkthrough 9, R9-13:
  // they were summed under an anonymous "-" row).
  if (!is_customers) customers = customer_infos(rep);
  struct Sum {
    std::string name;
    std::int64_t records = 0, total = 0;
  };
  std::map<std::string, Sum> sums;
  std::int64_t all_records = 0, all_total = 0;
  rep.for_each_record(coll.name, keys, [&](const Record& r) {
    if (!where_matches(r, filters)) return;
    if (!is_customers && !customers.count(r.parent)) return;
    const json& f = r.fields;
    std::string key, name;
    if (by == "month") {
      const std::string& d = str(f, date_key.c_str());
      key = is_date(d) ? d.substr(0, 7) : kNone;
    } else if (is_customers) {
      key = by == "customer" ? r.code
            : by == "owner"  ? or_none(str(f, "owner"))
                             : province_of(f);
      name = str(f, "name");
    } else {
      const CustomerInfo& c = customers.at(r.parent);
      key = by == "customer" ? c.code : by == "owner" ? or_none(c.owner) : c.province;
      name = c.name;
    }
    Sum& s = sums[key];
    if (by == "customer") s.name = name;
    ++s.records;
    ++all_records;
    if (auto v = integer(f, field.key)) {
      s.total += *v;
      all_total += *v;
    }
  });
  std::vector<std::pair<std::string, Sum>> rows(sums.begin(), sums.end());
  if (by != "month") {
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.second.total > b.second.total; });
  }
  auto value_cell = [&](std::int64_t v) {
    return field.type == FieldType::money ? Cell::of_money(v) : Cell::of_int(v);
  };
  Report report;
  report.name = "sum";
  report.title =
      opts.lang == Lang::zh ? coll.zh + field.zh + "合计" : "Sum of " + coll.en + " " + field.en;
  ReportTable t;
  t.name = "sum";
  if (by == "customer") {
    t.columns = {col("customer", "客户编号", "Customer"), col("name", "客户名称", "Name")};
  } else if (by == "owner") {
    t.columns = {col("owner", "负责人", "Owner")};
  } else if (by == "region") {
    t.columns = {col("region", "省份", "Region")};
  } else {
    t.columns = {col("month", "月份", "Month")};
  }
  t.columns.push_back(col("records", "记录数", "Records"));
  t.columns.push_back(Column{field.key, field.zh, field.en});
  for (const auto& [key, s] : rows) {
    std::vector<Cell> row = {Cell::of_text(key)};
    if (by == "customer") row.push_back(Cell::of_text(s.name));
    row.push_back(Cell::of_int(s.records));
    row.push_back(value_cell(s.total));
    t.rows.push_back(std::move(row));
  }
  const int value_col = static_cast<int>(t.columns.size()) - 1;
  t.chart = {ChartKind::bar, by == "customer" ? 1 : 0, {value_col}, 0, t.rows.size()};
  std::vector<Cell> total = {Cell::of_text(lang_text(opts.lang, "合计", "Total"), "total")};
  if (by == "customer") total.push_back(Cell{});
  total.push_back(Cell::of_int(all_records));
  total.push_back(value_cell(all_total));
  t.rows.push_back(std::move(total));
  report.tables.push_back(std::move(t));
  return report;
}

// ---------------------------------------------------------------------------

namespace {

std::map<std::string, std::int64_t> owners_in_replica(
    const std::unordered_map<std::string, CustomerInfo>& customers) {
  std::map<std::string, std::int64_t> owners;
  for (const auto& [id, c] : customers)
    if (!c.owner.empty()) ++owners[c.owner];
  return owners;
}

}  // namespace

Report report_targets(const Replica& rep, const ReportOptions& opts) {
  const auto customers = customer_infos(rep);
  const auto owners = owners_in_replica(customers);
  std::vector<SalesTarget> targets;
  std::size_t hidden = 0;
  for (auto& t : sales_targets(rep)) {
    if (owners.count(t.owner))
      targets.push_back(std::move(t));
    else
      ++hidden;
  }
  std::unordered_map<std::string, std::vector<std::size_t>> by_owner;
  for (std::size_t i = 0; i < targets.size(); ++i) by_owner[targets[i].owner].push_back(i);
  std::vector<std::int64_t> delivered(targets.size(), 0);
  rep.for_each_record("orders", kOrderKeys, [&](const Record& r) {
    const json& f = r.fields;
    if (str(f, "status") != "delivered") return;
    const std::string& date = str(f, "date");
    auto amount = integer(f, "amount");
    if (!is_date(date) || !amount) return;
    auto c = customers.find(r.parent);
    if (c == customers.end()) return;
    auto o = by_owner.find(c->second.owner);
    if (o == by_owner.end()) return;
    for (std::size_t i : o->second)
      if (period_contains(targets[i].period, date)) delivered[i] += *amount;
  });
  Report report;
  report.name = "targets";
  report.title = lang_text(opts.lang, "销售目标完成情况", "Targets and delivered orders");
  ReportTable t;
  t.name = "targets";
  t.columns = {col("owner", "负责人", "Owner"), col("period", "周期", "Period"),
               col("target", "目标金额", "Target"), col("delivered", "已交付金额", "Delivered"),
               col("percent", "完成率", "Achieved")};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    t.rows.push_back({Cell::of_text(targets[i].owner), Cell::of_text(targets[i].period),
                      Cell::of_money(targets[i].amount), Cell::of_money(delivered[i]),
                      Cell::of_percent(ratio(delivered[i], targets[i].amount))});
  }
  t.chart = {ChartKind::bar, 1, {2, 3}, 0, t.rows.size()};
  report.tables.push_back(std::move(t));
  if (targets.empty()) {
    report.notes.push_back(opts.lang == Lang::zh
                               ? "没有目标：管理员用 kehu rules set target 设置"
                               : "no targets: an admin sets them with `kehu rules set target`");
  }
  if (hidden > 0) {
    report.notes.push_back(
        opts.lang == Lang::zh
            ? std::to_string(hidden) + " 个目标的负责人在本副本中没有客户，未显示"
            : std::to_string(hidden) +
                  " targets of owners without customers in this replica not shown");
  }
  return report;
}

Report report_forecast(const Replica& rep, const ReportOptions& opts) {
  const auto customers = customer_infos(rep);
  const auto owners = owners_in_replica(customers);
  const StageProbabilities probs = stage_probabilities(rep);
  struct Cellar {
    std::int64_t orders = 0, amount = 0, weighted = 0;
    std::optional<std::int64_t> target;
  };
  std::map<std::pair<std::string, std::string>, Cellar> cells;
  for (const auto& t : sales_targets(rep)) {
    if (t.period.size() == 7 && t.period[5] != 'Q' && owners.count(t.owner)) {
      cells[{t.owner, t.period}].target = t.amount;
    }
  }
  rep.for_each_record("orders", kOrderKeys, [&](const Record& r) {
    const json& f = r.fields;
    const std::string& status = str(f, "status");
    if (status == "delivered" || status == "cancelled") return;
    const std::string& date = str(f, "date");
    if (!is_date(date)) return;
    auto c = customers.find(r.parent);
    if (c == customers.end() || c->second.type == "lost" || c->second.stage == "won") return;
    auto p = probs.find(c->second.stage.empty() ? std::string("potential") : c->second.stage);
    const std::int64_t percent = p == probs.end() ? 0 : p->second;
    const std::int64_t amount = integer(f, "amount").value_or(0);
    Cellar& cell = cells[{or_none(c->second.owner), date.substr(0, 7)}];
    ++cell.orders;
    cell.amount += amount;
    cell.weighted += weighted(amount, percent);
  });
  Report report;
  report.name = "forecast";
  report.title =
      lang_text(opts.lang, "销售预测（加权未完成订单）", "Forecast (weighted open pipeline)");
  ReportTable t;
  t.name = "forecast";
  t.columns = {col("owner", "负责人", "Owner"),
               col("month", "月份", "Month"),
               col("orders", "未完成订单", "Open orders"),
               col("open_amount", "未完成金额", "Open amount"),
               col("weighted", "加权金额", "Weighted"),
               col("target", "月目标", "Target"),
               col("percent", "加权/目标", "Weighted of target")};
  for (const auto& [key, c] : cells) {
    t.rows.push_back({Cell::of_text(key.first), Cell::of_text(key.second), Cell::of_int(c.orders),
                      Cell::of_money(c.amount), Cell::of_money(c.weighted),
                      c.target ? Cell::of_money(*c.target) : Cell{},
                      c.target ? Cell::of_percent(ratio(c.weighted, *c.target)) : Cell{}});
  }
  t.chart = {ChartKind::bar, 1, {4, 5}, 0, t.rows.size()};
  report.tables.push_back(std::move(t));
  // Each stage by its label (walkthrough 14, R14-15: the zh note showed keys).
  const FieldDef& stage_def = rep.schema().collection("customers").field("stage");
  std::string probs_text;
  for (const auto& s : probability_stages()) {
    auto it = probs.find(s);
    probs_text += (probs_text.empty() ? "" : lang_text(opts.lang, "，", ", ")) +
                  enum_cell(stage_def, s, opts.lang).text + " " +
                  std::to_string(it == probs.end() ? 0 : it->second) + "%";
  }
  report.notes.push_back(lang_text(opts.lang, "阶段概率：", "stage probabilities: ") + probs_text);
  return report;
}

// ---------------------------------------------------------------------------

Report report_value(const Replica& rep, const ReportOptions& opts) {
  const std::string today = checked_report_today(opts);
  const std::string window_start = add_days(today, -364);
  const std::int64_t today_n = *day_number(today);
  struct Rfm {
    std::string last;
    std::int64_t frequency = 0, monetary = 0;
  };
  std::unordered_map<std::string, Rfm> per_customer;
  rep.for_each_record("orders", kOrderKeys, [&](const Record& r) {
    const json& f = r.fields;
    if (str(f, "status") == "cancelled") return;
    const std::string& date = str(f, "date");
    if (!is_date(date) || date > today) return;
    Rfm& m = per_customer[r.parent];
    m.last = std::max(m.last, date);
    if (date >= window_start) {
      ++m.frequency;
      m.monetary += integer(f, "amount").value_or(0);
    }
  });
  const auto customers = customer_infos(rep);
  struct Scored {
    const CustomerInfo* c;
    std::string last;
    std::int64_t recency, frequency, monetary;
    int r = 0, f = 0, m = 0;
    std::size_t segment = 0;
  };
  std::vector<Scored> scored;
  for (const auto& [id, m] : per_customer) {
    auto c = customers.find(id);
    if (c == customers.end()) continue;
    scored.push_back({&c->second, m.last, today_n - *day_number(m.last), m.frequency, m.monetary});
  }
  const std::int64_t n = static_cast<std::int64_t>(scored.size());
  auto sorted_of = [&](auto get) {
    std::vector<std::int64_t> v;
    for (const auto& s : scored) v.push_back(get(s));
    std::sort(v.begin(), v.end());
    return v;
  };
  const auto fs = sorted_of([](const Scored& s) { return s.frequency; });
  const auto ms = sorted_of([](const Scored& s) { return s.monetary; });
  auto score = [&](std::int64_t below) { return static_cast<int>(1 + (5 * below) / n); };
  auto recency_score = [](std::int64_t days) {
    return days <= 30 ? 5 : days <= 60 ? 4 : days <= 90 ? 3 : days <= 180 ? 2 : 1;
  };
  double median = 0;
  if (n > 0) {
    median = n % 2 ? static_cast<double>(ms[n / 2])
                   : (static_cast<double>(ms[n / 2 - 1]) + static_cast<double>(ms[n / 2])) / 2;
  }
  // Segment order: key, at-risk, growing, ordinary.
  static const char* kSegKeys[] = {"key", "at-risk", "growing", "ordinary"};
  static const char* kSegZh[] = {"重点客户", "流失风险", "成长客户", "一般客户"};
  static const char* kSegEn[] = {"Key", "At risk", "Growing", "Ordinary"};
  std::array<std::int64_t, 4> seg_count{}, seg_amount{};
  for (auto& s : scored) {
    const auto f_below = std::lower_bound(fs.begin(), fs.end(), s.frequency) - fs.begin();
    const auto m_below = std::lower_bound(ms.begin(), ms.end(), s.monetary) - ms.begin();
    s.r = recency_score(s.recency);
    s.f = score(f_below);
    s.m = score(m_below);
    if (s.r >= 4 && s.f >= 4 && s.m >= 4)
      s.segment = 0;
    else if (s.m >= 4 && s.r <= 2)
      s.segment = 1;
    else if (s.r >= 4 && static_cast<double>(s.monetary) < median)
      s.segment = 2;
    else
      s.segment = 3;
    ++seg_count[s.segment];
    seg_amount[s.segment] += s.monetary;
  }
  std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    if (a.segment != b.segment) return a.segment < b.segment;
    if (a.monetary != b.monetary) return a.monetary > b.monetary;
    return code_less(a.c->code, b.c->code);
  });
  Report report;
  report.name = "value";
  report.title = lang_text(opts.lang, "客户价值（RFM）", "Customer value (RFM)");
  ReportTable seg;
  seg.name = "segments";
  seg.columns = {col("segment", "客户分层", "Segment"), col("customers", "客户数", "Customers"),
                 col("share", "占比", "Share"), col("monetary", "近一年金额", "Amount (365 days)")};
  for (std::size_t i = 0; i < 4; ++i) {
    seg.rows.push_back({Cell::of_text(opts.lang == Lang::zh ? kSegZh[i] : kSegEn[i], kSegKeys[i]),
                        Cell::of_int(seg_count[i]), Cell::of_percent(ratio(seg_count[i], n)),
                        Cell::of_money(seg_amount[i])});
  }
  seg.chart = {ChartKind::bar, 0, {1}, 0, 4};
  ReportTable list;
  list.name = "customers";
  list.columns = {col("code", "客户编号", "Code"),
                  col("name", "客户名称", "Name"),
                  col("owner", "负责人", "Owner"),
                  col("segment", "客户分层", "Segment"),
                  col("last_order", "最近下单", "Last order"),
                  col("recency_days", "距今天数", "Days since"),
                  col("frequency", "近一年订单", "Orders (365 days)"),
                  col("monetary", "近一年金额", "Amount (365 days)"),
                  col("rfm", "RFM 分", "RFM score")};
  std::array<std::size_t, 4> listed{};
  for (const auto& s : scored) {
    if (opts.limit && listed[s.segment] >= opts.limit) continue;
    ++listed[s.segment];
    list.rows.push_back(
        {Cell::of_text(s.c->code), Cell::of_text(s.c->name), Cell::of_text(or_none(s.c->owner)),
         Cell::of_text(opts.lang == Lang::zh ? kSegZh[s.segment] : kSegEn[s.segment],
                       kSegKeys[s.segment]),
         Cell::of_text(s.last), Cell::of_int(s.recency), Cell::of_int(s.frequency),
         Cell::of_money(s.monetary),
         Cell::of_text(std::to_string(s.r) + std::to_string(s.f) + std::to_string(s.m))});
  }
  report.tables.push_back(std::move(seg));
  report.tables.push_back(std::move(list));
  const std::int64_t unscored = static_cast<std::int64_t>(customers.size()) - n;
  report.notes.push_back(opts.lang == Lang::zh
                             ? "截至 " + today + "；" + std::to_string(unscored) +
                                   " 个客户无订单，未评分"
                             : "as of " + today + "; " + std::to_string(unscored) +
                                   " customers without orders not scored");
  return report;
}

}  // namespace kehu
