// Streaming reads for reports (Replica::for_each_record, for_each_revision):
// one statement stepped row by row, so a report over 100,000 customers holds one
// record at a time besides its own aggregates.
#include <algorithm>

#include "replica_impl.h"

namespace kehu {

void Replica::for_each_record(std::string_view collection,
                              const std::function<void(const Record&)>& fn) const {
  // Column 7 (the pending flag) is a constant: reports do not show it, and the
  // EXISTS probe per row would be most of the pass's cost.
  auto st = impl_->db.prepare(
      "SELECT id, collection, code, parent, rev, deleted, fields, 0, last_followup_at "
      "FROM records WHERE collection = ? AND deleted = 0");
  st.bind(1, collection);
  while (st.step()) fn(record_from_row(st));
}

void Replica::for_each_revision(std::string_view collection, std::string_view contains,
                                const std::function<void(const Revision&)>& fn) const {
  const std::string want(collection);
  {
    auto st = impl_->db.prepare("SELECT body FROM revisions WHERE instr(body, ?) > 0");
    st.bind(1, contains);
    while (st.step()) {
      Revision r = revision_from_json(json::parse(st.text(0)));
      if (r.collection == want) fn(r);
    }
  }
  auto st = impl_->db.prepare(
      "SELECT body, at, rev FROM changes WHERE state <> 'rejected' AND instr(body, ?) > 0 "
      "ORDER BY seq");
  st.bind(1, contains);
  while (st.step()) {
    Change c = change_from_json(json::parse(st.text(0)));
    if (c.collection != want) continue;
    Revision r;
    r.record_id = c.record_id;
    r.collection = c.collection;
    r.rev = st.is_null(2) ? 0 : st.int64(2);
    r.change_id = c.change_id;
    r.op = c.op;
    r.author = c.author;
    r.device = c.device;
    r.at = st.text(1);
    r.hlc = c.hlc;
    r.cause = std::move(c.cause);
    r.changes = std::move(c.fields);
    fn(r);
  }
}

}  // namespace kehu

namespace kehu {
namespace {

void skip_ws(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
}

// Past the string starting at s[i] == '"'.
void skip_string(std::string_view s, std::size_t& i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"') {
      ++i;
      return;
    }
  }
}

// Past one JSON value starting at s[i].
void skip_value(std::string_view s, std::size_t& i) {
  if (i >= s.size()) return;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"') {
        skip_string(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++i;
          return;
        }
      }
      ++i;
    }
    return;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
}

// The members of the flat stored object whose keys are in `keys`; every other
// value is skipped without being parsed. Malformed text: the whole object is parsed.
json pick_fields(std::string_view s, const std::vector<std::string>& keys) {
  json out = json::object();
  std::size_t i = 0;
  skip_ws(s, i);
  if (i >= s.size() || s[i] != '{') return json::parse(s);
  ++i;
  while (true) {
    skip_ws(s, i);
    if (i >= s.size()) return json::parse(s);
    if (s[i] == '}') return out;
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] != '"') return json::parse(s);
    const std::size_t key_start = i;
    skip_string(s, i);
    std::string_view raw_key = s.substr(key_start + 1, i - key_start - 2);
    skip_ws(s, i);
    if (i >= s.size() || s[i] != ':') return json::parse(s);
    ++i;
    skip_ws(s, i);
    const std::size_t value_start = i;
    skip_value(s, i);
    // Field keys are plain ASCII, so a key with an escape is never one we want.
    for (const auto& k : keys) {
      if (raw_key == k) {
        out[k] = json::parse(s.substr(value_start, i - value_start));
        break;
      }
    }
  }
}

}  // namespace

void Replica::for_each_record(std::string_view collection, const std::vector<std::string>& keys,
                              const std::function<void(const Record&)>& fn) const {
  auto st = impl_->db.prepare(
      "SELECT id, collection, code, parent, rev, fields, last_followup_at "
      "FROM records WHERE collection = ? AND deleted = 0");
  st.bind(1, collection);
  const bool want_last = std::find(keys.begin(), keys.end(), kLastFollowupField) != keys.end();
  Record r;
  while (st.step()) {
    r.id = st.text(0);
    r.collection = st.text(1);
    r.code = st.text(2);
    r.parent = st.text(3);
    r.rev = st.int64(4);
    r.fields = pick_fields(st.text(5), keys);
    if (want_last && !st.is_null(6)) r.fields[kLastFollowupField] = st.text(6);
    fn(r);
  }
}

}  // namespace kehu
