// The merge rules: one pure function, called by the server for every pushed
// change and unit-tested without any network (tests/sync/test_merge.cpp).
//
// Per field of an incoming change:
//   * if the field's last change is at or below the change's base_rev (the device
//     had seen it), or was made earlier by the same device (device_seq lower: a
//     device's own earlier changes count as seen by its later ones), apply it;
//   * otherwise the field was changed concurrently: the later hybrid-clock time
//     wins (ties: the greater device id), and the losing value is returned as a
//     Conflict so nothing typed is lost;
//   * tags merge as sets: the members the change added and removed (new - old,
//     old - new) are applied to the current set, never a conflict;
//   * "deleted" is a field like the others, so a delete and a concurrent edit both
//     apply: the record ends in the recycle bin carrying the edit, and a
//     "delete_edit" conflict flags it for review;
//   * a cleared field keeps its version (value null), and a concurrent write of
//     the value a field already holds takes over the field's clock when later, so
//     every order of arrival converges to the same state;
//   * a field sent with old == new was not changed by the device and is skipped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kehu/record.h"
#include "kehu/schema.h"

namespace kehu::sync {

// Who last wrote one field of a server record.
struct FieldVersion {
  json value;
  std::int64_t rev = 0;         // record rev that last changed the field
  std::int64_t hlc = 0;         // hybrid clock of that change
  std::string device;
  std::int64_t device_seq = 0;
  std::string author;
};

// The server's state of one record. rev == 0: the record does not exist yet.
struct RecordState {
  std::string id, collection, parent, code;
  std::int64_t rev = 0;
  std::map<std::string, FieldVersion> fields;  // includes "deleted" once set

  bool exists() const { return rev > 0; }
  bool deleted() const;
  // Plain values {key: value} of the live fields (nulls omitted, "deleted" excluded).
  json values() const;
};

struct MergeResult {
  RecordState state;                             // the new state, rev = old rev + 1
  std::map<std::string, FieldChange> applied;    // what changed: field -> old, new
  std::vector<Conflict> conflicts;
};

// Applies `change` (already validated and authorised, its hlc already clamped, its
// author already set to the authenticated user) to `current`.
// Throws Error(validation) for a change that cannot apply: an update, delete or
// restore of a record that does not exist, a create whose collection differs.
// A create of an existing id is treated as an update from base_rev 0.
MergeResult apply_change(const RecordState& current, const Change& change,
                         const CollectionDef& collection);

}  // namespace kehu::sync
