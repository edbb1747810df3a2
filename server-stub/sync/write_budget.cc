#include "write_budget.h"

#include <algorithm>
#include <cmath>

namespace kehu::server {

namespace {

// A few KB: what one ordinary change costs of the bytes bucket.
constexpr double kOrdinaryChangeBytes = 4096;

double hours(WriteBudget::Clock::duration d) { return std::chrono::duration<double>(d).count() / 3600.0; }

}  // namespace

WriteBudget::Bucket& WriteBudget::refill(const std::string& user, Clock::time_point now) {
  auto [it, fresh] = buckets_.try_emplace(user);
  Bucket& b = it->second;
  if (fresh) {
    b.changes = static_cast<double>(limits_.burst_changes);
    b.bytes = static_cast<double>(limits_.burst_bytes);
  } else if (now > b.at) {
    const double h = hours(now - b.at);
    b.changes = std::min<double>(limits_.burst_changes, b.changes + h * static_cast<double>(limits_.changes_per_hour));
    b.bytes = std::min<double>(limits_.burst_bytes, b.bytes + h * static_cast<double>(limits_.bytes_per_hour));
  }
  b.at = std::max(b.at, now);
  return b;
}

bool WriteBudget::full(const Bucket& b, Clock::time_point now) const {
  const double h = now > b.at ? hours(now - b.at) : 0.0;
  return b.changes + h * static_cast<double>(limits_.changes_per_hour) >= static_cast<double>(limits_.burst_changes) &&
         b.bytes + h * static_cast<double>(limits_.bytes_per_hour) >= static_cast<double>(limits_.burst_bytes);
}

WriteBudget::Allowance WriteBudget::available(const std::string& user, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  const Bucket& b = refill(user, now);
  return {static_cast<std::int64_t>(std::floor(b.changes)), static_cast<std::int64_t>(std::floor(b.bytes))};
}

void WriteBudget::spend(const std::string& user, std::int64_t changes, std::int64_t bytes, Clock::time_point now) {
  if (changes <= 0 && bytes <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = refill(user, now);
  b.changes = std::max(0.0, b.changes - static_cast<double>(changes));
  // Bytes are known once a change is written, and a batch's first change is
  // written whatever its size: what it took beyond the bucket is a debt, paid
  // before the next one (attacker review 16: clamped at 0, one fat change a push
  // passed the byte limit every time).
  b.bytes -= static_cast<double>(bytes);
  // Users whose buckets are full again are forgotten: the map holds only those
  // who wrote lately.
  for (auto it = buckets_.begin(); it != buckets_.end() && buckets_.size() > 1024;) {
    it = full(it->second, now) ? buckets_.erase(it) : std::next(it);
  }
}

long WriteBudget::seconds_until_next(const std::string& user, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  const Bucket& b = refill(user, now);
  double seconds = 1;
  if (b.changes < 1.0) seconds = std::max(seconds, (1.0 - b.changes) * 3600.0 / static_cast<double>(limits_.changes_per_hour));
  if (b.bytes < kOrdinaryChangeBytes) {  // a debt included
    seconds = std::max(seconds, (kOrdinaryChangeBytes - b.bytes) * 3600.0 / static_cast<double>(limits_.bytes_per_hour));
  }
  return static_cast<long>(std::ceil(seconds));
}

}  // namespace kehu::server
