// Request bodies sent with Content-Encoding, inflated under a cap.
//
// httplib 0.11 inflates gzip/deflate/br bodies itself with no limit on the
// inflated size (its payload limit counts the bytes sent): a 199 KB gzip body
// became 200 MiB in the server's memory, before login. The pre-routing handler
// therefore moves Content-Encoding aside, httplib stores the bytes as sent (at
// most config::kMaxBodyBytes), and decode_body() inflates them here, stopping at
// the route's cap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kehu::server {

enum class BodyEncoding { identity, gzip, deflate, brotli, unsupported };

// The encoding a Content-Encoding value names ("", "identity", "gzip",
// "x-gzip", "deflate", "br"; case-insensitive). Lists of encodings and anything
// else are `unsupported` (answered 415).
BodyEncoding body_encoding(std::string_view content_encoding);

// `data` inflated. Throws HttpError 413 too_large as soon as the output would
// pass `limit` bytes (never holding more than about `limit` + 64 KiB), and
// Error(protocol) if `data` is not one complete stream of `encoding` or has
// bytes after it. REQUIRES: encoding is not `unsupported`.
std::string decode_body(std::string_view data, BodyEncoding encoding, std::size_t limit);

}  // namespace kehu::server
