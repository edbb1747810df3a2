#include "change_validator.h"

#include "access_policy.h"
#include "kehu/error.h"

namespace kehu::server {

namespace {

std::string describe(const FieldDef& f) { return f.zh + " (" + f.key + ")"; }

void check_field(const CollectionDef& coll, const std::string& key, const FieldChange& fc,
                 const Session& session) {
  if (key == kDeletedField) {
    if (!fc.new_value.is_boolean() && !fc.new_value.is_null()) {
      throw Error(Errc::validation, "deleted: " + fc.new_value.dump() + " is not true or false");
    }
    return;
  }
  const FieldDef* f = coll.find(key);
  if (f == nullptr || f->key != key) {
    // Only canonical keys travel on the wire; a label here is a client bug.
    throw Error(Errc::validation,
                coll.zh + " (" + coll.name + ") has no field \"" + key + "\"");
  }
  // old == new is no write (merge.h), e.g. a create listing every field as null:
  // it needs no write permission and clears nothing.
  const bool writes = fc.old_value != fc.new_value;
  if (writes && !AccessPolicy::may_write_field(session.role, *f)) {
    throw Error(Errc::forbidden, describe(*f) + " is a restricted field; role " +
                                     role_name(session.role) + " may not change it");
  }
  if (fc.new_value.is_null()) {
    if (writes && f->required) {
      throw Error(Errc::validation, describe(*f) + " is required and cannot be cleared");
    }
    return;
  }
  check_stored_value(*f, fc.new_value);
}

}  // namespace

const CollectionDef& ChangeValidator::check(const Change& change, const Session& session,
                                            const Schema& schema) {
  if (!AccessPolicy::may_write(session.role)) {
    throw Error(Errc::forbidden, std::string("role ") + role_name(session.role) + " may not change records");
  }
  const CollectionDef* coll = schema.find(change.collection);
  if (coll == nullptr) throw Error(Errc::validation, "unknown collection \"" + change.collection + "\"");
  if (change.hlc <= 0) {
    throw Error(Errc::validation, "change " + change.change_id + " has no hybrid clock time (hlc)");
  }
  for (const auto& [key, fc] : change.fields) check_field(*coll, key, fc, session);
  return *coll;
}

}  // namespace kehu::server
