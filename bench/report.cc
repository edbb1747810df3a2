#include "report.h"

#include <cmath>
#include <cstdio>

#include "kehu/text.h"

namespace kehu::bench {

std::string format_number(double v) {
  char buf[64];
  const double a = std::fabs(v);
  if (a >= 1000) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    std::string digits = buf, out;
    const std::size_t start = digits[0] == '-' ? 1 : 0;
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > start && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return out;
  }
  if (a >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (a >= 10) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

std::string render_report(const std::vector<Figure>& figures, const RunInfo& info) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : figures) {
    std::string shown = f.shown.empty() ? format_number(f.value) + " " + f.unit : f.shown;
    std::string base = f.baseline ? format_number(*f.baseline) + " " + f.unit : "—";
    std::string ratio = f.ratio ? format_number(*f.ratio) : "—";
    rows.push_back({f.id, f.what, f.failed ? "(failed)" : shown, base, ratio, f.target,
                    f.failed ? "ERROR" : (f.pass ? "PASS" : "MISS")});
  }
  char scale[32];
  std::snprintf(scale, sizeof scale, "%g", info.scale);
  std::string out = "kehu-bench " + info.date + ", " + std::to_string(info.nproc) +
                    " cores, scale " + scale + ", " + format_number(info.total_s) + " s\n\n";
  out += render_table({"id", "what", "figure", "baseline", "ratio", "target", "result"}, rows);
  bool any_note = false;
  for (const auto& f : figures) {
    if (f.note.empty() && f.baseline_what.empty()) continue;
    if (!any_note) out += "\nNotes:\n";
    any_note = true;
    out += "  " + f.id + ": ";
    if (!f.baseline_what.empty()) out += "baseline = " + f.baseline_what + ". ";
    out += f.note + "\n";
  }
  return out;
}

json report_json(const std::vector<Figure>& figures, const RunInfo& info) {
  json arr = json::array();
  for (const auto& f : figures) {
    json j = {{"id", f.id},         {"what", f.what},     {"value", f.value},
              {"unit", f.unit},     {"target", f.target}, {"pass", f.pass},
              {"failed", f.failed}, {"note", f.note},     {"extra", f.extra}};
    j["baseline"] = f.baseline ? json(*f.baseline) : json();
    j["baseline_what"] = f.baseline_what;
    j["ratio"] = f.ratio ? json(*f.ratio) : json();
    arr.push_back(std::move(j));
  }
  return {{"date", info.date},
          {"nproc", info.nproc},
          {"scale", info.scale},
          {"total_s", info.total_s},
          {"figures", arr}};
}

}  // namespace kehu::bench
