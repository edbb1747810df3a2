// The launcher the benchmarks (bench/) and the tests (tests/support/) share:
// runs the real kehu / kehu-server binaries as child processes, the way a
// user's shell would but without a shell: fork + execve with an explicit argv
// and environment, so a benchmark measures exactly one process.
//
// The child gets this process's environment minus every KEHU_* variable (a
// developer's KEHU_DB must never point a benchmark at a real replica) unless
// the spec keeps them, plus the caller's variables. stdin is /dev/null; stdout and stderr go to files. The
// child asks the kernel for SIGKILL if the bench dies first (PR_SET_PDEATHSIG),
// so an interrupted run leaves no server behind.
//
// Not thread-safe: call from the main thread while no other bench thread runs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kehu::launch {

struct ChildSpec {
  std::string program;  // absolute path
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string stdout_path;  // created/truncated; "" = /dev/null
  std::string stderr_path;  // appended to; "" = /dev/null
  bool keep_kehu_env = false;  // pass this process's KEHU_* variables on
};

struct ChildResult {
  int exit_code = -1;  // 128 + N if signal N ended it
  double wall_s = 0;   // fork to reaped
  // Peak resident set of the program itself: VmHWM of /proc/PID/status, polled
  // every 5 ms once the child has exec'd (VmHWM starts afresh with the new image).
  // Growth in the last few ms before exit may be missed.
  long peak_rss_kb = 0;
  // ru_maxrss from wait4(). Linux carries the pre-exec high-water mark over exec,
  // and a forked child starts as a copy of this (large) process, so this is
  // max(our RSS at fork, the program's peak): kept only to show the difference.
  long max_rss_kb = 0;
  bool timed_out = false;
  std::string out, err;  // what it wrote to stdout_path / stderr_path
  // "exit 1: <stderr>" for error messages.
  std::string describe() const;
};

// Starts the child and returns its pid. Throws Error(internal) if fork fails.
pid_t start_child(const ChildSpec& spec);

// Runs the child to completion (SIGKILL after timeout_s) and reports its wall
// time and peak RSS.
ChildResult run_child(const ChildSpec& spec, int timeout_s);

// Sends `sig` to the child, waits up to `grace` for it to end, then SIGKILLs
// it. Returns its exit code (as ChildResult::exit_code); *killed tells whether
// SIGKILL was needed.
int stop_child(pid_t pid, int sig, std::chrono::milliseconds grace, bool* killed = nullptr);

// A `kehu-server serve ... --listen 127.0.0.1:PORT` child, once it listens.
struct StartedServer {
  pid_t pid = -1;
  int port = 0;
};
// Starts `spec` (stdout_path required) and waits up to `timeout` for the line
// "listening on 127.0.0.1:PORT" the server prints on stdout. Throws
// Error(internal) with the exit code and what it wrote to stderr_path if it
// exits first, or if it names no port in time (it is then killed).
StartedServer start_server(const ChildSpec& spec,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Exit code from a wait status, as ChildResult::exit_code.
int decode_wait_status(int status);

// A "NAME:  123 kB" line of /proc/PID/status, in kB; 0 if absent.
long status_kb(pid_t pid, const char* field);

// Whole file, "" if it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace kehu::launch
