#include "context.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kehu/error.h"

namespace kehu::cli {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

void apply_environment(Context& ctx) {
  if (ctx.db_path.empty()) ctx.db_path = env("KEHU_DB");
  if (ctx.db_path.empty()) {
    std::string home = env("HOME");
    if (home.empty()) throw Error(Errc::usage, "set --db or KEHU_DB (no HOME to default to)");
    std::string dir = home + "/.kehu";
    ::mkdir(dir.c_str(), 0700);
    ctx.db_path = dir + "/replica.db";
  }
  ctx.lang = lang_from_environment(/*warn=*/true);
  set_message_lang(ctx.lang);
}

std::string prompt_secret(const char* prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    throw Error(Errc::usage, std::string("no terminal to ask for the ") + prompt +
                                 ": set KEHU_PASSPHRASE or use --key-file");
  }
  (void)!::write(fd, prompt, std::char_traits<char>::length(prompt));
  (void)!::write(fd, ": ", 2);
  termios old {};
  bool restore = ::tcgetattr(fd, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  if (restore) ::tcsetattr(fd, TCSAFLUSH, &old);
  (void)!::write(fd, "\n", 1);
  ::close(fd);
  return line;
}

std::string Context::passphrase(const char* prompt, bool confirm) const {
  if (!key_file.empty()) {
    std::ifstream in(key_file, std::ios::binary);
    if (!in) throw Error(Errc::usage, "--key-file " + key_file + ": cannot read it");
    std::string key;
    std::getline(in, key);
    if (!key.empty() && key.back() == '\r') key.pop_back();  // saved on Windows
    if (key.empty()) throw Error(Errc::usage, "--key-file " + key_file + ": the first line is empty");
    return key;
  }
  std::string key = env("KEHU_PASSPHRASE");
  if (!key.empty()) return key;
  key = prompt_secret(prompt);
  if (confirm && prompt_secret("Repeat passphrase") != key) {
    throw Error(Errc::usage, "the two passphrases differ");
  }
  if (key.empty()) throw Error(Errc::usage, "the passphrase must not be empty");
  return key;
}

Replica& Context::replica() {
  if (!replica_) replica_ = Replica::open(db_path, passphrase("Replica passphrase"));
  return *replica_;
}

}  // namespace kehu::cli
