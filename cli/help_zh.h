// `kehu --help` and command-line mistakes in Chinese (KEHU_LANG=zh).
//
// The commands are declared once, in English, in main.cc; this walks the
// finished CLI11 tree and puts each description, group and label into Chinese
// from one catalog. A description the catalog lacks stays English, which
// tests/cli/test_cli_help_zh.cpp finds by reading every command's --help.
#pragma once

#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace kehu::cli {

// Every description, group name and CLI11 label of `app` and its subcommands
// in Chinese.
void localize_help(CLI::App& app);
// A CLI11 parse error in kehu's words (Chinese when `zh`), naming the rule a
// value broke where the option's type says it, with the hint to the failing
// command's --help.
std::string parse_error_text(const CLI::App& app, const CLI::ParseError& e, bool zh);

// "a" or "an" before an English noun of a command ("an order", "a contact").
inline std::string article(const std::string& noun) {
  return !noun.empty() && std::string("aeiou").find(noun[0]) != std::string::npos ? "an" : "a";
}

}  // namespace kehu::cli
