#include "auth.h"

#include <chrono>

#include "crypto.h"
#include "kehu/error.h"
#include "password.h"
#include "server_config.h"

namespace kehu::server {

namespace {

std::int64_t system_unix_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

// A hash of a password nobody knows, checked when the user does not exist so a
// wrong name costs the same PBKDF2 time as a wrong password.
const std::string& decoy_hash() {
  static const std::string hash = hash_password(crypto::to_hex(crypto::random_bytes(16)));
  return hash;
}

constexpr std::string_view kBearer = "Bearer ";

}  // namespace

Authenticator::Authenticator(Store& store, UnixClock now)
    : store_(store), now_(now ? std::move(now) : UnixClock(system_unix_seconds)) {}

LoginResult Authenticator::login(std::string_view user, std::string_view password,
                                 std::string_view device) {
  std::optional<User> found;
  {
    auto txn = store_.begin(TxnMode::read);
    found = txn->find_user(user);
  }
  const bool ok = verify_password(password, found ? found->password_hash : decoy_hash());
  if (!found || !ok) throw Error(Errc::unauthorized, "wrong user or password");
  if (found->disabled) throw Error(Errc::forbidden, "user \"" + found->name + "\" is disabled");

  LoginResult out;
  out.token = crypto::to_hex(crypto::random_bytes(config::kTokenBytes));
  const std::int64_t now = now_();
  out.expires_at = now + config::kTokenLifetimeSeconds;
  out.session = Session{found->name, found->role, std::string(device)};

  auto txn = store_.begin(TxnMode::write);
  txn->delete_expired_tokens(now);  // housekeeping, so the table only holds live tokens
  txn->put_token(Token{crypto::sha256_hex(out.token), found->name, std::string(device), out.expires_at});
  txn->commit();
  return out;
}

Session Authenticator::authenticate(std::string_view authorization) {
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    throw Error(Errc::unauthorized, "missing or expired token: send \"Authorization: Bearer <token>\"");
  }
  const std::string_view token = authorization.substr(kBearer.size());
  if (token.size() != config::kTokenBytes * 2) {
    throw Error(Errc::unauthorized, "missing or expired token: malformed token");
  }
  auto txn = store_.begin(TxnMode::read);
  // Looking up the hash, not the token, means a timing leak in the index lookup
  // reveals nothing about any valid token.
  auto stored = txn->find_token(crypto::sha256_hex(token));
  if (!stored || stored->expires_at <= now_()) {
    throw Error(Errc::unauthorized, "missing or expired token: log in again");
  }
  auto user = txn->find_user(stored->user);
  if (!user) throw Error(Errc::unauthorized, "missing or expired token: the user no longer exists");
  if (user->disabled) throw Error(Errc::forbidden, "user \"" + user->name + "\" is disabled");
  return Session{user->name, user->role, stored->device};
}

}  // namespace kehu::server
