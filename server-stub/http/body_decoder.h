// Request bodies sent with Content-Encoding, inflated under a cap.
//
// httplib 0.11 inflates gzip/deflate/br bodies itself with no limit on the
// inflated size (its payload limit counts the bytes sent): a 199 KB gzip body
// became 200 MiB in the server's memory, before login. The pre-routing handler
// therefore moves Content-Encoding aside, httplib stores the bytes as sent (at
// most config::kMaxBodyBytes), and decode_body() inflates them here, stopping at
// the route's cap.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>

namespace kehu::server {

// The bytes of request bodies the whole process holds at once, as sent and as
// inflated: every worker may hold a 32 MiB body, and 512 workers could then
// hold 16 GiB. A request whose body would take the total past the capacity is
// answered 503 busy (Retry-After: 1) and its body dropped. Thread-safe.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t capacity) : capacity_(capacity) {}
  // What one request holds; given back when it ends.
  class Hold {
   public:
    explicit Hold(BodyBudget& budget) : budget_(budget) {}
    ~Hold() { budget_.used_.fetch_sub(held_); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    // Takes `n` more bytes, or throws HttpError 503 busy. `keep_free`: bytes of
    // the capacity that must stay free after it (what large bodies leave to
    // small ones).
    void grow(std::size_t n, std::size_t keep_free = 0);
    std::size_t held() const { return held_; }

   private:
    BodyBudget& budget_;
    std::size_t held_ = 0;
  };
  std::size_t used() const { return used_.load(); }

 private:
  const std::size_t capacity_;
  std::atomic<std::size_t> used_{0};
};

// The hold of the request this thread serves, taken in the pre-routing handler
// (before httplib reads the body) and charged with its Content-Length then, so
// a body still arriving counts too: a client trickling 32 MiB holds its bytes
// of the budget, not memory beside it. A body above
// config::kLargeBodyBytes must leave config::kSmallBodyReserve of the budget
// free, so stalled large uploads cannot turn ordinary requests away. Throws
// HttpError 503 busy. Ends with end_request_body() (the connection loop calls it
// after each request, answered or not).
BodyBudget::Hold& reserve_request_body(BodyBudget& budget, std::size_t content_length);
// The current request's hold, or null if none was reserved.
BodyBudget::Hold* request_body_hold();
// Gives the current request's hold back. Safe to call twice.
void end_request_body();

enum class BodyEncoding { identity, gzip, deflate, brotli, unsupported };

// The encoding a Content-Encoding value names ("", "identity", "gzip",
// "x-gzip", "deflate", "br"; case-insensitive). Lists of encodings and anything
// else are `unsupported` (answered 415).
BodyEncoding body_encoding(std::string_view content_encoding);

// `data` inflated. Throws HttpError 413 too_large as soon as the output would
// pass `limit` bytes (never holding more than about `limit` + 64 KiB), and
// Error(protocol) if `data` is not one complete stream of `encoding` or has
// bytes after it. REQUIRES: encoding is not `unsupported`.
// Each block inflated is first taken from `hold`.
std::string decode_body(std::string_view data, BodyEncoding encoding, std::size_t limit, BodyBudget::Hold& hold);

}  // namespace kehu::server
