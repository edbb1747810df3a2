// Custom fields: fields an admin adds to a collection (`kehu schema add-field`).
//
// The server is the authority: it checks a definition (check_custom_field),
// keeps the team's list with a version number, and every device copies the list
// at sync. A schema with custom fields is the built-in one with each custom
// field appended to its collection, in the order they were added, so it
// validates, displays, imports and exports like a built-in field.
//
// The list on the wire and in the replica's meta table ("custom_fields"):
//
//   {"version": 2,
//    "fields": [{"collection": "customers", "key": "vip_level", "type": "enum",
//                "label": "会员等级", "label_en": "VIP level",
//                "values": [{"key": "gold", "label": "金卡"}, {"key": "银卡", "label": "银卡"}],
//                "required": false, "restricted": false,
//                "added_by": "admin", "added_at": "2026-11-27T19:00:00Z"}]}
//
// A device that does not know a field (older client, or not yet synced) keeps
// its values untouched: records keep unknown keys, edits send only the fields
// they change, and the field-by-field merge leaves the others alone.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kehu/schema.h"

namespace kehu {

// Key of the replica's meta table that holds the synced list (the JSON above).
inline constexpr const char* kCustomFieldsMeta = "custom_fields";
// Key of the replica's meta table that holds the fields whose edit by a sales
// user waits for a manager's approval, as the last pull said:
// {"customers": ["type", "stage"], ...} (docs/protocol.md, "protected").
inline constexpr const char* kProtectedFieldsMeta = "protected_fields";

// The types a custom field may have (reference is built-in only).
// "text, integer, money, date, datetime, enum, tags, phone, email".
const std::vector<std::string>& custom_field_types();

// Parses `--values`: items separated by "," or "，"; an item is "LABEL" (its key
// is the label itself) or "KEY:LABEL" (also "KEY：LABEL"), KEY being
// [A-Za-z0-9_]{1,32}. Returns [{"key", "label"}...]. Throws Error(validation)
// naming the item and the rule (empty item, duplicate key or label, ...).
nlohmann::json parse_enum_values(std::string_view text);

// Checks a definition against `current` (the schema with the custom fields so
// far) and returns it normalised: {"collection", "key", "type", "label",
// "label_en", "values" (enum only), "required", "restricted"}. "values" may be
// given as the --values text or as the array. Throws Error(validation) naming the
// value and the rule: unknown collection or type, key not [a-z][a-z0-9_]{0,31},
// key or label used by another field of the collection (built-in or custom),
// missing label, values missing for enum or given for another type.
nlohmann::json check_custom_field(const Schema& current, const nlohmann::json& definition);

// The field a (checked) definition describes; FieldDef::custom is set.
FieldDef custom_field_def(const nlohmann::json& definition);

// The built-in schema plus the fields of `list` ({"version", "fields"}, as above;
// null or {} for none). A definition this build cannot use (unknown collection or
// type, clashing key) is skipped, so a newer server never breaks an older device.
std::shared_ptr<const Schema> schema_with_custom_fields(const nlohmann::json& list);

// The version of a list ({"version": N}); 0 for none.
std::int64_t custom_fields_version(const nlohmann::json& list);

}  // namespace kehu
