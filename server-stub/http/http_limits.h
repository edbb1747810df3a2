// The limits that keep slow or idle clients from starving kehu-server's HTTP
// workers (connection_guard.h), with their defaults from server_config.h. `serve`
// reads overrides from its environment, for tests and for operators:
//
//   KEHU_HTTP_HEADER_DEADLINE_SECONDS      request line + headers, keep-alive idle included (10)
//   KEHU_HTTP_BODY_DEADLINE_SECONDS        grace before the body's minimum rate applies (10)
//   KEHU_HTTP_BODY_MIN_BYTES_PER_SECOND    the body's minimum average rate (16384)
//   KEHU_HTTP_LARGE_BODY_MIN_BYTES_PER_SECOND  the same for bodies above 1 MiB (262144)
//   KEHU_HTTP_BODY_MAX_SECONDS             the body's whole time at most, however fast (300)
//   KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS  open connections per client address (64)
//   KEHU_HTTP_MAX_WORKERS                  worker threads at most (512)
//   KEHU_HTTP_MAX_WAITING_PULLS            pulls held waiting at once (384; at most
//                                          the workers less 16, commit_feed.h)
#pragma once

#include <cstddef>
#include <string>

#include "server_config.h"

namespace kehu::server {

struct HttpLimits {
  int header_deadline_seconds = config::kHeaderDeadlineSeconds;
  int body_deadline_seconds = config::kBodyDeadlineSeconds;
  std::size_t body_min_bytes_per_second = config::kBodyMinBytesPerSecond;
  std::size_t large_body_min_bytes_per_second = config::kLargeBodyMinBytesPerSecond;
  int body_max_seconds = config::kBodyMaxSeconds;
  int max_connections_per_address = config::kMaxConnectionsPerAddress;
  std::size_t max_workers = config::kMaxWorkers;
  std::size_t max_waiting_pulls = config::kMaxWaitingPulls;
};

// The defaults with the environment's overrides. Throws Error(usage) naming the
// variable when one is set but not a positive integer in range.
HttpLimits http_limits_from_env();

// One line for the server's log naming the overrides in force ("" if none).
std::string describe_overrides(const HttpLimits& limits);

}  // namespace kehu::server
