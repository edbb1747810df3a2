#include "command_line.h"

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

CommandLine::CommandLine(int argc, char** argv, const std::set<std::string>& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      words_.push_back(std::move(arg));
      continue;
    }
    std::string name = arg.substr(2);
    if (auto eq = name.find('='); eq != std::string::npos) {
      options_[name.substr(0, eq)] = name.substr(eq + 1);
    } else if (flags.count(name)) {
      options_[name] = "";
    } else if (i + 1 < argc) {
      options_[name] = argv[++i];
    } else {
      throw Error(Errc::usage, tr("option --" + name + " needs a value", "选项 --" + name + " 需要一个值"));
    }
  }
}

const std::string& CommandLine::word(std::size_t i, const char* what) const {
  if (i >= words_.size()) throw Error(Errc::usage, tr(std::string("missing ") + what, std::string("缺少") + what));
  return words_[i];
}

std::optional<std::string> CommandLine::option(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::string CommandLine::required(const std::string& name) const {
  auto v = option(name);
  if (!v || v->empty()) throw Error(Errc::usage, tr("missing --" + name, "缺少 --" + name));
  return *v;
}

void CommandLine::expect(std::initializer_list<const char*> allowed, std::size_t max_words) const {
  for (const auto& [name, value] : options_) {
    bool ok = false;
    for (const char* a : allowed) ok = ok || name == a;
    if (!ok) {
      std::vector<std::string> names;
      for (const char* a : allowed) names.push_back(std::string("--") + a);
      const std::string hint = did_you_mean(nearest_name("--" + name, names));
      throw Error(Errc::usage, tr("unknown option --" + name, "未知选项 --" + name) + hint);
    }
  }
  if (words_.size() > max_words) throw Error(Errc::usage, tr("unexpected argument \"" + words_[max_words] + "\"", "多余的参数“" + words_[max_words] + "”"));
}

}  // namespace kehu::server
