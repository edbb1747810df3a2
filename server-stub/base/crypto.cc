#include "crypto.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server::crypto {

void check_ssl(int ret, const char* what) {
  if (ret == 1) return;
  char reason[256] = "unknown error";
  if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  throw Error(Errc::internal, std::string(what) + " failed: " + reason);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0x0f]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) throw Error(Errc::validation, tr("hex string of odd length", "十六进制字符串长度为奇数"));
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) throw Error(Errc::validation, tr("not a hex string", "不是十六进制字符串"));
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  check_ssl(EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr), "SHA-256");
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  check_ssl(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)),
            "RAND_bytes");
  return out;
}

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations,
                          std::size_t length) {
  std::string out(length, '\0');
  check_ssl(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                              reinterpret_cast<const unsigned char*>(salt.data()),
                              static_cast<int>(salt.size()), iterations, EVP_sha256(),
                              static_cast<int>(length), reinterpret_cast<unsigned char*>(out.data())),
            "PBKDF2");
  return out;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const unsigned char* done = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                   reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  check_ssl(done != nullptr ? 1 : 0, "HMAC");
  return to_hex(std::string_view(reinterpret_cast<const char*>(mac), len));
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kehu::server::crypto
