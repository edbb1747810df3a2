// What a mistyped command line meant: "unknown command 'custmer'; did you mean
// 'customer'?", in the user's language, for words and --options CLI11 refused.
#pragma once

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace kehu::cli {

// After CLI11 refused argv: the first word that is no subcommand at its level,
// or the first --option no level knows, with the nearest name there (edit
// distance), or nullopt when neither is the trouble (CLI11's own message then).
std::optional<std::string> explain_unknown(CLI::App& app, int argc, const char* const* argv, bool zh);

}  // namespace kehu::cli
