// The admin-set rules reports use (reports.h): stage probabilities and sales
// targets. Checked here once, for the CLI, the server and the replica alike.
#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "kehu/calendar.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/replica.h"
#include "kehu/reports.h"
#include "kehu/text.h"

namespace kehu {
namespace {

const FieldDef& stage_field() { return Schema::builtin().collection("customers").field("stage"); }

// Money never goes beyond 10^12 fen (10 billion yuan) in a target: a typo beyond.
constexpr std::int64_t kMaxTargetFen = 1'000'000'000'000;

std::int64_t checked_probability(const std::string& stage, const json& v) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 100) {
    const std::string given = "stage-probability " + stage + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    throw Error(Errc::validation, tr(given + ": expected a whole percent from 0 to 100",
                                     given + "：应为 0 到 100 之间的整数百分比"));
  }
  return v.get<std::int64_t>();
}

std::string checked_stage(const std::string& name) {
  const EnumValue* v = stage_field().find_value(trim(name));
  const auto& stages = probability_stages();
  if (!v || std::find(stages.begin(), stages.end(), v->key) == stages.end()) {
    std::string allowed;
    for (const auto& s : stages) allowed += (allowed.empty() ? "" : ", ") + s;
    std::string allowed_zh;
    for (const auto& s : stages) allowed_zh += (allowed_zh.empty() ? "" : "、") + s;
    throw Error(Errc::validation, tr("stage-probability: \"" + name +
                                         "\" is not an open sales stage (销售阶段 stage): "
                                         "expected one of " +
                                         allowed,
                                     "stage-probability：“" + name + "”不是未结束的销售阶段（销售阶段 stage）：应为 " +
                                         allowed_zh + " 之一"));
  }
  return v->key;
}

}  // namespace

const std::vector<std::string>& probability_stages() {
  static const std::vector<std::string> stages = {"potential", "contact", "needs", "proposal",
                                                  "contract"};
  return stages;
}

StageProbabilities default_stage_probabilities() {
  return {{"potential", 5}, {"contact", 10}, {"needs", 25}, {"proposal", 50}, {"contract", 80}};
}

StageProbabilities parse_stage_probabilities(const std::string& typed) {
  // contact＝２５，needs＝５０％ as typed in Chinese input mode, and 25%
  // (walkthrough 16, R16-9).
  const std::string text = fold_fullwidth(typed);
  StageProbabilities out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) {
      throw Error(Errc::validation, tr("stage-probability \"" + item +
                                           "\": expected STAGE=PERCENT, e.g. contact=10,needs=25",
                                       "stage-probability “" + item + "”：应为 阶段=百分比，如 contact=10,needs=25"));
    }
    const std::string stage = checked_stage(item.substr(0, eq));
    std::string num = trim(item.substr(eq + 1));
    if (!num.empty() && num.back() == '%') num = trim(num.substr(0, num.size() - 1));
    char* end = nullptr;
    const long long n = num.empty() ? -1 : std::strtoll(num.c_str(), &end, 10);
    if (num.empty() || *end != '\0') {
      throw Error(Errc::validation, tr("stage-probability " + stage + "=" + num +
                                           ": expected a whole percent from 0 to 100",
                                       "stage-probability " + stage + "=" + num + "：应为 0 到 100 之间的整数百分比"));
    }
    out[stage] = checked_probability(stage, json(n));
  }
  if (out.empty()) {
    throw Error(Errc::validation, tr("stage-probability \"" + typed +
                                         "\": expected STAGE=PERCENT, e.g. contact=10,needs=25",
                                     "stage-probability “" + typed + "”：应为 阶段=百分比，如 contact=10,needs=25"));
  }
  return out;
}

StageProbabilities stage_probabilities_from_json(const json& j) {
  if (!j.is_object()) throw Error(Errc::validation, tr("stage_probability must be an object", "stage_probability 必须是对象"));
  StageProbabilities out;
  for (const auto& [k, v] : j.items()) out[checked_stage(k)] = checked_probability(k, v);
  return out;
}

std::string checked_period(const std::string& period) {
  bool ok = false;
  if (period.size() == 4) {
    ok = std::all_of(period.begin(), period.end(), [](char c) { return c >= '0' && c <= '9'; });
  } else if (period.size() == 7 && period[4] == '-' && period[5] == 'Q') {
    ok = day_number(period.substr(0, 4) + "-01-01").has_value() && period[6] >= '1' &&
         period[6] <= '4';
  } else if (period.size() == 7 && period[4] == '-') {
    ok = day_number(period + "-01").has_value();
  }
  if (!ok || !day_number(period.substr(0, 4) + "-01-01")) {
    throw Error(Errc::validation, tr("周期 (period) \"" + period +
                                         "\": expected a year (2026), a month (2026-11) or a "
                                         "quarter (2026-Q4)",
                                     "周期 (period)：“" + period + "”应为年份（2026）、月份（2026-11）或季度（2026-Q4）"));
  }
  return period;
}

bool period_contains(const std::string& period, const std::string& date) {
  if (date.size() < 10 || date.compare(0, 4, period, 0, 4) != 0) return false;
  if (period.size() == 4) return true;
  if (period[5] == 'Q') {
    const int month = std::atoi(date.substr(5, 2).c_str());
    return (month - 1) / 3 + 1 == period[6] - '0';
  }
  return date.compare(0, 7, period) == 0;
}

json targets_to_json(const std::vector<SalesTarget>& targets) {
  std::vector<SalesTarget> sorted = targets;
  std::sort(sorted.begin(), sorted.end(), [](const SalesTarget& a, const SalesTarget& b) {
    return std::tie(a.owner, a.period) < std::tie(b.owner, b.period);
  });
  json arr = json::array();
  for (const auto& t : sorted)
    arr.push_back({{"owner", t.owner}, {"period", t.period}, {"amount", t.amount}});
  return arr;
}

std::vector<SalesTarget> targets_from_json(const json& j) {
  if (!j.is_array()) throw Error(Errc::validation, tr("targets must be an array", "targets 必须是数组"));
  std::vector<SalesTarget> out;
  for (const auto& t : j) {
    if (!t.is_object() || !t.contains("owner") || !t["owner"].is_string() ||
        trim(t["owner"].get<std::string>()).empty()) {
      throw Error(Errc::validation, tr("target " + t.dump() + ": 负责人 (owner) is required",
                                       "目标 " + t.dump() + "：必须填写负责人 (owner)"));
    }
    if (!t.contains("period") || !t["period"].is_string()) {
      throw Error(Errc::validation, tr("target " + t.dump() + ": 周期 (period) is required",
                                       "目标 " + t.dump() + "：必须填写周期 (period)"));
    }
    SalesTarget s;
    s.owner = trim(t["owner"].get<std::string>());
    s.period = checked_period(t["period"].get<std::string>());
    const json& a = t.contains("amount") ? t["amount"] : json();
    if (!a.is_number_integer() || a.get<std::int64_t>() < 0 ||
        a.get<std::int64_t>() > kMaxTargetFen) {
      throw Error(Errc::validation, tr("目标金额 (amount) " + a.dump() +
                                           ": expected whole fen from 0 to 10^12 (10 billion yuan)",
                                       "目标金额 (amount) " + a.dump() + "：应为 0 到 10^12 之间的整数（单位：分，即最多 100 亿元）"));
    }
    s.amount = a.get<std::int64_t>();
    out.push_back(std::move(s));
  }
  return out;
}

StageProbabilities stage_probabilities(const Replica& replica) {
  StageProbabilities out = default_stage_probabilities();
  const std::string v = replica.meta(kStageProbabilityMeta);
  if (v.empty()) return out;
  try {
    for (const auto& [k, p] : stage_probabilities_from_json(json::parse(v))) out[k] = p;
  } catch (const std::exception&) {
    return default_stage_probabilities();
  }
  return out;
}

std::vector<SalesTarget> sales_targets(const Replica& replica) {
  const std::string v = replica.meta(kTargetsMeta);
  if (v.empty()) return {};
  try {
    return targets_from_json(json::parse(v));
  } catch (const std::exception&) {
    return {};
  }
}

void store_stage_probabilities(Replica& replica, const json& wire) {
  json j = json::object();
  for (const auto& [k, p] : stage_probabilities_from_json(wire)) j[k] = p;
  replica.set_meta(kStageProbabilityMeta, j.dump());
}

void store_sales_targets(Replica& replica, const json& wire) {
  replica.set_meta(kTargetsMeta, targets_to_json(targets_from_json(wire)).dump());
}

}  // namespace kehu
