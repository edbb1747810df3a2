// One error vocabulary for the whole product.
//
// Code inside core/, sync/ and the server throws kehu::Error. The edges convert
// it exactly once: the CLI maps Errc to an exit code (exit_code()), the server
// maps it to an HTTP status (see server-stub/base/http_errors.cc).
#pragma once

#include <stdexcept>
#include <string>

namespace kehu {

enum class Errc {
  usage,             // bad command line
  validation,        // a value breaks a field rule; message names field, value, rule
  not_found,         // no such record / file / user
  wrong_passphrase,  // the replica cannot be decrypted with this key
  exists,            // would overwrite something that is there
  storage,           // SQLite / SQLCipher failure
  io,                // file system
  network,           // cannot reach the server, timeouts
  unauthorized,      // missing/expired token, bad password
  forbidden,         // authenticated but not allowed
  protocol,          // malformed request/response
  server,            // the server answered 5xx
  internal,          // a bug
};

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

// Stable lower-case name of a code, used in JSON errors ("validation", ...).
const char* errc_name(Errc code) noexcept;

// Exit code for the CLI: 2 for usage and validation errors, 1 otherwise.
inline int exit_code(Errc code) noexcept {
  return (code == Errc::usage || code == Errc::validation) ? 2 : 1;
}

}  // namespace kehu
