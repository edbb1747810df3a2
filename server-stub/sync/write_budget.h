// How much one user may write: a token bucket per user, of accepted changes and
// of their bytes (attacker review 14, A14-8: one salesperson's script wrote 650
// revisions a second, each kept for good in the hash chain, until the disk was
// full; review 15, A15-5: 8 KB changes filled it at the count's pace).
//
// A user holds up to `burst` (a first sync of a big sheet goes at once) and earns
// `per_hour` more an hour, of each. A change counts when it writes a revision;
// refusals, no-ops and held changes do not (their own limits bound them:
// config::kMaxExpiringResultsPerUser, kMaxRequestsPerUserPerDay). The buckets
// live in this process: a restart fills them, which costs at most one burst.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace kehu::server {

struct WriteLimits {
  std::int64_t burst_changes = 0, changes_per_hour = 0;
  std::int64_t burst_bytes = 0, bytes_per_hour = 0;
};

class WriteBudget {
 public:
  using Clock = std::chrono::steady_clock;
  struct Allowance {
    std::int64_t changes = 0, bytes = 0;
    bool any() const { return changes >= 1 && bytes >= 1; }  // bytes < 1 while a debt is owed
  };

  explicit WriteBudget(WriteLimits limits) : limits_(limits) {}

  // What `user` may write now.
  Allowance available(const std::string& user, Clock::time_point now = Clock::now());
  // Takes `changes` written changes of `bytes` from `user`'s buckets; bytes
  // beyond what the bucket holds stay owed (the bucket goes below 0).
  void spend(const std::string& user, std::int64_t changes, std::int64_t bytes, Clock::time_point now = Clock::now());
  // Seconds until `user` may write one change of a few KB again (at least 1).
  long seconds_until_next(const std::string& user, Clock::time_point now = Clock::now());

  const WriteLimits& limits() const { return limits_; }

 private:
  struct Bucket {
    double changes = 0, bytes = 0;
    Clock::time_point at;
  };
  Bucket& refill(const std::string& user, Clock::time_point now);  // under mu_
  bool full(const Bucket& b, Clock::time_point now) const;

  const WriteLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace kehu::server
