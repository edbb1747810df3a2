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
  ctx.lang = lang_from_environment(/*warn=*/true);
  set_message_lang(ctx.lang);
  if (ctx.db_path.empty()) ctx.db_path = env("KEHU_DB");
  if (ctx.db_path.empty()) {
    std::string home = env("HOME");
    if (home.empty()) throw Error(Errc::usage, tr("set --db or KEHU_DB (no HOME to default to)",
                                                  "请用 --db 或 KEHU_DB 指定本地副本（没有 HOME 目录可作默认位置）"));
    std::string dir = home + "/.kehu";
    ::mkdir(dir.c_str(), 0700);
    ctx.db_path = dir + "/replica.db";
  }
}

std::string prompt_secret(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    throw Error(Errc::usage, tr("no terminal to ask for the " + prompt + ": set KEHU_PASSPHRASE or use --key-file",
                                "没有终端可以输入“" + prompt + "”：请设置 KEHU_PASSPHRASE 或使用 --key-file"));
  }
  const std::string ask = prompt + tr(": ", "：");
  (void)!::write(fd, ask.data(), ask.size());
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

std::string Context::passphrase(const std::string& prompt, bool confirm) const {
  if (!key_file.empty()) {
    std::ifstream in(key_file, std::ios::binary);
    if (!in) throw Error(Errc::usage, tr("--key-file " + key_file + ": cannot read it", "--key-file " + key_file + "：无法读取"));
    std::string key;
    std::getline(in, key);
    if (!key.empty() && key.back() == '\r') key.pop_back();  // saved on Windows
    if (key.empty()) {
      throw Error(Errc::usage, tr("--key-file " + key_file + ": the first line is empty",
                                  "--key-file " + key_file + "：第一行是空的"));
    }
    return key;
  }
  std::string key = env("KEHU_PASSPHRASE");
  if (!key.empty()) return key;
  key = prompt_secret(prompt);
  if (confirm && prompt_secret(tr("Repeat passphrase", "再输入一次口令")) != key) {
    throw Error(Errc::usage, tr("the two passphrases differ", "两次输入的口令不一样"));
  }
  if (key.empty()) throw Error(Errc::usage, tr("the passphrase must not be empty", "口令不能为空"));
  return key;
}

Replica& Context::replica() {
  if (!replica_) replica_ = Replica::open(db_path, passphrase(tr("Replica passphrase", "本地副本口令")));
  return *replica_;
}

}  // namespace kehu::cli
