// Field type names in Chinese (kehu/field_type_words.h).
#include "kehu/field_type_words.h"

#include <array>
#include <utility>

namespace kehu {

std::string field_type_word(std::string_view type_name, Lang lang) {
  static constexpr std::array<std::pair<std::string_view, const char*>, 10> kZh = {{
      {"text", "文本"},
      {"integer", "整数"},
      {"money", "金额"},
      {"date", "日期"},
      {"datetime", "日期时间"},
      {"enum", "枚举"},
      {"tags", "标签"},
      {"phone", "电话"},
      {"email", "邮箱"},
      {"reference", "引用"},
  }};
  if (lang == Lang::zh) {
    for (const auto& [name, zh] : kZh) {
      if (name == type_name) return zh;
    }
  }
  return std::string(type_name);
}

}  // namespace kehu
