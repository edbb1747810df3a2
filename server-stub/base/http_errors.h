// The one place where errors become HTTP responses (docs/protocol.md "Errors").
//
// Code below the HTTP layer throws kehu::Error; respond_with_exception() maps its
// Errc to a status and writes {"error": {"code", "message"}}. A refusal that has
// no Errc (413 too_large, 429 throttled) is an HttpError. Anything else is a bug:
// 500 internal, logged with its message, and the server keeps serving.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include "kehu/error.h"

namespace httplib {
struct Response;
}

namespace kehu::server {

// A refusal made by the HTTP layer itself, with its own status and code.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string code, const std::string& message, long retry_after_seconds = 0)
      : std::runtime_error(message), status_(status), code_(std::move(code)), retry_after_(retry_after_seconds) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  // Seconds for a "Retry-After" header; 0: none.
  long retry_after() const noexcept { return retry_after_; }

 private:
  int status_;
  std::string code_;
  long retry_after_;
};

// 413 too_large, for a body or a batch over the limit.
HttpError too_large(const std::string& message);

// 429 throttled, with Retry-After: too many failed logins (login_throttle.h).
HttpError throttled(const std::string& message, long retry_after_seconds);

// The HTTP status for an error code: validation/protocol/usage 400,
// unauthorized 401, forbidden 403, not_found 404, exists 409, storage 503
// (busy or failing store: retry later), everything else 500.
int http_status(Errc code) noexcept;

// Writes {"error": {"code": code, "message": message}} with `status`.
void write_error(httplib::Response& res, int status, std::string_view code, std::string_view message);

// Rethrows `error` and answers it as above. Never throws.
void respond_with_exception(std::exception_ptr error, httplib::Response& res);

}  // namespace kehu::server
