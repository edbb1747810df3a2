#include "bare_pull.h"

#include <curl/curl.h>

#include <memory>

#include "kehu/error.h"
#include "kehu/record.h"
#include "stats.h"

namespace kehu::bench {
namespace {

// What the write callback keeps of a body: its size and its two ends, where the
// top-level members live (nlohmann sorts keys: more, next_cursor, records, ...).
struct Sink {
  static constexpr std::size_t kKeep = 512;
  std::string head, tail;
  std::int64_t bytes = 0;
  void clear() {
    head.clear();
    tail.clear();
    bytes = 0;
  }
};

std::size_t sink_write(char* ptr, std::size_t size, std::size_t n, void* userdata) {
  auto* s = static_cast<Sink*>(userdata);
  const std::size_t len = size * n;
  s->bytes += static_cast<std::int64_t>(len);
  if (s->head.size() < Sink::kKeep)
    s->head.append(ptr, std::min(len, Sink::kKeep - s->head.size()));
  s->tail.append(ptr, len);
  if (s->tail.size() > 2 * Sink::kKeep) s->tail.erase(0, s->tail.size() - Sink::kKeep);
  return len;
}

std::size_t string_write(char* ptr, std::size_t size, std::size_t n, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * n);
  return size * n;
}

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

void check(CURLcode rc, const std::string& what) {
  if (rc != CURLE_OK) throw Error(Errc::network, what + ": " + curl_easy_strerror(rc));
}

CurlPtr make_handle() {
  curl_global_init(CURL_GLOBAL_DEFAULT);  // reference-counted; cheap after the first
  CurlPtr h(curl_easy_init());
  if (!h) throw Error(Errc::internal, "curl_easy_init failed");
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(h.get(), CURLOPT_POST, 1L);
  return h;
}

SlistPtr headers(const std::string& token) {
  curl_slist* l = curl_slist_append(nullptr, "Content-Type: application/json");
  l = curl_slist_append(l, "Accept: application/json");
  if (!token.empty()) l = curl_slist_append(l, ("Authorization: Bearer " + token).c_str());
  return SlistPtr(l);
}

// The string value of "key":"..." in `text`, or "" if absent.
std::string string_member(const std::string& text, const std::string& key) {
  const std::string pat = "\"" + key + "\":\"";
  auto at = text.find(pat);
  if (at == std::string::npos) return {};
  at += pat.size();
  auto end = text.find('"', at);
  return end == std::string::npos ? std::string() : text.substr(at, end - at);
}

}  // namespace

std::string bare_login(const std::string& base_url, const std::string& user,
                       const std::string& password) {
  CurlPtr h = make_handle();
  SlistPtr hdr = headers("");
  const std::string url = base_url + "/v1/login";
  const std::string body =
      json{{"user", user}, {"password", password}, {"device", "bench-bare"}}.dump();
  std::string answer;
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, hdr.get());
  curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, string_write);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &answer);
  check(curl_easy_perform(h.get()), "login");
  long status = 0;
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
  json j = json::parse(answer, nullptr, false);
  if (status != 200 || !j.is_object() || !j.contains("token")) {
    throw Error(Errc::unauthorized,
                "bare login as " + user + ": HTTP " + std::to_string(status) + " " + answer);
  }
  return j["token"].get<std::string>();
}

BarePullResult bare_pull_all(const std::string& base_url, const std::string& token, int limit) {
  CurlPtr h = make_handle();
  SlistPtr hdr = headers(token);
  const std::string url = base_url + "/v1/pull";
  Sink sink;
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, hdr.get());
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, sink_write);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &sink);
  BarePullResult r;
  std::string cursor = "0";
  const auto t0 = Clock::now();
  // Bounded: a page holds at least one revision, so there are at most as many
  // pages as a generous upper bound of revisions over the page size.
  for (int page = 0; page < 10'000'000; ++page) {
    const std::string body =
        "{\"cursor\":\"" + cursor + "\",\"limit\":" + std::to_string(limit) + "}";
    sink.clear();
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    check(curl_easy_perform(h.get()), "pull");
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
      throw Error(Errc::network, "bare pull: HTTP " + std::to_string(status) + " " + sink.head);
    curl_off_t wire = 0;
    curl_easy_getinfo(h.get(), CURLINFO_SIZE_DOWNLOAD_T, &wire);
    r.wire_bytes += wire;
    r.body_bytes += sink.bytes;
    ++r.pages;
    std::string next = string_member(sink.head, "next_cursor");
    if (next.empty()) next = string_member(sink.tail, "next_cursor");
    const bool more = sink.head.find("\"more\":true") != std::string::npos ||
                      sink.tail.find("\"more\":true") != std::string::npos;
    if (!more || next.empty() || next == cursor) break;
    cursor = next;
  }
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace kehu::bench
