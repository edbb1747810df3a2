// The replica's customer index: what makes `customer list` filters, `--search`
// and `kehu due` fast on 100,000 customers without reading every record.
// Internal to kehu_core; the tables are made by migration v4 (migrations.cc).
//
// Both tables are keyed by the customer's docid, which is the rowid of its row
// in `records`: the records primary-key index already maps a record id to it,
// and a docid reads its record without another index. That rowid is stable
// because Kehu never VACUUMs, never REPLACEs a records row, and
// sqlcipher_export (backup) copies rowids as they are. Whoever deletes customer
// rows from `records` must erase() them first, or call erase_orphans() before
// inserting again in the same transaction (a freed rowid may be reused).
//
//   customer_index  one row per customer (live or in the recycle bin): in_bin
//                   and the dates the reminder rules read (next_date, birthday,
//                   created_at, last_followup_at).
//   customer_terms  FTS4, one column `terms`: the character pairs of the code,
//                   name, contact, phone, need and notes (search_grams.h), and
//                   one facet term per value of the facet fields (type, stage,
//                   status, source, province, city, owner; one per tag). A filter
//                   on facets and a search of two or more characters are one
//                   MATCH of all their terms: FTS4 intersects the postings.
//
// Terms only narrow: a facet term folds ASCII case and a search's pairs may sit
// apart, so callers check each candidate record (CustomerFilter::matches).
//
// The index is derived data: it is rebuilt from `records` by rebuild(), and
// every write of a customer row in `records` must be followed, in the same
// transaction, by put(). Replica::Impl does this in store(), apply_pulled(),
// take_code(), drop_customers() and drop_everything_pulled(); refresh_derived()
// calls set_last_followup().
//
// Not thread-safe: it shares the replica's connection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplicate_index.h"
#include "kehu/record.h"
#include "kehu/sqlite.h"

namespace kehu {

class CustomerIndex {
 public:
  // `with_keys`: also keep the duplicate keys (duplicate_index.h) current; off
  // only for migration v4, which runs before their table exists.
  explicit CustomerIndex(db::Database& db, bool with_keys = true)
      : db_(db), keys_(db), with_keys_(with_keys) {}

  DuplicateIndex& keys() { return keys_; }

  // The fields whose values are facets: an equality filter on them uses the index.
  static bool is_facet(std::string_view key);
  // The term of one facet value (see search_grams.h for the token alphabet).
  static std::string facet_term(std::string_view field, std::string_view value);

  // Brings the rows of one customer up to date with its stored state (the view:
  // server state plus pending edits). `fields` may hold derived fields; they are
  // ignored (last_followup_at comes from set_last_followup()). `fresh`: the
  // records row was just inserted, so there is nothing to compare with.
  void put(std::int64_t docid, const std::string& code, bool deleted, const json& fields,
           bool fresh = false);
  void set_last_followup(std::int64_t docid, const std::string& date);
  // Forgets one customer / every customer whose records row is gone.
  void erase(std::int64_t docid);
  void erase_orphans();
  // Drops everything and indexes every customer in `records` again.
  void rebuild();

  // ---- Queries.
  // Sorted docids of the customers that have every term (facet_term(),
  // pair_tokens()). REQUIRES: terms not empty.
  std::vector<std::int64_t> with_terms(const std::vector<std::string>& terms);
  // Sorted docids of the customers last followed up before `date` (YYYY-MM-DD), or never.
  std::vector<std::int64_t> followed_up_before(std::string_view date);

  // One row of customer_index, for the reminder rules.
  struct Dates {
    std::int64_t docid = 0;
    std::string next_date, birthday, created_at, last_followup_at;  // "" when unset
  };
  // Live customers (not in the recycle bin) with a next_date on or before
  // `until`, earliest first.
  std::vector<Dates> next_date_until(std::string_view until);
  // Live customers with a birthday.
  std::vector<Dates> with_birthday();
  // Live customers with facet (field, value) last followed up before `date` or
  // never (candidates: the facet term folds ASCII case).
  std::vector<Dates> facet_followed_up_before(std::string_view field, std::string_view value,
                                              std::string_view date);

 private:
  std::vector<Dates> dates(db::Statement& st);

  db::Database& db_;
  DuplicateIndex keys_;
  bool with_keys_ = true;
};

// Intersection of two sorted docid lists.
std::vector<std::int64_t> intersect_sorted(const std::vector<std::int64_t>& a,
                                           const std::vector<std::int64_t>& b);

}  // namespace kehu
