// A small JSON-over-HTTP client on libcurl: one reused easy handle (keep-alive),
// gzip, timeouts, TLS verification on by default.
//
// Not thread-safe: one HttpClient per thread.
#pragma once

#include <memory>
#include <string>

#include "kehu/record.h"

namespace kehu::sync {

struct HttpOptions {
  std::string ca_file;          // extra CA bundle to trust (self-signed team servers)
  bool insecure = false;        // skip certificate checks: development only
  long connect_timeout_s = 10;
  long timeout_s = 120;         // whole request; a 500-record page takes well under this
};

struct HttpResponse {
  long status = 0;
  json body;                    // parsed JSON (null if the body was empty)
};

class HttpClient {
 public:
  HttpClient(std::string base_url, HttpOptions opts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void set_token(std::string token) { token_ = std::move(token); }

  // Sends `body` as JSON. Returns the status and the parsed body for any HTTP
  // answer (4xx/5xx included). Throws Error(network) when no answer arrived
  // (connect failure, timeout, TLS failure, an answer cut off — the message says
  // which), and Error(protocol) when the answer is not JSON.
  HttpResponse post(const std::string& path, const json& body);
  HttpResponse get(const std::string& path);

 private:
  HttpResponse perform(const std::string& path, const std::string* body);
  struct Curl;
  std::unique_ptr<Curl> curl_;
  std::string base_url_;
  std::string token_;
  HttpOptions opts_;
};

}  // namespace kehu::sync
