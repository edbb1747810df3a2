#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "kehu/error.h"

extern char** environ;

namespace kehu::launch {
namespace {

std::vector<std::string> child_environment(const ChildSpec& spec) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (!spec.keep_kehu_env && std::strncmp(*e, "KEHU_", 5) == 0) continue;
    const char* eq = std::strchr(*e, '=');
    if (eq && spec.env.count(std::string(*e, static_cast<std::size_t>(eq - *e)))) continue;  // the spec's value wins
    env.emplace_back(*e);
  }
  for (const auto& [k, v] : spec.env) env.push_back(k + "=" + v);
  return env;
}

// Everything the child needs is built before fork: after fork in a process that
// may have had threads, only async-signal-safe calls are allowed.
struct PreparedExec {
  std::vector<std::string> argv_s, env_s;
  std::vector<char*> argv, envp;
  explicit PreparedExec(const ChildSpec& spec) : env_s(child_environment(spec)) {
    argv_s.push_back(spec.program);
    argv_s.insert(argv_s.end(), spec.args.begin(), spec.args.end());
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

using Clock = std::chrono::steady_clock;

std::string exe_of(pid_t pid) {
  char buf[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

long status_kb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0) return std::atol(line.c_str() + len);
  }
  return 0;
}

std::string ChildResult::describe() const {
  return "exit " + std::to_string(exit_code) + (timed_out ? " (timed out)" : "") + ": " + err + out;
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t start_child(const ChildSpec& spec) {
  PreparedExec px(spec);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw Error(Errc::internal, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the bench died between fork and prctl
    int in = open("/dev/null", O_RDONLY);
    int out = spec.stdout_path.empty()
                  ? open("/dev/null", O_WRONLY)
                  : open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = spec.stderr_path.empty()
                  ? open("/dev/null", O_WRONLY)
                  : open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execve(px.argv[0], px.argv.data(), px.envp.data());
    _exit(127);
  }
  return pid;
}

ChildResult run_child(const ChildSpec& spec, int timeout_s) {
  ChildResult r;
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = start_child(spec);
  // A watchdog thread rather than polling with WNOHANG: the blocking wait4 below
  // returns the moment the child ends, so the wall time is not rounded up to a
  // polling interval. The watchdog also samples the child's VmHWM.
  std::error_code ec;
  const std::string exe = std::filesystem::weakly_canonical(spec.program, ec).string();
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread watchdog([&] {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    std::unique_lock lock(mu);
    while (!done) {
      if (Clock::now() >= deadline) {
        r.timed_out = true;
        kill(pid, SIGKILL);
        break;
      }
      // Before exec the child is still a copy of the bench: skip those readings.
      if (exe_of(pid) == exe) r.peak_rss_kb = std::max(r.peak_rss_kb, status_kb(pid, "VmHWM:"));
      cv.wait_for(lock, std::chrono::milliseconds(5), [&] { return done; });
    }
  });
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_one();
  watchdog.join();
  r.exit_code = decode_wait_status(status);
  r.max_rss_kb = ru.ru_maxrss;  // Linux reports kilobytes
  if (!spec.stdout_path.empty()) r.out = read_text_file(spec.stdout_path);
  if (!spec.stderr_path.empty()) r.err = read_text_file(spec.stderr_path);
  return r;
}

int stop_child(pid_t pid, int sig, std::chrono::milliseconds grace, bool* killed) {
  if (killed) *killed = false;
  kill(pid, sig);
  const auto deadline = Clock::now() + grace;
  int status = 0;
  pid_t done;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0) {
    if (Clock::now() > deadline) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (killed) *killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done < 0 ? -1 : decode_wait_status(status);
}

StartedServer start_server(const ChildSpec& spec, std::chrono::milliseconds timeout) {
  std::error_code ec;
  std::filesystem::remove(spec.stdout_path, ec);
  StartedServer out;
  out.pid = start_child(spec);
  // The line is in the operator's language (KEHU_LANG, else the locale).
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const std::string text = read_text_file(spec.stdout_path);
    for (const std::string prefix : {"listening on 127.0.0.1:", "正在监听 127.0.0.1:"}) {
      if (auto at = text.find(prefix); at != std::string::npos && text.find('\n', at) != std::string::npos) {
        out.port = std::stoi(text.substr(at + prefix.size()));
        return out;
      }
    }
    int status = 0;
    if (waitpid(out.pid, &status, WNOHANG) == out.pid) {
      throw Error(Errc::internal, "kehu-server serve exited with " + std::to_string(decode_wait_status(status)) +
                                      ":\n" + read_text_file(spec.stderr_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop_child(out.pid, SIGKILL, std::chrono::seconds(10));
  throw Error(Errc::internal, "kehu-server serve did not print its port within " +
                                  std::to_string(timeout.count()) + " ms:\n" + read_text_file(spec.stderr_path));
}

}  // namespace kehu::launch
