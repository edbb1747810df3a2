#include "auth_settings.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "env_setting.h"
#include "kehu/error.h"

namespace kehu::server {

AuthSettings auth_settings_from_env() {
  AuthSettings s;
  // Ten years: far beyond any sensible lifetime, well inside Unix seconds.
  read_positive<std::int64_t>("KEHU_TOKEN_TTL_SECONDS", s.token_lifetime_seconds,
                              10LL * 366 * 24 * 3600);
  read_positive<int>("KEHU_LOGIN_MAX_FAILURES", s.throttle.max_user_failures, 1000000);
  read_positive<int>("KEHU_LOGIN_MAX_ADDRESS_FAILURES", s.throttle.max_address_failures, 1000000);
  read_positive<std::int64_t>("KEHU_LOGIN_WINDOW_SECONDS", s.throttle.window_seconds,
                              366LL * 24 * 3600);
  read_positive<std::int64_t>("KEHU_LOGIN_LOCK_SECONDS", s.throttle.lock_seconds,
                              366LL * 24 * 3600);
  s.throttle.max_lock_seconds = std::max(s.throttle.max_lock_seconds, s.throttle.lock_seconds);
  return s;
}

std::string describe_overrides(const AuthSettings& s) {
  const AuthSettings d;
  OverrideNotes notes("settings from the environment");
  notes.add("token_ttl_seconds", s.token_lifetime_seconds, d.token_lifetime_seconds);
  notes.add("login_max_failures", s.throttle.max_user_failures, d.throttle.max_user_failures);
  notes.add("login_max_address_failures", s.throttle.max_address_failures, d.throttle.max_address_failures);
  notes.add("login_window_seconds", s.throttle.window_seconds, d.throttle.window_seconds);
  notes.add("login_lock_seconds", s.throttle.lock_seconds, d.throttle.lock_seconds);
  return notes.str();
}

}  // namespace kehu::server
