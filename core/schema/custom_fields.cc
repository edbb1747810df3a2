// Custom field definitions: checks, and the schema they extend (custom_fields.h).
#include "kehu/custom_fields.h"

#include <algorithm>
#include <optional>
#include <set>

#include "kehu/error.h"
#include "kehu/text.h"

namespace kehu {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxKeyChars = 32;
constexpr std::size_t kMaxLabelChars = 32;
constexpr std::size_t kMaxEnumValues = 200;

// Keys that mean something else next to the fields: record_json() puts them
// beside the fields, the wire uses them for the record itself.
const std::set<std::string>& reserved_keys() {
  static const std::set<std::string> k = {"id",      "collection", "code",   "parent", "rev",
                                          "deleted", "pending",    "fields", "old_codes",
                                          "customer", "last_followup_at"};
  return k;
}

// Headers the customer sheet gives another meaning (sheet_csv.cc): the latest
// follow-up's columns and the row number.
const std::set<std::string>& reserved_customer_labels() {
  static const std::set<std::string> k = {"序号",     "跟进日期", "跟进人",      "跟进方式",
                                          "跟进内容", "客户反馈", "最后跟进日期"};
  return k;
}

std::string quote_text(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::size_t utf8_chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7F;
  });
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_key(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeyChars || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_value_key(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeyChars) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A label: trimmed, 1..32 characters of valid UTF-8, no control characters and
// none of "=,;" (they separate --set FIELD=VALUE, --values and tags).
std::string check_label(const std::string& what, const std::string& raw, bool required) {
  std::string label = trim(raw);
  if (label.empty()) {
    if (!required) return label;
    throw Error(Errc::validation, tr(what + " is required, e.g. --label 会员等级", what + " 必须填写，如 --label 会员等级"));
  }
  if (!is_valid_utf8(label) || has_control(label)) {
    throw Error(Errc::validation, what + " " + quote_text(label) +
                                      tr(" must be plain UTF-8 text without control characters", " 必须是不含控制字符的 UTF-8 文本"));
  }
  if (utf8_chars(label) > kMaxLabelChars) {
    const std::string max = std::to_string(kMaxLabelChars);
    throw Error(Errc::validation, what + " " + quote_text(label) +
                                      tr(" is longer than " + max + " characters", " 超过了 " + max + " 个字符"));
  }
  if (label.find_first_of("=,;") != std::string::npos) {
    throw Error(Errc::validation, what + " " + quote_text(label) +
                                      tr(" must not contain \"=\", \",\" or \";\"", " 不能含有“=”“,”或“;”"));
  }
  return label;
}

std::string string_member(const json& def, const char* key) {
  auto it = def.find(key);
  if (it == def.end() || it->is_null()) return {};
  if (!it->is_string()) throw Error(Errc::validation, tr(std::string("\"") + key + "\" must be a string",
                                                                std::string("“") + key + "”必须是字符串"));
  return it->get<std::string>();
}

bool bool_member(const json& def, const char* key) {
  auto it = def.find(key);
  if (it == def.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw Error(Errc::validation, tr(std::string("\"") + key + "\" must be true or false",
                                                                  std::string("“") + key + "”必须是 true 或 false"));
  return it->get<bool>();
}

std::optional<FieldType> type_from_name(std::string_view name) {
  static const std::pair<const char*, FieldType> types[] = {
      {"text", FieldType::text},   {"integer", FieldType::integer},   {"money", FieldType::money},
      {"date", FieldType::date},   {"datetime", FieldType::datetime}, {"enum", FieldType::enumeration},
      {"tags", FieldType::tags},   {"phone", FieldType::phone},       {"email", FieldType::email}};
  for (const auto& [n, t] : types) {
    if (name == n) return t;
  }
  return std::nullopt;
}

std::string joined_types() {
  std::string out;
  for (const auto& t : custom_field_types()) out += (out.empty() ? "" : ", ") + t;
  return out;
}

// Splits on "," and "，".
std::vector<std::string> split_items(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == ',') {
      out.push_back(cur);
      cur.clear();
      ++i;
    } else if (text.substr(i).starts_with("，")) {
      out.push_back(cur);
      cur.clear();
      i += std::string_view("，").size();
    } else {
      cur += text[i++];
    }
  }
  out.push_back(cur);
  return out;
}

// Checks an enum value list given as an array [{"key", "label"}...].
json check_values_array(const json& values) {
  if (!values.is_array()) throw Error(Errc::validation, tr("\"values\" must be a list of {key, label}", "“values”必须是 {key, label} 的列表"));
  if (values.empty()) {
    throw Error(Errc::validation, tr("--values: an enum field needs at least one value", "--values：枚举字段至少要有一个可选值"));
  }
  if (values.size() > kMaxEnumValues) {
    const std::string n = std::to_string(values.size()), max = std::to_string(kMaxEnumValues);
    throw Error(Errc::validation, tr("--values: " + n + " values; at most " + max, "--values：有 " + n + " 个值；最多 " + max + " 个"));
  }
  json out = json::array();
  std::set<std::string> seen;  // keys and labels share one namespace: either finds a value
  for (const auto& v : values) {
    if (!v.is_object()) throw Error(Errc::validation, tr("\"values\" must be a list of {key, label}", "“values”必须是 {key, label} 的列表"));
    std::string label = check_label(tr("--values: value label", "--values：可选值的名称"), string_member(v, "label"), true);
    std::string key = trim(string_member(v, "key"));
    if (key.empty()) key = label;
    if (key != label && !is_value_key(key)) {
      throw Error(Errc::validation, tr("--values: value key " + quote_text(key) +
                                           " must be 1 to 32 letters, digits or _ (or leave the key out: "
                                           "the label is the key)",
                                       "--values：值的键 " + quote_text(key) +
                                           " 必须是 1 到 32 个字母、数字或 _（也可以不写键：名称就是键）"));
    }
    if (seen.count(key) || (key != label && seen.count(label))) {
      const std::string twice = quote_text(seen.count(key) ? key : label);
      throw Error(Errc::validation, tr("--values: " + twice + " is given twice: every value's key and label must be unique",
                                       "--values：" + twice + " 出现了两次：每个值的键和名称都不能重复"));
    }
    seen.insert(key);
    seen.insert(label);
    out.push_back({{"key", key}, {"label", label}});
  }
  return out;
}

// Whether `name` is a key or label of a field of `coll`.
const FieldDef* field_named(const CollectionDef& coll, const std::string& name) {
  for (const auto& f : coll.fields) {
    if (f.key == name || f.zh == name || iequals_ascii(f.en, name)) return &f;
  }
  return nullptr;
}

std::string describe(const FieldDef& f) {
  return f.zh + " (" + f.key + ")" +
         (f.custom ? tr(", a custom field", "（自定义字段）") : tr(", a built-in field", "（内置字段）"));
}

}  // namespace

const std::vector<std::string>& custom_field_types() {
  static const std::vector<std::string> t = {"text", "integer", "money", "date", "datetime",
                                             "enum", "tags",    "phone", "email"};
  return t;
}

json parse_enum_values(std::string_view text) {
  json values = json::array();
  for (const std::string& raw : split_items(text)) {
    std::string item = trim(raw);
    if (item.empty()) {
      throw Error(Errc::validation, tr("--values " + quote_text(text) +
                                           ": an empty value; separate values with commas, e.g. "
                                           "--values \"金卡,银卡\" or --values \"gold:金卡,silver:银卡\"",
                                       "--values " + quote_text(text) +
                                           "：有一个空值；值之间用逗号分隔，如 --values \"金卡,银卡\" 或 --values \"gold:金卡,silver:银卡\""));
    }
    std::size_t colon = item.find(':');
    std::size_t width = 1;
    if (const std::size_t wide = item.find("："); wide != std::string::npos && wide < colon) {
      colon = wide;
      width = std::string_view("：").size();
    }
    if (colon == std::string::npos) {
      values.push_back({{"key", item}, {"label", item}});
    } else {
      std::string key = trim(item.substr(0, colon)), label = trim(item.substr(colon + width));
      if (key.empty() || label.empty()) {
        throw Error(Errc::validation, tr("--values item " + quote_text(item) + ": expected KEY:LABEL, e.g. gold:金卡",
                                         "--values 的 " + quote_text(item) + "：应为 键:名称，如 gold:金卡"));
      }
      values.push_back({{"key", key}, {"label", label}});
    }
  }
  return check_values_array(values);
}

json check_custom_field(const Schema& current, const json& definition) {
  if (!definition.is_object()) throw Error(Errc::validation, tr("a field definition must be a JSON object", "字段定义必须是 JSON 对象"));
  const std::string coll_name = trim(string_member(definition, "collection"));
  const CollectionDef* coll = current.find(coll_name);
  if (coll == nullptr) {
    std::string known;
    for (const auto& c : current.collections()) known += (known.empty() ? "" : ", ") + c.name;
    throw Error(Errc::validation, tr("collection " + quote_text(coll_name) + " does not exist: expected one of " + known,
                                     "没有 " + quote_text(coll_name) + " 这个表：应为 " + known + " 之一"));
  }
  const std::string key = trim(string_member(definition, "key"));
  if (!is_key(key)) {
    throw Error(Errc::validation, tr("key " + quote_text(key) +
                                         " must match [a-z][a-z0-9_]{0,31}: a lowercase letter, then up to 31 "
                                         "lowercase letters, digits or _",
                                     "键 " + quote_text(key) +
                                         " 必须符合 [a-z][a-z0-9_]{0,31}：小写字母开头，后面最多 31 个小写字母、数字或 _"));
  }
  if (reserved_keys().count(key)) {
    throw Error(Errc::validation, tr("key " + quote_text(key) + " is reserved by Kehu for the record itself",
                                     "键 " + quote_text(key) + " 是 Kehu 为记录本身保留的"));
  }
  if (const FieldDef* other = field_named(*coll, key)) {
    const std::string where = coll->zh + " (" + coll->name + ")";
    throw Error(Errc::validation, tr("key " + quote_text(key) + " is already used by " + describe(*other) + " of " + where,
                                     "键 " + quote_text(key) + " 已被" + where + "的 " + describe(*other) + " 使用"));
  }
  const std::string type_name = trim(string_member(definition, "type"));
  const auto type = type_from_name(type_name);
  if (!type) {
    throw Error(Errc::validation, tr("type " + quote_text(type_name) + " is not a field type: expected one of " + joined_types(),
                                     "类型 " + quote_text(type_name) + " 不是字段类型：应为 " + joined_types() + " 之一"));
  }
  std::string label = check_label("--label", string_member(definition, "label"), true);
  std::string label_en = check_label("--label-en", string_member(definition, "label_en"), false);
  for (const std::string* l : {&label, &label_en}) {
    if (l->empty()) continue;
    if (const FieldDef* other = field_named(*coll, *l)) {
      const std::string where = coll->zh + " (" + coll->name + ")";
      throw Error(Errc::validation, tr("label " + quote_text(*l) + " is already used by " + describe(*other) + " of " + where,
                                       "名称 " + quote_text(*l) + " 已被" + where + "的 " + describe(*other) + " 使用"));
    }
    if (coll->name == "customers" && reserved_customer_labels().count(*l)) {
      throw Error(Errc::validation, tr("label " + quote_text(*l) + " is a column of the customer sheet with another meaning",
                                       "名称 " + quote_text(*l) + " 是客户表里另有含义的列名"));
    }
  }
  if (!label_en.empty() && label_en == label) label_en.clear();
  json out = {{"collection", coll->name}, {"key", key},     {"type", type_name},
              {"label", label},           {"label_en", label_en},
              {"required", bool_member(definition, "required")},
              {"restricted", bool_member(definition, "restricted")}};
  auto values = definition.find("values");
  const bool has_values = values != definition.end() && !values->is_null() &&
                          !(values->is_string() && trim(values->get<std::string>()).empty());
  if (*type == FieldType::enumeration) {
    if (!has_values) {
      throw Error(Errc::validation, tr("type enum needs --values, e.g. --values \"金卡,银卡\" or "
                                       "--values \"gold:金卡,silver:银卡\"",
                                       "枚举类型需要 --values，如 --values \"金卡,银卡\" 或 --values \"gold:金卡,silver:银卡\""));
    }
    out["values"] = values->is_string() ? parse_enum_values(values->get<std::string>())
                                        : check_values_array(*values);
  } else if (has_values) {
    throw Error(Errc::validation, tr("--values is only for type enum, not for type " + type_name,
                                     "--values 只用于枚举类型（enum），不能用于 " + type_name));
  }
  return out;
}

FieldDef custom_field_def(const json& d) {
  FieldDef f;
  f.key = d.value("key", "");
  f.zh = d.value("label", "");
  f.en = d.value("label_en", "");
  if (f.en.empty()) f.en = f.zh;
  f.type = type_from_name(d.value("type", "")).value_or(FieldType::text);
  f.required = d.value("required", false);
  f.restricted = d.value("restricted", false);
  f.custom = true;
  for (const auto& v : d.value("values", json::array())) {
    const std::string label = v.value("label", "");
    f.values.push_back({v.value("key", label), label, label});
  }
  return f;
}

std::shared_ptr<const Schema> schema_with_custom_fields(const json& list) {
  std::vector<CollectionDef> collections = Schema::builtin().collections();
  if (list.is_object() && list.contains("fields") && list["fields"].is_array()) {
    for (const auto& d : list["fields"]) {
      try {
        // The same checks the server made, against the schema so far: a
        // definition this build cannot use is skipped, never half-applied.
        Schema so_far(collections);
        json checked = check_custom_field(so_far, d);
        for (auto& c : collections) {
          if (c.name == checked["collection"].get<std::string>()) c.fields.push_back(custom_field_def(checked));
        }
      } catch (const Error&) {
        continue;
      } catch (const json::exception&) {
        continue;
      }
    }
  }
  return std::make_shared<const Schema>(std::move(collections));
}

std::int64_t custom_fields_version(const json& list) {
  if (!list.is_object()) return 0;
  auto it = list.find("version");
  return it != list.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace kehu
