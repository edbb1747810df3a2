#include "kehu/cause_text.h"

#include <string_view>

namespace kehu {

std::string cause_text(const std::string& cause, Lang lang) {
  if (lang != Lang::zh) return cause;
  auto starts = [&](std::string_view p) { return cause.rfind(p, 0) == 0; };
  auto after = [&](std::string_view p) { return cause.substr(p.size()); };
  // "… for N days[ (last D)]": the number and the date, if the text is that.
  auto days_of = [](const std::string& rest, std::string& last) -> std::string {
    const std::size_t sp = rest.find(" days");
    if (sp == std::string::npos || sp == 0) return {};
    const std::string tail = rest.substr(sp + 5);
    if (!tail.empty()) {
      if (tail.rfind(" (last ", 0) != 0 || tail.back() != ')') return {};
      last = tail.substr(7, tail.size() - 8);
    }
    return rest.substr(0, sp);
  };
  std::string last;
  if (starts("claim from the public pool (公海)")) return "从公海认领";
  if (starts("release to the public pool (公海): ")) return "退回公海：" + after("release to the public pool (公海): ");
  if (starts("approved change request #")) {
    // "#12" or "#12: the held change's own cause".
    const std::string rest = after("approved change request #");
    const std::size_t colon = rest.find(": ");
    if (colon == std::string::npos) return "批准修改申请 #" + rest;
    return "批准修改申请 #" + rest.substr(0, colon) + "：" + cause_text(rest.substr(colon + 2), lang);
  }
  if (starts("revert to rev ")) return "回退到第 " + after("revert to rev ") + " 版";
  if (starts("churn rule: no order or follow-up for ")) {
    const std::string n = days_of(after("churn rule: no order or follow-up for "), last);
    if (!n.empty() && last.empty()) return "流失规则：" + n + " 天无订单或跟进";
  }
  if (starts("pool recycle: no follow-up for ")) {
    const std::string n = days_of(after("pool recycle: no follow-up for "), last);
    if (!n.empty()) return "回收到公海：" + n + " 天无跟进" + (last.empty() ? "" : "（最近 " + last + "）");
  }
  if (starts("merged into ")) return "已合并到 " + after("merged into ");
  if (starts("merged ")) {
    const std::string rest = after("merged ");
    if (const std::size_t at = rest.find(" into "); at != std::string::npos)
      return "把 " + rest.substr(0, at) + " 合并到 " + rest.substr(at + 6);
  }
  if (starts("reassign from ")) {
    std::string rest = after("reassign from ");
    if (const std::size_t to = rest.find(" to "); to != std::string::npos) {
      std::string from = rest.substr(0, to), target = rest.substr(to + 4), reason;
      if (const std::size_t colon = target.find(": "); colon != std::string::npos) {
        reason = target.substr(colon + 2);
        target = target.substr(0, colon);
      }
      if (from == "the public pool") from = "公海";
      return "从 " + from + " 转交给 " + target + (reason.empty() ? "" : "：" + reason);
    }
  }
  return cause;
}

namespace {
constexpr std::string_view kApproved = "approved change request #";
constexpr std::string_view kMergedInto = "merged into ";
}  // namespace

std::string approval_cause(std::int64_t id, const std::string& held) {
  return std::string(kApproved) + std::to_string(id) + (held.empty() ? "" : ": " + held);
}

std::string merge_target_of(const std::string& cause) {
  std::string_view c = cause;
  if (c.rfind(kApproved, 0) == 0) {
    const std::size_t colon = c.find(": ");
    if (colon == std::string_view::npos) return {};
    c.remove_prefix(colon + 2);
  }
  if (c.rfind(kMergedInto, 0) != 0) return {};
  return std::string(c.substr(kMergedInto.size()));
}

}  // namespace kehu
