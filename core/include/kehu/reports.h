// Reports over the replica (`kehu report ...`): what the sheets' pivot tables and
// SUMIFs did, offline. The replica holds only what the user may see, so a report
// computed on it is already limited to the user's scope.
//
// Each report reads the records it needs once, in one streaming pass per
// collection (Replica::for_each_record), and aggregates in memory: no query per
// customer. Every rule takes "today" explicitly (ReportOptions::today), so tests
// use fixed dates.
//
// The rules, exactly:
//
//   funnel    live customers per 销售阶段 in stage order (potential, contact,
//             needs, proposal, contract, won). "reached" = customers at that stage
//             or a later one; conversion = reached / reached of the stage before
//             (none for the first stage). Lost customers (type = lost) are left
//             out of the stages and counted on a row "lost" of their own; so are
//             customers without a stage (row "none"). --by owner | region
//             (province) | city (province/city) repeats the rows per group.
//   sources   live customers per quarter of created_at ("2026-Q4") and 客户来源:
//             customers, share of the quarter, converted (type = deal or stage =
//             won), conversion = converted / customers. Customers without
//             created_at are left out (counted in a note). --year keeps one year.
//   churn     live customers with type = lost, per year and reason. The year and
//             reason come from the newest revision (server history or a local
//             change) that set type to lost: its year of `at`, its cause (the
//             churn rule's "churn rule: no order or follow-up for N days", a
//             revert, ...) or, for a hand edit, the customer's 备注; else the year
//             of created_at and the notes. No reason at all: "-".
//   sum       Σ of an integer or money field of any collection over its live
//             records, --where FIELD=VALUE (as `list --where`), grouped by
//             customer (code), owner, region (province) or month (YYYY-MM of the
//             collection's first date field; created_at for customers). Child
//             records take owner and region from their customer. Records without
//             the field count as 0 in "records" but add nothing.
//   targets   every target an admin set (kehu rules set target) of an owner who
//             has a customer in this replica (others are outside the user's
//             scope): target amount, delivered = Σ amount of the owner's
//             customers' live orders with status delivered and an order date in
//             the period, percent = delivered / target.
//   forecast  open pipeline: live customers not lost (type) and not won (stage),
//             their open orders (live, status not delivered and not cancelled, with
//             an order date). weighted = amount × probability of the customer's
//             stage / 100, rounded half up to the fen (no stage: potential's).
//             Rows per owner and order month, beside the owner's target for that
//             month (YYYY-MM targets only).
//   value     RFM per live customer with at least one live, not cancelled order
//             dated on or before today: recency R = days since the latest such
//             order, frequency F = such orders in the 365 days up to today
//             (today - 364 .. today), monetary M = their amount. R scores by
//             days, the same for any team size: 5 up to 30 days, 4 up to 60,
//             3 up to 90, 2 up to 180, else 1 (a rank would call a customer
//             who ordered 2 days ago stale when others ordered yesterday).
//             F and M score 1..5 by rank among the scored customers:
//             score = 1 + floor(5 × below / n), `below` = customers with a
//             strictly smaller value, so ties share a score. Segments, first
//             that holds:
//               key      R ≥ 4, F ≥ 4 and M ≥ 4
//               at-risk  M ≥ 4 and R ≤ 2
//               growing  R ≥ 4 and M below the median M
//               ordinary everyone else
//             Table 1: customers and amount per segment. Table 2: the customers,
//             key first, then at-risk, growing, ordinary, each by M descending,
//             at most --limit per segment.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kehu/record.h"
#include "kehu/schema.h"

namespace kehu {

class Replica;

// ---- Report tables.

enum class CellKind { empty, text, integer, money, percent };

struct Cell {
  CellKind kind = CellKind::empty;
  std::string text;         // text: as shown; for enum values the label
  std::string key;          // text cells of enum values: the stored key (JSON shows it)
  std::int64_t number = 0;  // integer; money in fen
  double percent = 0;       // percent: 0..100 (and beyond: 120 % of a target)

  static Cell of_text(std::string t, std::string k = {});
  static Cell of_int(std::int64_t n);
  static Cell of_money(std::int64_t fen);
  // nullopt (a zero denominator) gives an empty cell.
  static Cell of_percent(std::optional<double> p);
};

struct Column {
  std::string key;  // JSON key: "stage", "customers"
  std::string zh;
  std::string en;
  const std::string& label(Lang lang) const { return lang == Lang::zh ? zh : en; }
};

enum class ChartKind { none, bar, pie };

// The native chart of the table in a workbook: categories from one column,
// one series per value column, over rows [first_row, last_row) (0-based in rows).
struct ChartHint {
  ChartKind kind = ChartKind::none;
  int category_column = 0;
  std::vector<int> value_columns;
  std::size_t first_row = 0, last_row = 0;
};

struct ReportTable {
  std::string name;  // sheet name and JSON key: "funnel", "customers"
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;
  ChartHint chart;
};

struct Report {
  std::string name;   // "funnel"
  std::string title;  // in the options' language
  std::vector<ReportTable> tables;
  std::vector<std::string> notes;  // lines under the tables, in the options' language
};

struct ReportOptions {
  std::string today;  // "YYYY-MM-DD" (Error(usage) otherwise)
  Lang lang = Lang::en;
  std::string by;  // funnel: "" | owner | region | city; sum: customer | owner | region | month
  std::optional<int> year;                                 // sources
  std::size_t limit = 20;                                  // value: customers listed per segment
  std::vector<std::pair<std::string, std::string>> where;  // sum: FIELD=VALUE
};

// Each throws Error(usage) for a bad option, naming it and what is allowed.
Report report_funnel(const Replica& replica, const ReportOptions& opts);
Report report_sources(const Replica& replica, const ReportOptions& opts);
Report report_churn(const Replica& replica, const ReportOptions& opts);
// `target`: "COLLECTION.FIELD" of an integer or money field ("orders.amount").
Report report_sum(const Replica& replica, const std::string& target, const ReportOptions& opts);
Report report_targets(const Replica& replica, const ReportOptions& opts);
Report report_forecast(const Replica& replica, const ReportOptions& opts);
Report report_value(const Replica& replica, const ReportOptions& opts);

// ---- Output (report_output.cc, report_xlsx.cc).

// A cell as the table shows it: money "1234.50", percent "45.0%", empty "".
std::string cell_text(const Cell& c);
// {"report", "title", "tables": [{"name", "columns": [keys], "rows": [{key: value}]}],
// "notes"}: money as integer fen, percent as a number (one decimal) or null,
// enum texts as their keys.
json report_json(const Report& r);
// CSV (UTF-8 with BOM, headers in `lang`): the tables one after another, a blank
// line between; cells through csv_escape (formula guard). Throws Error(io).
void write_report_csv(const Report& r, Lang lang, const std::string& path);
// An .xlsx workbook: one sheet per table (bold header, money as 0.00 yuan, percent
// as 0.0 %), and the table's native chart (column or pie) over its cells.
// Throws Error(io).
void write_report_xlsx(const Report& r, Lang lang, const std::string& path);

// ---- Admin-set rules the reports use (synced from the server like churn-days;
// stored in the replica's metadata).

// Win probability per open stage, percent 0..100. Defaults: potential 5,
// contact 10, needs 25, proposal 50, contract 80 (won is 100, lost 0: not set).
using StageProbabilities = std::map<std::string, std::int64_t>;
StageProbabilities default_stage_probabilities();
// The stages whose probability may be set, in order.
const std::vector<std::string>& probability_stages();
// Parses "contact=10,needs=25" (keys or labels of 销售阶段). Throws
// Error(validation) naming the stage, the value and the rule.
StageProbabilities parse_stage_probabilities(const std::string& text);
// Checks a wire/stored object {"contact": 10, ...}: Error(validation).
StageProbabilities stage_probabilities_from_json(const json& j);

// A sales target: owner (负责人), period YYYY | YYYY-MM | YYYY-Qn, amount in fen.
struct SalesTarget {
  std::string owner, period;
  std::int64_t amount = 0;
};
// Checks a period: Error(validation) naming the value and the accepted shapes.
std::string checked_period(const std::string& period);
// True if the stored date "YYYY-MM-DD" lies in the period.
bool period_contains(const std::string& period, const std::string& date);
// Targets on the wire / in the replica: [{"owner","period","amount"}], sorted by
// owner then period. from_json checks each (Error(validation)).
json targets_to_json(const std::vector<SalesTarget>& targets);
std::vector<SalesTarget> targets_from_json(const json& j);

inline constexpr const char* kStageProbabilityMeta = "rule.stage_probability";
inline constexpr const char* kTargetsMeta = "rule.targets";
// The replica's values (as last synced; defaults / none before).
StageProbabilities stage_probabilities(const Replica& replica);
std::vector<SalesTarget> sales_targets(const Replica& replica);
// Stores what the server answered (checked: Error(validation)).
void store_stage_probabilities(Replica& replica, const json& wire);
void store_sales_targets(Replica& replica, const json& wire);

}  // namespace kehu
