#include "http_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <malloc.h>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

#include "body_decoder.h"
#include "connection_guard.h"
#include "guarded_server.h"
#include "read_slots.h"
#include "http_errors.h"
#include "kehu/error.h"
#include "access_policy.h"
#include "kehu/lang.h"
#include "kehu/text.h"
#include "server_config.h"
#include "tls_files.h"

namespace kehu::server {

namespace {

// What the per-request log line needs that httplib's Request does not carry. A
// request is served start to end on one worker thread, so thread_local is the
// request's own.
struct RequestLog {
  std::chrono::steady_clock::time_point start{};
  bool started = false;
  std::string user;
};
thread_local RequestLog t_log;
// The session the pre-routing handler authenticated, for the route to reuse.
thread_local std::optional<Session> t_session;

// Where the pre-routing handler puts the request's Content-Encoding, so that
// httplib stores the body as sent and decode_request_body() inflates it under a
// cap. A client's own header of this name is dropped first.
constexpr const char* kSentEncoding = "X-Kehu-Sent-Content-Encoding";

// The cap on a request's body, inflated or not: before login nobody is known.
std::size_t body_limit(const httplib::Request& req) {
  return req.path == "/v1/login" || req.path == "/v1/logout" ? config::kMaxLoginBodyBytes : config::kMaxBodyBytes;
}

// The process's budget for request bodies held at once (body_decoder.h).
BodyBudget& body_budget() {
  static BodyBudget budget(config::kMaxBodyBytesInFlight);
  return budget;
}

// Replaces the body as sent by its inflated form (body_decoder.h), both taken
// from `hold`. Throws HttpError 413/415/503 or Error(protocol).
void decode_request_body(const httplib::Request& req, BodyBudget::Hold& hold) {
  auto& r = const_cast<httplib::Request&>(req);  // the server's own object; the API is just const
  // The Content-Length was charged before the body was read (refuse_before_body).
  if (r.body.size() > hold.held()) hold.grow(r.body.size() - hold.held());
  const BodyEncoding encoding = body_encoding(req.get_header_value(kSentEncoding));
  if (encoding == BodyEncoding::identity && r.body.size() <= body_limit(req)) return;
  r.body = decode_body(r.body, encoding, body_limit(req), hold);
}

// A client's text as the log line shows it (text.h): at most 200 bytes, so
// that nobody writes lines, terminal codes or bidi overrides into the log ("%0A"
// in a path is a newline once decoded).
std::string loggable(std::string_view s) { return kehu::loggable(s, 200); }

void log_request(const httplib::Request& req, const httplib::Response& res) {
  std::string duration = "-";
  if (t_log.started) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                    t_log.start);
    duration = std::to_string(ms.count()) + "ms";
  }
  const std::string line = now_iso8601() + " " + loggable(req.method) + " " + loggable(req.path) + " " +
                           std::to_string(res.status) + " user=" +
                           (t_log.user.empty() ? std::string("-") : loggable(t_log.user)) + " " + duration + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write, so lines never interleave
  t_log = RequestLog{};
  t_session.reset();
  // An answer the library makes before routing (a malformed request) is English,
  // not in the language of whatever request this thread served before.
  set_message_lang(Lang::en);
}

// What a JSON text would build, read before parsing it: whether it nests
// arrays/objects deeper than `limit`, and about how many values it holds
// (openings and separators outside strings). See config::kMaxJsonDepth and
// config::kMaxJsonValues.
struct JsonShape {
  bool too_deep = false;
  std::size_t values = 0;
};

JsonShape shape_of(std::string_view text, std::size_t limit) {
  JsonShape shape;
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++shape.values;
      if (++depth > limit) {
        shape.too_deep = true;
        return shape;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == ',' || c == ':') {
      ++shape.values;
    }
  }
  return shape;
}

// The hold of the request this thread serves (guarded()), for parse_body.
thread_local BodyBudget::Hold* t_hold = nullptr;

// The body as a JSON object, or Error(protocol).
json parse_body(const httplib::Request& req) {
  if (req.body.empty()) throw Error(Errc::protocol, tr("empty body: expected a JSON object", "请求体为空：应为 JSON 对象"));
  const JsonShape shape = shape_of(req.body, config::kMaxJsonDepth);
  if (shape.too_deep) {
    throw Error(Errc::protocol, tr("body nests JSON deeper than " + std::to_string(config::kMaxJsonDepth) + " levels",
                                    "请求体的 JSON 嵌套超过 " + std::to_string(config::kMaxJsonDepth) + " 层"));
  }
  // Parsed, each value costs about a hundred bytes ({} is 2 bytes of text): a
  // 32 MiB body of empty objects became 1.1 GB before anything was checked.
  if (shape.values > config::kMaxJsonValues) {
    throw too_large(tr("body holds more than " + std::to_string(config::kMaxJsonValues) + " JSON values",
                       "请求体中的 JSON 值超过 " + std::to_string(config::kMaxJsonValues) + " 个"));
  }
  if (t_hold) t_hold->grow(shape.values * config::kJsonValueBytes);
  json j;
  try {
    j = json::parse(req.body);
  } catch (const json::parse_error& e) {
    throw Error(Errc::protocol, tr(std::string("body is not JSON: ") + e.what(), std::string("请求体不是 JSON：") + e.what()));
  }
  if (!j.is_object()) throw Error(Errc::protocol, tr("body must be a JSON object", "请求体必须是 JSON 对象"));
  return j;
}

const std::string& string_member(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_string()) {
    throw Error(Errc::protocol, tr(std::string("missing string member \"") + key + "\"", std::string("缺少字符串成员 \"") + key + "\""));
  }
  return it->get_ref<const std::string&>();
}

void write_json(httplib::Response& res, const json& body) {
  res.status = 200;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

std::string iso_from_unix(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The answer to a login or a password change: the new token and who it is for.
json login_answer(const LoginResult& r, std::int64_t server_hlc) {
  return {{"token", r.token},
          {"expires_at", iso_from_unix(r.expires_at)},
          {"user", r.session.user},
          {"role", role_name(r.session.role)},
          {"regions", r.session.regions},
          {"device_cookie", r.device_cookie},
          {"server_hlc", server_hlc}};
}

// The single catch-all of the request path: every exception a handler lets out
// becomes a JSON error here (http_errors.h). The body is inflated first.
template <typename F>
void guarded(const httplib::Request& req, httplib::Response& res, F&& fn) {
  // The hold the pre-routing handler took from the Content-Length, until the
  // connection loop ends the request; a request without a body gets its own.
  std::optional<BodyBudget::Hold> own;
  BodyBudget::Hold& hold = request_body_hold() ? *request_body_hold() : own.emplace(body_budget());
  t_hold = &hold;
  try {
    decode_request_body(req, hold);
    fn();
  } catch (...) {
    respond_with_exception(std::current_exception(), res);
  }
  t_hold = nullptr;
  // The answer stays in memory while it is written, for as long as the reader
  // takes: it holds its bytes of the budget until then.
  if (res.body.size() > config::kTinyBodyBytes) {
    try {
      reserve_answer(body_budget(), t_session ? "user:" + t_session->user : "address:" + req.remote_addr,
                     res.body.size());
    } catch (...) {
      res.body.clear();
      respond_with_exception(std::current_exception(), res);
      malloc_trim(0);  // the page built and refused is given back, not kept by glibc
    }
  }
  // glibc keeps what a large request freed for the next one: give it back.
  if (hold.held() > config::kTrimAfterBytes) malloc_trim(0);
}

// A JSON body for errors httplib produces itself (no route, body too large,
// unparseable HTTP), which come without one.
void fill_library_error(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty()) return;
  switch (res.status) {
    case 404: write_error(res, 404, "not_found", "no endpoint " + req.method + " " + req.path); break;
    case 413:
      write_error(res, 413, "too_large",
                  "request body above " + std::to_string(config::kMaxBodyBytes / (1024 * 1024)) +
                      " MiB (form-encoded: 8 KiB)");
      break;
    case 400: write_error(res, 400, "protocol", "malformed HTTP request"); break;
    default:
      write_error(res, res.status, res.status >= 500 ? "internal" : "protocol",
                  "HTTP status " + std::to_string(res.status));
  }
}

// Waiting pulls one client address may hold: three quarters of its
// connections, the rest for its other requests (commit_feed.h, A16-1).
std::size_t waiting_pulls_per_address(int max_connections_per_address) {
  return static_cast<std::size_t>(std::max(1, max_connections_per_address * 3 / 4));
}

}  // namespace

HttpServer::HttpServer(Store& store, ServerClock& clock, ListenOptions options, AuthSettings auth)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      feed_(options_.limits.max_waiting_pulls, config::kMaxWaitingPullsPerUser,
            waiting_pulls_per_address(options_.limits.max_connections_per_address)),
      auth_(store, nullptr, std::move(auth)),
      push_(store, clock),
      pull_(store),
      leases_(store),
      audit_(store),
      team_(store, push_),
      rules_(store),
      schema_(store),
      reads_(std::make_unique<ReadSlots>(config::kMaxReadsPerUser)) {
  if (options_.tls_cert.empty() != options_.tls_key.empty()) {
    throw Error(Errc::usage, tr("--tls-cert and --tls-key go together", "--tls-cert 和 --tls-key 必须同时给出"));
  }
  if (options_.tls_cert.empty()) {
    http_ = std::make_unique<GuardedServer<httplib::Server>>(options_.limits);
  } else {
    const std::string warning = check_tls_files(options_.tls_cert, options_.tls_key);
    if (!warning.empty()) std::fprintf(stderr, "%s\n", warning.c_str());
    http_ = std::make_unique<GuardedServer<httplib::SSLServer>>(options_.limits, options_.tls_cert.c_str(),
                                                                 options_.tls_key.c_str());
    if (!http_->is_valid()) {
      throw Error(Errc::io, tr("cannot load TLS certificate " + options_.tls_cert + " / key " + options_.tls_key,
                                   "无法加载 TLS 证书 " + options_.tls_cert + " / 私钥 " + options_.tls_key));
    }
  }
  // cpp-httplib's own socket options add SO_REUSEPORT, with which a second
  // server on the same port starts, says "listening" and takes half the
  // connections. SO_REUSEADDR alone still lets a restart bind at once.
  http_->set_socket_options([reuse_port = options_.reuse_port](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (reuse_port) setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  });
  http_->set_payload_max_length(config::kMaxBodyBytes);
  // Without it Nagle's algorithm meets the client's delayed ACK and every small
  // answer waits ~40 ms (bench B6: p50 45.8 ms -> 2.4 ms).
  http_->set_tcp_nodelay(true);
  http_->set_read_timeout(config::kReadTimeoutSeconds);
  http_->set_write_timeout(config::kWriteTimeoutSeconds);
  http_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // The Request is the server's own mutable object; the handler API is just const.
    auto& request = const_cast<httplib::Request&>(req);
    // No answer of the API is read in parts, errors included. cpp-httplib would
    // cut one into every range asked for after the handler, a copy each, never
    // charged: 40 ranges made one pull page 336 MB (attacker review 15, A15-1).
    request.ranges.clear();
    request.headers.erase("Range");
    t_log = RequestLog{std::chrono::steady_clock::now(), true, {}};
    t_session.reset();
    end_request_body();
    // Messages for people in this request's answer are in the language it asks for.
    set_message_lang(lang_from_accept_language(req.get_header_value("Accept-Language")));
    if (refuse_before_body(req, res)) return httplib::Server::HandlerResponse::Handled;
    // cpp-httplib 0.11 prefers brotli when a client offers it, at quality 11: about
    // 1 s of CPU per 800 KB pull page, against ~20 ms for gzip. Offer only gzip.
    auto& headers = request.headers;
    auto it = headers.find("Accept-Encoding");
    if (it != headers.end() && it->second.find("br") != std::string::npos) {
      it->second = it->second.find("gzip") != std::string::npos ? "gzip" : "";
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_error_handler(fill_library_error);
  http_->set_logger(log_request);
  install_routes();
  store_.listen([this](const CommitNotice& notice) { feed_.publish(notice); });
}

HttpServer::~HttpServer() { store_.listen(nullptr); }

void HttpServer::install_routes() {
  http_->Post("/v1/login", [this](const httplib::Request& req, httplib::Response& res) {
    handle_login(req, res);
  });
  // Not handle_authenticated: logging out a token that is already gone succeeds.
  http_->Post("/v1/logout", [this](const httplib::Request& req, httplib::Response& res) {
    guarded(req, res, [&] {
      auto user = auth_.logout(req.get_header_value("Authorization"));
      if (user) t_log.user = *user;
      write_json(res, {{"revoked", user.has_value()}, {"server_hlc", clock_.now()}});
    });
  });
  http_->Post("/v1/passwd", [this](const httplib::Request& req, httplib::Response& res) {
    guarded(req, res, [&] {
      const json body = parse_body(req);
      LoginResult r = auth_.change_password(req.get_header_value("Authorization"), string_member(body, "password"),
                                            string_member(body, "new_password"), req.remote_addr);
      t_log.user = r.session.user;
      write_json(res, login_answer(r, clock_.now()));
    });
  });
  http_->Post("/v1/push", [this](const httplib::Request& req, httplib::Response& res) {
    handle_authenticated(req, res, [this](const Session& s, const httplib::Request& r) {
      json body = parse_body(r);
      if (auto it = body.find("changes");
          it != body.end() && it->is_array() && it->size() > config::kMaxChangesPerPush) {
        throw too_large(tr(std::to_string(it->size()) + " changes in one push; at most " +
                               std::to_string(config::kMaxChangesPerPush),
                           "一次推送了 " + std::to_string(it->size()) + " 条修改；最多 " +
                               std::to_string(config::kMaxChangesPerPush) + " 条"));
      }
      return push_.push(s, body);
    });
  });
  // Not a Route: the answer is built as text (PullService::pull says why).
  http_->Post("/v1/pull", [this](const httplib::Request& req, httplib::Response& res) { handle_pull(req, res); });
  http_->Get(R"(/v1/records/([^/]+)/history)", [this](const httplib::Request& req, httplib::Response& res) {
    handle_authenticated(req, res, [this](const Session& s, const httplib::Request& r) {
      // ?limit=N&before=SEQ pages a long history (docs/protocol.md).
      auto number = [&r](const char* name, std::int64_t otherwise) {
        if (!r.has_param(name)) return otherwise;
        const std::string text = r.get_param_value(name);
        if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos ||
            text.find_first_not_of('0') == std::string::npos) {
          throw Error(Errc::protocol, tr(std::string("\"") + name + "\" must be a positive integer, not \"" +
                                             text.substr(0, 20) + "\"",
                                         std::string("\"") + name + "\" 必须是正整数，而不是“" + text.substr(0, 20) + "”"));
        }
        return static_cast<std::int64_t>(std::stoll(text));
      };
      return pull_.history(s, r.matches[1].str(), number("limit", config::kDefaultPullLimit), number("before", 0));
    });
  });
  http_->Post("/v1/leases", [this](const httplib::Request& req, httplib::Response& res) {
    handle_authenticated(req, res, [this](const Session& s, const httplib::Request& r) {
      return leases_.lease(s, parse_body(r));
    });
  });
  install_team_routes();
  post("/v1/settings", [this](const Session& s, const httplib::Request& r) {
    return rules_.settings(s, r.body.empty() ? json::object() : parse_body(r));
  });
  // The team's custom fields: POST like the other reads (the client posts), GET for people.
  post("/v1/schema", [this](const Session& s, const httplib::Request&) { return schema_.get(s); });
  http_->Get("/v1/schema", [this](const httplib::Request& req, httplib::Response& res) {
    handle_authenticated(req, res, [this](const Session& s, const httplib::Request&) { return schema_.get(s); });
  });
  post("/v1/schema/fields", [this](const Session& s, const httplib::Request& r) {
    return schema_.add_field(s, parse_body(r));
  });
  http_->Post("/v1/audit", [this](const httplib::Request& req, httplib::Response& res) {
    handle_authenticated(req, res, [this](const Session& s, const httplib::Request& r) {
      return audit_.query(s, r.body.empty() ? json::object() : parse_body(r));
    });
  });
}

void HttpServer::post(const char* pattern, Route route) {
  http_->Post(pattern, [this, route = std::move(route)](const httplib::Request& req, httplib::Response& res) {
    handle_authenticated(req, res, route);
  });
}

namespace {

// The optional body of a team action as an object ({} when empty).
json optional_body(const httplib::Request& req) { return req.body.empty() ? json::object() : parse_body(req); }

std::string optional_string(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_string()) throw Error(Errc::protocol, tr(std::string("\"") + key + "\" must be a string", std::string("\"") + key + "\" 必须是字符串"));
  return it->get<std::string>();
}

std::int64_t request_id(const httplib::Request& req) {
  try {
    return std::stoll(req.matches[1].str());
  } catch (const std::exception&) {
    throw Error(Errc::not_found, "no change request " + req.matches[1].str());
  }
}

}  // namespace

void HttpServer::install_team_routes() {
  post(R"(/v1/customers/([^/]+)/claim)", [this](const Session& s, const httplib::Request& r) {
    return team_.claim(s, r.matches[1].str());
  });
  post(R"(/v1/customers/([^/]+)/release)", [this](const Session& s, const httplib::Request& r) {
    return team_.release(s, r.matches[1].str(), optional_string(optional_body(r), "reason"));
  });
  post(R"(/v1/customers/([^/]+)/reassign)", [this](const Session& s, const httplib::Request& r) {
    json body = optional_body(r);
    return team_.reassign(s, r.matches[1].str(), optional_string(body, "owner"), optional_string(body, "reason"));
  });
  post("/v1/approvals", [this](const Session& s, const httplib::Request& r) {
    json body = optional_body(r);
    std::vector<std::int64_t> ids;
    if (auto it = body.find("ids"); it != body.end()) {
      const Error not_ids(Errc::protocol, tr("\"ids\" must be an array of at most " +
                                                 std::to_string(config::kMaxRequestIdsPerQuery) + " integers",
                                             "\"ids\" 必须是整数数组，最多 " +
                                                 std::to_string(config::kMaxRequestIdsPerQuery) + " 个"));
      if (!it->is_array() || it->size() > config::kMaxRequestIdsPerQuery) throw not_ids;
      for (const auto& id : *it) {
        if (!id.is_number_integer()) throw not_ids;
        ids.push_back(id.get<std::int64_t>());
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
    std::string status = body.contains("status") ? optional_string(body, "status") : std::string("pending");
    if (status != "pending" && status != "approved" && status != "rejected" && status != "withdrawn" &&
        status != "all") {
      throw Error(Errc::protocol, tr("\"status\" must be pending, approved, rejected, withdrawn or all",
                                     "\"status\" 必须是 pending、approved、rejected、withdrawn 或 all"));
    }
    // ?limit and after page the list (docs/protocol.md): oldest first, at most
    // kMaxRequestsPerPage a page.
    auto count = [&body](const char* key, std::int64_t otherwise, std::int64_t least, std::int64_t most) {
      auto it = body.find(key);
      if (it == body.end() || it->is_null()) return otherwise;
      if (!it->is_number_integer() || it->get<std::int64_t>() < least || it->get<std::int64_t>() > most) {
        throw Error(Errc::protocol, tr(std::string("\"") + key + "\" " + it->dump().substr(0, 40) +
                                           ": expected an integer from " + std::to_string(least) + " to " +
                                           std::to_string(most),
                                       std::string("\"") + key + "\" " + it->dump().substr(0, 40) + "：应为 " +
                                           std::to_string(least) + " 到 " + std::to_string(most) + " 之间的整数"));
      }
      return it->get<std::int64_t>();
    };
    const std::int64_t limit = count("limit", config::kMaxRequestsPerPage, 1, config::kMaxRequestsPerPage);
    const std::int64_t after = count("after", 0, 0, std::numeric_limits<std::int64_t>::max());
    return team_.list_requests(s, ids, after, limit, status == "all" ? std::string() : status);
  });
  post(R"(/v1/approvals/(\d+)/approve)", [this](const Session& s, const httplib::Request& r) {
    return team_.approve(s, request_id(r));
  });
  post(R"(/v1/approvals/(\d+)/reject)", [this](const Session& s, const httplib::Request& r) {
    return team_.reject(s, request_id(r), optional_string(optional_body(r), "reason"));
  });
}

bool HttpServer::refuse_before_body(const httplib::Request& req, httplib::Response& res) {
  auto& headers = const_cast<httplib::Request&>(req).headers;  // see the pre-routing handler
  headers.erase(kSentEncoding);
  std::size_t content_length = 0;
  try {
    // A body must say its length: httplib reads a body without one until the
    // client closes, and a chunked one without any limit.
    if (req.has_header("Transfer-Encoding")) {
      throw HttpError(411, "length_required", tr("chunked request bodies are not accepted; send Content-Length", "不接受分块传输的请求体；请发送 Content-Length"));
    }
    // One length and one encoding: with two, a proxy in front and this server
    // could each read another body (request smuggling, RFC 9112 6.3).
    for (const char* name : {"Content-Length", "Content-Encoding"}) {
      if (req.get_header_value_count(name) > 1) {
        throw HttpError(400, "protocol", tr(std::string("more than one ") + name + " header", std::string("有多个 ") + name + " 请求头"));
      }
    }
    const bool has_length = req.has_header("Content-Length");
    if (!has_length && (req.method == "POST" || req.method == "PUT" || req.method == "PATCH")) {
      throw HttpError(411, "length_required", tr("a request body needs a Content-Length", "请求体需要 Content-Length"));
    }
    if (has_length) {
      const std::string text = req.get_header_value("Content-Length");
      const std::size_t limit = body_limit(req);
      // RFC 9110 8.6: 1*DIGIT. "-1" or "+26" is a malformed request, not a large one.
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        throw HttpError(400, "protocol",
                        tr("Content-Length \"" + text.substr(0, 20) + "\" is not a decimal number of bytes",
                           "Content-Length“" + text.substr(0, 20) + "”不是十进制的字节数"));
      }
      if (text.size() > 12 || std::stoull(text) > limit) {
        throw too_large(tr("request body above " + std::to_string(limit) + " bytes",
                           "请求体超过 " + std::to_string(limit) + " 字节"));
      }
      content_length = std::stoull(text);
    }
    // httplib would inflate without limit: keep the bytes as sent (body_decoder.h).
    if (req.has_header("Content-Encoding")) {
      const std::string encoding = req.get_header_value("Content-Encoding");
      headers.erase("Content-Encoding");
      if (body_encoding(encoding) == BodyEncoding::unsupported) {
        throw HttpError(415, "unsupported_encoding",
                        tr("Content-Encoding \"" + encoding + "\" is not one of gzip, deflate, br",
                           "Content-Encoding“" + encoding + "”不是 gzip、deflate、br 之一"));
      }
      headers.emplace(kSentEncoding, encoding);
    }
    // Authenticate from the headers, so nobody without a token makes the server
    // read a body, on any path (an unknown one too). Login and logout bodies are
    // capped at 16 KiB; logout needs only a well-formed token (its route checks).
    if (req.path != "/v1/login" && req.path != "/v1/logout") {
      t_session = authenticate(req);
      // A user whose large answers already on their way fill the share gets no
      // more built until one is read (attacker review 15, A15-2/A15-3).
      body_budget().require_answer_share("user:" + t_session->user);
      // A role that may not write (the auditor) is refused a push from its
      // headers: its body was read and parsed only to answer each change "no".
      if (req.path == "/v1/push" && !AccessPolicy::may_write(t_session->role)) {
        throw Error(Errc::forbidden, tr(std::string("role ") + role_name(t_session->role) + " may not push changes",
                                        role_label(t_session->role) + "不能上传修改"));
      }
    }
    // The body is charged to the budget before it is read (body_decoder.h).
    // Each client has its share: the user of a token, the address of a login.
    if (content_length > 0) {
      reserve_request_body(body_budget(), content_length,
                           t_session ? "user:" + t_session->user : "address:" + req.remote_addr);
    }
  } catch (...) {
    respond_with_exception(std::current_exception(), res);
    // The body, if any, is unread: it must not be parsed as the next request.
    close_after_response();
    res.set_header("Connection", "close");
    return true;
  }
  begin_body(content_length);
  return false;
}

Session HttpServer::authenticate(const httplib::Request& req) {
  if (t_session) return *t_session;
  Session session = auth_.authenticate(req.get_header_value("Authorization"));
  t_log.user = session.user;
  return session;
}

void HttpServer::handle_authenticated(const httplib::Request& req, httplib::Response& res,
                                      const Route& route) {
  guarded(req, res, [&] {
    const Session session = authenticate(req);
    const ReadSlots::Slot slot(*reads_, session.user);
    json out = route(session, req);
    out["server_hlc"] = clock_.now();
    write_json(res, out);
  });
}

void HttpServer::handle_login(const httplib::Request& req, httplib::Response& res) {
  guarded(req, res, [&] {
    const json body = parse_body(req);
    const std::string& user = string_member(body, "user");
    const std::string& password = string_member(body, "password");
    LoginResult r = auth_.login(user, password, optional_string(body, "device"), req.remote_addr,
                                optional_string(body, "device_cookie"));
    t_log.user = r.session.user;
    write_json(res, login_answer(r, clock_.now()));
  });
}

int HttpServer::bind() {
  if (options_.port == 0) {
    int port = http_->bind_to_any_port(options_.host);
    if (port < 0) throw Error(Errc::io, tr("cannot listen on " + options_.host + " (any port)", "无法在 " + options_.host + " 上监听（任意端口）"));
    return port;
  }
  if (!http_->bind_to_port(options_.host, options_.port)) {
    throw Error(Errc::io, tr("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                                 ": the port is in use (another kehu-server?) or the address is not one "
                                 "of this machine's; --reuse-port lets several servers share a port",
                             "无法在 " + options_.host + ":" + std::to_string(options_.port) +
                                 " 上监听：端口已被占用（另一个 kehu-server？）或该地址不属于本机；"
                                 "--reuse-port 可让多个服务器共用一个端口"));
  }
  return options_.port;
}

bool HttpServer::run() { return http_->listen_after_bind(); }

void HttpServer::stop() {
  feed_.close();
  http_->stop();
}

void HttpServer::handle_pull(const httplib::Request& req, httplib::Response& res) {
  guarded(req, res, [&] {
    Session session = authenticate(req);
    json body = req.body.empty() ? json::object() : parse_body(req);
    const int wait = PullService::parse_wait(body);
    if (wait > 0) {
      // A pull's body is a cursor and two numbers: a waiting one gives its
      // share of the body budget, and the memory, back before it waits
      // (attacker review 16, A16-7: seven padded 32 MiB waits held the budget
      // and refused every large push).
      if (req.body.size() > config::kMaxWaitingPullBodyBytes) {
        throw too_large(tr("a waiting pull's body is at most " +
                               std::to_string(config::kMaxWaitingPullBodyBytes / 1024) + " KiB",
                           "等待拉取的请求体最多 " + std::to_string(config::kMaxWaitingPullBodyBytes / 1024) +
                               " KiB"));
      }
      auto& request = const_cast<httplib::Request&>(req);  // the server's own object (see the pre-routing handler)
      std::string().swap(request.body);
      end_request_body();
    }
    // Counted before the first look: what commits between it and the wait wakes it.
    std::optional<CommitFeed::Waiter> waiter;
    if (wait > 0) waiter.emplace(feed_, session, req.remote_addr);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
    std::string context;
    for (bool last = !waiter;;) {
      PullPage page;
      {
        // After a wait: one of a few at a time (CommitFeed::Turn).
        std::optional<CommitFeed::Turn> turn;
        if (!context.empty()) turn.emplace(feed_);
        // Held while the page is built, not while it waits: a user's waiting
        // devices do not use up the reads of the others. Woken together, they
        // take turns.
        const ReadSlots::Slot slot(*reads_, session.user,
                                   std::chrono::milliseconds(waiter ? config::kWaitingPullPatienceMs : 0));
        page = pull_.pull(session, body, clock_.now());
      }
      if (context.empty()) context = page.context;
      if (last || page.news || page.context != context) {
        res.status = 200;
        res.set_content(std::move(page.text), "application/json");
        return;
      }
      // Nothing for this user: wait on from past what the page passed over.
      body["cursor"] = page.next_cursor;
      // In slices of a second: a device that went away (its connection closed)
      // frees its worker and its waiting slots at once, not at the deadline.
      CommitFeed::Wake wake;
      for (;;) {
        wake = waiter->wait_until(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1)));
        if (wake != CommitFeed::Wake::timeout || std::chrono::steady_clock::now() >= deadline) break;
        if (peer_gone()) {
          close_after_response();
          res.status = 204;  // to nobody: the log says so
          return;
        }
      }
      last = wake == CommitFeed::Wake::timeout || wake == CommitFeed::Wake::closed;
      // Every look after a wait checks the token again, whatever woke it: one
      // revoked, expired or of a disabled user is answered 401/403 (throws),
      // and new regions or role take effect. A notice lost on the way costs
      // time, never data (attacker review 16, A16-3, A16-4). Not
      // authenticate(): it answers this request's first session again.
      session = auth_.authenticate(req.get_header_value("Authorization"));
      waiter->update(session);
    }
  });
}

}  // namespace kehu::server
