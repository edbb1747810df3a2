#include "cli_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace kehu::test {
namespace {

// Everything the child needs is built before fork(): after it, the child only
// calls async-signal-safe functions.
std::vector<std::string> child_environment(const EnvChanges& changes) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string name = kv.substr(0, eq);
    if (name.rfind("KEHU_", 0) == 0) continue;
    if (name == "COLUMNS") continue;  // tables fit it: a test that wants it says so
    env[name] = kv.substr(eq + 1);
  }
  for (const auto& [name, value] : changes) {
    if (value) {
      env[name] = *value;
    } else {
      env.erase(name);
    }
  }
  std::vector<std::string> out;
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) FAIL("pipe2: " << std::strerror(errno));
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) FAIL("waitpid: " << std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string kehu_binary() {
  if (const char* v = std::getenv("KEHU_CLI_BIN"); v && *v) return v;
  return KEHU_CLI_BIN_PATH;
}

std::string CliResult::describe() const {
  std::ostringstream s;
  s << "exit " << exit_code << (timed_out ? " (killed: timed out)" : "") << "\n--- stdout ---\n"
    << out << "--- stderr ---\n"
    << err;
  return s.str();
}

CliResult run_program(const std::string& program, const std::vector<std::string>& args,
                      const RunOptions& options) {
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = child_environment(options.env);
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);

  // The whole input goes into the pipe before the child exists: no SIGPIPE if it
  // never reads, and no deadlock as long as it fits the pipe buffer.
  constexpr std::size_t kMaxStdin = 60000;
  if (options.stdin_data.size() > kMaxStdin) FAIL("run_program: stdin_data larger than the pipe");
  int in[2], out[2], err[2], exec_status[2];
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  make_pipe(exec_status);
  if (!options.stdin_data.empty() &&
      ::write(in[1], options.stdin_data.data(), options.stdin_data.size()) !=
          static_cast<ssize_t>(options.stdin_data.size())) {
    FAIL("run_program: cannot write stdin: " << std::strerror(errno));
  }
  ::close(in[1]);

  pid_t pid = ::fork();
  if (pid < 0) FAIL("fork: " << std::strerror(errno));
  if (pid == 0) {
    ::setsid();  // no controlling terminal: a passphrase prompt fails instead of blocking
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execve(program.c_str(), argv.data(), envp.data());
    int e = errno;
    (void)!::write(exec_status[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_status[1]);
  int exec_errno = 0;
  ssize_t got = ::read(exec_status[0], &exec_errno, sizeof exec_errno);
  ::close(exec_status[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    ::close(out[0]);
    ::close(err[0]);
    wait_for(pid);
    FAIL("cannot execute " << program << ": " << std::strerror(exec_errno));
  }

  CliResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_seconds);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0) {
      if (errno == EINTR) continue;
      FAIL("poll: " << std::strerror(errno));
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t k = ::read(fds[i].fd, buf, sizeof buf);
      if (k > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(k));
      } else if (k == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  r.exit_code = wait_for(pid);
  return r;
}

CliResult run_kehu(const std::vector<std::string>& args, const RunOptions& options) {
  return run_program(kehu_binary(), args, options);
}

void run_then_kill(const std::function<void()>& work) {
  int ready[2];
  make_pipe(ready);
  pid_t pid = ::fork();
  if (pid < 0) FAIL("fork: " << std::strerror(errno));
  if (pid == 0) {
    ::close(ready[0]);
    char status = 'x';
    try {
      work();
      status = 'k';
    } catch (...) {
    }
    (void)!::write(ready[1], &status, 1);
    for (;;) ::pause();  // killed here, with everything still open
  }
  ::close(ready[1]);
  char status = 0;
  ssize_t n;
  do {
    n = ::read(ready[0], &status, 1);
  } while (n < 0 && errno == EINTR);
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  wait_for(pid);
  if (status != 'k') FAIL("run_then_kill: the child's work failed");
}

ScratchDir::ScratchDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(templ.data())) FAIL("mkdtemp " << templ << ": " << std::strerror(errno));
  path_ = templ;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::optional<std::string> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.flush();
  if (!out) FAIL("cannot write " << path);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string sample_sheet(const std::string& name) {
  static const ScratchDir dir("kehu-samples");
  const std::string copy = dir.file(name);
  if (!read_bytes(copy)) {
    const std::string original = std::string(KEHU_SHARED_DATA_DIR) + "/" + name;
    auto bytes = read_bytes(original);
    if (!bytes) FAIL("no sample sheet " << original);
    write_bytes(copy, *bytes);
  }
  return copy;
}

}  // namespace kehu::test
