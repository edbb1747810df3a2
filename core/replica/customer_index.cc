#include "customer_index.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "kehu/place.h"
#include "search_grams.h"

namespace kehu {
namespace {

// The facet fields (customer_index.h). Their keys are lower-case ASCII letters,
// so they sit in a term as they are.
constexpr const char* kFacetFields[] = {"type",     "stage", "status", "source",
                                        "province", "city",  "owner",  "tags"};

// The fields `--search` looks in besides the code (CustomerFilter::matches
// checks the same ones).
constexpr const char* kTextFields[] = {"name", "contact", "phone", "need", "notes"};

// A facet term starts with U+E100 and separates field and value with U+E101:
// private-use characters outside the U+E000..E07F that pair tokens use for ASCII
// punctuation, so no pair token (two characters) can equal a facet term.
constexpr const char* kFacetStart = "\xEE\x84\x80";
constexpr const char* kFacetSeparator = "\xEE\x84\x81";

std::string string_field(const json& fields, const char* key) {
  auto it = fields.find(key);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct Described {
  std::string terms;  // space-separated, sorted
  std::string next_date, birthday, created_at;
};

Described describe(const std::string& code, const json& fields) {
  Described d;
  std::vector<std::string> terms;
  auto add_text = [&](const std::string& raw) {
    if (raw.empty()) return;
    for (auto& t : pair_tokens(fold_search_text(raw))) terms.push_back(std::move(t));
  };
  add_text(code);
  for (const char* key : kTextFields) add_text(string_field(fields, key));
  // A place is indexed as place.h reads it (江苏省 as 江苏), as --region looks it up.
  const auto [province, city] = canonical_place(string_field(fields, "province"), string_field(fields, "city"));
  for (const char* key : kFacetFields) {
    if (std::string_view(key) == "province" || std::string_view(key) == "city") {
      const std::string& place = *key == 'p' ? province : city;
      if (!place.empty()) terms.push_back(CustomerIndex::facet_term(key, place));
      continue;
    }
    auto it = fields.find(key);
    if (it == fields.end()) continue;
    if (it->is_string()) {
      if (!it->get_ref<const std::string&>().empty()) {
        terms.push_back(CustomerIndex::facet_term(key, it->get_ref<const std::string&>()));
      }
    } else if (it->is_array()) {
      for (const auto& v : *it) {
        if (v.is_string())
          terms.push_back(CustomerIndex::facet_term(key, v.get_ref<const std::string&>()));
      }
    }
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  for (const auto& t : terms) {
    if (!d.terms.empty()) d.terms += ' ';
    d.terms += t;
  }
  d.next_date = string_field(fields, "next_date");
  d.birthday = string_field(fields, "birthday");
  d.created_at = string_field(fields, "created_at");
  return d;
}

}  // namespace

bool CustomerIndex::is_facet(std::string_view key) {
  return std::find(std::begin(kFacetFields), std::end(kFacetFields), key) != std::end(kFacetFields);
}

std::string CustomerIndex::facet_term(std::string_view field, std::string_view value) {
  return std::string(kFacetStart) + std::string(field) + kFacetSeparator +
         encode_term_text(fold_search_text(value));
}

void CustomerIndex::put(std::int64_t docid, const std::string& code, bool deleted,
                        const json& fields, bool fresh) {
  if (with_keys_) keys_.put(docid, deleted, fields, fresh);
  const Described now = describe(code, fields);
  auto& sel = db_.cached(
      "SELECT in_bin, next_date, birthday, created_at FROM customer_index WHERE docid = ?");
  if (!fresh) sel.bind(1, docid);
  if (fresh || !sel.step()) {
    sel.reset();
    db_.cached(
           "INSERT INTO customer_index(docid, in_bin, next_date, birthday, created_at) "
           "VALUES (?, ?, ?, ?, ?)")
        .bind(1, docid)
        .bind(2, deleted ? 1 : 0)
        .bind_text_or_null(3, now.next_date)
        .bind_text_or_null(4, now.birthday)
        .bind_text_or_null(5, now.created_at)
        .run();
    db_.cached("INSERT INTO customer_terms(docid, terms) VALUES (?, ?)")
        .bind(1, docid)
        .bind(2, now.terms)
        .run();
    return;
  }
  const bool same_row = (sel.int64(0) != 0) == deleted && sel.text(1) == now.next_date &&
                        sel.text(2) == now.birthday && sel.text(3) == now.created_at;
  sel.reset();
  if (!same_row) {
    db_.cached(
           "UPDATE customer_index SET in_bin = ?, next_date = ?, birthday = ?, created_at = ? "
           "WHERE docid = ?")
        .bind(1, deleted ? 1 : 0)
        .bind_text_or_null(2, now.next_date)
        .bind_text_or_null(3, now.birthday)
        .bind_text_or_null(4, now.created_at)
        .bind(5, docid)
        .run();
  }
  auto& old = db_.cached("SELECT terms FROM customer_terms WHERE docid = ?");
  old.bind(1, docid);
  const bool had = old.step();
  const bool same = had && old.text(0) == now.terms;
  old.reset();
  if (same) return;
  if (had) {
    db_.cached("UPDATE customer_terms SET terms = ? WHERE docid = ?")
        .bind(1, now.terms)
        .bind(2, docid)
        .run();
  } else {
    db_.cached("INSERT INTO customer_terms(docid, terms) VALUES (?, ?)")
        .bind(1, docid)
        .bind(2, now.terms)
        .run();
  }
}

void CustomerIndex::set_last_followup(std::int64_t docid, const std::string& date) {
  db_.cached("UPDATE customer_index SET last_followup_at = ? WHERE docid = ?")
      .bind_text_or_null(1, date)
      .bind(2, docid)
      .run();
}

void CustomerIndex::erase(std::int64_t docid) {
  if (with_keys_) keys_.erase(docid);
  db_.cached("DELETE FROM customer_terms WHERE docid = ?").bind(1, docid).run();
  db_.cached("DELETE FROM customer_index WHERE docid = ?").bind(1, docid).run();
}

void CustomerIndex::erase_orphans() {
  std::vector<std::int64_t> gone;
  auto st = db_.prepare(
      "SELECT docid FROM customer_index WHERE NOT EXISTS "
      "(SELECT 1 FROM records WHERE records.rowid = customer_index.docid)");
  while (st.step()) gone.push_back(st.int64(0));
  st.reset();
  for (std::int64_t docid : gone) erase(docid);
  if (with_keys_) keys_.erase_orphans();
}

void CustomerIndex::rebuild() {
  db_.exec("DELETE FROM customer_terms; DELETE FROM customer_index;");
  if (with_keys_) db_.exec("DELETE FROM customer_keys");
  auto st = db_.prepare(
      "SELECT rowid, code, deleted, fields, last_followup_at FROM records "
      "WHERE collection = 'customers' ORDER BY rowid");
  while (st.step()) {
    const std::int64_t docid = st.int64(0);
    put(docid, st.text(1), st.int64(2) != 0, json::parse(st.text(3)), /*fresh=*/true);
    if (!st.is_null(4)) set_last_followup(docid, st.text(4));
  }
}

std::vector<std::int64_t> CustomerIndex::with_terms(const std::vector<std::string>& terms) {
  std::string match;
  for (const auto& t : terms) match += (match.empty() ? "" : " ") + t;
  auto& st = db_.cached("SELECT docid FROM customer_terms WHERE customer_terms MATCH ?");
  st.bind(1, match);
  std::vector<std::int64_t> out;
  while (st.step()) out.push_back(st.int64(0));
  st.reset();
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::int64_t> CustomerIndex::followed_up_before(std::string_view date) {
  auto& st = db_.cached(
      "SELECT docid FROM customer_index WHERE last_followup_at IS NULL OR last_followup_at < ? "
      "ORDER BY docid");
  st.bind(1, date);
  std::vector<std::int64_t> out;
  while (st.step()) out.push_back(st.int64(0));
  st.reset();
  return out;
}

std::vector<CustomerIndex::Dates> CustomerIndex::dates(db::Statement& st) {
  std::vector<Dates> out;
  while (st.step()) {
    out.push_back(Dates{st.int64(0), st.text(1), st.text(2), st.text(3), st.text(4)});
  }
  st.reset();
  return out;
}

std::vector<CustomerIndex::Dates> CustomerIndex::next_date_until(std::string_view until) {
  auto& st = db_.cached(
      "SELECT docid, next_date, birthday, created_at, last_followup_at FROM customer_index "
      "WHERE in_bin = 0 AND next_date IS NOT NULL AND next_date <= ? ORDER BY next_date, docid");
  st.bind(1, until);
  return dates(st);
}

std::vector<CustomerIndex::Dates> CustomerIndex::with_birthday() {
  auto& st = db_.cached(
      "SELECT docid, next_date, birthday, created_at, last_followup_at FROM customer_index "
      "WHERE in_bin = 0 AND birthday IS NOT NULL ORDER BY docid");
  return dates(st);
}

std::vector<CustomerIndex::Dates> CustomerIndex::facet_followed_up_before(std::string_view field,
                                                                          std::string_view value,
                                                                          std::string_view date) {
  auto& st = db_.cached(
      "SELECT docid, next_date, birthday, created_at, last_followup_at FROM customer_index "
      "WHERE docid IN (SELECT docid FROM customer_terms WHERE customer_terms MATCH ?) "
      "AND in_bin = 0 AND (last_followup_at IS NULL OR last_followup_at < ?) ORDER BY docid");
  st.bind(1, facet_term(field, value)).bind(2, date);
  return dates(st);
}

std::vector<std::int64_t> intersect_sorted(const std::vector<std::int64_t>& a,
                                           const std::vector<std::int64_t>& b) {
  std::vector<std::int64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace kehu
