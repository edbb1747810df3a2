#include "auth.h"

#include <algorithm>
#include <chrono>

#include "crypto.h"
#include "http_errors.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "password.h"
#include "server_config.h"

namespace kehu::server {

namespace {

// A hash of a password nobody knows, checked when the user does not exist so a
// wrong name costs the same PBKDF2 time as a wrong password.
const std::string& decoy_hash() {
  static const std::string hash = hash_password(crypto::to_hex(crypto::random_bytes(16)));
  return hash;
}

// The device a token is issued to: the replica's device id as the client sends
// it at login. Every change pushed with the token carries it (push_service.cc),
// so it must be a plain id, and never "server", the device of the server's own
// changes. A login without one (a script) gets a fresh id of its own.
std::string session_device(std::string_view device) {
  if (device.empty()) return "web-" + crypto::to_hex(crypto::random_bytes(6));
  const bool plain = device.size() <= 64 && std::all_of(device.begin(), device.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
  });
  if (!plain) {
    throw Error(Errc::validation,
                tr("device: expected an id of 1-64 letters, digits, '-', '_' or '.'",
                   "device：应为 1 到 64 个字母、数字、'-'、'_' 或 '.' 组成的 ID"));
  }
  // Letters and digits only, lower case: "Server.", "kehu_server" and "SERVER-1"
  // all read like the server's own device in a revision (claims, approvals and
  // the pool recycle are recorded with device "server"), so none is a device's.
  std::string folded;
  for (char ch : device) {
    if (ch >= 'A' && ch <= 'Z') folded += static_cast<char>(ch - 'A' + 'a');
    else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) folded += ch;
  }
  if (folded.find("server") != std::string::npos) {
    throw Error(Errc::validation,
                tr("device \"" + std::string(device) + "\": a device id may not contain \"server\" (any case or "
                   "punctuation): that name is reserved for the server's own changes",
                   "device“" + std::string(device) + "”：设备 ID 不能包含 \"server\"（不论大小写或标点）："
                   "这个名字留给服务器自己的修改"));
  }
  return std::string(device);
}

constexpr std::string_view kBearer = "Bearer ";

// The token of an "Authorization" header value, or Error(unauthorized).
std::string_view bearer_token(std::string_view authorization) {
  // The scheme is case-insensitive (RFC 9110 11.1): "bearer" is "Bearer".
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (authorization.size() < kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [&](char a, char b) { return lower(a) == lower(b); })) {
    throw Error(Errc::unauthorized, tr("missing or expired token: send \"Authorization: Bearer <token>\"",
                                       "没有登录凭据或已过期：请发送 \"Authorization: Bearer <token>\""));
  }
  const std::string_view token = authorization.substr(kBearer.size());
  if (token.size() != config::kTokenBytes * 2) {
    throw Error(Errc::unauthorized, tr("missing or expired token: malformed token", "登录凭据无效：格式不对"));
  }
  return token;
}

}  // namespace

Authenticator::Authenticator(Store& store, UnixClock now, AuthSettings settings)
    : store_(store),
      now_(now ? std::move(now) : UnixClock(system_unix_seconds)),
      token_lifetime_(settings.token_lifetime_seconds),
      throttle_(settings.throttle, now_) {}

void Authenticator::check_throttle(std::string_view user, std::string_view address) {
  if (auto lock = throttle_.locked(user, address)) throw throttled(lock->message(), lock->retry_after);
}

std::string Authenticator::device_cookie(std::string_view user, std::string_view device) {
  constexpr const char* kKeySetting = "device_cookie_key";
  std::string key;
  {
    std::lock_guard<std::mutex> lock(cookie_key_mu_);
    key = cookie_key_;
  }
  if (key.empty()) {
    // Writers of one store go one at a time (PostgreSQL servers too): the first
    // to look makes the key, every other one reads it.
    auto txn = store_.begin(TxnMode::write);
    if (auto v = txn->get_setting(kKeySetting); v && v->is_string()) {
      key = v->get<std::string>();
    } else {
      key = crypto::to_hex(crypto::random_bytes(32));
      txn->put_setting(kKeySetting, key);
      txn->commit();
    }
    std::lock_guard<std::mutex> lock(cookie_key_mu_);
    cookie_key_ = key;
  }
  std::string data(user);
  data += '\0';
  data += device;
  return crypto::hmac_sha256_hex(key, data);
}

LoginResult Authenticator::issue_token(StoreTxn& txn, const Session& session, std::int64_t now) {
  LoginResult out;
  out.token = crypto::to_hex(crypto::random_bytes(config::kTokenBytes));
  out.expires_at = now + token_lifetime_;
  out.session = session;
  const std::string hash = crypto::sha256_hex(out.token);
  txn.put_token(Token{hash, session.user, session.device, out.expires_at});
  txn.trim_user_tokens(session.user, config::kMaxTokensPerUser, hash);
  return out;
}

LoginResult Authenticator::login(std::string_view user, std::string_view password,
                                 std::string_view device, std::string_view address,
                                 std::string_view device_cookie_sent) {
  const std::string session_dev = session_device(device);
  // Checked before the password, so a locked name answers the same whether or
  // not the guess was right. A device that signed in as this name before is
  // past the address's lock (A17-5); its failures still count there.
  const bool known_device = !device_cookie_sent.empty() &&
                            crypto::constant_time_equal(device_cookie_sent, device_cookie(user, session_dev));
  check_throttle(user, known_device ? std::string_view() : address);
  std::optional<User> found;
  {
    auto txn = store_.begin(TxnMode::read);
    found = txn->find_user(user);
  }
  const bool ok = verify_password(password, found ? found->password_hash : decoy_hash());
  // A disabled account answers exactly as a wrong password does: otherwise the
  // answer would confirm a guessed password of an account no one watches.
  if (!found || !ok || found->disabled) {
    throttle_.record_failure(user, address, /*account=*/found.has_value());
    throw Error(Errc::unauthorized, tr("wrong user or password, or the account is disabled",
                                       "用户名或密码不对，或账号已停用"));
  }
  throttle_.record_success(found->name);

  const std::int64_t now = now_();
  auto txn = store_.begin(TxnMode::write);
  txn->delete_expired_tokens(now);  // housekeeping, so the table only holds live tokens
  txn->delete_expired_results(now);
  LoginResult out = issue_token(
      *txn, Session{found->name, found->role, session_dev, found->regions, found->scope_version}, now);
  txn->commit();
  out.device_cookie = device_cookie(found->name, session_dev);
  return out;
}

std::optional<std::string> Authenticator::logout(std::string_view authorization) {
  const std::string hash = crypto::sha256_hex(bearer_token(authorization));
  auto txn = store_.begin(TxnMode::write);
  auto stored = txn->find_token(hash);
  if (!stored) return std::nullopt;
  txn->delete_token(hash);
  txn->commit();
  return stored->user;
}

LoginResult Authenticator::change_password(std::string_view authorization, std::string_view current,
                                           std::string_view next, std::string_view address) {
  const Session session = authenticate(authorization);
  check_throttle(session.user, {});
  std::optional<User> user;
  {
    auto txn = store_.begin(TxnMode::read);
    user = txn->find_user(session.user);
  }
  if (!user || !verify_password(current, user->password_hash)) {
    throttle_.record_failure(session.user, address, /*account=*/true);
    throw Error(Errc::forbidden, tr("the current password is wrong", "当前密码不对"));
  }
  throttle_.record_success(session.user);
  check_password_policy(next, session.user, "new_password");
  if (next == current) throw Error(Errc::validation, tr("the new password must differ from the current one", "新密码不能和当前密码一样"));
  const std::string hash = hash_password(next);

  const std::int64_t now = now_();
  auto txn = store_.begin(TxnMode::write);
  auto fresh = txn->find_user(session.user);  // as of this transaction, not of the check
  if (!fresh) throw Error(Errc::unauthorized, tr("missing or expired token: the user no longer exists", "登录凭据已失效：该用户已不存在"));
  fresh->password_hash = hash;
  txn->update_user(*fresh);
  txn->delete_user_tokens(session.user);  // every device, this one included ...
  LoginResult out = issue_token(*txn, session, now);  // ... which gets a fresh token
  txn->commit();
  out.device_cookie = device_cookie(session.user, session.device);
  return out;
}

Session Authenticator::authenticate(std::string_view authorization) {
  const std::string_view token = bearer_token(authorization);
  auto txn = store_.begin(TxnMode::read);
  // Looking up the hash, not the token, means a timing leak in the index lookup
  // reveals nothing about any valid token.
  auto stored = txn->find_token(crypto::sha256_hex(token));
  if (!stored) {
    throw Error(Errc::unauthorized,
                tr("unknown token (logged out, revoked by a password change, or never issued): log in again",
                   "登录凭据无效（已退出、因改密码而作废，或从未签发）：请重新登录"));
  }
  if (stored->expires_at <= now_()) {
    throw Error(Errc::unauthorized, tr("the token expired at " + iso_utc(stored->expires_at) + ": log in again",
                                       "登录凭据已于 " + iso_utc(stored->expires_at) + " 过期：请重新登录"));
  }
  auto user = txn->find_user(stored->user);
  if (!user) throw Error(Errc::unauthorized, tr("missing or expired token: the user no longer exists", "登录凭据已失效：该用户已不存在"));
  if (user->disabled) throw Error(Errc::forbidden, tr("user \"" + user->name + "\" is disabled", "用户“" + user->name + "”已停用"));
  return Session{user->name, user->role, stored->device, user->regions, user->scope_version};
}

}  // namespace kehu::server
