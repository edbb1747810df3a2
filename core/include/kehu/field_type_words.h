// Field types as people read them: the type names of schema.h and
// custom_fields.h ("enum", "integer") in the user's language. Shared by kehu's
// `schema list` and kehu-server's `schema show`. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "kehu/lang.h"

namespace kehu {

// 枚举 for "enum", 整数 for "integer", ... under Lang::zh; the name itself under
// Lang::en, and for a name that is no field type.
std::string field_type_word(std::string_view type_name, Lang lang);

}  // namespace kehu
