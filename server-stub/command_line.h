// A small argument parser for kehu-server's subcommands: positional words and
// "--name value" / "--name=value" options (every option takes a value, except
// the flags a command declares). Hand-written because the server's command line
// is tiny and its exit codes (2 for usage) must be exact.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kehu/typo_hint.h"

namespace kehu::server {

class CommandLine {
 public:
  // Throws Error(usage) for an option without its value.
  CommandLine(int argc, char** argv, const std::set<std::string>& flags = {"help"});

  const std::vector<std::string>& words() const { return words_; }
  // The i-th positional word, or Error(usage) naming `what` if there is none.
  const std::string& word(std::size_t i, const char* what) const;

  std::optional<std::string> option(const std::string& name) const;
  // The option's value, or Error(usage) naming it.
  std::string required(const std::string& name) const;
  bool flag(const std::string& name) const { return options_.count(name) != 0; }

  // Throws Error(usage) if an option outside `allowed` was given, or if there are
  // more than `max_words` positional words.
  void expect(std::initializer_list<const char*> allowed, std::size_t max_words) const;

 private:
  std::vector<std::string> words_;
  std::map<std::string, std::string> options_;
};

}  // namespace kehu::server
