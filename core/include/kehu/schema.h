// The field schema: collections, their fields, and each field's validation.
//
// The schema is data. Built-in collections come from the seed sheets
// (客户信息记录标准模板 and friends); every field has a canonical key
// ("phone"), a Chinese label ("联系电话"), an English label, a type and rules.
//
// Stored values (the JSON each record keeps per field):
//   text, phone, email, reference  -> string (phone normalised: "13800138000")
//   integer                        -> integer
//   money                          -> integer number of fen (never floating point)
//   date                           -> "YYYY-MM-DD"
//   datetime                       -> "YYYY-MM-DDTHH:MM:SSZ"
//   enum                           -> the key ("intention"), never the label
//   tags                           -> sorted array of unique strings
// An absent field and an empty input are the same thing: JSON null / missing.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kehu/lang.h"

namespace kehu {

enum class FieldType { text, integer, money, date, datetime, enumeration, tags, phone, email, reference };

const char* field_type_name(FieldType t) noexcept;

struct EnumValue {
  std::string key;  // canonical key stored in records: "intention"
  std::string zh;   // 意向客户
  std::string en;   // Intention
};

struct FieldDef {
  std::string key;
  std::string zh;
  std::string en;
  FieldType type = FieldType::text;
  bool required = false;
  bool restricted = false;  // never leaves the server for roles that may not read it
  bool derived = false;     // computed by the replica (created_at, last_followup_at); not user-set
  bool custom = false;      // added by an admin (custom_fields.h), not built in
  std::vector<EnumValue> values;  // for enumeration
  std::string ref;                // for reference: the target collection
  // Other column headers that name this field in the sheets people keep
  // (公司名称 for 客户名称). Sheet import only (CollectionDef::find_header); a
  // key or label of any field of the collection wins over an alias.
  std::vector<std::string> aliases;

  const std::string& label(Lang lang) const { return lang == Lang::zh ? zh : en; }
  // Finds an enum value by key, Chinese or English label (case-insensitive for English).
  const EnumValue* find_value(std::string_view key_or_label) const;
};

struct CollectionDef {
  std::string name;  // "customers"
  std::string zh;    // 客户
  std::string en;
  std::string parent_field;  // "customer" for child collections, empty for customers
  std::vector<FieldDef> fields;

  // Looks a field up by canonical key, Chinese label or English label. nullptr if none.
  const FieldDef* find(std::string_view key_or_label) const;
  // A sheet's column header: find(), else the field with `header` among its
  // aliases. nullptr if none.
  const FieldDef* find_header(std::string_view header) const;
  // Like find_header() (a sheet's column name is a name of its field on the
  // command line too), but throws Error(validation) naming the collection, the
  // field and the nearest name.
  const FieldDef& field(std::string_view key_or_label) const;
};

class Schema {
 public:
  // The built-in schema. Thread-safe; lives for the whole program.
  static const Schema& builtin();

  const std::vector<CollectionDef>& collections() const { return collections_; }
  // nullptr if no such collection.
  const CollectionDef* find(std::string_view name) const;
  // Throws Error(usage) for an unknown collection.
  const CollectionDef& collection(std::string_view name) const;

  explicit Schema(std::vector<CollectionDef> collections) : collections_(std::move(collections)) {}

 private:
  std::vector<CollectionDef> collections_;
};

// Validates and normalises one user-typed value for `field`.
// Empty (after trimming) input yields JSON null. Full-width forms are folded to
// ASCII for numbers, money, dates, phones, email and codes (not for free text);
// dates may be 2026-12-1, 2026/12/1, 2026.12.1, 2026年12月1日 or an Excel serial
// day number of five digits, and a year-last date whose day and month could be
// swapped (12/1/2026) is refused; money may be "¥12,000.50", "1.2万" or "3亿元";
// customer codes are upper-cased ("c202611001" -> "C202611001"). Throws Error(validation) with a message
// that names the field (label and key), the value and the rule, e.g.
//   联系电话 (phone): "1395678" is not a phone number: expected a CN mobile (11 digits
//   starting with 1, optional +86) or a landline with area code
nlohmann::json normalize_value(const FieldDef& field, std::string_view input);

// A day as people type it where a field's date is taken (2026-12-01, 2026/12/1,
// 2026.12.1, 2026年12月1日, full-width digits, today/今天), as "YYYY-MM-DD".
// Throws Error(validation) naming `what` (an option such as "--since"), the text
// and the rule, as normalize_value does for a field.
std::string read_day(const std::string& what, std::string_view typed);

// Checks that an already-normalised JSON value has the stored shape of `field`
// (used for values arriving from sync or from a JSON API). Throws Error(validation).
void check_stored_value(const FieldDef& field, const nlohmann::json& value);

// Throws Error(validation) naming every required field of `coll` that is missing,
// null or empty in `fields` (an object keyed by canonical field keys), in field
// order: "客户名称 (name), 负责人 (owner) are required" (one: "... is required").
void check_required(const CollectionDef& coll, const nlohmann::json& fields);

// Human display of a stored value: enum -> label in `lang`, money -> "1234.50",
// tags -> "a;b", null -> "". Inverse of normalize_value for import/export round trips.
std::string display_value(const FieldDef& field, const nlohmann::json& value, Lang lang);

// Normalises a phone number: folds full-width digits, strips spaces, dashes, +86 / 0086. Returns empty if the
// result is not a valid CN mobile or landline.
std::string normalize_phone(std::string_view input);

}  // namespace kehu
