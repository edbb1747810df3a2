// The progress line's text (kehu/progress.h): counts, total, rate, both languages.
#include <catch2/catch.hpp>

#include "kehu/progress.h"

using kehu::progress_text;
using kehu::ProgressKind;

TEST_CASE("progress text: done of total and a whole rate per second", "[progress]") {
  CHECK(progress_text(ProgressKind::import_rows, true, 1200, 5000, 1200.0 / 850) ==
        "导入 1200/5000 行 (850 行/秒)");
  CHECK(progress_text(ProgressKind::import_rows, false, 1200, 5000, 2.0) ==
        "import 1200/5000 rows (600 rows/s)");
  CHECK(progress_text(ProgressKind::export_customers, false, 10, 40, 4.0) ==
        "export 10/40 customers (3 customers/s)");  // 2.5 rounds half away from zero
  CHECK(progress_text(ProgressKind::export_customers, true, 300, 900, 1.0) ==
        "导出 300/900 个客户 (300 客户/秒)");
  CHECK(progress_text(ProgressKind::push_changes, true, 7, 20, 0.5) == "推送 7/20 条修改 (14 修改/秒)");
  CHECK(progress_text(ProgressKind::pull_revisions, false, 11, 0, 1.0) == "pull 11 revisions (11 revisions/s)");
}

TEST_CASE("progress text: no rate before a tenth of a second", "[progress]") {
  CHECK(progress_text(ProgressKind::import_rows, false, 3, 5000, 0.0) == "import 3/5000 rows");
  CHECK(progress_text(ProgressKind::import_rows, false, 3, 5000, 0.09) == "import 3/5000 rows");
  CHECK(progress_text(ProgressKind::push_changes, false, 0, 0, 0.0) == "push 0 changes");
}
