// A list query compiled against the schema (Replica::list, replica_query.cc):
// every filter value validated and normalised once, then used twice: to ask the
// customer index for candidates, and to check each loaded record exactly. The
// index only ever narrows; matches() alone decides what is listed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "customer_index.h"
#include "kehu/field_filter.h"
#include "kehu/replica.h"
#include "kehu/schema.h"

namespace kehu {

class CustomerFilter {
 public:
  // Validates every customer filter of `q`: Error(usage) or Error(validation)
  // naming the flag, the value and what is allowed. --stale counts from q.today
  // (today_local() when empty).
  // `coll`: the customers collection of the replica's schema (custom fields for --where).
  CustomerFilter(const ListQuery& q, const CollectionDef& coll);

  // Sorted docids that may match, from the customer index; nullopt when no
  // filter of the query is indexed (the caller scans every customer).
  std::optional<std::vector<std::int64_t>> candidates(CustomerIndex& index) const;
  // The exact test, deleted flag aside.
  bool matches(const Record& r) const;

 private:
  std::vector<FieldFilter> where_;
  std::vector<std::string> terms_;  // facet terms and search pairs: all must be there
  std::string province_, city_, owner_, stage_;
  bool pool_ = false;  // only customers with no owner
  std::vector<std::string> tags_;
  std::string search_;                       // folded
  std::optional<std::string> stale_before_;  // last follow-up before this day, or never
};

}  // namespace kehu
