// Logins and bearer tokens (docs/protocol.md "POST /v1/login").
//
// A login checks the password (password.h) and issues a token: 256 random bits
// as hex, of which the store keeps only the SHA-256, valid 30 days
// (server_config.h). Every other request presents it as
// "Authorization: Bearer <hex>" and authenticate() turns it into a Session.
//
// Thread-safety: an Authenticator may be shared by all request threads; each call
// runs in its own store transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "session.h"
#include "store.h"

namespace kehu::server {

struct LoginResult {
  std::string token;            // the bearer token, hex; shown to the client once
  std::int64_t expires_at = 0;  // Unix seconds
  Session session;
};

class Authenticator {
 public:
  using UnixClock = std::function<std::int64_t()>;  // seconds since the epoch; swappable in tests

  explicit Authenticator(Store& store, UnixClock now = nullptr);

  // Checks user and password and stores a new token for `device`.
  // Throws Error(unauthorized) for an unknown user or a wrong password (the same
  // message and about the same time for both, so names cannot be probed), and
  // Error(forbidden) for a disabled user with the right password.
  LoginResult login(std::string_view user, std::string_view password, std::string_view device);

  // The session of an "Authorization" header value ("Bearer <token>").
  // Throws Error(unauthorized) when it is missing, malformed, unknown or expired,
  // Error(forbidden) when its user is disabled.
  Session authenticate(std::string_view authorization);

 private:
  Store& store_;
  UnixClock now_;
};

}  // namespace kehu::server
