// Logins and bearer tokens (docs/protocol.md "POST /v1/login").
//
// A login checks the password (password.h) and issues a token: 256 random bits
// as hex, of which the store keeps only the SHA-256, valid 30 days
// (server_config.h). Every other request presents it as
// "Authorization: Bearer <hex>" and authenticate() turns it into a Session.
// Wrong passwords are counted per name and address; too many lock them for a
// while (login_throttle.h): login() and change_password() then answer 429.
//
// Thread-safety: an Authenticator may be shared by all request threads; each call
// runs in its own store transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth_settings.h"
#include "login_throttle.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

struct LoginResult {
  std::string token;            // the bearer token, hex; shown to the client once
  std::int64_t expires_at = 0;  // Unix seconds
  Session session;
  // Proof that this device signed in as this user before: sent with its later
  // logins, it lets them past a lock of the client's address (not of the name).
  std::string device_cookie;
};

class Authenticator {
 public:
  using UnixClock = std::function<std::int64_t()>;  // seconds since the epoch; swappable in tests

  explicit Authenticator(Store& store, UnixClock now = nullptr, AuthSettings settings = {});

  // Checks user and password and stores a new token for `device`. `address` is
  // the client's, for throttling ("" is not tracked).
  // Throws Error(unauthorized) for an unknown user or a wrong password (the same
  // message and about the same time for both, so names cannot be probed),
  // Error(forbidden) for a disabled user with the right password, and
  // HttpError(429 throttled) while the name or the address is locked, whatever
  // the password (the password is not even checked then). A `device_cookie`
  // the server gave this user's `device` at an earlier login passes a lock of
  // the address: made-up names from a shared address (an office NAT, a load
  // balancer) must not keep the team's own devices out (attacker review 17,
  // A17-5). The name's own lock holds for every device.
  LoginResult login(std::string_view user, std::string_view password, std::string_view device,
                    std::string_view address = {}, std::string_view device_cookie = {});

  // Revokes the token of an "Authorization" header value. Idempotent: returns the
  // token's user if it was a stored token (expired or not), nullopt if it was
  // not (already revoked). Throws Error(unauthorized) only for a header that is
  // not "Bearer <64 hex>".
  std::optional<std::string> logout(std::string_view authorization);

  // Changes the session user's password: checks `current` (a wrong one counts
  // toward throttling), checks `next` against the policy (password.h), stores its
  // hash, revokes every token of the user and issues a fresh one for the
  // session's device, all in one transaction. Only the name's lock refuses it:
  // the token already proves the device.
  // Throws what authenticate() throws, HttpError(429) while locked,
  // Error(forbidden) for a wrong current password, Error(validation) for a new
  // password that breaks the policy or equals the current one.
  LoginResult change_password(std::string_view authorization, std::string_view current,
                              std::string_view next, std::string_view address = {});

  // The session of an "Authorization" header value ("Bearer <token>").
  // Throws Error(unauthorized) when it is missing, malformed, unknown or expired,
  // Error(forbidden) when its user is disabled.
  Session authenticate(std::string_view authorization);

 private:
  // Throws HttpError(429 throttled) if `user` or `address` is locked.
  void check_throttle(std::string_view user, std::string_view address);
  // A new token for `session`, stored in `txn`.
  LoginResult issue_token(StoreTxn& txn, const Session& session, std::int64_t now);
  // The device cookie of `user` on `device`: HMAC of both under the store's
  // secret key (made at first use, kept in the store's settings, so every
  // server of a PostgreSQL store and a restart agree).
  std::string device_cookie(std::string_view user, std::string_view device);

  Store& store_;
  UnixClock now_;
  std::int64_t token_lifetime_;
  LoginThrottle throttle_;
  std::mutex cookie_key_mu_;
  std::string cookie_key_;  // guarded by cookie_key_mu_; "" until first read
};

}  // namespace kehu::server
