#include "kehu/sync/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "tls_peer.h"

namespace kehu::sync {
namespace {

void check_curl(CURLcode code, const char* what) {
  if (code != CURLE_OK) throw Error(Errc::internal, std::string(what) + ": " + curl_easy_strerror(code));
}

size_t append_body(char* ptr, size_t size, size_t n, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * n);
  return size * n;
}

// The host of "scheme://host[:port][/...]", without brackets for IPv6.
std::string url_host(const std::string& url) {
  std::string rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find(':'));
}

// Why a request never got an answer, in the user's language: what the person
// can check first, then libcurl's own words for whoever diagnoses it.
std::string unreachable_reason(CURLcode rc, const std::string& detail) {
  const char* zh = nullptr;
  const char* en = nullptr;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      zh = "连接不上（服务器没有运行，或地址、端口不对）";
      en = "is the server running, and are the address and port right?";
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      zh = "找不到这个主机名（检查服务器地址和网络）";
      en = "check the server's address and the network";
      break;
    case CURLE_OPERATION_TIMEDOUT:
      zh = "等待应答超时（网络慢或服务器太忙，稍后再试）";
      en = "the network is slow or the server is busy; try again later";
      break;
    case CURLE_GOT_NOTHING:
      zh = "服务器没有应答就断开了连接";
      break;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      zh = "连接中途断了";
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      zh = "服务器地址的格式不对（应如 http://host:port 或 https://host）";
      en = "a server address looks like http://host:port or https://host";
      break;
    default:
      break;
  }
  if (message_lang() == Lang::zh) return zh ? std::string(zh) + "（" + detail + "）" : detail;
  return en ? detail + " (" + en + ")" : detail;
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

struct HttpClient::Curl {
  CURL* handle = nullptr;
  char error[CURL_ERROR_SIZE] = {};  // libcurl's detail of the last failure
  TlsPeer tls;
  Curl() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    handle = curl_easy_init();
    if (!handle) throw Error(Errc::internal, "curl_easy_init failed");
  }
  ~Curl() { curl_easy_cleanup(handle); }
};

HttpClient::HttpClient(std::string base_url, HttpOptions opts)
    : curl_(std::make_unique<Curl>()), base_url_(std::move(base_url)), opts_(std::move(opts)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  if (base_url_.rfind("http://", 0) != 0 && base_url_.rfind("https://", 0) != 0) {
    throw Error(Errc::usage, tr("server URL \"" + base_url_ + "\" must start with http:// or https://",
                                "服务器地址“" + base_url_ + "”必须以 http:// 或 https:// 开头"));
  }
  CURL* h = curl_->handle;
  check_curl(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L), "NOSIGNAL");
  // gzip only: brotli at the server's default quality costs far more CPU than it saves.
  check_curl(curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip"), "ACCEPT_ENCODING");
  check_curl(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, opts_.connect_timeout_s), "CONNECTTIMEOUT");
  check_curl(curl_easy_setopt(h, CURLOPT_TIMEOUT, opts_.timeout_s), "TIMEOUT");
  if (opts_.stall_timeout_s > 0) {
    check_curl(curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L), "LOW_SPEED_LIMIT");
    check_curl(curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, opts_.stall_timeout_s), "LOW_SPEED_TIME");
  }
  check_curl(curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L), "TCP_KEEPALIVE");
  check_curl(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body), "WRITEFUNCTION");
  check_curl(curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, opts_.insecure ? 0L : 1L), "VERIFYPEER");
  check_curl(curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, opts_.insecure ? 0L : 2L), "VERIFYHOST");
  if (!opts_.ca_file.empty()) {
    check_curl(curl_easy_setopt(h, CURLOPT_CAINFO, opts_.ca_file.c_str()), "CAINFO");
  }
  check_curl(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_->error), "ERRORBUFFER");
  if (base_url_.rfind("https://", 0) == 0) curl_->tls.install(h);  // only explains failures; optional
}

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::post(const std::string& path, const json& body) {
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return perform(path, &text);
}

HttpResponse HttpClient::post(const std::string& path, const json& body, const std::function<bool()>& interrupted) {
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return perform(path, &text, &interrupted);
}

namespace {

int poll_interrupted(void* fn, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(fn))() ? 1 : 0;
}

}  // namespace

HttpResponse HttpClient::get(const std::string& path) { return perform(path, nullptr); }

HttpResponse HttpClient::perform(const std::string& path, const std::string* body,
                                 const std::function<bool()>* interrupted) {
  CURL* h = curl_->handle;
  std::string url = base_url_ + path;
  std::string received;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* l = curl_slist_append(headers.get(), line.c_str());
    if (!l) throw Error(Errc::internal, "curl_slist_append failed");
    headers.release();
    headers.reset(l);
  };
  add_header("Content-Type: application/json");
  add_header("Accept: application/json");
  // The server's messages (refusals, errors) come back in the user's language.
  add_header(message_lang() == Lang::zh ? "Accept-Language: zh-CN, en;q=0.5" : "Accept-Language: en");
  if (!token_.empty()) add_header("Authorization: Bearer " + token_);
  check_curl(curl_easy_setopt(h, CURLOPT_URL, url.c_str()), "URL");
  check_curl(curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get()), "HTTPHEADER");
  check_curl(curl_easy_setopt(h, CURLOPT_WRITEDATA, &received), "WRITEDATA");
  curl_->error[0] = '\0';
  curl_->tls.reset();
  if (body) {
    check_curl(curl_easy_setopt(h, CURLOPT_POST, 1L), "POST");
    check_curl(curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data()), "POSTFIELDS");
    check_curl(curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size())),
               "POSTFIELDSIZE");
  } else {
    check_curl(curl_easy_setopt(h, CURLOPT_HTTPGET, 1L), "HTTPGET");
  }
  const bool watched = interrupted && *interrupted;
  if (watched) {
    check_curl(curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, poll_interrupted), "XFERINFOFUNCTION");
    check_curl(curl_easy_setopt(h, CURLOPT_XFERINFODATA, interrupted), "XFERINFODATA");
    check_curl(curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L), "NOPROGRESS");
  }
  CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);  // the list dies with this call
  if (watched) curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  if (rc == CURLE_ABORTED_BY_CALLBACK) throw Interrupted();
  if (rc != CURLE_OK) {
    const TlsPeer& tls = curl_->tls;
    const std::string tls_why = tls.describe(rc, curl_->error, url_host(base_url_), opts_.ca_file);
    const bool refused = !tls.seen.untrusted.empty() || tls.seen.host_mismatch;
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM ||
        (rc == CURLE_SSL_CONNECT_ERROR && refused)) {
      throw TlsError(tr("refused " + base_url_ + ": ", "拒绝连接 " + base_url_ + "：") + tls_why);
    }
    // A handshake cut off may be the network's fault: retryable, like any other.
    const std::string unreachable = tr("cannot reach " + base_url_ + ": ", "连不上 " + base_url_ + "：");
    if (rc == CURLE_SSL_CONNECT_ERROR) throw Error(Errc::network, unreachable + tls_why);
    std::string why = unreachable_reason(rc, curl_->error[0] ? curl_->error : curl_easy_strerror(rc));
    if (rc == CURLE_GOT_NOTHING && base_url_.rfind("http://", 0) == 0) {
      why += tr(" (if the server uses TLS, its URL starts with https://)", "（如果服务器使用 TLS，地址应以 https:// 开头）");
    }
    throw Error(Errc::network, unreachable + why);
  }
  HttpResponse resp;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_off_t retry_after = 0;
  if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
    resp.retry_after_s = static_cast<long>(retry_after);
  }
  if (received.empty()) {
    // Every answer of the protocol has a JSON body. libcurl reports a connection
    // cut in the middle of the headers as a complete answer with no body (no
    // Content-Length seen, so the close "ends" it): that is a lost answer.
    const std::string status = std::to_string(resp.status);
    throw Error(Errc::network, tr("cannot reach " + base_url_ + ": the answer (HTTP " + status + ") was cut off before its body",
                                  "连不上 " + base_url_ + "：应答（HTTP " + status + "）在正文之前就断了"));
  }
  resp.body = json::parse(received, nullptr, /*allow_exceptions=*/false);
  if (resp.body.is_discarded()) {
    if (resp.status >= 500) {
      resp.body = json();
      return resp;  // a proxy's HTML error page: treat as a 5xx, retryable
    }
    throw Error(Errc::protocol, tr(url + " answered " + std::to_string(resp.status) + " with a body that is not JSON",
                                   url + " 返回了 " + std::to_string(resp.status) + "，但正文不是 JSON"));
  }
  return resp;
}

}  // namespace kehu::sync
