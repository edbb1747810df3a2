// Reminders and rules over the replica (Replica::due, Replica::churn_candidates,
// Replica::apply_churn): what the sheets' monthly filters did, offline.
//
// Every rule takes "today" explicitly ("YYYY-MM-DD", the user's calendar day),
// so tests use fixed dates; the CLI passes today_local() or KEHU_TODAY.
// Day counts are whole calendar days between stored dates (calendar.h).
//
//   follow-up  a live customer whose next_date (下次跟进日期) is on or before
//              today + N days; overdue ones first.
//   birthday   a live customer whose 生日 (month and day) falls within the next
//              N days, today included; 29 February counts as 28 February in
//              other years.
//   intention  a live intention customer (type = intention) whose last
//              follow-up (the derived last_followup_at) was kIntentionStaleDays
//              or more days ago, or who was never followed up.
//   churn      a live deal customer (type = deal) with no order and no
//              follow-up for churn_days() days or more: the latest of its
//              last_followup_at and its orders' 下单日期 (orders without a date
//              do not count) is that old, or, with neither, it was added
//              (created_at) that long ago. Proposed as lost; apply_churn()
//              makes it so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kehu/record.h"

namespace kehu {

// The sheets' monthly filter: intention customers not followed up for a month.
inline constexpr std::int64_t kIntentionStaleDays = 30;
// Churn threshold until an admin sets another (`kehu rules set churn-days N`).
inline constexpr std::int64_t kDefaultChurnDays = 90;
// Bounds of the settings and of `kehu due --days` (a decade: beyond is a typo).
inline constexpr std::int64_t kMaxRuleDays = 3650;
// The replica metadata key of the churn threshold (synced from the server).
inline constexpr const char* kChurnDaysMeta = "rule.churn_days";

// One reminder about one customer.
struct DueItem {
  Record customer;
  // follow-up: next_date; birthday: the coming anniversary; intention: the last
  // follow-up ("" if never); churn: the last order or follow-up, else created_at
  // ("" if neither).
  std::string date;
  // follow-up: days overdue (0 = due today, negative = due in -days days);
  // birthday: days until it; intention, churn: days since `date` (0 if none).
  std::int64_t days = 0;
  // One English line: "overdue by 3 days: 发送报价单", "never followed up",
  // "no order or follow-up since 2026-05-01 (209 days)".
  std::string reason;
  bool by_creation = false;  // churn: `date` is created_at (no dated order or follow-up at all)
};

struct DueReport {
  std::string today;
  std::int64_t days = 0;        // the window of follow-ups and birthdays
  std::int64_t churn_days = 0;  // the churn threshold used
  std::vector<DueItem> followups, birthdays, intentions, churn;
};

// The cause a churn edit carries into its change and the server's revision.
std::string churn_cause(std::int64_t churn_days);

}  // namespace kehu
