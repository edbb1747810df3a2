#include "kehu/progress.h"

#include <cmath>

namespace kehu {
namespace {

struct Words {
  const char* verb;
  const char* unit;
};

Words words(ProgressKind kind, bool zh) {
  switch (kind) {
    case ProgressKind::import_rows:
      return zh ? Words{"导入", "行"} : Words{"import", "rows"};
    case ProgressKind::export_customers:
      return zh ? Words{"导出", "个客户"} : Words{"export", "customers"};
    case ProgressKind::push_changes:
      return zh ? Words{"推送", "条修改"} : Words{"push", "changes"};
    case ProgressKind::pull_revisions:
      return zh ? Words{"拉取", "个版本"} : Words{"pull", "revisions"};
  }
  return {"", ""};
}

}  // namespace

std::string progress_text(ProgressKind kind, bool zh, std::size_t done, std::size_t total,
                          double seconds) {
  const Words w = words(kind, zh);
  std::string out = std::string(w.verb) + " " + std::to_string(done);
  if (total) out += "/" + std::to_string(total);
  out += std::string(" ") + w.unit;
  if (seconds >= 0.1) {
    const auto rate = static_cast<unsigned long long>(std::llround(static_cast<double>(done) / seconds));
    // "个客户/秒" reads oddly: the measure word goes with the count, not the rate.
    std::string unit = w.unit;
    if (zh && unit.rfind("个", 0) == 0) unit = unit.substr(3);
    if (zh && unit.rfind("条", 0) == 0) unit = unit.substr(3);
    out += " (" + std::to_string(rate) + " " + unit + (zh ? "/秒)" : "/s)");
  }
  return out;
}

}  // namespace kehu
