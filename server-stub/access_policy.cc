#include "access_policy.h"

namespace kehu::server {

namespace {

bool readable(Role role, const CollectionDef& coll, const std::string& key) {
  const FieldDef* f = coll.find(key);
  return f == nullptr || f->key != key || AccessPolicy::may_read_field(role, *f);
}

}  // namespace

bool AccessPolicy::may_write(Role role) { return role != Role::auditor; }

bool AccessPolicy::may_read_field(Role role, const FieldDef& field) {
  return !field.restricted || role != Role::sales;
}

bool AccessPolicy::may_write_field(Role role, const FieldDef& field) {
  return may_write(role) && may_read_field(role, field);
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

void AccessPolicy::redact_conflicts(Role role, const CollectionDef& coll, json& conflicts) {
  if (!conflicts.is_array()) return;
  json kept = json::array();
  for (auto& c : conflicts) {
    if (readable(role, coll, c.value("field", std::string()))) kept.push_back(std::move(c));
  }
  conflicts = std::move(kept);
}

void AccessPolicy::redact_revision(Role role, json& revision) {
  if (role != Role::sales) return;  // the only role with unreadable fields today
  const CollectionDef* coll = Schema::builtin().find(revision.value("collection", std::string()));
  if (coll == nullptr) return;
  if (auto it = revision.find("changes"); it != revision.end()) redact_fields(role, *coll, *it);
  if (auto it = revision.find("conflicts"); it != revision.end()) redact_conflicts(role, *coll, *it);
}

}  // namespace kehu::server
