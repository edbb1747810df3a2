#include "kehu/record.h"

#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <set>
#include <type_traits>

#include "kehu/calendar.h"
#include "kehu/error.h"

namespace kehu {

const char* op_name(Op op) noexcept {
  switch (op) {
    case Op::create: return "create";
    case Op::update: return "update";
    case Op::remove: return "delete";
    case Op::restore: return "restore";
  }
  return "update";
}

Op parse_op(std::string_view s) {
  if (s == "create") return Op::create;
  if (s == "update") return Op::update;
  if (s == "delete") return Op::remove;
  if (s == "restore") return Op::restore;
  throw Error(Errc::protocol, "unknown op \"" + std::string(s) + "\"");
}

namespace {

// Reads a member with a type check, so a malformed payload is a protocol error
// naming the member rather than a json::type_error.
template <typename T>
T member(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  // get<integer>() would truncate 1.5 to 1, and a float beyond the range is
  // undefined behaviour: an integer member must be a JSON integer.
  if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer()) {
      throw Error(Errc::protocol, std::string("member \"") + key + "\" must be an integer");
    }
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw Error(Errc::protocol, std::string("member \"") + key + "\" has the wrong type");
  }
}


}  // namespace

std::set<std::string> tag_set(const json& v) {
  std::set<std::string> out;
  if (v.is_array()) {
    for (const auto& t : v) {
      if (t.is_string()) out.insert(t.get<std::string>());
    }
  }
  return out;
}

json typed_values(const Change& c) {
  json out = json::object();
  for (const auto& [key, fc] : c.fields) {
    if (fc.old_value != fc.new_value) out[key] = fc.new_value;
  }
  return out;
}

json resolves_to_json(const std::vector<ConflictRef>& refs) {
  json out = json::array();
  for (const auto& r : refs) out.push_back({{"rev", r.rev}, {"field", r.field}});
  return out;
}

std::vector<ConflictRef> resolves_from_json(const json& j) {
  std::vector<ConflictRef> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw Error(Errc::protocol, "\"resolves\" must be an array of {rev, field}");
  for (const auto& e : j) {
    if (!e.is_object()) throw Error(Errc::protocol, "each of \"resolves\" must be {rev, field}");
    ConflictRef r{member<std::int64_t>(e, "rev", 0), member<std::string>(e, "field", "")};
    if (r.rev <= 0 || r.field.empty()) {
      throw Error(Errc::protocol, "each of \"resolves\" needs a rev above 0 and a field");
    }
    out.push_back(std::move(r));
  }
  return out;
}

json field_changes_to_json(const std::map<std::string, FieldChange>& m) {
  json out = json::object();
  for (const auto& [k, fc] : m) out[k] = {{"old", fc.old_value}, {"new", fc.new_value}};
  return out;
}

std::map<std::string, FieldChange> field_changes_from_json(const json& j) {
  std::map<std::string, FieldChange> out;
  if (j.is_null()) return out;
  if (!j.is_object()) throw Error(Errc::protocol, "\"fields\" must be an object");
  for (const auto& [k, v] : j.items()) {
    if (!v.is_object()) throw Error(Errc::protocol, "field \"" + k + "\" must be {old, new}");
    out[k] = FieldChange{v.value("old", json()), v.value("new", json())};
  }
  return out;
}

json to_json(const Change& c) {
  json j = {{"change_id", c.change_id}, {"record_id", c.record_id}, {"collection", c.collection},
          {"parent", c.parent},       {"code", c.code},           {"op", op_name(c.op)},
          {"base_rev", c.base_rev},   {"hlc", c.hlc},             {"device", c.device},
          {"device_seq", c.device_seq}, {"author", c.author},
          {"fields", field_changes_to_json(c.fields)}};
  if (!c.cause.empty()) j["cause"] = c.cause;
  if (!c.approved_by.empty()) j["approved_by"] = c.approved_by;
  if (!c.resolves.empty()) j["resolves"] = resolves_to_json(c.resolves);
  return j;
}

Change change_from_json(const json& j) {
  if (!j.is_object()) throw Error(Errc::protocol, "a change must be a JSON object");
  Change c;
  c.change_id = member<std::string>(j, "change_id", "");
  c.record_id = member<std::string>(j, "record_id", "");
  c.collection = member<std::string>(j, "collection", "");
  if (c.change_id.empty() || c.record_id.empty() || c.collection.empty()) {
    throw Error(Errc::protocol, "a change needs change_id, record_id and collection");
  }
  c.parent = member<std::string>(j, "parent", "");
  c.code = member<std::string>(j, "code", "");
  c.op = parse_op(member<std::string>(j, "op", "update"));
  c.base_rev = member<std::int64_t>(j, "base_rev", 0);
  c.hlc = member<std::int64_t>(j, "hlc", 0);
  c.device = member<std::string>(j, "device", "");
  c.device_seq = member<std::int64_t>(j, "device_seq", 0);
  c.author = member<std::string>(j, "author", "");
  c.cause = member<std::string>(j, "cause", "");
  c.approved_by = member<std::string>(j, "approved_by", "");
  c.fields = field_changes_from_json(j.value("fields", json()));
  c.resolves = resolves_from_json(j.value("resolves", json()));
  return c;
}

json to_json(const Conflict& c) {
  json j = {{"field", c.field},           {"kind", c.kind},
          {"kept", c.kept},             {"lost", c.lost},
          {"kept_author", c.kept_author}, {"kept_device", c.kept_device},
          {"kept_hlc", c.kept_hlc},     {"lost_author", c.lost_author},
          {"lost_device", c.lost_device}, {"lost_hlc", c.lost_hlc}};
  if (!c.member.empty()) j["member"] = c.member;
  return j;
}

Conflict conflict_from_json(const json& j) {
  if (!j.is_object()) throw Error(Errc::protocol, "a conflict must be a JSON object");
  Conflict c;
  c.field = member<std::string>(j, "field", "");
  c.kind = member<std::string>(j, "kind", "field");
  c.member = member<std::string>(j, "member", "");
  c.kept = j.value("kept", json());
  c.lost = j.value("lost", json());
  c.kept_author = member<std::string>(j, "kept_author", "");
  c.kept_device = member<std::string>(j, "kept_device", "");
  c.kept_hlc = member<std::int64_t>(j, "kept_hlc", 0);
  c.lost_author = member<std::string>(j, "lost_author", "");
  c.lost_device = member<std::string>(j, "lost_device", "");
  c.lost_hlc = member<std::int64_t>(j, "lost_hlc", 0);
  return c;
}

json to_json(const Revision& r) {
  json conflicts = json::array();
  for (const auto& c : r.conflicts) conflicts.push_back(to_json(c));
  json j = {{"record_id", r.record_id}, {"collection", r.collection}, {"rev", r.rev},
            {"seq", r.seq},             {"change_id", r.change_id},   {"op", op_name(r.op)},
            {"author", r.author},       {"device", r.device},         {"at", r.at},
            {"hlc", r.hlc},             {"client_hlc", r.client_hlc}, {"changes", field_changes_to_json(r.changes)},
            {"conflicts", conflicts}};
  // Only when set, so revisions without them hash exactly as before.
  if (!r.cause.empty()) j["cause"] = r.cause;
  if (!r.approved_by.empty()) j["approved_by"] = r.approved_by;
  if (!r.resolves.empty()) j["resolves"] = resolves_to_json(r.resolves);
  if (!r.hash.empty()) {
    j["hash"] = r.hash;
    j["prev_hash"] = r.prev_hash;
  }
  return j;
}

Revision revision_from_json(const json& j) {
  if (!j.is_object()) throw Error(Errc::protocol, "a revision must be a JSON object");
  Revision r;
  r.record_id = member<std::string>(j, "record_id", "");
  r.collection = member<std::string>(j, "collection", "");
  r.rev = member<std::int64_t>(j, "rev", 0);
  r.seq = member<std::int64_t>(j, "seq", 0);
  r.change_id = member<std::string>(j, "change_id", "");
  r.op = parse_op(member<std::string>(j, "op", "update"));
  r.author = member<std::string>(j, "author", "");
  r.device = member<std::string>(j, "device", "");
  r.at = member<std::string>(j, "at", "");
  r.hlc = member<std::int64_t>(j, "hlc", 0);
  r.client_hlc = member<std::int64_t>(j, "client_hlc", r.hlc);
  r.changes = field_changes_from_json(j.value("changes", json()));
  if (auto it = j.find("conflicts"); it != j.end() && it->is_array()) {
    for (const auto& c : *it) r.conflicts.push_back(conflict_from_json(c));
  }
  r.cause = member<std::string>(j, "cause", "");
  r.approved_by = member<std::string>(j, "approved_by", "");
  r.resolves = resolves_from_json(j.value("resolves", json()));
  r.hash = member<std::string>(j, "hash", "");
  r.prev_hash = member<std::string>(j, "prev_hash", "");
  return r;
}

json merge_tags(const json& current, const json& old_value, const json& new_value) {
  std::set<std::string> result = tag_set(current);
  std::set<std::string> before = tag_set(old_value), after = tag_set(new_value);
  for (const auto& t : before) {
    if (!after.count(t)) result.erase(t);
  }
  for (const auto& t : after) {
    if (!before.count(t)) result.insert(t);  // only what this change added
  }
  if (result.empty()) return json();
  return json(std::vector<std::string>(result.begin(), result.end()));
}

json overlay_change(const json& values, const Change& change,
                    const std::function<bool(const std::string&)>& is_tags) {
  json out = values.is_object() ? values : json::object();
  for (const auto& [key, fc] : change.fields) {
    if (key == kDeletedField) continue;  // carried by Record::deleted, not in values
    json v = is_tags(key) ? merge_tags(out.value(key, json()), fc.old_value, fc.new_value)
                          : fc.new_value;
    if (v.is_null()) {
      out.erase(key);
    } else {
      out[key] = std::move(v);
    }
  }
  return out;
}

namespace {

std::string uuid_text(const unsigned char* b) {
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                b[14], b[15]);
  return out;
}

}  // namespace

std::string new_random_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error(Errc::internal, "RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return uuid_text(b);
}

std::string new_uuid() {
  // UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that
  // keeps ids of the same millisecond in creation order (method 1), then 62 random
  // bits. Time-ordered ids land at the right end of every index keyed by them
  // (records.id, changes.change_id, revisions), where random v4 ids touched a
  // random leaf page of a large file per insert.
  static std::mutex mu;
  static std::uint64_t last_ms = 0;
  static std::uint32_t counter = 0;
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error(Errc::internal, "RAND_bytes failed");
  std::uint64_t ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  {
    std::lock_guard<std::mutex> lock(mu);
    if (ms > last_ms) {
      last_ms = ms;
      counter = b[6] & 0x07u;  // a random start, leaving room for the count
    } else if (++counter > 0x0fffu) {
      ++last_ms;  // 4,096 ids in one millisecond: borrow the next one
      counter = 0;
    }
    ms = last_ms;
    b[6] = static_cast<unsigned char>(0x70u | ((counter >> 8) & 0x0fu));
    b[7] = static_cast<unsigned char>(counter & 0xffu);
  }
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return uuid_text(b);
}

std::string now_iso8601() { return iso8601_utc(std::time(nullptr)); }

std::string iso8601_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {
// The fixed day as a day number (calendar.h), or INT64_MIN for the calendar.
std::atomic<std::int64_t> fixed_day{INT64_MIN};
}  // namespace

void set_today(std::string_view ymd, std::string_view what) {
  if (ymd.empty()) {
    fixed_day = INT64_MIN;
    return;
  }
  fixed_day = *day_number(checked_today(ymd, what));
}

void set_today_from_env() {
  const char* v = std::getenv("KEHU_TODAY");
  if (v && *v) set_today(v, "KEHU_TODAY");
}

std::string today_local() {
  if (const std::int64_t fixed = fixed_day; fixed != INT64_MIN) return date_of_day(fixed);
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string this_month_local() {
  std::string d = today_local();
  return d.substr(0, 4) + d.substr(5, 2);
}

}  // namespace kehu
