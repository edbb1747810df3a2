#include "http_errors.h"

#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "kehu/lang.h"

namespace kehu::server {

HttpError too_large(const std::string& message) { return HttpError(413, "too_large", message); }

HttpError throttled(const std::string& message, long retry_after_seconds) {
  return HttpError(429, "throttled", message, retry_after_seconds);
}

int http_status(Errc code) noexcept {
  switch (code) {
    case Errc::usage:
    case Errc::validation:
    case Errc::protocol: return 400;
    case Errc::unauthorized: return 401;
    case Errc::forbidden: return 403;
    case Errc::not_found: return 404;
    case Errc::exists: return 409;
    case Errc::storage: return 503;
    case Errc::wrong_passphrase:
    case Errc::io:
    case Errc::network:
    case Errc::server:
    case Errc::internal: return 500;
  }
  return 500;
}

void write_error(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  res.status = status;
  // Replace, so a message with bytes that are not UTF-8 cannot make dump() throw here.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void respond_with_exception(std::exception_ptr error, httplib::Response& res) {
  try {
    std::rethrow_exception(error);
  } catch (const HttpError& e) {
    write_error(res, e.status(), e.code(), e.what());
    if (e.retry_after() > 0) res.set_header("Retry-After", std::to_string(e.retry_after()));
  } catch (const Error& e) {
    const int status = http_status(e.code());
    if (status >= 500) {
      std::fprintf(stderr, "error: %s: %s\n", errc_name(e.code()), e.what());
      // Storage problems are worth telling the client (it retries later); the
      // text of an internal error is for the log, not for the device.
      write_error(res, status, status == 503 ? "storage" : "internal",
                  status == 503 ? tr("the store is busy or failing; retry later", "存储繁忙或出错；请稍后再试")
                                : tr("internal error; the server log has the details", "服务器内部错误；详情见服务器日志"));
    } else {
      write_error(res, status, errc_name(e.code()), e.what());
    }
  } catch (const nlohmann::json::exception& e) {
    // Only request bodies are read as untrusted JSON, so a JSON error is the
    // request's shape being wrong.
    write_error(res, 400, "protocol", tr(std::string("malformed request: ") + e.what(), std::string("请求格式不对：") + e.what()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal: %s\n", e.what());
    write_error(res, 500, "internal",
                tr("internal error; the server log has the details", "服务器内部错误；详情见服务器日志"));
  } catch (...) {
    std::fprintf(stderr, "error: internal: unknown exception\n");
    write_error(res, 500, "internal",
                tr("internal error; the server log has the details", "服务器内部错误；详情见服务器日志"));
  }
}

}  // namespace kehu::server
