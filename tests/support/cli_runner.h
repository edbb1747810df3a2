// Runs the real `kehu` binary for the CLI tests, the way a user's shell would
// but without a shell: fork + execve with an explicit argv and environment,
// stdout and stderr captured separately, the exit code reported.
//
// The binary is $KEHU_CLI_BIN if set, else KEHU_CLI_BIN_PATH (set by
// tests/CMakeLists.txt to $<TARGET_FILE:kehu>).
//
// Isolation: the child gets the test process's environment with every KEHU_*
// variable removed (so a developer's own KEHU_DB or KEHU_PASSPHRASE can never
// leak into a test and touch a real replica), then the caller's variables on
// top. It runs in a new session (setsid), so it has no controlling terminal and
// a passphrase prompt fails at once instead of waiting on /dev/tty; stdin is
// /dev/null unless the caller gives input.
//
// Not thread-safe (fork in a multi-threaded process is only safe because the
// child calls nothing but async-signal-safe functions before execve).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kehu::test {

// The path of the kehu binary under test.
std::string kehu_binary();

struct CliResult {
  int exit_code = -1;  // the process's exit status; 128 + N if signal N killed it
  std::string out;     // everything it wrote to stdout
  std::string err;     // everything it wrote to stderr
  bool timed_out = false;
  // "exit 2\n--- stdout ---\n...\n--- stderr ---\n..." for failure messages.
  std::string describe() const;
};

// Environment changes for a child: name -> value sets it, name -> nullopt unsets it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

struct RunOptions {
  EnvChanges env;
  std::string stdin_data;     // written to the child's stdin, then closed
  int timeout_seconds = 300;  // hang guard only: the child is killed (SIGKILL) after it
};

// Runs `program` (an absolute path) with `args` (argv[1..]). Never throws for a
// failing child; fails the test (Catch2) only if fork/exec itself cannot work.
CliResult run_program(const std::string& program, const std::vector<std::string>& args,
                      const RunOptions& options = {});

// run_program(kehu_binary(), ...).
CliResult run_kehu(const std::vector<std::string>& args, const RunOptions& options = {});

// Simulates a crash: forks, runs `work` in the child (e.g. open a replica and
// write to it), then kills the child with SIGKILL while it still holds whatever
// `work` opened and did not close, so nothing is cleaned up: what should stay
// open must outlive `work` (e.g. a Replica that `work` release()s). Fails the
// test if `work` throws in the child.
void run_then_kill(const std::function<void()>& work);

// A fresh directory under $TMPDIR (mkdtemp), removed with everything in it when
// the object goes away.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "kehu-test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whole-file helpers. read_bytes returns nullopt if the file does not exist.
std::optional<std::string> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::string& bytes);

// The lines of `text`, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

// A sample sheet of tests/data ("customers-sample.csv"), copied into a scratch
// folder of this test process: an import writes beside its sheet
// (SHEET.duplicates.csv), and that must never land in the source tree.
std::string sample_sheet(const std::string& name);

}  // namespace kehu::test
