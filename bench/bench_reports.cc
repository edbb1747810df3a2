// R1: `kehu report funnel` on the big replica (100,000 customers at scale 1),
// beside the physical floor of the same pass: reading every customer's stored
// fields from the encrypted file without parsing them.
#include <algorithm>

#include "benches.h"
#include "kehu/record.h"
#include "kehu/reports.h"
#include "kehu/sqlite.h"
#include "stats.h"

namespace kehu::bench {

Figure bench_r1_report_funnel(Workspace& ws) {
  Figure f("R1", "report funnel (customers per stage, --by owner)", "ms");
  Replica& rep = ensure_big_replica(ws);
  ReportOptions opts;
  opts.today = today_local();
  constexpr int kRuns = 5;
  auto measure = [&](const std::string& by, std::size_t& rows) {
    opts.by = by;
    std::vector<double> ms;
    for (int i = 0; i < kRuns; ++i) {
      const auto t0 = Clock::now();
      rows = report_funnel(rep, opts).tables.at(0).rows.size();
      ms.push_back(seconds_since(t0) * 1000);
    }
    return median(ms);
  };
  std::size_t plain_rows = 0, owner_rows = 0;
  const double plain_ms = measure("", plain_rows);
  const double owner_ms = measure("owner", owner_rows);

  // The floor: the same rows' fields read from a second connection to the file.
  db::Database d(rep.path(), /*create=*/false);
  d.key(kPassphrase);
  std::vector<double> raw;
  std::size_t bytes = 0;
  for (int i = 0; i < kRuns; ++i) {
    const auto t0 = Clock::now();
    auto st =
        d.prepare("SELECT fields FROM records WHERE collection = 'customers' AND deleted = 0");
    bytes = 0;
    while (st.step()) bytes += st.text(0).size();
    raw.push_back(seconds_since(t0) * 1000);
  }
  const double raw_ms = median(raw);

  f.value = plain_ms;
  f.shown = format_number(plain_ms) + " ms (--by owner " + format_number(owner_ms) + " ms)";
  f.baseline = raw_ms;
  f.baseline_what = "read every customer's fields, no parsing";
  f.ratio = raw_ms > 0 ? plain_ms / raw_ms : 0;
  f.target = "≤ 1,000 ms";
  f.pass = plain_ms <= 1000 && owner_ms <= 1000;
  f.note = "median of " + std::to_string(kRuns) + " report_funnel calls on " +
           std::to_string(ws.big_customers()) +
           " customers (one streaming pass; only the fields it reads are parsed)";
  f.extra = {{"funnel_ms", plain_ms}, {"funnel_by_owner_ms", owner_ms},
             {"raw_read_ms", raw_ms}, {"fields_bytes", bytes},
             {"rows", plain_rows},    {"rows_by_owner", owner_rows}};
  return f;
}

}  // namespace kehu::bench
