// Chinese names in pinyin order (ICU's zh collation): 安 < 北 < 陈 < 张, with Latin
// letters and digits ordered among them as a Chinese reader expects.
#pragma once

#include <string>
#include <string_view>

namespace kehu {

// A byte string whose plain comparison (std::string <) orders `utf8` texts by
// pinyin. Falls back to the text itself if ICU has no Chinese collation.
std::string pinyin_sort_key(std::string_view utf8);

}  // namespace kehu
