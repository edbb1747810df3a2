#include "http_limits.h"

#include <cstdlib>
#include <stdexcept>

#include "env_setting.h"

namespace kehu::server {

HttpLimits http_limits_from_env() {
  HttpLimits l;
  read_positive("KEHU_HTTP_HEADER_DEADLINE_SECONDS", l.header_deadline_seconds, 3600);
  read_positive("KEHU_HTTP_BODY_DEADLINE_SECONDS", l.body_deadline_seconds, 3600);
  read_positive<std::size_t>("KEHU_HTTP_BODY_MIN_BYTES_PER_SECOND", l.body_min_bytes_per_second, 1 << 30);
  read_positive("KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS", l.max_connections_per_address, 100000);
  read_positive<std::size_t>("KEHU_HTTP_MAX_WORKERS", l.max_workers, 10000);
  return l;
}

std::string describe_overrides(const HttpLimits& l) {
  const HttpLimits d;
  std::string out;
  auto note = [&out](const char* what, long long value, long long def) {
    if (value == def) return;
    out += (out.empty() ? "HTTP limits overridden: " : ", ") + std::string(what) + "=" + std::to_string(value);
  };
  note("header deadline s", l.header_deadline_seconds, d.header_deadline_seconds);
  note("body deadline s", l.body_deadline_seconds, d.body_deadline_seconds);
  note("body min B/s", static_cast<long long>(l.body_min_bytes_per_second),
       static_cast<long long>(d.body_min_bytes_per_second));
  note("connections per address", l.max_connections_per_address, d.max_connections_per_address);
  note("max workers", static_cast<long long>(l.max_workers), static_cast<long long>(d.max_workers));
  return out;
}

}  // namespace kehu::server
