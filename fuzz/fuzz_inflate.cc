// The server's bounded inflater (server-stub/http/body_decoder.h), which reads request
// bodies before anyone is authenticated (POST /v1/login).
//
// Input: byte 0 picks the Content-Encoding (gzip, deflate, br, identity) and the
// cap (1 KiB to 1 MiB); the rest is the body as sent.
//
// The contract checked: decode_body() returns at most the cap, or throws
// HttpError 413 or Error(protocol); it never holds much more than the cap (the
// sanitizer's RSS limit catches an inflater that runs past it), never crashes,
// never loops.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "body_decoder.h"
#include "http_errors.h"
#include "kehu/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kehu::server::BodyEncoding;
  if (size < 1) return 0;
  constexpr BodyEncoding kEncodings[] = {BodyEncoding::gzip, BodyEncoding::deflate, BodyEncoding::brotli,
                                         BodyEncoding::identity};
  const BodyEncoding encoding = kEncodings[data[0] & 3];
  const std::size_t limit = std::size_t{1024} << ((data[0] >> 2) % 11);
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  // A budget that always has room: the cap is what is fuzzed here.
  static kehu::server::BodyBudget budget(std::size_t{1} << 40);
  try {
    kehu::server::BodyBudget::Hold hold(budget);
    const std::string out = kehu::server::decode_body(body, encoding, limit, hold);
    if (out.size() > limit) std::abort();
  } catch (const kehu::server::HttpError& e) {
    if (e.status() != 413) std::abort();
  } catch (const kehu::Error& e) {
    if (e.code() != kehu::Errc::protocol) std::abort();
  }
  return 0;
}
