#include "customer_index.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "search_grams.h"

namespace kehu {
namespace {

// The facet fields (customer_index.h). Text fields among them (province, city,
// owner) are compared as stored: trimmed, otherwise exact.
constexpr const char* kFacetFields[] = {"type",     "stage", "status", "source",
                                        "province", "city",  "owner",  "tags"};

// The fields `--search` looks in, after the code, in the order of their lines in `text`.
constexpr const char* kTextFields[] = {"name", "contact", "phone", "need", "notes"};

// Separators of the serialised facet list: ASCII unit and record separators,
// which validation keeps out of stored text.
constexpr char kUnit = '\x1f';
constexpr char kRecord = '\x1e';

std::string string_field(const json& fields, const char* key) {
  auto it = fields.find(key);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

using Facet = std::pair<std::string, std::string>;

struct Described {
  std::string text;           // folded, one field per line
  std::string grams;          // space-separated pair tokens
  std::vector<Facet> facets;  // sorted
  std::string facets_key;     // facets serialised
  std::string next_date, birthday, created_at;
};

Described describe(const std::string& code, const json& fields) {
  Described d;
  std::vector<std::string> tokens;
  auto add_text = [&](const std::string& raw) {
    if (raw.empty()) return;
    std::string folded = fold_search_text(raw);
    for (auto& t : pair_tokens(folded)) tokens.push_back(std::move(t));
    if (!d.text.empty()) d.text += '\n';
    d.text += folded;
  };
  add_text(code);
  for (const char* key : kTextFields) add_text(string_field(fields, key));
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  for (const auto& t : tokens) {
    if (!d.grams.empty()) d.grams += ' ';
    d.grams += t;
  }
  for (const char* key : kFacetFields) {
    auto it = fields.find(key);
    if (it == fields.end()) continue;
    if (it->is_string()) {
      if (!it->get_ref<const std::string&>().empty())
        d.facets.emplace_back(key, it->get<std::string>());
    } else if (it->is_array()) {
      for (const auto& v : *it) {
        if (v.is_string()) d.facets.emplace_back(key, v.get<std::string>());
      }
    }
  }
  std::sort(d.facets.begin(), d.facets.end());
  d.facets.erase(std::unique(d.facets.begin(), d.facets.end()), d.facets.end());
  for (const auto& [field, value] : d.facets) d.facets_key += field + kUnit + value + kRecord;
  d.next_date = string_field(fields, "next_date");
  d.birthday = string_field(fields, "birthday");
  d.created_at = string_field(fields, "created_at");
  return d;
}

std::vector<Facet> parse_facets(const std::string& key) {
  std::vector<Facet> out;
  std::size_t start = 0;
  while (start < key.size()) {
    std::size_t unit = key.find(kUnit, start);
    std::size_t end = key.find(kRecord, start);
    if (unit == std::string::npos || end == std::string::npos || unit > end) break;
    out.emplace_back(key.substr(start, unit - start), key.substr(unit + 1, end - unit - 1));
    start = end + 1;
  }
  return out;
}

}  // namespace

bool CustomerIndex::is_facet(std::string_view key) {
  return std::find(std::begin(kFacetFields), std::end(kFacetFields), key) != std::end(kFacetFields);
}

void CustomerIndex::put(std::int64_t docid, const std::string& code, bool deleted,
                        const json& fields, bool fresh) {
  Described now = describe(code, fields);
  auto& sel = db_.cached(
      "SELECT in_bin, next_date, birthday, created_at, facets FROM customer_index WHERE docid = ?");
  if (!fresh) sel.bind(1, docid);
  if (fresh || !sel.step()) {
    sel.reset();
    db_.cached(
           "INSERT INTO customer_index(docid, in_bin, next_date, birthday, created_at, facets) "
           "VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, docid)
        .bind(2, deleted ? 1 : 0)
        .bind_text_or_null(3, now.next_date)
        .bind_text_or_null(4, now.birthday)
        .bind_text_or_null(5, now.created_at)
        .bind(6, now.facets_key)
        .run();
    auto& add = db_.cached("INSERT INTO customer_facets(field, value, docid) VALUES (?, ?, ?)");
    for (const auto& [field, value] : now.facets) {
      add.bind(1, field).bind(2, value).bind(3, docid).run();
      add.reset();
    }
    db_.cached("INSERT INTO customer_text(docid, text, grams) VALUES (?, ?, ?)")
        .bind(1, docid)
        .bind(2, now.text)
        .bind(3, now.grams)
        .run();
    return;
  }
  const bool same_row = (sel.int64(0) != 0) == deleted && sel.text(1) == now.next_date &&
                        sel.text(2) == now.birthday && sel.text(3) == now.created_at;
  const std::string old_facets = sel.text(4);
  sel.reset();
  if (!same_row || old_facets != now.facets_key) {
    db_.cached(
           "UPDATE customer_index SET in_bin = ?, next_date = ?, birthday = ?, created_at = ?, "
           "facets = ? WHERE docid = ?")
        .bind(1, deleted ? 1 : 0)
        .bind_text_or_null(2, now.next_date)
        .bind_text_or_null(3, now.birthday)
        .bind_text_or_null(4, now.created_at)
        .bind(5, now.facets_key)
        .bind(6, docid)
        .run();
  }
  if (old_facets != now.facets_key) {
    const std::vector<Facet> before = parse_facets(old_facets);
    auto& del =
        db_.cached("DELETE FROM customer_facets WHERE field = ? AND value = ? AND docid = ?");
    for (const auto& f : before) {
      if (std::binary_search(now.facets.begin(), now.facets.end(), f)) continue;
      del.bind(1, f.first).bind(2, f.second).bind(3, docid).run();
      del.reset();
    }
    auto& add =
        db_.cached("INSERT OR IGNORE INTO customer_facets(field, value, docid) VALUES (?, ?, ?)");
    for (const auto& f : now.facets) {
      if (std::find(before.begin(), before.end(), f) != before.end()) continue;
      add.bind(1, f.first).bind(2, f.second).bind(3, docid).run();
      add.reset();
    }
  }
  auto& old_text = db_.cached("SELECT text FROM customer_text WHERE docid = ?");
  old_text.bind(1, docid);
  const bool had_text = old_text.step();
  const bool same_text = had_text && old_text.text(0) == now.text;
  old_text.reset();
  if (same_text) return;
  if (had_text) {
    db_.cached("UPDATE customer_text SET text = ?, grams = ? WHERE docid = ?")
        .bind(1, now.text)
        .bind(2, now.grams)
        .bind(3, docid)
        .run();
  } else {
    db_.cached("INSERT INTO customer_text(docid, text, grams) VALUES (?, ?, ?)")
        .bind(1, docid)
        .bind(2, now.text)
        .bind(3, now.grams)
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
  auto& sel = db_.cached("SELECT facets FROM customer_index WHERE docid = ?");
  sel.bind(1, docid);
  if (!sel.step()) {
    sel.reset();
    return;
  }
  const std::vector<Facet> facets = parse_facets(sel.text(0));
  sel.reset();
  auto& del = db_.cached("DELETE FROM customer_facets WHERE field = ? AND value = ? AND docid = ?");
  for (const auto& [field, value] : facets) {
    del.bind(1, field).bind(2, value).bind(3, docid).run();
    del.reset();
  }
  db_.cached("DELETE FROM customer_text WHERE docid = ?").bind(1, docid).run();
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
}

void CustomerIndex::rebuild() {
  db_.exec("DELETE FROM customer_facets; DELETE FROM customer_text; DELETE FROM customer_index;");
  auto st = db_.prepare(
      "SELECT rowid, code, deleted, fields, last_followup_at FROM records "
      "WHERE collection = 'customers' ORDER BY rowid");
  while (st.step()) {
    const std::int64_t docid = st.int64(0);
    put(docid, st.text(1), st.int64(2) != 0, json::parse(st.text(3)), /*fresh=*/true);
    if (!st.is_null(4)) set_last_followup(docid, st.text(4));
  }
}

std::vector<std::int64_t> CustomerIndex::with_facet(std::string_view field,
                                                    std::string_view value) {
  auto& st =
      db_.cached("SELECT docid FROM customer_facets WHERE field = ? AND value = ? ORDER BY docid");
  st.bind(1, field).bind(2, value);
  std::vector<std::int64_t> out;
  while (st.step()) out.push_back(st.int64(0));
  st.reset();
  return out;
}

std::vector<std::int64_t> CustomerIndex::containing(std::string_view folded) {
  std::vector<std::int64_t> out;
  if (folded.empty()) return out;
  if (code_points(folded) < 2) {
    // One character has no pair to look up: scan the stored text.
    auto& st = db_.cached("SELECT docid FROM customer_text WHERE instr(text, ?) > 0");
    st.bind(1, folded);
    while (st.step()) out.push_back(st.int64(0));
    st.reset();
  } else {
    std::string match;
    for (const auto& t : pair_tokens(folded)) match += (match.empty() ? "" : " ") + t;
    if (code_points(folded) == 2) {
      // One pair: its posting list is the answer. Not reading `text` spares a
      // read of every matching row of the FTS content table (bench B9).
      auto& st = db_.cached("SELECT docid FROM customer_text WHERE customer_text MATCH ?");
      st.bind(1, match);
      while (st.step()) out.push_back(st.int64(0));
      st.reset();
    } else {
      auto& st = db_.cached("SELECT docid, text FROM customer_text WHERE customer_text MATCH ?");
      st.bind(1, match);
      while (st.step()) {
        // Every pair is there; the text decides whether they are there in a row.
        if (st.text(1).find(folded) != std::string::npos) out.push_back(st.int64(0));
      }
      st.reset();
    }
  }
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
      "SELECT ci.docid, ci.next_date, ci.birthday, ci.created_at, ci.last_followup_at "
      "FROM customer_facets f JOIN customer_index ci ON ci.docid = f.docid "
      "WHERE f.field = ? AND f.value = ? AND ci.in_bin = 0 "
      "AND (ci.last_followup_at IS NULL OR ci.last_followup_at < ?) ORDER BY ci.docid");
  st.bind(1, field).bind(2, value).bind(3, date);
  return dates(st);
}

std::vector<std::int64_t> intersect_sorted(const std::vector<std::int64_t>& a,
                                           const std::vector<std::int64_t>& b) {
  std::vector<std::int64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace kehu
