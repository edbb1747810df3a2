// The few OpenSSL primitives the server needs, behind plain functions. Every
// OpenSSL return code goes through check_ssl(); failures throw Error(internal)
// with OpenSSL's reason (they mean a broken library or no entropy, not bad input).
//
// Thread-safety: all functions are safe to call from any thread (OpenSSL 1.1+).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kehu::server::crypto {

// Throws Error(internal) naming `what` and OpenSSL's error unless ret == 1.
void check_ssl(int ret, const char* what);

// Lower-case hex of bytes, and back. from_hex throws Error(validation) on odd
// length or a non-hex digit.
std::string to_hex(std::string_view bytes);
std::string from_hex(std::string_view hex);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// `n` bytes from the OS-seeded CSPRNG (RAND_bytes).
std::string random_bytes(std::size_t n);

// PBKDF2-HMAC-SHA256 of password and salt, `length` bytes.
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations,
                          std::size_t length);

// Lower-case hex HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Compares in time that depends only on the length (CRYPTO_memcmp), so a wrong
// guess does not reveal how many leading bytes were right.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace kehu::server::crypto
