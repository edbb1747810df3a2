// The rules a new secret must follow: a user's password on the server and the
// passphrase of an encrypted replica (DESIGN.md "Users and access", "Client
// encryption at rest").
//
//   * at least kMinSecretChars characters, counted as UTF-8 code points (八个汉字
//     are as many characters as eight letters, though they take 24 bytes);
//   * not one of the few hundred most common passwords (an English and a
//     Chinese-context list: 123456, 888888, 5201314, woaini, qwerty, password,
//     ...), compared without case, also with trailing digits and punctuation
//     taken off ("Password2024!" is "password");
//   * not one character repeated, not a run of consecutive digits;
//   * for passwords, not the user's own name, and not containing it when the name
//     has 3 characters or more.
//
// The rules apply where a secret is set (kehu-server user add / set-password,
// POST /v1/passwd, kehu passwd, kehu init, kehu rekey), never where one is
// checked: an old secret keeps working.
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "kehu/schema.h"

namespace kehu {

inline constexpr std::size_t kMinSecretChars = 8;
// A login body is at most 16 KiB: a longer password could never be used.
inline constexpr std::size_t kMaxSecretBytes = 1024;

// The number of UTF-8 code points of `s` (each byte that does not continue a
// sequence counts one, so invalid UTF-8 still gets a count).
std::size_t utf8_chars(std::string_view s);

// Whether `secret` is on the built-in list of common passwords (see above).
bool is_common_secret(std::string_view secret);

// Throws Error(validation) if `secret` breaks a rule above. The message names
// `field` (say "new password" or "新密码", in `lang`) and the rule, in `lang`,
// and never the secret itself. `user` is the account's name ("" for a replica
// passphrase, which then skips the name rule).
void check_new_secret(std::string_view secret, std::string_view field, std::string_view user, Lang lang);

}  // namespace kehu
