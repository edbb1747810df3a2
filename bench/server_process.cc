#include "server_process.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "child_process.h"
#include "data_gen.h"
#include "kehu/error.h"

namespace kehu::bench {

using launch::ChildResult;
using launch::ChildSpec;
using launch::read_text_file;
using launch::run_child;
using launch::status_kb;

namespace {

std::string server_binary() { return KEHU_SERVER_BIN_PATH; }

void run_admin(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
               const std::string& dir) {
  ChildSpec spec{server_binary(), args, env, dir + "/admin.out", dir + "/admin.err"};
  ChildResult r = run_child(spec, 60);
  if (r.exit_code != 0) {
    throw Error(Errc::internal, "kehu-server " + args.at(0) + " failed: " + r.describe());
  }
}

// "2026-11-27T11:04:17Z POST /v1/push 200 user=wang 123ms"
bool parse_log_line(const std::string& line, RequestLogLine& out) {
  std::istringstream in(line);
  std::string at, status, user, ms;
  if (!(in >> at >> out.method >> out.path >> status >> user >> ms)) return false;
  out.status = std::atoi(status.c_str());
  out.user = user.rfind("user=", 0) == 0 ? user.substr(5) : user;
  out.ms = ms == "-" ? 0 : std::atof(ms.c_str());
  return true;
}

}  // namespace

ServerProcess::ServerProcess(std::string dir, std::string store_url)
    : dir_(std::move(dir)), store_url_(std::move(store_url)) {
  std::filesystem::create_directories(dir_);
  std::vector<std::string> args{"init"};
  for (auto& a : store_args()) args.push_back(a);
  run_admin(args, {}, dir_);
  for (const auto& owner : owner_names()) add_user(owner, "sales");
}

ServerProcess::ServerProcess(std::string dir, const ServerProcess& first)
    : dir_(std::move(dir)), store_url_(first.store_url_) {
  if (store_url_.empty()) throw Error(Errc::internal, "a second server process needs a PostgreSQL store");
  std::filesystem::create_directories(dir_);
}

std::vector<std::string> ServerProcess::store_args() const {
  if (store_url_.empty()) return {"--data", dir_};
  return {"--store", store_url_};
}

ServerProcess::~ServerProcess() {
  try {
    stop();
  } catch (...) {
    // A destructor must not throw; the child dies with us anyway (PDEATHSIG).
  }
}

void ServerProcess::add_user(const std::string& name, const std::string& role) {
  std::vector<std::string> args{"user", "add", name, "--role", role};
  for (auto& a : store_args()) args.push_back(a);
  run_admin(args, {{"KEHU_PASSWORD", kPassword}}, dir_);
}

void ServerProcess::set_regions(const std::string& name, const std::string& regions) {
  std::vector<std::string> args{"user", "set-regions", name, regions};
  for (auto& a : store_args()) args.push_back(a);
  run_admin(args, {}, dir_);
}

void ServerProcess::start() {
  if (running()) return;
  std::vector<std::string> args{"serve"};
  for (auto& a : store_args()) args.push_back(a);
  args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  const launch::StartedServer started =
      launch::start_server({server_binary(), args, env_, dir_ + "/server.out", dir_ + "/server.log"});
  pid_ = started.pid;
  port_ = started.port;
}

void ServerProcess::stop() {
  if (!running()) return;
  launch::stop_child(pid_, SIGTERM, std::chrono::seconds(10));
  pid_ = -1;
}

long ServerProcess::vm_hwm_kb() const { return running() ? status_kb(pid_, "VmHWM:") : 0; }

double ServerProcess::cpu_seconds() const {
  if (!running()) return 0;
  // /proc/PID/stat: the command may contain spaces, so count fields after its ')'.
  std::string stat = read_text_file("/proc/" + std::to_string(pid_) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {  // fields 14 and 15 (1-based)
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::uintmax_t ServerProcess::log_mark() const {
  std::error_code ec;
  auto size = std::filesystem::file_size(dir_ + "/server.log", ec);
  return ec ? 0 : size;
}

std::vector<RequestLogLine> ServerProcess::requests_since(std::uintmax_t mark) const {
  std::ifstream in(dir_ + "/server.log", std::ios::binary);
  in.seekg(static_cast<std::streamoff>(mark));
  std::vector<RequestLogLine> out;
  std::string line;
  while (std::getline(in, line)) {
    RequestLogLine l;
    if (parse_log_line(line, l)) out.push_back(std::move(l));
  }
  return out;
}

}  // namespace kehu::bench
