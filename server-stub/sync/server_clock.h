// The server's hybrid logical clock (kehu/hlc.h), shared by all request threads.
//
// Every response carries now() as "server_hlc", so devices' clocks never run
// behind the server's. Pushed changes pass through clamp(): a timestamp more
// than config::kClockToleranceMs ahead of the server's wall clock is replaced by
// the server's own now(), so a device with a wrong clock cannot win every
// conflict (docs/protocol.md "Values and clocks"). Accepted timestamps are
// observe()d, so server_hlc is never behind any revision the server holds.
//
// Thread-safety: all members may be called concurrently.
#pragma once

#include <cstdint>
#include <mutex>

#include "kehu/hlc.h"

namespace kehu::server {

class ServerClock {
 public:
  explicit ServerClock(HybridClock::WallClock wall = system_ms);

  // A timestamp greater than every one returned or observed before.
  std::int64_t now();
  // `hlc` if it is at most the tolerance ahead of the wall clock, else now().
  std::int64_t clamp(std::int64_t hlc);
  // Makes later now() values exceed `hlc`.
  void observe(std::int64_t hlc);

 private:
  std::mutex mu_;
  HybridClock::WallClock wall_;
  HybridClock clock_;
};

}  // namespace kehu::server
