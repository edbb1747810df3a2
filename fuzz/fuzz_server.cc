// The server's request handling, end to end: a real kehu-server (HttpServer on a
// throwaway SQLite store, 127.0.0.1, a free port) runs in this process, and each
// input becomes one authenticated request to one of its endpoints.
//
// Input: byte 0 picks the endpoint and whether an admin or a salesperson sends
// it; for endpoints with a path parameter (a customer code, a record id, a
// request id) the text up to the first newline is that parameter; the rest is
// the body, sent as is.
//
// The corpus has pushes that move customers out of the salesperson's scope
// (push-admin-scope-moves) and a pull from a cursor after them
// (pull-sales-from-cursor): the "removed" decision replays their scope.
//
// The contract checked: every request is answered, and never with a 5xx. A
// hostile body is a 4xx with a JSON error; a crash, a hang, a sanitizer report
// or an "internal" error is a finding.
#include <httplib.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_server.h"
#include "server_clock.h"
#include "sqlite_store.h"
#include "user_admin.h"

namespace {

using kehu::server::HttpServer;

struct Endpoint {
  const char* method;  // "GET" or "POST"
  const char* path;    // with one %s for the parameter, if any
};

constexpr Endpoint kEndpoints[] = {
    {"POST", "/v1/push"},
    {"POST", "/v1/pull"},
    {"POST", "/v1/leases"},
    {"POST", "/v1/settings"},
    {"POST", "/v1/audit"},
    {"POST", "/v1/approvals"},
    {"POST", "/v1/customers/%s/claim"},
    {"POST", "/v1/customers/%s/release"},
    {"POST", "/v1/customers/%s/reassign"},
    {"POST", "/v1/approvals/%s/approve"},
    {"POST", "/v1/approvals/%s/reject"},
    {"GET", "/v1/records/%s/history"},
};
constexpr std::size_t kEndpointCount = sizeof kEndpoints / sizeof kEndpoints[0];

struct World {
  std::string dir;
  std::unique_ptr<kehu::server::SqliteStore> store;
  std::unique_ptr<kehu::server::ServerClock> clock;
  std::unique_ptr<HttpServer> server;
  std::thread serving;
  std::unique_ptr<httplib::Client> client;
  std::string admin_token, sales_token;
};
World* g_world = nullptr;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_server: %s\n", what.c_str());
  std::abort();
}

std::string login(httplib::Client& client, const char* user, const char* password) {
  const nlohmann::json body = {{"user", user}, {"password", password}, {"device_id", "fuzz-device"}};
  auto res = client.Post("/v1/login", body.dump(), "application/json");
  if (!res || res->status != 200) fail(std::string("cannot log in as ") + user);
  return nlohmann::json::parse(res->body).at("token").get<std::string>();
}

// Percent-encodes everything but [A-Za-z0-9_.-], so the parameter stays one
// path segment whatever bytes the input holds.
std::string path_segment(std::string_view raw) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    if (std::isalnum(c) != 0 || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out.empty() ? std::string("x") : out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto* w = new World;
  char tmpl[] = "/tmp/kehu-fuzz-server-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) fail("mkdtemp failed");
  w->dir = tmpl;
  const std::string path = w->dir + "/kehu-server.db";
  kehu::server::SqliteStore::initialise(path);
  w->store = std::make_unique<kehu::server::SqliteStore>(path);
  kehu::server::UserAdmin users(*w->store);
  users.add("fuzzadmin", kehu::server::Role::admin, "fuzz-admin-password");
  users.add("fuzzsales", kehu::server::Role::sales, "fuzz-sales-password");
  users.set_regions("fuzzsales", {"江苏"});
  w->clock = std::make_unique<kehu::server::ServerClock>();
  kehu::server::ListenOptions options;
  options.port = 0;
  w->server = std::make_unique<HttpServer>(*w->store, *w->clock, options);
  const int port = w->server->bind();
  w->serving = std::thread([w] { w->server->run(); });
  w->client = std::make_unique<httplib::Client>("127.0.0.1", port);
  w->client->set_keep_alive(true);
  w->client->set_read_timeout(10, 0);  // a hang is a finding, not a stall
  w->admin_token = login(*w->client, "fuzzadmin", "fuzz-admin-password");
  w->sales_token = login(*w->client, "fuzzsales", "fuzz-sales-password");
  g_world = w;
  std::fprintf(stderr, "fuzz_server: kehu-server on 127.0.0.1:%d, store %s\n", port, path.c_str());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  World& w = *g_world;
  const Endpoint& ep = kEndpoints[data[0] % kEndpointCount];
  const bool as_admin = (data[0] / kEndpointCount) % 2 == 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::string path = ep.path;
  if (auto at = path.find("%s"); at != std::string::npos) {
    const auto nl = rest.find('\n');
    path.replace(at, 2, path_segment(rest.substr(0, nl)));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  const httplib::Headers headers = {
      {"Authorization", "Bearer " + (as_admin ? w.admin_token : w.sales_token)}};
  httplib::Result res = std::string_view(ep.method) == "GET"
                            ? w.client->Get(path, headers)
                            : w.client->Post(path, headers, std::string(rest), "application/json");
  if (!res) fail(std::string(ep.method) + " " + path + ": no answer (" + httplib::to_string(res.error()) + ")");
  if (res->status >= 500) {
    fail(std::string(ep.method) + " " + path + " answered " + std::to_string(res->status) + ": " + res->body);
  }
  return 0;
}
