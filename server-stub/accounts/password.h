// Password hashing: PBKDF2-HMAC-SHA256 with a random 16-byte salt (DESIGN.md
// "Users and access"). A hash is stored as one self-describing string,
//
//   pbkdf2-sha256$<iterations>$<salt hex>$<derived key hex>
//
// so the work factor can be raised for new passwords without breaking old ones.
#pragma once

#include <string>
#include <string_view>

namespace kehu::server {

// Throws Error(validation) for a new password of `user` that breaks the rules of
// kehu/secret_rules.h (at least config::kMinPasswordLength characters, not a
// common password, not the user's name). `field` names it in the message
// ("password", or "new_password" for POST /v1/passwd); the message never holds
// the password.
void check_password_policy(std::string_view password, std::string_view user,
                           std::string_view field = "password");

// A fresh hash of `password` with a new salt and config::kPbkdf2Iterations.
std::string hash_password(std::string_view password);

// True if `password` matches `encoded`. False for a mismatch and for an encoding
// this code does not understand (never throws for bad input). Takes as long as
// the stored work factor, whatever the outcome.
bool verify_password(std::string_view password, std::string_view encoded);

}  // namespace kehu::server
