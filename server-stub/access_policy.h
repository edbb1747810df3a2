// What a role may do (DESIGN.md "Users and access"), in one place, so the deeper
// scopes still to come (a manager's regions, a salesperson's own customers and
// territory) are added here and nowhere else.
//
// Today:
//   * admin, manager and sales may write records and lease codes; auditor may not;
//   * restricted fields (FieldDef::restricted: credit rating, annual spend, ...)
//     are readable and writable by admin, manager and auditor (read only), and
//     never leave the server for sales: they are cut from pulled records, from
//     revisions' changes and conflicts, and from push results;
//   * every role reads every record.
//
// Note: a redacted revision keeps its original hash, so a device cannot verify
// the chain over revisions it received redacted. Only the server verifies it.
//
// Stateless; all functions are thread-safe.
#pragma once

#include "kehu/record.h"
#include "kehu/schema.h"
#include "role.h"

namespace kehu::server {

class AccessPolicy {
 public:
  static bool may_write(Role role);
  static bool may_read_field(Role role, const FieldDef& field);
  static bool may_write_field(Role role, const FieldDef& field);

  // Removes the members of `fields` (an object keyed by field key) that `role`
  // may not read. Unknown keys are kept (they are not restricted by definition).
  static void redact_fields(Role role, const CollectionDef& coll, json& fields);
  // Removes unreadable fields from a revision's or push result's "changes" and
  // "conflicts". `collection` is looked up in the built-in schema.
  static void redact_revision(Role role, json& revision);
  // Removes conflicts about unreadable fields from an array of conflicts.
  static void redact_conflicts(Role role, const CollectionDef& coll, json& conflicts);
};

}  // namespace kehu::server
