// Hybrid logical clock (HLC).
//
// A timestamp is one int64: milliseconds since the Unix epoch in the high 48 bits
// and a counter in the low 16. now() returns max(wall clock, last value seen) plus
// one tick, so timestamps are strictly increasing on a device and never run behind
// a server clock the device has observed. Comparing two timestamps as integers
// orders them; ties between devices are broken by device id in the merge.
//
// The clock lives in core (not sync, where DESIGN.md lists it) because every
// local edit is stamped when it is written to the change log, offline.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace kehu {

inline constexpr int kHlcCounterBits = 16;

inline std::int64_t hlc_from_ms(std::int64_t ms) { return ms << kHlcCounterBits; }
inline std::int64_t hlc_ms(std::int64_t hlc) { return hlc >> kHlcCounterBits; }
// "2026-11-27T11:04:17.123Z"
std::string hlc_to_iso(std::int64_t hlc);

// Milliseconds since the epoch from the system clock.
std::int64_t system_ms();

class HybridClock {
 public:
  using WallClock = std::function<std::int64_t()>;  // ms since epoch; swappable in tests

  explicit HybridClock(std::int64_t last = 0, WallClock wall = system_ms)
      : last_(last), wall_(std::move(wall)) {}

  // A timestamp greater than every one returned or observed before.
  std::int64_t now();
  // Takes in a timestamp seen elsewhere (a server's clock) so later now() values exceed it.
  void observe(std::int64_t remote);
  std::int64_t last() const { return last_; }

 private:
  std::int64_t last_;
  WallClock wall_;
};

}  // namespace kehu
