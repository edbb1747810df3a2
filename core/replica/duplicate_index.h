// The replica's duplicate keys (duplicates.h): one row per key of every live
// customer, so `customer add`, import and sync find a duplicate with one index
// lookup per key, and `customer duplicates` lists them in one pass.
// Internal to kehu_core; the table is made by migration v5 (migrations.cc).
//
//   customer_keys(kind, key, docid, region), primary key (kind, key, docid),
//   plus an index on docid. `docid` is the customer's rowid in `records`, as in
//   customer_index.h. Customers in the recycle bin have no rows.
//
// CustomerIndex keeps it current: its put(), erase(), erase_orphans() and
// rebuild() do the same here, so every place that maintains the customer index
// maintains the keys too.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kehu/duplicates.h"
#include "kehu/sqlite.h"

namespace kehu {

class DuplicateIndex {
 public:
  explicit DuplicateIndex(db::Database& db) : db_(db) {}

  // The keys of one customer after a write: none when `deleted`.
  void put(std::int64_t docid, bool deleted, const json& fields, bool fresh = false);
  void erase(std::int64_t docid);
  void erase_orphans();
  void rebuild();

  struct Hit {
    std::string kind, key, region;
    std::int64_t docid = 0;
  };
  // Live customers holding one of `keys` (name keys: region-compatible).
  std::vector<Hit> lookup(const std::vector<DupKey>& keys);
  // Each key held by two customers or more, with its holders by docid, one key at
  // a time in (kind, key) order, without holding the others in memory; stops
  // when fn returns false.
  void for_each_shared_key(const std::function<bool(const std::vector<Hit>&)>& fn);
  // The keys one customer holds.
  std::vector<DupKey> keys_of(std::int64_t docid);

 private:
  db::Database& db_;
};

}  // namespace kehu
