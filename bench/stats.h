// Timing helpers shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace kehu::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Sums only the timed stretches, so generating input between them is not counted.
class Stopwatch {
 public:
  void start() { t0_ = Clock::now(); }
  void stop() { total_ += seconds_since(t0_); }
  double seconds() const { return total_; }

 private:
  Clock::time_point t0_{};
  double total_ = 0;
};

// Nearest-rank percentile (p in [0, 100]) of unsorted samples; 0 if none.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

inline double median(const std::vector<double>& v) { return percentile(v, 50); }

}  // namespace kehu::bench
