#include "access_policy.h"

#include <algorithm>
#include <array>
#include <utility>

#include "kehu/text.h"

namespace kehu::server {

namespace {

bool readable(Role role, const CollectionDef& coll, const std::string& key) {
  const FieldDef* f = coll.find(key);
  return f == nullptr || f->key != key || AccessPolicy::may_read_field(role, *f);
}

bool maskable(const CollectionDef& coll, const std::string& key) {
  const FieldDef* f = coll.find(key);
  return f != nullptr && f->key == key &&
         (f->type == FieldType::phone || f->type == FieldType::email || key == "wechat");
}

std::string text_of(const json& values, const char* key) {
  auto it = values.find(key);
  return it != values.end() && it->is_string() ? trim(it->get<std::string>()) : std::string();
}

bool covered_by_any(const std::vector<std::string>& regions, const json& customer) {
  return regions_cover(regions, text_of(customer, "province"), text_of(customer, "city"));
}

void mask_json(json& v) {
  if (v.is_string()) v = mask_value(v.get<std::string>());
}

}  // namespace

std::string mask_value(const std::string& value) {
  if (value.empty()) return value;
  const std::size_t n = value.size();
  const bool digits = std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
  // A mobile number shows as people are used to (138****5678).
  if (digits && n >= 11) return value.substr(0, 3) + "****" + value.substr(n - 4);
  if (digits) {
    // A QQ number or a short one: at least four digits and at least half hidden.
    const std::size_t hidden = std::max<std::size_t>(4, (n + 1) / 2);
    const std::size_t shown = n > hidden ? n - hidden : 0, head = shown / 2;
    return value.substr(0, head) + "****" + value.substr(n - (shown - head));
  }
  // Text: the first and last characters only when they are ASCII (UTF-8 is never
  // cut) and at least four more lie between them.
  std::string out;
  const bool ends = n >= 6;
  if (ends && static_cast<unsigned char>(value.front()) < 0x80) out += value.front();
  out += "****";
  if (ends && static_cast<unsigned char>(value.back()) < 0x80) out += value.back();
  return out;
}

bool AccessPolicy::may_write(Role role) { return role != Role::auditor; }

bool AccessPolicy::may_read_field(Role role, const FieldDef& field) {
  return !field.restricted || role != Role::sales;
}

bool AccessPolicy::may_write_field(Role role, const FieldDef& field) {
  return may_write(role) && may_read_field(role, field);
}

bool AccessPolicy::may_reassign(Role role) { return role == Role::admin || role == Role::manager; }

bool AccessPolicy::in_pool(const json& customer) { return text_of(customer, "owner").empty(); }

bool AccessPolicy::region_covers(const std::string& region, const std::string& province,
                                 const std::string& city) {
  return regions_cover({region}, province, city);
}

Access AccessPolicy::customer_access(const Session& s, const json& customer) {
  switch (s.role) {
    case Role::admin: return Access::write;
    case Role::auditor: return Access::read;
    case Role::manager:
      if (text_of(customer, "owner") == s.user || covered_by_any(s.regions, customer)) return Access::write;
      return Access::none;
    case Role::sales:
      if (in_pool(customer)) return Access::masked;
      if (text_of(customer, "owner") == s.user || covered_by_any(s.regions, customer)) return Access::write;
      return Access::none;
  }
  return Access::none;
}

void AccessPolicy::redact_fields(Role role, const CollectionDef& coll, json& fields) {
  if (!fields.is_object()) return;
  for (auto it = fields.begin(); it != fields.end();) {
    if (readable(role, coll, it.key())) {
      ++it;
    } else {
      it = fields.erase(it);
    }
  }
}

bool AccessPolicy::looks_masked(const CollectionDef& coll, const std::string& key, const json& value) {
  if (!value.is_string() || !maskable(coll, key)) return false;
  // Full-width ＊ and the operator ∗ too (attacker review 6, A6-6), the other
  // stars, dots and underscores a mask can be drawn with, blanks between them
  // left out (A6-6 again in review 7: ⁎, ﹡, ✱, ●, "** **", "____").
  std::string text = fold_fullwidth(value.get_ref<const std::string&>());
  for (const char* mark : {"∗", "⁎", "﹡", "✱", "✲", "✳", "●", "•", "·", "_"}) {
    for (std::size_t at; (at = text.find(mark)) != std::string::npos;) text.replace(at, std::string_view(mark).size(), "*");
  }
  text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
  return text.find("****") != std::string::npos;
}

void AccessPolicy::mask_fields(const CollectionDef& coll, json& fields) {
  if (!fields.is_object()) return;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    if (maskable(coll, it.key())) mask_json(it.value());
  }
}

void AccessPolicy::redact_conflicts(Role role, const CollectionDef& coll, json& conflicts) {
  if (!conflicts.is_array()) return;
  json kept = json::array();
  for (auto& c : conflicts) {
    if (readable(role, coll, c.value("field", std::string()))) kept.push_back(std::move(c));
  }
  conflicts = std::move(kept);
}

void AccessPolicy::strip_chain(Role role, json& revision) {
  if (receives_chain(role) || !revision.is_object()) return;
  revision.erase("prev_hash");
  revision.erase("hash");
}

void AccessPolicy::redact_revision(Role role, Access access, json& revision, const Schema& schema) {
  if (role != Role::sales) return;  // the only role with unreadable or masked fields
  const CollectionDef* coll = schema.find(revision.value("collection", std::string()));
  if (coll == nullptr) return;
  if (auto it = revision.find("changes"); it != revision.end()) {
    redact_fields(role, *coll, *it);
    if (access == Access::masked && it->is_object()) {
      for (auto f = it->begin(); f != it->end(); ++f) {
        if (!maskable(*coll, f.key()) || !f->is_object()) continue;
        if (auto o = f->find("old"); o != f->end()) mask_json(*o);
        if (auto n = f->find("new"); n != f->end()) mask_json(*n);
      }
    }
  }
  // Settled conflicts name their field like conflicts do.
  if (auto it = revision.find("resolves"); it != revision.end()) {
    redact_conflicts(role, *coll, *it);
    // No empty list left behind: it would say conflicts on hidden fields closed
    // there (attacker review 22, A22-7).
    if (it->is_array() && it->empty()) revision.erase(it);
  }
  if (auto it = revision.find("conflicts"); it != revision.end()) {
    redact_conflicts(role, *coll, *it);
    if (access == Access::masked && it->is_array()) {
      for (auto& c : *it) {
        if (!maskable(*coll, c.value("field", std::string()))) continue;
        if (auto k = c.find("kept"); k != c.end()) mask_json(*k);
        if (auto l = c.find("lost"); l != c.end()) mask_json(*l);
      }
    }
  }
}

}  // namespace kehu::server
