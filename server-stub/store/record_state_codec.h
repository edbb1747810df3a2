// How a store keeps a record's field versions: a JSON object
//
//   {"phone": {"value": "13900139000", "rev": 4, "hlc": 117893412393254912,
//              "device": "dev-a", "device_seq": 42, "author": "wang"}, ...}
//
// one member per field that was ever set, "deleted" included. A tags field also
// has "members" ({"x": {"present": true, "rev", "hlc", "device", "device_seq",
// "author"}}), and a field with open conflicts "open" ([{"rev", "lost_rev",
// "conflict"}]); both are left out when empty. The merge rules
// need every one of these members (merge.h); the record's id, collection, parent,
// code and rev live in the store's columns, not here.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kehu/sync/merge.h"

namespace kehu::server {

// The JSON text of the object above, written directly rather than through a
// json tree (a third of a pushed create's server time went to the tree and
// its dump: bench B5).
// A customer merged away also has "@merged_into": {"id", "rev"} (no field key
// starts with "@"), given as `merged_into` and `merged_rev`.
std::string encode_field_versions(const std::map<std::string, sync::FieldVersion>& fields,
                                  const std::string& merged_into = {}, std::int64_t merged_rev = 0);
// Throws Error(storage) when the stored JSON does not have the shape above.
std::map<std::string, sync::FieldVersion> decode_field_versions(const json& j, std::string* merged_into = nullptr,
                                                                std::int64_t* merged_rev = nullptr);

// Both stores also share these column encodings:
// JSON text kept in a column; Error(storage) naming `what` when it is not JSON.
json parse_stored(const std::string& text, const char* what);
// User::regions in one text column, one region per line.
std::vector<std::string> split_regions(const std::string& text);
std::string join_regions(const std::vector<std::string>& regions);

}  // namespace kehu::server
