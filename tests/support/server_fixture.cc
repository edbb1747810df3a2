#include "server_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "kehu/error.h"

namespace kehu::test {

namespace {

// execv wants char* const[]; the strings must outlive the call.
[[noreturn]] void exec_server(const std::vector<std::string>& args) {
  std::vector<std::string> all{server_binary()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  std::perror("execv kehu-server");
  _exit(127);
}

Reply to_reply(const httplib::Result& r) {
  Reply out;
  if (!r) return out;  // status 0: no answer (connection error)
  out.status = r->status;
  out.body = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (out.body.is_discarded()) out.body = json();
  return out;
}

httplib::Headers auth_headers(const std::string& token) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  return h;
}

// Data directory -> URL of the live fixtures on PostgreSQL (run_server_command).
std::map<std::string, std::string>& postgres_dirs() {
  static std::map<std::string, std::string> dirs;
  return dirs;
}

std::vector<std::string> with_store(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--data" && i + 1 < args.size()) {
      if (auto it = postgres_dirs().find(args[i + 1]); it != postgres_dirs().end()) {
        out.insert(out.end(), {"--store", it->second});
        ++i;
        continue;
      }
    }
    out.push_back(args[i]);
  }
  return out;
}

std::string make_data_dir() {
  char tmpl[] = "/tmp/kehu-server-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

std::string server_binary() {
  if (const char* env = std::getenv("KEHU_SERVER_BIN")) return env;
#ifdef KEHU_SERVER_BIN_PATH
  return KEHU_SERVER_BIN_PATH;
#else
  return "kehu-server";
#endif
}

CommandResult run_server_command(const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    exec_server(with_store(args));
  }
  close(fds[1]);
  CommandResult out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.output.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  out.exit_code = launch::decode_wait_status(status);
  return out;
}

const std::map<std::string, std::string>& ServerFixture::users() {
  static const std::map<std::string, std::string> u = {
      {"root", "admin"}, {"zhao", "manager"}, {"wang", "sales"}, {"li", "sales"}, {"audit", "auditor"},
      // Two more admins: sync tests about merging need writers who all see every record.
      {"qian", "admin"}, {"sun", "admin"}};
  return u;
}

const std::map<std::string, std::string>& ServerFixture::user_regions() {
  static const std::map<std::string, std::string> r = {{"zhao", "江苏"}, {"wang", "江苏"}, {"li", "江苏"}};
  return r;
}

ServerFixture::ServerFixture() : ServerFixture(ServeOptions{}) {}

ServerFixture::ServerFixture(ServeOptions serve) : serve_(std::move(serve)) {
  dir_ = make_data_dir();
  if (serve_.store == TestStore::postgresql ||
      (serve_.store == TestStore::from_environment && postgres_selected())) {
    db_ = std::make_shared<PostgresDatabase>();
    store_url_ = db_->url();
    postgres_dirs()[dir_] = store_url_;
  }
  auto init = run_server_command({"init", "--data", dir_});
  INFO(init.output);
  REQUIRE(init.exit_code == 0);
  for (const auto& [name, role] : users()) {
    auto add = run_server_command({"user", "add", name, "--role", role, "--data", dir_},
                                  {{"KEHU_PASSWORD", kPassword}});
    INFO(add.output);
    REQUIRE(add.exit_code == 0);
  }
  for (const auto& [name, regions] : user_regions()) {
    auto set = run_server_command({"user", "set-regions", name, regions, "--data", dir_});
    INFO(set.output);
    REQUIRE(set.exit_code == 0);
  }
  start();
}

ServerFixture::ServerFixture(const ServerFixture& first, ServeOptions serve)
    : dir_(make_data_dir()), serve_(std::move(serve)), db_(first.db_), store_url_(first.store_url_) {
  REQUIRE(first.on_postgres());
  postgres_dirs()[dir_] = store_url_;
  start();
}

ServerFixture::~ServerFixture() {
  if (running()) launch::stop_child(pid_, SIGTERM, std::chrono::seconds(30));
  postgres_dirs().erase(dir_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> ServerFixture::store_args() const {
  if (on_postgres()) return {"--store", store_url_};
  return {"--data", dir_};
}

void ServerFixture::start(int port) {
  REQUIRE_FALSE(running());
  std::vector<std::string> args{"serve"};
  for (const auto& a : store_args()) args.push_back(a);
  args.insert(args.end(), {"--listen", "127.0.0.1:" + std::to_string(port)});
  args.insert(args.end(), serve_.args.begin(), serve_.args.end());
  // A push batch stops at its time budget (2 s) and answers the rest "deferred".
  // Tests that count a batch's results must not depend on how loaded the box
  // is: they get 60 s, unless a test sets its own (the budget's own tests do).
  std::map<std::string, std::string> env = serve_.env;
  env.emplace("KEHU_PUSH_BATCH_BUDGET_MS", "60000");
  launch::ChildSpec spec{server_binary(), args, env, dir_ + "/server.out", dir_ + "/server.log",
                         /*keep_kehu_env=*/true};
  try {
    const launch::StartedServer started = launch::start_server(spec);
    pid_ = started.pid;
    port_ = started.port;
  } catch (const Error& e) {
    FAIL(e.what());
  }
}

int ServerFixture::stop(int sig) {
  REQUIRE(running());
  bool killed = false;
  const int code = launch::stop_child(pid_, sig, std::chrono::seconds(10), &killed);
  pid_ = -1;
  if (killed) FAIL("kehu-server did not stop within 10 s of signal " << sig);
  return code;
}

void ServerFixture::restore_backup(const std::string& backup) {
  REQUIRE(stop() == 0);
  std::filesystem::copy_file(backup, store_path(), std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(store_path() + "-wal");
  std::filesystem::remove(store_path() + "-shm");
  start(port());
}

std::string ServerFixture::log() const { return launch::read_text_file(dir_ + "/server.log"); }

bool ServerFixture::tls() const {
  return std::find(serve_.args.begin(), serve_.args.end(), "--tls-cert") != serve_.args.end();
}

std::string ServerFixture::base_url() const {
  return std::string(tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

httplib::Client ServerFixture::client() const {
  httplib::Client c(base_url());
  if (tls()) c.enable_server_certificate_verification(false);
  c.set_connection_timeout(5);
  c.set_read_timeout(30);
  c.set_write_timeout(30);
  return c;
}

std::string ServerFixture::login(const std::string& user, const std::string& device) {
  Reply r = post("/v1/login", {{"user", user}, {"password", kPassword}, {"device", device}});
  INFO(r.body.dump());
  REQUIRE(r.status == 200);
  return r.body.at("token").get<std::string>();
}

Reply ServerFixture::post(const std::string& path, const json& body, const std::string& token) {
  return post_raw(path, body.dump(), token);
}

Reply ServerFixture::post_raw(const std::string& path, const std::string& body, const std::string& token) {
  return to_reply(client().Post(path.c_str(), auth_headers(token), body, "application/json"));
}

Reply ServerFixture::get(const std::string& path, const std::string& token) {
  return to_reply(client().Get(path.c_str(), auth_headers(token)));
}

std::int64_t hlc_now(std::int64_t ms_ahead) {
  using namespace std::chrono;
  const std::int64_t ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return (ms + ms_ahead) << 16;
}

json make_change(const std::string& change_id, const std::string& record_id, const std::string& op,
                 std::int64_t base_rev, std::int64_t hlc, const std::string& device,
                 std::int64_t device_seq, const json& fields, const std::string& collection,
                 const std::string& code, const std::string& parent) {
  return {{"change_id", change_id}, {"record_id", record_id}, {"collection", collection},
          {"parent", parent},       {"code", code},           {"op", op},
          {"base_rev", base_rev},   {"hlc", hlc},             {"device", device},
          {"device_seq", device_seq}, {"fields", fields}};
}

json new_customer_fields(const std::string& name) {
  return {{"name", {{"old", nullptr}, {"new", name}}},
          {"contact", {{"old", nullptr}, {"new", "张三"}}},
          {"phone", {{"old", nullptr}, {"new", "13800138000"}}},
          {"need", {{"old", nullptr}, {"new", "CT 设备"}}},
          {"province", {{"old", nullptr}, {"new", "江苏"}}}};
}

}  // namespace kehu::test
