#include "password_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "kehu/error.h"

namespace kehu::server {

namespace {

// Restores the terminal's echo on scope exit, even when reading throws.
class NoEcho {
 public:
  NoEcho() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) throw Error(Errc::io, "cannot read terminal settings");
    termios quiet = saved_;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) throw Error(Errc::io, "cannot turn off echo");
  }
  ~NoEcho() { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_); }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  termios saved_{};
};

std::string read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) throw Error(Errc::usage, "no password given on stdin");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string ask(const std::string& prompt) {
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  std::string line;
  {
    NoEcho quiet;
    line = read_line();
  }
  std::fputs("\n", stderr);
  return line;
}

}  // namespace

std::string read_new_password(const std::string& user) {
  if (const char* env = std::getenv("KEHU_PASSWORD")) return env;
  if (!isatty(STDIN_FILENO)) return read_line();
  std::string first = ask("New password for " + user + ": ");
  std::string again = ask("Repeat it: ");
  if (first != again) throw Error(Errc::usage, "the two passwords differ; nothing changed");
  return first;
}

}  // namespace kehu::server
