// A small JSON-over-HTTP client on libcurl: one reused easy handle (keep-alive),
// gzip, timeouts, TLS verification on by default (the server's certificate must
// chain to the system's CAs or to HttpOptions::ca_file, and name the URL's host).
//
// Not thread-safe: one HttpClient per thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kehu/error.h"
#include "kehu/record.h"

namespace kehu::sync {

// The server's TLS certificate was refused (not trusted, wrong host, unusable
// CA file) or the handshake failed. Errc::network, but retrying cannot help, so
// callers that retry network errors give up at once on this one. The message
// says what is wrong and what to do ("pass --ca-file ...").
class TlsError : public Error {
 public:
  explicit TlsError(const std::string& message) : Error(Errc::network, message) {}
};

// A request abandoned because its `interrupted` callback said so (post()).
class Interrupted : public Error {
 public:
  Interrupted() : Error(Errc::network, "interrupted") {}
};

struct HttpOptions {
  std::string ca_file;          // extra CA bundle to trust (self-signed team servers)
  bool insecure = false;        // skip certificate checks: development only
  long connect_timeout_s = 10;
  long timeout_s = 120;         // whole request; a 500-record page takes well under this
  // A request that receives nothing for this long is given up (0: never):
  // a server that hangs, or a link that drops without a reset, is noticed
  // (walkthrough 16, W16-8). Above a waiting pull's wait.
  long stall_timeout_s = 0;
};

struct HttpResponse {
  long status = 0;
  json body;                    // parsed JSON (null if the body was empty)
  long retry_after_s = 0;       // a Retry-After header in seconds (0: none)
};

class HttpClient {
 public:
  HttpClient(std::string base_url, HttpOptions opts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void set_token(std::string token) { token_ = std::move(token); }

  // Sends `body` as JSON. Returns the status and the parsed body for any HTTP
  // answer (4xx/5xx included). Throws TlsError when the server's certificate is
  // refused, Error(network) when no answer arrived (connect failure, timeout, an
  // answer cut off — the message says which), and Error(protocol) when the
  // answer is not JSON.
  HttpResponse post(const std::string& path, const json& body);
  // The same, abandoned when `interrupted` returns true: libcurl polls it about
  // once a second while the request is in flight, and at each part of the
  // answer. Throws Interrupted then. It runs on the calling thread.
  HttpResponse post(const std::string& path, const json& body, const std::function<bool()>& interrupted);
  HttpResponse get(const std::string& path);

 private:
  HttpResponse perform(const std::string& path, const std::string* body,
                       const std::function<bool()>* interrupted = nullptr);
  struct Curl;
  std::unique_ptr<Curl> curl_;
  std::string base_url_;
  std::string token_;
  HttpOptions opts_;
};

}  // namespace kehu::sync
