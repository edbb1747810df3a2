#include "http_limits.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "env_setting.h"

namespace kehu::server {

HttpLimits http_limits_from_env() {
  HttpLimits l;
  read_positive("KEHU_HTTP_HEADER_DEADLINE_SECONDS", l.header_deadline_seconds, 3600);
  read_positive("KEHU_HTTP_BODY_DEADLINE_SECONDS", l.body_deadline_seconds, 3600);
  read_positive<std::size_t>("KEHU_HTTP_BODY_MIN_BYTES_PER_SECOND", l.body_min_bytes_per_second, 1 << 30);
  read_positive<std::size_t>("KEHU_HTTP_LARGE_BODY_MIN_BYTES_PER_SECOND", l.large_body_min_bytes_per_second,
                             1 << 30);
  read_positive("KEHU_HTTP_BODY_MAX_SECONDS", l.body_max_seconds, 24 * 3600);
  read_positive("KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS", l.max_connections_per_address, 100000);
  read_positive<std::size_t>("KEHU_HTTP_MAX_WORKERS", l.max_workers, 10000);
  read_positive<std::size_t>("KEHU_HTTP_MAX_WAITING_PULLS", l.max_waiting_pulls, 10000);
  // Waiting pulls hold workers: some must stay for everything else.
  l.max_waiting_pulls = std::min(l.max_waiting_pulls, l.max_workers > 32 ? l.max_workers - 16 : l.max_workers / 2);
  return l;
}

std::string describe_overrides(const HttpLimits& l) {
  const HttpLimits d;
  OverrideNotes notes("HTTP limits overridden");
  notes.add("header deadline s", l.header_deadline_seconds, d.header_deadline_seconds);
  notes.add("body deadline s", l.body_deadline_seconds, d.body_deadline_seconds);
  notes.add("body min B/s", l.body_min_bytes_per_second, d.body_min_bytes_per_second);
  notes.add("large body min B/s", l.large_body_min_bytes_per_second, d.large_body_min_bytes_per_second);
  notes.add("body max s", l.body_max_seconds, d.body_max_seconds);
  notes.add("connections per address", l.max_connections_per_address, d.max_connections_per_address);
  notes.add("max workers", l.max_workers, d.max_workers);
  notes.add("max waiting pulls", l.max_waiting_pulls, d.max_waiting_pulls);
  return notes.str();
}

}  // namespace kehu::server
