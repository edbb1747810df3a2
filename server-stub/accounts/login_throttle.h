// Throttling of password guesses (docs/protocol.md "429 throttled").
//
// Failed password checks (POST /v1/login, and the current password of POST
// /v1/passwd) are counted per user name and per client address. When one of
// them reaches its limit within the window, that name or address is locked: every
// further attempt is refused without checking the password, until the lock
// ends. Each lock of the same name or address lasts twice as long as the one
// before (capped), so a guesser who waits out one lock gets a longer one next.
// A successful check forgets the user's failures and locks; an address is never
// reset by a success (one valid account must not buy a guesser more tries at
// others), its failures just age out of the window.
//
// Locking a name lets anyone who knows it keep its owner out for a while; that
// is the usual price of stopping online guessing, and the cap bounds it. There
// is no sleep per failure ("slow down"): PBKDF2 already makes each check cost
// ~50 ms, and sleeping would hold one of the server's few worker threads.
//
// State is in memory, per process (a restart forgets it), at most
// limits.max_entries names and addresses; entries idle for max_lock_seconds are
// dropped, and when the table is full the longest idle unlocked ones go first.
// Every failure and every lock is logged as one line (log sink, stderr by
// default):
//
//   2026-11-27T11:04:19Z login failed: user=wang address=10.0.0.7 failures=5 (user), 5 (address)
//   2026-11-27T11:04:19Z login locked: user=wang address=10.0.0.7 locked=user failures=5 lock=1
//                        for=900s until=2026-11-27T11:19:19Z          (one line)
//
// Thread-safety: all members may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server_config.h"

namespace kehu::server {

struct ThrottleLimits {
  int max_user_failures = config::kLoginMaxUserFailures;
  int max_address_failures = config::kLoginMaxAddressFailures;
  std::int64_t window_seconds = config::kLoginFailureWindowSeconds;
  std::int64_t lock_seconds = config::kLoginLockSeconds;         // the first lock
  std::int64_t max_lock_seconds = config::kLoginMaxLockSeconds;  // the longest lock
  std::size_t max_entries = config::kLoginThrottleMaxEntries;
};

// "2026-11-27T11:04:17Z" for Unix seconds.
std::string iso_utc(std::int64_t unix_seconds);

// Why and until when attempts are refused.
struct LoginLock {
  bool by_address = false;       // the address is locked (else the user name)
  std::string subject;           // the user name or the address
  std::int64_t until = 0;        // Unix seconds
  std::int64_t retry_after = 0;  // seconds from now, >= 1
  // "too many failed logins for \"wang\"; try again in 15 min (after 2026-...Z)"
  std::string message() const;
};

// Seconds since the epoch by the system clock: the default UnixClock of the
// throttle and of the Authenticator (auth.h).
std::int64_t system_unix_seconds();

class LoginThrottle {
 public:
  using UnixClock = std::function<std::int64_t()>;          // seconds; swappable in tests
  using LogSink = std::function<void(const std::string&)>;  // one line, without '\n'

  explicit LoginThrottle(ThrottleLimits limits = {}, UnixClock now = nullptr,
                         LogSink log = nullptr);

  // The lock that refuses an attempt for `user` from `address` now, if any
  // (the one that ends last when both are locked). An empty address is not tracked.
  std::optional<LoginLock> locked(std::string_view user, std::string_view address);

  // Counts a failed password check; may start a lock of the user or the address.
  // `account`: the name is an existing user's. Such entries go last when the
  // table is full, so a flood of made-up names from many addresses cannot
  // evict a real account's failures and buy a guesser fresh tries at it
  // (attacker review 14, A14-10); their number is bounded by the accounts.
  // Made-up names are counted and locked all the same (no oracle for names).
  void record_failure(std::string_view user, std::string_view address, bool account = false);

  // Forgets the user's failures and locks (a password check succeeded).
  void record_success(std::string_view user);

  // Names and addresses held (for tests of the bound).
  std::size_t size() const;

  const ThrottleLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::vector<std::int64_t> failures;  // within the window, oldest first
    int locks = 0;                       // locks so far; each doubles the next
    std::int64_t locked_until = 0;
    std::int64_t last_seen = 0;  // time of the last failure
    bool account = false;        // the name of an existing account: evicted last
  };

  // Adds a failure to `key`'s entry; returns the failures in the window, and
  // sets `lock_seconds` > 0 if this failure started a lock.
  std::size_t add_failure(const std::string& key, int max_failures, std::int64_t now,
                          std::int64_t& lock_seconds);
  void prune(std::int64_t now);  // REQUIRES: mu_ held

  ThrottleLimits limits_;
  UnixClock now_;
  LogSink log_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // "u:NAME" / "a:ADDRESS"
  std::int64_t last_prune_ = 0;
};

}  // namespace kehu::server
