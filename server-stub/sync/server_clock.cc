#include "server_clock.h"

#include "server_config.h"

namespace kehu::server {

ServerClock::ServerClock(HybridClock::WallClock wall) : wall_(wall), clock_(0, std::move(wall)) {}

std::int64_t ServerClock::now() {
  std::lock_guard<std::mutex> lock(mu_);
  return clock_.now();
}

std::int64_t ServerClock::clamp(std::int64_t hlc) {
  const std::int64_t limit = hlc_from_ms(wall_() + config::kClockToleranceMs);
  if (hlc <= limit) return hlc;
  return now();
}

void ServerClock::observe(std::int64_t hlc) {
  std::lock_guard<std::mutex> lock(mu_);
  clock_.observe(hlc);
}

}  // namespace kehu::server
