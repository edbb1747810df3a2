// The benchmark table: one Figure per benchmark id, printed as an aligned table
// (display width, so Chinese lines up) and written as JSON for the smoke test and
// for comparing runs.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kehu/record.h"

namespace kehu::bench {

struct Figure {
  Figure() = default;
  Figure(std::string id_, std::string what_, std::string unit_)
      : id(std::move(id_)), what(std::move(what_)), unit(std::move(unit_)) {}

  std::string id;    // "B1" ... "B9"
  std::string what;  // one line
  double value = 0;  // the graded figure, in `unit`
  std::string unit;  // "rows/s", "ms", "MB", ...
  std::string
      shown;  // how the table shows the figure ("p50 0.8 ms, p99 1.9 ms"); "" = value + unit
  std::optional<double> baseline;  // same unit as value
  std::string baseline_what;
  std::optional<double> ratio;  // value / baseline, or baseline time / our time
  std::string target;           // "≥ 0.5 × baseline"
  bool pass = false;
  bool failed = false;          // the benchmark could not run; `note` says why
  std::string note;             // where the time went, caveats
  json extra = json::object();  // every other number measured, with units in the keys
};

struct RunInfo {
  std::string date;  // local YYYY-MM-DD
  long nproc = 0;
  double scale = 1;
  double total_s = 0;
};

// Human number: 12345.6 -> "12,346"; small values keep 2-3 significant digits.
std::string format_number(double v);

// The aligned table and the notes under it.
std::string render_report(const std::vector<Figure>& figures, const RunInfo& info);

// The same as JSON: {date, nproc, scale, total_s, figures: [{id, what, value, unit,
// baseline, ratio, target, pass, failed, note, extra}]}.
json report_json(const std::vector<Figure>& figures, const RunInfo& info);

}  // namespace kehu::bench
