// --where FIELD=VALUE filters, compiled against a collection's schema: each
// value validated and normalised once (as the field stores it), then matched
// against records. Customer lists (replica) and reports both use them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kehu/record.h"
#include "kehu/schema.h"

namespace kehu {

// One --where FIELD=VALUE, the value in its stored shape.
struct FieldFilter {
  const FieldDef* field;
  json value;
};

// Parses --where filters of `coll`. Throws Error(validation) naming the flag,
// the field, the value and the rule; Error(usage) for an empty value.
std::vector<FieldFilter> parse_where(const CollectionDef& coll,
                                     const std::vector<std::pair<std::string, std::string>>& where);
// True if the record holds every filter's value (tags: every listed tag is on it).
bool where_matches(const Record& r, const std::vector<FieldFilter>& filters);

}  // namespace kehu
