// Hints for a mistyped word: the known names nearest to it, for kehu-server's
// subcommands, options and values (roles, provinces), kehu's commands and
// options (cli/suggest.cc) and field names (CollectionDef::field). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kehu {

// The names among `names` nearest to a mistyped `word`, in their order, or
// none when no name is near enough to be a typo. The distance is optimal string
// alignment over code points (a swap of two neighbours counts 1); near enough
// is at most 2 edits and fewer than half the word's display width, a Chinese
// character counting 2. So `lst` is near `list`, 江酥 is near 江苏 (and as near
// 江西: both are returned), and 火星 is near no province.
std::vector<std::string> nearest_names(const std::string& word,
                                       const std::vector<std::string>& names);
// The first of nearest_names(), or nullopt.
std::optional<std::string> nearest_name(const std::string& word,
                                        const std::vector<std::string>& names);

// "; did you mean 'serve'?" / "；您是不是要输入“serve”？" for a near name, else "".
std::string did_you_mean(const std::optional<std::string>& near);
// The same for several ("'a', 'b' or 'c'"); "" for none.
std::string did_you_mean(const std::vector<std::string>& near);

}  // namespace kehu
