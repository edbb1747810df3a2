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

void BodyBudget::Hold::grow(std::size_t n, std::size_t keep_free) {
  std::size_t used = budget_.used_.load();
  do {
    const std::size_t free = budget_.capacity_ - std::min(used, budget_.capacity_);
    if (n > free || free - n < keep_free) {
      throw HttpError(503, "busy",
                      tr("the server holds too many large request bodies at once; retry in a moment",
                         "服务器同时处理的大请求太多；请稍后重试"),
                      /*retry_after_seconds=*/1);
    }
  } while (!budget_.used_.compare_exchange_weak(used, used + n));
  held_ += n;
}

namespace {
thread_local std::optional<BodyBudget::Hold> t_request_hold;
}  // namespace

BodyBudget::Hold& reserve_request_body(BodyBudget& budget, std::size_t content_length) {
  t_request_hold.emplace(budget);
  t_request_hold->grow(content_length,
                       content_length > config::kLargeBodyBytes ? config::kSmallBodyReserve : 0);
  return *t_request_hold;
}

BodyBudget::Hold* request_body_hold() { return t_request_hold ? &*t_request_hold : nullptr; }

void end_request_body() { t_request_hold.reset(); }

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
