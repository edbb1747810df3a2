// Reminders and rules (kehu/reminders.h): follow-ups due, birthdays, intention
// customers gone quiet, churn candidates. Reads the customer index for the
// dates, then only the customers that a rule names.
#include <algorithm>

#include "kehu/calendar.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "replica_impl.h"

namespace kehu {
namespace {

std::string plural_days(std::int64_t n) { return std::to_string(n) + (n == 1 ? " day" : " days"); }

std::int64_t days_between(std::string_view from, std::string_view to) {
  return *day_number(to) - *day_number(from);
}

std::int64_t checked_days(std::int64_t days, const char* what) {
  if (days < 0 || days > kMaxRuleDays) {
    throw Error(Errc::usage, tr(std::string(what) + " " + std::to_string(days) +
                                    ": expected a number of days from 0 to " + std::to_string(kMaxRuleDays),
                                std::string(what) + " " + std::to_string(days) + "：天数应在 0 到 " +
                                    std::to_string(kMaxRuleDays) + " 之间"));
  }
  return days;
}

}  // namespace

std::string churn_cause(std::int64_t churn_days) {
  return "churn rule: no order or follow-up for " + std::to_string(churn_days) + " days";
}

std::int64_t Replica::churn_days() const {
  const std::string v = impl_->meta(kChurnDaysMeta);
  if (v.empty()) return kDefaultChurnDays;
  try {
    std::int64_t n = std::stoll(v);
    return n >= 1 && n <= kMaxRuleDays ? n : kDefaultChurnDays;
  } catch (const std::exception&) {
    return kDefaultChurnDays;
  }
}

void Replica::set_churn_days(std::int64_t days) {
  if (days < 1 || days > kMaxRuleDays) {
    throw Error(Errc::validation, tr("churn-days " + std::to_string(days) +
                                         ": expected a number of days from 1 to " + std::to_string(kMaxRuleDays),
                                     "churn-days " + std::to_string(days) + "：天数应在 1 到 " +
                                         std::to_string(kMaxRuleDays) + " 之间"));
  }
  set_meta(kChurnDaysMeta, std::to_string(days));
}

namespace {

// Whose reminders a customer is on this device. On a team's device, a customer
// in the public pool (公海: no 负责人) is nobody's to follow up until someone
// claims it: its plans and dates are not this user's reminders. A replica that
// never logged in has no pool. A salesperson's reminders are for their own
// customers: a colleague's in the same territory are the colleague's to follow
// up (walkthrough 7, R7-6), and to mark lost (walkthrough 17, R17-8: `rules
// apply-churn` listed them, then failed on a pool customer). A manager's are
// the whole team's.
class ReminderScope {
 public:
  explicit ReminderScope(const Replica& rep)
      : user_(rep.meta("user").empty() ? rep.meta("replica_user") : rep.meta("user")),
        own_only_(!user_.empty() && rep.meta("role") == "sales") {}
  bool keeps(const Record& customer) const {
    if (user_.empty()) return true;
    const std::string owner = customer.fields.value("owner", "");
    return !owner.empty() && (!own_only_ || owner == user_);
  }

 private:
  std::string user_;
  bool own_only_;
};

}  // namespace

std::vector<DueItem> Replica::churn_candidates(std::string_view today_text) const {
  const std::string today = checked_today(today_text, "today");
  const std::int64_t n = churn_days();
  // Quiet for n days or more: the latest activity is before this day.
  const std::string cutoff = add_days(today, 1 - n);
  auto& idx = impl_->index;
  const ReminderScope scope(*this);
  std::vector<DueItem> out;
  for (const auto& row : idx.facet_followed_up_before("type", "deal", cutoff)) {
    auto customer = impl_->load_customer_docid(row.docid);
    if (!customer || !scope.keeps(*customer)) continue;
    std::string last_order;
    auto& orders = impl_->db.cached(
        "SELECT fields FROM records WHERE parent = ? AND collection = 'orders' AND deleted = 0");
    orders.bind(1, customer->id);
    while (orders.step()) {
      const json f = json::parse(orders.text(0));
      auto it = f.find("date");
      if (it != f.end() && it->is_string() && day_number(it->get_ref<const std::string&>())) {
        last_order = std::max(last_order, it->get<std::string>());
      }
    }
    orders.reset();
    const std::string activity = std::max(last_order, row.last_followup_at);
    const bool by_creation = activity.empty();
    const std::string since = by_creation ? row.created_at : activity;
    if (!since.empty() && (!day_number(since) || since >= cutoff)) continue;
    DueItem item;
    item.customer = std::move(*customer);
    item.date = since;
    item.by_creation = by_creation;
    if (since.empty()) {
      item.reason = "no order or follow-up on record";
    } else {
      item.days = days_between(since, today);
      item.reason = std::string("no order or follow-up since ") +
                    (by_creation ? "it was added on " : "") + since + " (" +
                    plural_days(item.days) + ")";
    }
    out.push_back(std::move(item));
  }
  // The longest quiet first; "on record" (no date at all) leads.
  std::stable_sort(out.begin(), out.end(),
                   [](const DueItem& a, const DueItem& b) { return a.date < b.date; });
  return out;
}

DueReport Replica::due(std::string_view today_text, std::int64_t days) const {
  DueReport report;
  report.today = checked_today(today_text, "today");
  report.days = checked_days(days, "--days");
  report.churn_days = churn_days();
  const std::string& today = report.today;
  auto& idx = impl_->index;
  const ReminderScope scope(*this);
  auto load = [&](std::int64_t docid) {
    std::optional<Record> customer = impl_->load_customer_docid(docid);
    if (customer && !scope.keeps(*customer)) customer.reset();
    return customer;
  };

  for (const auto& row : idx.next_date_until(add_days(today, days))) {
    auto customer = load(row.docid);
    if (!customer) continue;
    DueItem item;
    item.date = row.next_date;
    item.days = days_between(row.next_date, today);
    item.reason = item.days > 0    ? "overdue by " + plural_days(item.days)
                  : item.days == 0 ? std::string("due today")
                                   : "due in " + plural_days(-item.days);
    const std::string plan = customer->fields.value("next_plan", "");
    if (!plan.empty()) item.reason += ": " + plan;
    item.customer = std::move(*customer);
    report.followups.push_back(std::move(item));
  }

  for (const auto& row : idx.with_birthday()) {
    auto next = next_anniversary(row.birthday, today);
    if (!next) continue;
    const std::int64_t until = days_between(today, *next);
    if (until > days) continue;
    auto customer = load(row.docid);
    if (!customer) continue;
    DueItem item;
    item.customer = std::move(*customer);
    item.date = *next;
    item.days = until;
    item.reason = until == 0
                      ? std::string("birthday today")
                      : "birthday on " + next->substr(5) + " (in " + plural_days(until) + ")";
    report.birthdays.push_back(std::move(item));
  }
  std::stable_sort(report.birthdays.begin(), report.birthdays.end(),
                   [](const DueItem& a, const DueItem& b) { return a.days < b.days; });

  const std::string quiet_since = add_days(today, 1 - kIntentionStaleDays);
  for (const auto& row : idx.facet_followed_up_before("type", "intention", quiet_since)) {
    auto customer = load(row.docid);
    if (!customer) continue;
    DueItem item;
    item.customer = std::move(*customer);
    item.date = row.last_followup_at;
    if (row.last_followup_at.empty()) {
      item.reason = "never followed up";
    } else {
      item.days = days_between(row.last_followup_at, today);
      item.reason =
          "not followed up for " + plural_days(item.days) + " (last " + row.last_followup_at + ")";
    }
    report.intentions.push_back(std::move(item));
  }
  // Never followed up first, then the longest quiet.
  std::stable_sort(report.intentions.begin(), report.intentions.end(),
                   [](const DueItem& a, const DueItem& b) { return a.date < b.date; });

  report.churn = churn_candidates(today);
  return report;
}

std::vector<DueItem> Replica::apply_churn(std::string_view today) {
  std::vector<DueItem> candidates = churn_candidates(today);
  const std::string cause = churn_cause(churn_days());
  impl_->in_tx([&] {
    for (auto& c : candidates) {
      c.customer = edit_values(c.customer.id, json{{"type", "lost"}}, cause);
    }
  });
  return candidates;
}

}  // namespace kehu
