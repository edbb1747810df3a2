#include "http_limits.h"

#include <cstdlib>
#include <stdexcept>

#include "kehu/error.h"

namespace kehu::server {

namespace {

// The variable's value, if set: a whole number from 1 to `max`, else Error(usage).
template <typename T>
void read_limit(const char* name, T& out, long long max) {
  const char* v = std::getenv(name);
  if (!v || !*v) return;
  const std::string text = v;
  try {
    std::size_t used = 0;
    const long long n = std::stoll(text, &used);
    if (used != text.size() || n < 1 || n > max) throw std::out_of_range(name);
    out = static_cast<T>(n);
  } catch (const std::exception&) {
    throw Error(Errc::usage, std::string(name) + "=\"" + text + "\": expected a whole number from 1 to " +
                                 std::to_string(max));
  }
}

}  // namespace

HttpLimits http_limits_from_env() {
  HttpLimits l;
  read_limit("KEHU_HTTP_HEADER_DEADLINE_SECONDS", l.header_deadline_seconds, 3600);
  read_limit("KEHU_HTTP_BODY_DEADLINE_SECONDS", l.body_deadline_seconds, 3600);
  read_limit("KEHU_HTTP_BODY_MIN_BYTES_PER_SECOND", l.body_min_bytes_per_second, 1LL << 30);
  read_limit("KEHU_HTTP_MAX_CONNECTIONS_PER_ADDRESS", l.max_connections_per_address, 100000);
  read_limit("KEHU_HTTP_MAX_WORKERS", l.max_workers, 10000);
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
