#include "suggest.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <vector>

#include "kehu/typo_hint.h"

namespace kehu::cli {
namespace {

std::vector<std::string> subcommand_names(CLI::App& app) {
  std::vector<std::string> out;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) out.push_back(sub->get_name());
  return out;
}

// The option `name` ("--set") at `level` or any level above it.
const CLI::Option* find_option(const CLI::App* level, const std::string& name) {
  for (; level != nullptr; level = level->get_parent()) {
    if (const CLI::Option* o = level->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

std::vector<std::string> option_names(const CLI::App* level) {
  std::vector<std::string> out;
  for (; level != nullptr; level = level->get_parent()) {
    for (const CLI::Option* o : level->get_options()) {
      for (const auto& l : o->get_lnames()) out.push_back("--" + l);
    }
  }
  return out;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "kehu customer list": the whole command a level stands for, not only its own name.
std::string command_of(const CLI::App* level) {
  std::string path;
  for (; level != nullptr && level->get_parent() != nullptr; level = level->get_parent()) {
    path = " " + level->get_name() + path;
  }
  return "kehu" + path;
}

}  // namespace

std::optional<std::string> explain_unknown(CLI::App& app, int argc, const char* const* argv, bool zh) {
  CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return std::nullopt;
    if (arg.rfind("--", 0) == 0) {
      const std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* o = find_option(level, name);
      if (o == nullptr) {
        const auto near = nearest_name(name, option_names(level));
        const std::string path = command_of(level);
        if (zh) {
          return "未知选项 '" + name + "'" + (near ? "；您是不是要输入 '" + *near + "'？" : "") + "（见 " + path +
                 " --help）";
        }
        return "unknown option '" + name + "'" + (near ? "; did you mean '" + *near + "'?" : "") + " (see " + path +
               " --help)";
      }
      // Its value is the next word, unless given with '=' or the option is a flag.
      if (arg.find('=') == std::string::npos && o->get_expected_min() > 0) ++i;
      continue;
    }
    if (arg.rfind('-', 0) == 0) continue;  // a short option: CLI11's message says enough
    // A positional argument of a command (a file, a code, an id): the options
    // after it are still looked at (walkthrough 17, R17-20: `import FILE
    // --dryrun` said "unexpected arguments", with no suggestion).
    const std::vector<std::string> subs = subcommand_names(*level);
    if (subs.empty()) continue;
    if (std::find(subs.begin(), subs.end(), arg) != subs.end()) {
      level = level->get_subcommand(arg);
      continue;
    }
    // A level with positional arguments of its own may take this word as one.
    if (!level->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) continue;
    auto near = nearest_name(arg, subs);
    if (!near) {
      // A command one level down ("resolve" is `kehu conflicts resolve`).
      const std::string prefix = command_of(level) + " ";
      std::vector<std::string> nested;
      for (const auto& s : subs) {
        const std::vector<std::string> inner = subcommand_names(*level->get_subcommand(s));
        if (std::find(inner.begin(), inner.end(), arg) != inner.end()) nested.push_back(prefix + s + " " + arg);
      }
      if (!nested.empty() && nested.size() <= 4) {
        std::string joined;
        for (const auto& n : nested) joined += (joined.empty() ? "'" : zh ? "'、'" : "', '") + n;
        near = joined.substr(1);  // quoted below, like a single name
      }
    }
    if (zh) {
      return "未知命令 '" + arg + "'" + (near ? "；您是不是要输入 '" + *near + "'？" : "；可用的命令: " + quoted_list(subs));
    }
    return "unknown command '" + arg + "'" + (near ? "; did you mean '" + *near + "'?" : "; the commands are: " + quoted_list(subs));
  }
  return std::nullopt;
}

}  // namespace kehu::cli
