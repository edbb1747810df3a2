// The settings of logins and tokens that `kehu-server serve` may take from its
// environment, for tests and for operators who need other limits than
// server_config.h's defaults:
//
//   KEHU_TOKEN_TTL_SECONDS            token lifetime (default 30 days)
//   KEHU_LOGIN_MAX_FAILURES           failed logins per user name before a lock (5)
//   KEHU_LOGIN_MAX_ADDRESS_FAILURES   failed logins per client address before a lock (20)
//   KEHU_LOGIN_WINDOW_SECONDS         the window the failures are counted in (900)
//   KEHU_LOGIN_LOCK_SECONDS           the first lock; each next one doubles (900)
#pragma once

#include <cstdint>
#include <string>

#include "login_throttle.h"
#include "server_config.h"

namespace kehu::server {

struct AuthSettings {
  std::int64_t token_lifetime_seconds = config::kTokenLifetimeSeconds;
  ThrottleLimits throttle;
};

// The defaults with the environment's overrides. Throws Error(usage) naming the
// variable when one is set but not a positive integer.
AuthSettings auth_settings_from_env();

// One line for the server's log naming the overrides in force ("" if none).
std::string describe_overrides(const AuthSettings& settings);

}  // namespace kehu::server
