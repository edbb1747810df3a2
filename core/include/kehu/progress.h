// The one line that long work (import, export, sync) shows on a terminal:
// "导入 1200/5000 行 (850 行/秒)", "import 1200/5000 rows (850 rows/s)".
// Only the text is made here; the CLI decides whether and where to show it
// (stderr, only when it is a terminal; cli/progress_line.h).
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string>

namespace kehu {

enum class ProgressKind {
  import_rows,       // rows of a sheet read and written
  export_customers,  // customers written to a sheet
  push_changes,      // local changes sent to the server
  pull_revisions,    // revisions pulled from the server
};

// "<verb> DONE/TOTAL <unit> (RATE <unit>/s)" in Chinese (`zh`) or English.
// TOTAL 0 means unknown: "DONE <unit>" alone. The rate is done / seconds,
// rounded to a whole number, and left out before a tenth of a second has passed
// (a rate over nothing says nothing).
std::string progress_text(ProgressKind kind, bool zh, std::size_t done, std::size_t total,
                          double seconds);

}  // namespace kehu
