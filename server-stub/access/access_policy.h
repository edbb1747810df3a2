// What a user may read and write (DESIGN.md "Users and access"), in one place.
//
// Roles:
//   * admin: everything. auditor: reads everything, writes nothing.
//   * manager: customers in their regions (User::regions: "江苏" matches every
//     city of the province, "江苏/南京" one city) or owned by them; reads and
//     writes restricted fields; reassigns owners.
//   * sales: customers they own or in their territory (User::regions), read and
//     write; customers in the public pool (公海: no owner) read only, with phone
//     WeChat and email masked, until claimed; never restricted fields.
// Follow-ups, orders, contacts and the other child records follow their
// customer. Scope is decided on the customer's current state, so reassigning
// a customer or changing a territory moves the customer and its children
// between devices at their next pull (pull_service.h).
//
// Restricted fields (FieldDef::restricted: credit rating, annual spend, credit
// limit) are cut from pulled records, from revisions' changes and conflicts,
// and from push results for roles that may not read them.
//
// The hash chain (prev_hash, hash) goes only to roles that read every revision
// in full (admin, auditor: receives_chain). A hash over a revision with a cut or
// masked value would let its reader find the value by guessing (a masked phone
// in 10^4 tries, a credit rating in a few), and a prev_hash is the hash of a
// revision the reader may not see, so managers and salespeople get neither and
// rely on the server's and the auditor's verification (docs/protocol.md
// "Revisions and the hash chain").
//
// Stateless; all functions are thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kehu/place.h"
#include "kehu/record.h"
#include "kehu/schema.h"
#include "role.h"
#include "session.h"

namespace kehu::server {

// How a session may use one customer and its child records.
enum class Access {
  none,    // invisible: never pulled, every write refused
  masked,  // a pool customer for sales: readable with contact numbers masked
  read,    // readable in full (auditor)
  write,   // readable and writable
};

class AccessPolicy {
 public:
  static bool may_write(Role role);
  static bool may_read_field(Role role, const FieldDef& field);
  static bool may_write_field(Role role, const FieldDef& field);
  // Whether the role may change a customer's owner by editing it (sales may
  // not: they claim and release through the pool).
  static bool may_reassign(Role role);
  // Whether every customer is in scope for the role (no per-customer checks needed).
  static bool sees_everything(Role role) { return role == Role::admin || role == Role::auditor; }
  // Whether any field of a record or revision may be cut or masked for the role
  // with this access (redact_fields, mask_fields, redact_revision).
  static bool redacts(Role role, Access access) {
    return role == Role::sales || access == Access::masked;
  }

  // Whether revisions sent to the role carry "prev_hash" and "hash".
  static bool receives_chain(Role role) { return sees_everything(role); }
  // Removes "prev_hash" and "hash" from a revision unless receives_chain(role).
  static void strip_chain(Role role, json& revision);

  // The session's access to a customer whose current values are `customer`
  // (owner, province, city are read from it).
  static Access customer_access(const Session& session, const json& customer);
  // Whether "省" or "省/市" `region` covers a customer in province/city.
  static bool region_covers(const std::string& region, const std::string& province,
                            const std::string& city);
  // A customer without owner is in the public pool.
  static bool in_pool(const json& customer);
  // Which revision fields can move a customer between scopes.
  static bool is_scope_field(const std::string& key) {
    return key == "owner" || key == "province" || key == "city";
  }

  // Removes the members of `fields` (an object keyed by field key) that `role`
  // may not read. Unknown keys are kept (they are not restricted by definition).
  static void redact_fields(Role role, const CollectionDef& coll, json& fields);
  // Masks phone numbers, email addresses and WeChat ids in `fields` (values keyed by field key):
  // "13812345678" -> "138****5678".
  static void mask_fields(const CollectionDef& coll, json& fields);
  // Whether `value` for the field `key` reads as a masked one ("w****5"): a
  // salesperson's copy of a pool customer written back after a claim would
  // replace the real number (attacker review 5, A5-13).
  static bool looks_masked(const CollectionDef& coll, const std::string& key, const json& value);
  // Cuts unreadable fields from a revision's or push result's "changes" and
  // "conflicts", and masks them when `access` is masked. `collection` is looked
  // up in `schema` (the store's: built-in plus custom fields, schema_service.h).
  static void redact_revision(Role role, Access access, json& revision,
                              const Schema& schema = Schema::builtin());
  // Removes conflicts about unreadable fields from an array of conflicts.
  static void redact_conflicts(Role role, const CollectionDef& coll, json& conflicts);
};

// The place rules (canonical_province, split_province, canonical_city,
// canonical_region) are core's, shared with the client's --region filter.
using kehu::canonical_city;
using kehu::canonical_province;
using kehu::canonical_region;
using kehu::split_province;

// "138****5678" for a phone number, the first and last characters around ****
// for anything else.
std::string mask_value(const std::string& value);

}  // namespace kehu::server
