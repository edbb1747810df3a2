#include "command_line.h"

#include <algorithm>

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

namespace {

// Optimal string alignment distance, as cli/suggest.cc's (a swap counts 1).
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::string> nearest_name(const std::string& word, const std::vector<std::string>& names) {
  std::optional<std::string> best;
  std::size_t best_d = 0;
  for (const auto& n : names) {
    const std::size_t d = edit_distance(word, n);
    if (!best || d < best_d) {
      best = n;
      best_d = d;
    }
  }
  if (best && best_d <= 2 && best_d * 2 < std::max<std::size_t>(word.size(), 2)) return best;
  return std::nullopt;
}

std::string did_you_mean(const std::optional<std::string>& near) {
  if (!near) return "";
  return tr("; did you mean '" + *near + "'?", "；您是不是要输入 '" + *near + "'？");
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
