// What the TLS handshake saw of the server's certificate, so that a refused
// certificate can be explained in the words a user can act on ("not trusted:
// pass --ca-file", "for host X, not Y") rather than as libcurl's error code.
//
// libcurl (OpenSSL backend) hands its SSL_CTX to a callback before each
// handshake; TlsPeer adds an OpenSSL verify callback there that only watches:
// it records the first reason the chain was refused, and the leaf
// certificate's names and issuer, and returns OpenSSL's own verdict unchanged.
// With another TLS backend install() returns false and the description falls
// back to libcurl's error text.
//
// Not thread-safe: one TlsPeer per CURL handle, used by one request at a time.
#pragma once

#include <curl/curl.h>

#include <string>
#include <vector>

struct x509_store_ctx_st;  // OpenSSL's X509_STORE_CTX

namespace kehu::sync {

class TlsPeer {
 public:
  // Hooks into `handle` (CURLOPT_SSL_CTX_FUNCTION). The TlsPeer must outlive
  // the handle's requests.
  bool install(CURL* handle);
  // Forgets what the previous request saw.
  void reset();

  // Why a failed TLS request failed, as one sentence for "refused URL: ...".
  // `host` is the host name the client asked for, `ca_file` the extra CA (or "").
  std::string describe(CURLcode code, const std::string& curl_error, const std::string& host,
                       const std::string& ca_file) const;

  // Filled in by the verify callback.
  struct Seen {
    bool leaf = false;               // the leaf certificate was seen
    std::string untrusted;           // OpenSSL's reason the chain was refused ("" if none)
    bool host_mismatch = false;      // OpenSSL itself refused the host name
    std::vector<std::string> names;  // the leaf's DNS and IP subject alt names, else its CN
    std::string issuer;              // the leaf issuer's CN (else the whole name)
  };
  Seen seen;
  int (*previous_verify)(int, x509_store_ctx_st*) =
      nullptr;  // a verify callback libcurl set, chained to
};

}  // namespace kehu::sync
