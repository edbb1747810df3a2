#include "kehu/field_filter.h"

#include <algorithm>

#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/text.h"

namespace kehu {

std::vector<FieldFilter> parse_where(
    const CollectionDef& coll, const std::vector<std::pair<std::string, std::string>>& where) {
  std::vector<FieldFilter> out;
  for (const auto& [name, text] : where) {
    const FieldDef& f = coll.field(name);
    json v;
    try {
      v = f.key == "code" ? json(canonical_code(fold_fullwidth(trim(text))))
                          : normalize_value(f, text);
    } catch (const Error& e) {
      if (e.code() != Errc::validation) throw;
      throw Error(Errc::validation, "--where " + name + "=" + text + tr(": ", "：") + e.what());
    }
    if (v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty())) {
      throw Error(Errc::usage, tr("--where " + name + "= needs a value", "--where " + name + "= 后面要有值"));
    }
    // Filters are all applied: a second value of a one-value field matches
    // nothing, without a word (walkthrough 15, R15-9). Tags hold several.
    if (f.type != FieldType::tags) {
      for (const auto& [name2, text2] : where) {
        if (&name2 == &name) break;
        if (coll.find(name2) == &f) {
          throw Error(Errc::usage,
                      tr("--where " + f.key + " is given twice (\"" + text2 + "\", \"" + text +
                             "\"): a record holds one value of it, so both never match; give it once",
                         "--where " + f.key + " 给了两次（“" + text2 + "”、“" + text +
                             "”）：一条记录只有一个值，两个条件不可能同时满足；请只给一次"));
        }
      }
    }
    out.push_back({&f, std::move(v)});
  }
  return out;
}

bool where_matches(const Record& r, const std::vector<FieldFilter>& filters) {
  for (const auto& f : filters) {
    const json& have = f.field->key == "code" ? json(r.code) : r.fields.value(f.field->key, json());
    if (f.field->type == FieldType::tags && f.value.is_array()) {
      if (!have.is_array()) return false;
      for (const auto& t : f.value) {
        if (std::find(have.begin(), have.end(), t) == have.end()) return false;
      }
    } else if (have != f.value) {
      return false;
    }
  }
  return true;
}

}  // namespace kehu
