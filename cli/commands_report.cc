// `kehu report ...`: the reports of kehu/reports.h, offline on the replica, as an
// aligned table, JSON (--json), CSV (--csv FILE) or an Excel workbook with a
// native chart (--xlsx FILE).
#include <algorithm>
#include <iostream>

#include "commands.h"
#include "kehu/error.h"
#include "kehu/reports.h"
#include "kehu/text.h"
#include "output.h"

namespace kehu::cli {

namespace {

// Why a report has no rows, and what would give it some (walkthrough 13, R13-5:
// an empty table came without a word).
std::string empty_report_hint(const std::string& kind, bool no_customers, bool zh) {
  if (no_customers) {
    return zh ? "本机还没有客户：用 `kehu customer add`、`kehu import` 添加，或 `kehu sync` 同步"
              : "no customers on this device yet: add some with `kehu customer add` or `kehu import`, or `kehu sync`";
  }
  if (kind == "forecast") {
    return zh ? "没有未完成的订单（未交付、未取消，且客户未成交、未流失）"
              : "no open orders (neither delivered nor cancelled, of customers neither won nor lost)";
  }
  if (kind == "value") {
    return zh ? "过去 12 个月没有订单" : "no orders in the last 12 months";
  }
  if (kind == "sum") return zh ? "没有可汇总的记录" : "no records to sum";
  return zh ? "没有可统计的客户" : "no customers to count";
}

}  // namespace

int cmd_report(Context& ctx, const ReportArgs& args) {
  ReportOptions opts;
  opts.today = today_local();
  opts.lang = ctx.lang;
  opts.by = args.by;
  opts.year = args.year;
  opts.limit = args.limit;
  opts.where = parse_pairs("--where", args.where);
  if (args.kind != "sum" && !args.where.empty()) {
    throw Error(Errc::usage, tr("--where filters `report sum`, not report " + args.kind,
                                "--where 只用于 `report sum`，不能用于 report " + args.kind));
  }
  const Replica& rep = ctx.replica();
  Report report;
  if (args.kind == "funnel")
    report = report_funnel(rep, opts);
  else if (args.kind == "sources")
    report = report_sources(rep, opts);
  else if (args.kind == "churn")
    report = report_churn(rep, opts);
  else if (args.kind == "sum")
    report = report_sum(rep, args.target, opts);
  else if (args.kind == "targets")
    report = report_targets(rep, opts);
  else if (args.kind == "forecast")
    report = report_forecast(rep, opts);
  else if (args.kind == "value")
    report = report_value(rep, opts);
  else
    throw Error(Errc::usage, tr("unknown report \"" + args.kind + "\"", "没有“" + args.kind + "”这种报表"));

  // As export: an existing file (the customer sheet, a typo away) is kept
  // unless --force (walkthrough 13, R13-4).
  for (const std::string* file : {&args.csv, &args.xlsx}) {
    if (!file->empty()) refuse_existing_file(*file, args.force);
  }
  if (!args.csv.empty()) write_report_csv(report, ctx.lang, args.csv);
  if (!args.xlsx.empty()) write_report_xlsx(report, ctx.lang, args.xlsx);
  if (ctx.json) {
    print_json(report_json(report), std::cout);
    return 0;
  }
  std::cout << report.title << "\n";
  for (const auto& t : report.tables) {
    std::vector<std::string> header;
    for (const auto& c : t.columns) header.push_back(c.label(ctx.lang));
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : t.rows) {
      std::vector<std::string> cells;
      // Money with thousands separators, as in every table (the CSV and --json keep the plain number).
      for (const auto& c : row) cells.push_back(c.kind == CellKind::money ? group_thousands(cell_text(c)) : cell_text(c));
      rows.push_back(std::move(cells));
    }
    std::cout << '\n' << table(ctx, header, rows, 60);
  }
  const bool zh = ctx.lang == Lang::zh;
  // The funnel and its kin have a row per stage or source even with no
  // customers. The targets report says itself what to do when there are none.
  if (args.kind != "targets") {
    ListQuery any;
    any.limit = 1;
    const bool no_customers = rep.list(any).empty();
    if (no_customers ||
        std::all_of(report.tables.begin(), report.tables.end(), [](const auto& t) { return t.rows.empty(); })) {
      std::cout << '\n' << empty_report_hint(args.kind, no_customers, zh) << '\n';
    }
  }
  for (const auto& n : report.notes) std::cout << n << '\n';
  if (!args.csv.empty()) std::cout << (zh ? "已写入 " : "written to ") << args.csv << '\n';
  if (!args.xlsx.empty()) std::cout << (zh ? "已写入 " : "written to ") << args.xlsx << '\n';
  return 0;
}

}  // namespace kehu::cli
