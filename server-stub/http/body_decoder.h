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
#include <mutex>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kehu::server {

// The bytes of request bodies the whole process holds at once, as sent and as
// inflated: every worker may hold a 32 MiB body, and 512 workers could then
// hold 16 GiB. A request whose body would take the total past the capacity is
// answered 503 busy (Retry-After: 1) and its body dropped. Besides the total,
// each client (a user, or the address of a login) has its share: at most
// config::kMaxLargeBodiesPerClient bodies above config::kLargeBodyBytes and
// config::kMaxSmallBodyBytesPerClient bytes of smaller ones in flight (429
// too_many_uploads). Thread-safe.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t capacity) : capacity_(capacity) {}
  // What one request holds; given back when it ends.
  class Hold {
   public:
    explicit Hold(BodyBudget& budget) : budget_(budget) {}
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    // Takes `n` more bytes, or throws HttpError 503 busy. `keep_free`: bytes of
    // the capacity that must stay free after it (what large bodies leave to
    // small ones).
    void grow(std::size_t n, std::size_t keep_free = 0);
    // Charges `content_length` to `client`'s share (before grow()), or throws
    // HttpError 429 too_many_uploads naming the share. Once per hold.
    void take_share(const std::string& client, std::size_t content_length);
    // Charges an answer of `bytes` to `client`'s share of answers in flight
    // (config::kMaxAnswerBytesPerClient; one answer always fits), or throws
    // HttpError 429 too_many_answers. Once per hold.
    void take_answer_share(const std::string& client, std::size_t bytes);
    std::size_t held() const { return held_; }

   private:
    BodyBudget& budget_;
    std::size_t held_ = 0;
    std::string client_;        // "" if take_share() was not called
    bool large_ = false;
    std::size_t small_bytes_ = 0;
    std::string answer_client_;  // "" if take_answer_share() was not called
    std::size_t answer_bytes_ = 0;
  };
  std::size_t used() const { return used_.load(); }
  std::size_t capacity() const { return capacity_; }
  // Throws HttpError 429 too_many_answers when `client` has its whole share of
  // answers in flight: a request of theirs is refused before its answer is built.
  void require_answer_share(const std::string& client);

 private:
  struct Share {
    std::size_t large = 0;         // bodies above config::kLargeBodyBytes in flight
    std::size_t small_bytes = 0;   // bytes of the smaller ones
    std::size_t answer_bytes = 0;  // answers above config::kTinyBodyBytes being written
    bool empty() const { return large == 0 && small_bytes == 0 && answer_bytes == 0; }
  };
  const std::size_t capacity_;
  std::atomic<std::size_t> used_{0};
  std::mutex shares_mu_;
  std::unordered_map<std::string, Share> shares_;
};

// The hold of the request this thread serves, taken in the pre-routing handler
// (before httplib reads the body) and charged with its Content-Length then, so
// a body still arriving counts too: a client trickling 32 MiB holds its bytes
// of the budget, not memory beside it. `client` ("user:NAME" or "address:IP")
// is charged its share first (429 too_many_uploads). A body above
// config::kLargeBodyBytes must leave config::kSmallBodyReserve of the budget
// free and one above config::kTinyBodyBytes config::kTinyBodyReserve, so stalled
// uploads cannot turn logins and ordinary requests away. Throws HttpError 503
// busy. Ends with end_request_body() (the connection loop calls it after each
// request, answered or not).
BodyBudget::Hold& reserve_request_body(BodyBudget& budget, std::size_t content_length, const std::string& client);
// The current request's hold, or null if none was reserved.
BodyBudget::Hold* request_body_hold();
// Gives the current request's hold back. Safe to call twice.
void end_request_body();

// Charges an answer of `bytes` to the current request's hold (taking one if it
// has none), where it stays while httplib writes the answer, until
// end_request_body(): a slow reader of a large answer (a pull page) holds its
// bytes of the budget, so 60 slow readers of 8 MiB pages no longer hold 0.5 GiB
// beside it (attacker review 13, A13-8). `client` ("user:NAME" or
// "address:IP") is charged its share first (429 too_many_answers), so one
// user's slow readers cannot take the budget from everyone (attacker review
// 15, A15-2). An answer above
// config::kLargeBodyBytes leaves config::kSmallBodyReserve free, as a large
// request body does. Throws HttpError 503 busy (Retry-After: 1) when it does not
// fit; the client asks again.
void reserve_answer(BodyBudget& budget, const std::string& client, std::size_t bytes);

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
