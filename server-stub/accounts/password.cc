#include "password.h"

#include <charconv>
#include <vector>

#include "crypto.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/secret_rules.h"
#include "server_config.h"

namespace kehu::server {

namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

void check_password_policy(std::string_view password, std::string_view user, std::string_view field) {
  static_assert(config::kMinPasswordLength == kMinSecretChars, "one rule for server and CLI");
  // In the message language: the field's JSON key in English, its name in Chinese.
  const Lang lang = message_lang();
  const std::string name =
      lang == Lang::zh ? (field == "new_password" ? "新密码 (new_password)" : "密码 (password)") : std::string(field);
  check_new_secret(password, name, user, lang);
}

std::string hash_password(std::string_view password) {
  const std::string salt = crypto::random_bytes(config::kSaltBytes);
  const std::string key =
      crypto::pbkdf2_sha256(password, salt, config::kPbkdf2Iterations, config::kPasswordHashBytes);
  return std::string(kScheme) + "$" + std::to_string(config::kPbkdf2Iterations) + "$" +
         crypto::to_hex(salt) + "$" + crypto::to_hex(key);
}

bool verify_password(std::string_view password, std::string_view encoded) {
  const auto parts = split(encoded, '$');
  if (parts.size() != 4 || parts[0] != kScheme) return false;
  int iterations = 0;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || iterations < 1) return false;
  std::string salt, expected;
  try {
    salt = crypto::from_hex(parts[2]);
    expected = crypto::from_hex(parts[3]);
  } catch (const Error&) {
    return false;
  }
  if (expected.empty()) return false;
  const std::string actual = crypto::pbkdf2_sha256(password, salt, iterations, expected.size());
  return crypto::constant_time_equal(actual, expected);
}

}  // namespace kehu::server
