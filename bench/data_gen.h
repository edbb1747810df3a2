// Deterministic, realistic customers for the benchmarks.
//
// The same seed gives the same customers on every machine (a fixed 64-bit
// generator with our own range reduction, not std::uniform_int_distribution, whose
// output the standard leaves to the library). Values are already stored values
// (schema.h): enum keys, phone digits, sorted tag sets, money in fen.
//
// The mix follows the sample sheets: Chinese company names (明达医疗器械有限公司),
// contacts, 11-digit mobiles starting with 13-19, 16 provinces with their cities,
// needs, tags, dates and notes. About 1 in 8 names contains 科技 and 1 in 16
// customers is in 江苏, so the list benchmark (B9) returns a realistic share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kehu/record.h"

namespace kehu::bench {

// A small seeded generator (splitmix64): fast, and identical everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  std::uint64_t state_;
};

struct GeneratedCustomer {
  json values;    // customers fields (~26), stored values, with "code"
  json followup;  // one follow-up (date, person, method, content, feedback), stored values
};

class CustomerGenerator {
 public:
  explicit CustomerGenerator(std::uint64_t seed) : rng_(seed) {}
  // The customer number `index` of this generator's sequence; its code is unique
  // per index (C + YYYYMM + serial, months 2019-01 .. 2026-11).
  GeneratedCustomer next(std::int64_t index);

  // Values for an edit of 1-3 fields as a salesperson makes it (stage, status, next
  // plan/date, tags, notes, contact title); always changes at least one field.
  json edit_values(std::int64_t serial);
  // The same kind of edit as text a user types on the command line (labels, not keys).
  std::vector<std::pair<std::string, std::string>> typed_edit(std::int64_t serial);

  Rng& rng() { return rng_; }

 private:
  Rng rng_;
};

// Customer code of generator index `index`: months cycle, so serials stay small.
std::string code_for_index(std::int64_t index);

// Writes `rows` customers as a CSV sheet in the template's layout: `header_line`
// (the sample sheet's first line, with its BOM) and one row per customer, each
// cell shown as a user sees it (enum labels, "a;b" tags, yuan). Columns are found
// by their header, so a reordered template still lines up. Throws Error(io).
void write_sheet_csv(const std::string& path, const std::string& header_line, std::int64_t rows,
                     std::uint64_t seed);

// The first line of a file (with its BOM, without the line end). Throws Error(io).
std::string read_first_line(const std::string& path);

// Every province the generator uses, comma-separated: a territory that covers
// all generated customers (`kehu-server user set-regions`).
std::string all_provinces();

// The salespeople the generated customers belong to (负责人): a server the
// customers are pushed to has them as users, since an owner must be one.
const std::vector<std::string>& owner_names();

}  // namespace kehu::bench
