#include "body_decoder.h"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

#include "http_errors.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "server_config.h"

namespace kehu::server {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

HttpError inflated_too_large(std::size_t limit) {
  return too_large(tr("request body inflates to more than " + std::to_string(limit) + " bytes",
                      "请求体解压后超过 " + std::to_string(limit) + " 字节"));
}

void append_capped(std::string& out, const char* data, std::size_t n, std::size_t limit, BodyBudget::Hold& hold) {
  if (n > limit - out.size()) throw inflated_too_large(limit);
  hold.grow(n);
  out.append(data, n);
}

// zlib's windowBits: 15 + 16 reads a gzip stream only; 15 a zlib stream only
// (HTTP's "deflate" is zlib-wrapped, RFC 9110 8.4.1.2). Each body is what its
// Content-Encoding says, or it is refused.
constexpr int kGzipBits = 15 + 16;
constexpr int kZlibBits = 15;

struct ZStream {
  z_stream z{};
  explicit ZStream(int window_bits) {
    if (inflateInit2(&z, window_bits) != Z_OK) throw Error(Errc::internal, "zlib inflateInit2 failed");
  }
  ~ZStream() { inflateEnd(&z); }
  ZStream(const ZStream&) = delete;
  ZStream& operator=(const ZStream&) = delete;
};

std::string inflate_zlib(std::string_view data, std::size_t limit, int window_bits, const char* name,
                         BodyBudget::Hold& hold) {
  ZStream s(window_bits);
  std::string out;
  char buf[kChunk];
  s.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  // Bodies are at most config::kMaxBodyBytes, far below uInt's range.
  s.z.avail_in = static_cast<uInt>(std::min<std::size_t>(data.size(), 0xFFFFFFFFu));
  for (;;) {
    s.z.next_out = reinterpret_cast<Bytef*>(buf);
    s.z.avail_out = sizeof buf;
    const int rc = inflate(&s.z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      throw Error(Errc::protocol, tr(std::string("body is not valid ") + name + " data", std::string("请求体不是有效的 ") + name + " 数据"));
    }
    append_capped(out, buf, sizeof buf - s.z.avail_out, limit, hold);
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR || (s.z.avail_in == 0 && s.z.avail_out != 0)) {
      throw Error(Errc::protocol, tr(std::string("body ends inside its ") + name + " stream", std::string("请求体在 ") + name + " 数据流中途结束"));
    }
  }
  if (s.z.avail_in != 0) throw Error(Errc::protocol, tr(std::string("bytes after the end of the ") + name + " body", std::string(name) + " 请求体结束后还有多余字节"));
  return out;
}

struct BrotliFree {
  void operator()(BrotliDecoderState* s) const { BrotliDecoderDestroyInstance(s); }
};

std::string inflate_brotli(std::string_view data, std::size_t limit, BodyBudget::Hold& hold) {
  std::unique_ptr<BrotliDecoderState, BrotliFree> state(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr));
  if (!state) throw Error(Errc::internal, "BrotliDecoderCreateInstance failed");
  std::string out;
  char buf[kChunk];
  const auto* in = reinterpret_cast<const uint8_t*>(data.data());
  std::size_t in_left = data.size();
  for (;;) {
    auto* next_out = reinterpret_cast<uint8_t*>(buf);
    std::size_t out_left = sizeof buf;
    const BrotliDecoderResult rc =
        BrotliDecoderDecompressStream(state.get(), &in_left, &in, &out_left, &next_out, nullptr);
    if (rc == BROTLI_DECODER_RESULT_ERROR) throw Error(Errc::protocol, tr("body is not valid br data", "请求体不是有效的 br 数据"));
    append_capped(out, buf, sizeof buf - out_left, limit, hold);
    if (rc == BROTLI_DECODER_RESULT_SUCCESS) break;
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) throw Error(Errc::protocol, tr("body ends inside its br stream", "请求体在 br 数据流中途结束"));
  }
  if (in_left != 0) throw Error(Errc::protocol, tr("bytes after the end of the br body", "br 请求体结束后还有多余字节"));
  return out;
}

}  // namespace

BodyEncoding body_encoding(std::string_view value) {
  std::string v;
  for (char c : value) {
    if (c != ' ' && c != '\t') v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (v.empty() || v == "identity") return BodyEncoding::identity;
  if (v == "gzip" || v == "x-gzip") return BodyEncoding::gzip;
  if (v == "deflate") return BodyEncoding::deflate;
  if (v == "br") return BodyEncoding::brotli;
  return BodyEncoding::unsupported;
}

std::string mib(std::size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

namespace {

HttpError too_many_answers(const std::string& client) {
  const std::string who = client.substr(client.find(':') + 1);
  return HttpError(429, "too_many_answers",
                   tr("at most " + mib(config::kMaxAnswerBytesPerClient) +
                          " of large answers may be on their way per user or address; " + who +
                          " has that many being read already: retry when they are done",
                      "每个用户或地址同时最多接收 " + mib(config::kMaxAnswerBytesPerClient) + " 的大应答；" + who +
                          " 已有这么多正在接收：请在它们完成后重试"),
                   /*retry_after_seconds=*/1);
}

}  // namespace

void BodyBudget::Hold::grow(std::size_t n, std::size_t keep_free) {
  std::size_t used = budget_.used_.load();
  do {
    const std::size_t free = budget_.capacity_ - std::min(used, budget_.capacity_);
    if (n > free || free - n < keep_free) {
      throw HttpError(503, "busy",
                      tr("the server holds its limit of request bodies at once (" + mib(budget_.capacity_) +
                             " in flight, " + mib(keep_free) + " of it kept for smaller requests); retry in a moment",
                         "服务器同时处理的请求体已达上限（" + mib(budget_.capacity_) + "，其中 " + mib(keep_free) +
                             " 留给较小的请求）；请稍后重试"),
                      /*retry_after_seconds=*/1);
    }
  } while (!budget_.used_.compare_exchange_weak(used, used + n));
  held_ += n;
}

void BodyBudget::Hold::take_share(const std::string& client, std::size_t content_length) {
  const bool large = content_length > config::kLargeBodyBytes;
  std::lock_guard<std::mutex> lock(budget_.shares_mu_);
  Share& share = budget_.shares_[client];
  const bool over = large ? share.large >= config::kMaxLargeBodiesPerClient
                          : share.small_bytes + content_length > config::kMaxSmallBodyBytesPerClient;
  if (over) {
    if (share.empty()) budget_.shares_.erase(client);
    const std::string who = client.substr(client.find(':') + 1);
    throw HttpError(
        429, "too_many_uploads",
        large ? tr("at most " + std::to_string(config::kMaxLargeBodiesPerClient) + " request body above " +
                       mib(config::kLargeBodyBytes) + " may be in flight per user or address; " + who +
                       " has one arriving already: retry when it is done",
                   "每个用户或地址同时最多上传 " + std::to_string(config::kMaxLargeBodiesPerClient) + " 个超过 " +
                       mib(config::kLargeBodyBytes) + " 的请求体；" + who + " 已有一个正在上传：请在它完成后重试")
              : tr("at most " + mib(config::kMaxSmallBodyBytesPerClient) +
                       " of request bodies may be in flight per user or address; " + who +
                       " has that many arriving already: retry in a moment",
                   "每个用户或地址同时上传的请求体最多 " + mib(config::kMaxSmallBodyBytesPerClient) + "；" + who +
                       " 已达上限：请稍后重试"),
        /*retry_after_seconds=*/1);
  }
  if (large) {
    ++share.large;
  } else {
    share.small_bytes += content_length;
  }
  client_ = client;
  large_ = large;
  small_bytes_ = large ? 0 : content_length;
}

void BodyBudget::Hold::take_answer_share(const std::string& client, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(budget_.shares_mu_);
  Share& share = budget_.shares_[client];
  if (share.answer_bytes > 0 && share.answer_bytes + bytes > config::kMaxAnswerBytesPerClient) {
    if (share.empty()) budget_.shares_.erase(client);
    throw too_many_answers(client);
  }
  share.answer_bytes += bytes;
  answer_client_ = client;
  answer_bytes_ = bytes;
}

void BodyBudget::require_answer_share(const std::string& client) {
  std::lock_guard<std::mutex> lock(shares_mu_);
  auto it = shares_.find(client);
  if (it != shares_.end() && it->second.answer_bytes >= config::kMaxAnswerBytesPerClient) {
    throw too_many_answers(client);
  }
}

BodyBudget::Hold::~Hold() {
  budget_.used_.fetch_sub(held_);
  if (client_.empty() && answer_client_.empty()) return;
  std::lock_guard<std::mutex> lock(budget_.shares_mu_);
  auto release = [&](const std::string& client, auto&& give_back) {
    if (client.empty()) return;
    auto it = budget_.shares_.find(client);
    if (it == budget_.shares_.end()) return;
    give_back(it->second);
    if (it->second.empty()) budget_.shares_.erase(it);
  };
  release(client_, [&](Share& s) {
    if (large_) {
      --s.large;
    } else {
      s.small_bytes -= std::min(s.small_bytes, small_bytes_);
    }
  });
  release(answer_client_, [&](Share& s) { s.answer_bytes -= std::min(s.answer_bytes, answer_bytes_); });
}

namespace {
thread_local std::optional<BodyBudget::Hold> t_request_hold;
}  // namespace

BodyBudget::Hold& reserve_request_body(BodyBudget& budget, std::size_t content_length, const std::string& client) {
  t_request_hold.reset();
  BodyBudget::Hold& hold = t_request_hold.emplace(budget);
  try {
    hold.take_share(client, content_length);
    hold.grow(content_length, content_length > config::kLargeBodyBytes  ? config::kSmallBodyReserve
                              : content_length > config::kTinyBodyBytes ? config::kTinyBodyReserve
                                                                        : 0);
  } catch (...) {
    t_request_hold.reset();
    throw;
  }
  return hold;
}

BodyBudget::Hold* request_body_hold() { return t_request_hold ? &*t_request_hold : nullptr; }

void end_request_body() { t_request_hold.reset(); }

void reserve_answer(BodyBudget& budget, const std::string& client, std::size_t bytes) {
  BodyBudget::Hold& hold = t_request_hold ? *t_request_hold : t_request_hold.emplace(budget);
  hold.take_answer_share(client, bytes);
  try {
    hold.grow(bytes, bytes > config::kLargeBodyBytes ? config::kSmallBodyReserve
                     : bytes > config::kTinyBodyBytes ? config::kTinyBodyReserve
                                                       : 0);
  } catch (const HttpError&) {
    throw HttpError(503, "busy",
                    tr("the server is sending its limit of large answers at once (" + mib(budget.capacity()) +
                           " with request bodies); retry in a moment",
                       "服务器同时发送的大应答已达上限（连同请求体共 " + mib(budget.capacity()) + "）；请稍后重试"),
                    /*retry_after_seconds=*/1);
  }
}

std::string decode_body(std::string_view data, BodyEncoding encoding, std::size_t limit, BodyBudget::Hold& hold) {
  switch (encoding) {
    case BodyEncoding::identity:
      if (data.size() > limit) throw too_large(tr("request body above " + std::to_string(limit) + " bytes",
                                                          "请求体超过 " + std::to_string(limit) + " 字节"));
      return std::string(data);
    case BodyEncoding::gzip: return inflate_zlib(data, limit, kGzipBits, "gzip", hold);
    case BodyEncoding::deflate: return inflate_zlib(data, limit, kZlibBits, "deflate", hold);
    case BodyEncoding::brotli: return inflate_brotli(data, limit, hold);
    case BodyEncoding::unsupported: break;
  }
  throw HttpError(415, "unsupported_encoding", tr("unsupported Content-Encoding", "不支持的 Content-Encoding"));
}

}  // namespace kehu::server
