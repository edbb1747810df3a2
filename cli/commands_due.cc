// `kehu due` and `kehu rules`: reminders and the churn rule (kehu/reminders.h),
// offline on the replica. The churn threshold is an admin setting kept on the
// server (POST /v1/settings, docs/protocol.md) and copied to each replica by
// `kehu sync`.
#include <cstdlib>
#include <iostream>

#include "commands.h"
#include "kehu/calendar.h"
#include "kehu/error.h"
#include "kehu/reports.h"
#include "kehu/sync/sync_session.h"
#include "kehu/text.h"
#include "output.h"

namespace kehu::cli {
namespace {

enum class Section { followups, birthdays, intentions, churn };

// The reason in the user's language (the core's is English).
std::string reason_text(const Context& ctx, Section s, const DueItem& item) {
  if (ctx.lang != Lang::zh) return item.reason;
  const std::string n = std::to_string(item.days < 0 ? -item.days : item.days);
  switch (s) {
    case Section::followups: {
      std::string out = item.days > 0    ? "逾期 " + n + " 天"
                        : item.days == 0 ? "今天到期"
                                         : n + " 天后到期";
      const std::string plan = item.customer.fields.value("next_plan", "");
      return plan.empty() ? out : out + "：" + plan;
    }
    case Section::birthdays:
      return item.days == 0 ? "今天生日" : item.date.substr(5) + " 生日（" + n + " 天后）";
    case Section::intentions:
      return item.date.empty() ? "从未跟进" : "已 " + n + " 天未跟进（最后 " + item.date + "）";
    case Section::churn:
      if (item.date.empty()) return "无订单或跟进记录";
      return item.by_creation ? "自 " + item.date + " 添加以来无订单或跟进（" + n + " 天）"
                              : "自 " + item.date + " 起无订单或跟进（" + n + " 天）";
  }
  return item.reason;
}

// The follow-ups' group: "overdue", "today" or "upcoming" (later in the window).
const char* followup_group(const DueItem& item) {
  return item.days > 0 ? "overdue" : item.days == 0 ? "today" : "upcoming";
}

json item_json(const DueItem& item) {
  const json& f = item.customer.fields;
  return {{"code", item.customer.code},
          {"name", f.value("name", "")},
          {"owner", f.value("owner", "")},
          {"date", item.date.empty() ? json() : json(item.date)},
          {"days", item.days},
          {"reason", item.reason}};
}

// The first `limit` items (0: all) as JSON; follow-ups carry their group.
json items_json(const std::vector<DueItem>& items, std::size_t limit, bool followups = false) {
  json arr = json::array();
  for (const auto& item : items) {
    if (limit && arr.size() == limit) break;
    arr.push_back(item_json(item));
    if (followups) arr.back()["group"] = followup_group(item);
  }
  return arr;
}

// The rows of one table of reminders.
void print_items(const Context& ctx, Section s, const std::vector<DueItem>& items, std::ostream& out) {
  const bool zh = ctx.lang == Lang::zh;
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : items) {
    const json& f = item.customer.fields;
    rows.push_back({item.customer.code, f.value("name", ""), f.value("owner", ""), item.date,
                    reason_text(ctx, s, item)});
  }
  const std::vector<std::string> header =
      zh ? std::vector<std::string>{"客户编号", "客户名称", "负责人", "日期", "原因"}
         : std::vector<std::string>{"Code", "Name", "Owner", "Date", "Reason"};
  out << table(ctx, header, rows, 60, Narrow::blocks);
}

// "… and 3 more" under a list cut by --limit.
void print_more(const Context& ctx, std::size_t more, std::ostream& out) {
  if (more == 0) return;
  out << (ctx.lang == Lang::zh ? "  ……另有 " + std::to_string(more) + " 条（--limit）\n"
                               : "  … and " + std::to_string(more) + " more (--limit)\n");
}

// The first `limit` items (0: all).
std::vector<DueItem> first(const std::vector<DueItem>& items, std::size_t limit) {
  if (limit == 0 || items.size() <= limit) return items;
  return {items.begin(), items.begin() + static_cast<std::ptrdiff_t>(limit)};
}

// "Title (N)", then "(none)" when there is nothing; false then.
bool print_heading(const Context& ctx, const std::string& title, std::size_t n, std::ostream& out) {
  const bool zh = ctx.lang == Lang::zh;
  const std::string count = std::to_string(n);
  out << title << (zh ? "（" + count + "）\n" : " (" + count + ")\n");
  if (n == 0) out << (zh ? "  （无）\n" : "  (none)\n");
  return n > 0;
}

void print_section(const Context& ctx, Section s, const std::string& title,
                   const std::vector<DueItem>& items, std::size_t limit, std::ostream& out) {
  if (!print_heading(ctx, title, items.size(), out)) return;
  print_items(ctx, s, first(items, limit), out);
  print_more(ctx, limit && items.size() > limit ? items.size() - limit : 0, out);
}

// Follow-ups due, in three groups: overdue, due today, later in the window;
// `limit` applies to each group.
void print_followups(const Context& ctx, const std::string& title, const std::vector<DueItem>& items,
                     std::int64_t days, std::size_t limit, std::ostream& out) {
  const bool zh = ctx.lang == Lang::zh;
  if (!print_heading(ctx, title, items.size(), out)) return;
  const std::string n = std::to_string(days);
  const std::pair<const char*, std::string> groups[] = {
      {"overdue", zh ? "已逾期" : "Overdue"},
      {"today", zh ? "今天到期" : "Due today"},
      {"upcoming", days == 7 ? (zh ? "本周内到期" : "Due this week")
                             : (zh ? n + " 天内到期" : "Due in the next " + n + " days")}};
  for (const auto& [key, name] : groups) {
    std::vector<DueItem> group;
    for (const auto& item : items) {
      if (std::string(followup_group(item)) == key) group.push_back(item);
    }
    if (group.empty()) continue;
    const std::string c = std::to_string(group.size());
    out << (zh ? "  " + name + "（" + c + "）\n" : "  " + name + " (" + c + ")\n");
    print_items(ctx, Section::followups, first(group, limit), out);
    print_more(ctx, limit && group.size() > limit ? group.size() - limit : 0, out);
  }
}

std::string churn_title(const Context& ctx, std::int64_t churn_days) {
  const std::string n = std::to_string(churn_days);
  return ctx.lang == Lang::zh
             ? "流失预警（成交客户 " + n + " 天无订单或跟进）"
             : "Churn candidates (deal customers with no order or follow-up for " + n + " days)";
}

// The setting names `kehu rules set` knows.
constexpr const char* kChurnDaysName = "churn-days";

std::int64_t parse_days(const std::string& name, const std::string& text) {
  std::size_t used = 0;
  std::int64_t n = -1;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || n < 1 || n > kMaxRuleDays) {
    const std::string max = std::to_string(kMaxRuleDays);
    throw Error(Errc::usage, tr(name + " \"" + text + "\": expected a whole number of days from 1 to " + max,
                                name + " “" + text + "”：应为 1 到 " + max + " 之间的整数天数"));
  }
  return n;
}

}  // namespace

int cmd_due(Context& ctx, std::int64_t days, std::int64_t limit_arg) {
  if (limit_arg < 0) {
    const std::string n = std::to_string(limit_arg);
    throw Error(Errc::usage, tr("--limit " + n + ": expected a whole number of reminders per list, 0 for all",
                                "--limit " + n + "：应为每个列表显示的提醒条数（整数），0 表示全部"));
  }
  const auto limit = static_cast<std::size_t>(limit_arg);
  const std::string today = today_local();
  DueReport r = ctx.replica().due(today, days);
  if (ctx.json) {
    // With --limit, "total" says how many each list had before the cut.
    json j = {{"today", r.today},
              {"days", r.days},
              {"churn_days", r.churn_days},
              {"followups", items_json(r.followups, limit, true)},
              {"birthdays", items_json(r.birthdays, limit)},
              {"intentions", items_json(r.intentions, limit)},
              {"churn", items_json(r.churn, limit)}};
    if (limit) {
      j["limit"] = limit;
      j["total"] = {{"followups", r.followups.size()},
                    {"birthdays", r.birthdays.size()},
                    {"intentions", r.intentions.size()},
                    {"churn", r.churn.size()}};
    }
    print_json(j, std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  const std::string n = std::to_string(r.days);
  const std::string quiet = std::to_string(kIntentionStaleDays);
  std::cout << (zh ? "今天 " : "Today ") << r.today << "\n\n";
  print_followups(ctx,
                  zh ? "待跟进（" + n + " 天内到期或已逾期）"
                     : "Follow-ups due within " + n + " days or overdue",
                  r.followups, r.days, limit, std::cout);
  std::cout << '\n';
  print_section(ctx, Section::birthdays,
                zh ? n + " 天内生日" : "Birthdays in the next " + n + " days", r.birthdays,
                limit, std::cout);
  std::cout << '\n';
  print_section(ctx, Section::intentions,
                zh ? "意向客户 " + quiet + " 天未跟进"
                   : "Intention customers not followed up in " + quiet + " days",
                r.intentions, limit, std::cout);
  std::cout << '\n';
  print_section(ctx, Section::churn, churn_title(ctx, r.churn_days), r.churn, limit, std::cout);
  return 0;
}

int cmd_rules_show(Context& ctx) {
  auto& rep = ctx.replica();
  // The server sends every rule, the defaults too: a value is the admin's when
  // it differs from the default (walkthrough 13-14, R13-10/R14-14: every stage
  // said "set by an admin" once one was).
  const bool set = !rep.meta(kChurnDaysMeta).empty() && rep.churn_days() != kDefaultChurnDays;
  const StageProbabilities probs = stage_probabilities(rep);
  const StageProbabilities defaults = default_stage_probabilities();
  const std::vector<SalesTarget> targets = sales_targets(rep);
  if (ctx.json) {
    json p = json::object();
    for (const auto& [k, v] : probs) p[k] = v;
    print_json({{"churn_days", rep.churn_days()},
                {"intention_days", kIntentionStaleDays},
                {"stage_probability", p},
                {"targets", targets_to_json(targets)}},
               std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  const std::string synced = zh ? "管理员设置（同步）" : "set by an admin (synced)";
  std::vector<std::vector<std::string>> rows = {
      {kChurnDaysName, std::to_string(rep.churn_days()), set ? synced : (zh ? "默认" : "default")},
      {"intention-days", std::to_string(kIntentionStaleDays), zh ? "固定" : "fixed"}};
  for (const auto& stage : probability_stages()) {
    auto it = probs.find(stage);
    auto d = defaults.find(stage);
    const bool admins = it != probs.end() && (d == defaults.end() || d->second != it->second);
    rows.push_back({"stage-probability " + stage,
                    std::to_string(it == probs.end() ? 0 : it->second) + "%",
                    admins ? synced : (zh ? "默认" : "default")});
  }
  for (const auto& t : targets) {
    rows.push_back({"target " + t.owner + " " + t.period, group_thousands(cell_text(Cell::of_money(t.amount))), synced});
  }
  std::cout << table(ctx, zh ? std::vector<std::string>{"规则", "值", "来源"}
                               : std::vector<std::string>{"Rule", "Value", "Source"},
                            rows);
  return 0;
}

namespace {

void expect_values(const std::string& what, const std::vector<std::string>& values, std::size_t n,
                   const char* shape) {
  if (values.size() != n) {
    throw Error(Errc::usage, tr("kehu rules " + what + ": expected " + shape,
                                "kehu rules " + what + "：参数应为 " + shape));
  }
}

// Stores what the server answered: every rule it sent.
void store_answer(Replica& rep, const json& answer) {
  if (answer.contains("churn_days") && answer["churn_days"].is_number_integer()) {
    rep.set_churn_days(answer["churn_days"].get<std::int64_t>());
  }
  if (answer.contains("stage_probability")) store_stage_probabilities(rep, answer["stage_probability"]);
  if (answer.contains("targets")) store_sales_targets(rep, answer["targets"]);
}

json post_settings(Replica& rep, const json& body, const std::string& what) {
  json answer = sync::request(rep, sync::SyncOptions{}, "/v1/settings", body, what);
  store_answer(rep, answer);
  return answer;
}

SalesTarget target_of(const std::vector<std::string>& values) {
  SalesTarget t;
  t.owner = trim(values[0]);
  if (t.owner.empty()) {
    throw Error(Errc::validation, tr("负责人 (owner) \"\": an owner is required", "负责人 (owner)：必须填写负责人"));
  }
  t.period = checked_period(trim(values[1]));
  return t;
}

}  // namespace

int cmd_rules_set(Context& ctx, const std::string& name, const std::vector<std::string>& values) {
  const bool zh = ctx.lang == Lang::zh;
  if (name == kChurnDaysName) {
    expect_values("set churn-days", values, 1, "churn-days N");
    const std::int64_t days = parse_days(name, values[0]);
    auto& rep = ctx.replica();
    require_admin(rep, "change the rules", "修改规则");
    // The server keeps the team's value; every device copies it at `kehu sync`.
    post_settings(rep, {{"churn_days", days}}, tr("setting churn-days", "设置 churn-days"));
    if (ctx.json) {
      print_json({{"churn_days", rep.churn_days()}}, std::cout);
    } else if (zh) {
      std::cout << "流失规则：成交客户 " << rep.churn_days()
                << " 天无订单或跟进即提示流失（其他设备同步后生效）\n";
    } else {
      std::cout << "churn-days is now " << rep.churn_days()
                << " (other devices get it at their next sync)\n";
    }
    return 0;
  }
  if (name == "stage-probability") {
    expect_values("set stage-probability", values, 1, "stage-probability contact=10,needs=25,...");
    const StageProbabilities p = parse_stage_probabilities(values[0]);
    auto& rep = ctx.replica();
    require_admin(rep, "change the rules", "修改规则");
    json body = json::object();
    for (const auto& [k, v] : p) body[k] = v;
    json answer = post_settings(rep, {{"stage_probability", body}}, tr("setting stage-probability", "设置 stage-probability"));
    if (ctx.json) {
      print_json({{"stage_probability", answer.value("stage_probability", json::object())}}, std::cout);
      return 0;
    }
    std::string text;
    // In the funnel's order, as `kehu rules` lists them (not by name).
    const StageProbabilities now = stage_probabilities(rep);
    for (const auto& stage : probability_stages()) {
      if (auto it = now.find(stage); it != now.end()) {
        text += (text.empty() ? "" : ", ") + stage + " " + std::to_string(it->second) + "%";
      }
    }
    std::cout << (zh ? "阶段概率：" : "stage probabilities: ") << text
              << (zh ? "（其他设备同步后生效）\n" : " (other devices get them at their next sync)\n");
    return 0;
  }
  if (name == "target") {
    expect_values("set target", values, 3, "target OWNER PERIOD AMOUNT (yuan)");
    SalesTarget t = target_of(values);
    const FieldDef& amount_def = Schema::builtin().collection("targets").field("amount");
    const json fen = normalize_value(amount_def, values[2]);
    if (!fen.is_number_integer() || fen.get<std::int64_t>() < 0) {
      throw Error(Errc::validation, tr(amount_def.zh + " (amount) \"" + values[2] +
                                           "\": expected an amount in yuan of 0 or more",
                                       amount_def.zh + " (amount)：“" + values[2] + "”应为不小于 0 的金额（元）"));
    }
    t.amount = fen.get<std::int64_t>();
    auto& rep = ctx.replica();
    require_admin(rep, "change the rules", "修改规则");
    post_settings(rep, {{"target", {{"owner", t.owner}, {"period", t.period}, {"amount", t.amount}}}},
                  tr("setting a target", "设置目标"));
    if (ctx.json) {
      print_json({{"owner", t.owner}, {"period", t.period}, {"amount", t.amount}}, std::cout);
    } else {
      std::cout << (zh ? "目标：" : "target: ") << t.owner << " " << t.period << " "
                << group_thousands(cell_text(Cell::of_money(t.amount)))
                << (zh ? "（其他设备同步后生效）\n" : " (other devices get it at their next sync)\n");
    }
    return 0;
  }
  throw Error(Errc::usage, tr("kehu rules set " + name +
                                  ": unknown rule; an admin sets churn-days, stage-probability or target",
                              "kehu rules set " + name + "：没有这条规则；管理员可设置 churn-days、stage-probability 或 target"));
}

int cmd_rules_unset(Context& ctx, const std::string& name, const std::vector<std::string>& values) {
  if (name != "target") {
    throw Error(Errc::usage, tr("kehu rules unset " + name + ": only a target can be removed",
                                "kehu rules unset " + name + "：只有目标（target）可以删除"));
  }
  expect_values("unset target", values, 2, "target OWNER PERIOD");
  const SalesTarget t = target_of(values);
  auto& rep = ctx.replica();
  require_admin(rep, "change the rules", "修改规则");
  post_settings(rep, {{"target", {{"owner", t.owner}, {"period", t.period}, {"amount", nullptr}}}},
                tr("removing a target", "删除目标"));
  if (ctx.json) {
    print_json({{"owner", t.owner}, {"period", t.period}, {"removed", true}}, std::cout);
  } else {
    std::cout << (ctx.lang == Lang::zh ? "已删除目标：" : "target removed: ") << t.owner << " "
              << t.period << '\n';
  }
  return 0;
}

int cmd_rules_apply_churn(Context& ctx, bool dry_run) {
  auto& rep = ctx.replica();
  const std::string today = today_local();
  std::vector<DueItem> items = dry_run ? rep.churn_candidates(today) : rep.apply_churn(today);
  const std::string cause = churn_cause(rep.churn_days());
  if (ctx.json) {
    json arr = items_json(items, 0);
    for (auto& j : arr) j["applied"] = !dry_run;
    print_json({{"churn_days", rep.churn_days()},
                {"cause", cause},
                {"dry_run", dry_run},
                {"customers", arr}},
               std::cout);
    return 0;
  }
  const bool zh = ctx.lang == Lang::zh;
  print_section(ctx, Section::churn, churn_title(ctx, rep.churn_days()), items, 0, std::cout);
  if (dry_run) {
    std::cout << (zh ? "预演：未做任何修改\n" : "dry run: nothing was changed\n");
  } else if (!items.empty()) {
    std::cout << (zh ? std::to_string(items.size()) + " 个客户已设为流失客户（原因：" + show_cause(ctx, cause) +
                           "）；kehu sync 后提交\n"
                     : std::to_string(items.size()) + (items.size() == 1 ? " customer" : " customers") +
                           " set to lost (cause: \"" + cause +
                           "\"); `kehu sync` sends the changes\n");
  }
  return 0;
}

}  // namespace kehu::cli
