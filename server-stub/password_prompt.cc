#include "password_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

namespace {

// Restores the terminal's echo on scope exit, even when reading throws.
class NoEcho {
 public:
  NoEcho() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) throw Error(Errc::io, tr("cannot read terminal settings", "无法读取终端设置"));
    termios quiet = saved_;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) throw Error(Errc::io, tr("cannot turn off echo", "无法关闭终端回显"));
  }
  ~NoEcho() { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_); }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;

 private:
  termios saved_{};
};

std::string read_line() {
  std::string line;
  if (!std::getline(std::cin, line)) throw Error(Errc::usage, tr("no password given on stdin", "标准输入中没有密码"));
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
  std::string first = ask(tr("New password for " + user + ": ", user + " 的新密码："));
  std::string again = ask(tr("Repeat it: ", "再输入一次："));
  if (first != again) throw Error(Errc::usage, tr("the two passwords differ; nothing changed", "两次输入的密码不一致；未作任何修改"));
  return first;
}

}  // namespace kehu::server
