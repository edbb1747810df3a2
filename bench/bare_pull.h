// B4's baseline: the server's pull responses fetched as cheaply as a client can —
// one libcurl handle (keep-alive), the same page size, Accept-Encoding gzip, the
// body decompressed and thrown away. Only `more` and `next_cursor` are read, with
// a string search, so the loop costs what HTTP and gzip cost and nothing more.
#pragma once

#include <cstdint>
#include <string>

namespace kehu::bench {

struct BarePullResult {
  double seconds = 0;
  std::int64_t pages = 0;
  std::int64_t wire_bytes = 0;  // as received (gzip)
  std::int64_t body_bytes = 0;  // after decompression
};

// POST /v1/login; returns the token. Throws Error(network/unauthorized).
std::string bare_login(const std::string& base_url, const std::string& user,
                       const std::string& password);

// Pulls every page from cursor "0" with `limit` revisions per page.
// Throws Error(network) on a transport error or a non-200 answer.
BarePullResult bare_pull_all(const std::string& base_url, const std::string& token, int limit);

}  // namespace kehu::bench
