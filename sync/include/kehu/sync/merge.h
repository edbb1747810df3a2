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
//   * tags merge as sets, member by member: each member the change added or
//     removed (new - old, old - new) is a register of its own (present or not)
//     under the rules above, so a concurrent add and remove of one member go to
//     the later clock whatever the order of arrival, and the other side is a
//     "tag" conflict naming the member (docs/protocol.md, "Tags");
//   * "deleted" is a field like the others, so a delete and a concurrent edit both
//     apply: the record ends in the recycle bin carrying the edit, and a
//     "delete_edit" conflict flags it for review;
//   * a cleared field keeps its version (value null), and a concurrent write of
//     the value a field already holds joins its writers (the latest clock holds
//     it, FieldVersion::also the others): a change has seen a value only when it
//     saw every write of it, so every order of arrival converges to the same state;
//   * a field sent with old == new was not changed by the device and is skipped.
//
// Open conflicts are part of the state: each field keeps the conflicts on it that
// nobody settled. A change that replaces the value a conflict kept closes it
// (MergeResult::settled); when the change won over a write it had not seen, the
// sides its new value beat are kept against it instead. So the open conflicts of
// a record are the same whatever order its changes arrived in: per field (or tag
// member) the kept value, and each different value that lost to it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kehu/record.h"
#include "kehu/schema.h"

namespace kehu::sync {

// The open conflicts a field shows at most (the latest losing writes), and the
// tags a tags field remembers at most, removed ones included (the oldest removed
// ones are forgotten first): a record's state stays bounded (attacker review 22).
inline constexpr std::size_t kMaxOpenConflictsPerField = 10;
inline constexpr std::size_t kMaxTagMembers = 256;

// One write of a value: the record rev it arrived at, its clock and its author.
struct Write {
  std::int64_t rev = 0;
  std::int64_t hlc = 0;
  std::string device;
  std::int64_t device_seq = 0;
  std::string author;
};

// Who last wrote one member of a tags field: added (present) or removed.
// `also`: as FieldVersion::also.
struct MemberVersion {
  bool present = false;
  std::int64_t rev = 0;
  std::int64_t hlc = 0;
  std::string device;
  std::int64_t device_seq = 0;
  std::string author;
  std::vector<Write> also;
};

// A conflict nobody settled yet: the rev whose revision recorded it, and the rev
// at which its losing write reached the server (whether a later change saw it).
// `hidden`: a delete_edit flag that stands behind the one shown (a record in the
// recycle bin shows one, naming the latest edit no delete had seen); it is
// shown once a later delete that had seen the shown one's edit drops it.
struct Unsettled {
  std::int64_t rev = 0;
  std::int64_t lost_rev = 0;
  Conflict conflict;
  bool hidden = false;
};

// Who last wrote one field of a server record.
struct FieldVersion {
  json value;
  std::int64_t rev = 0;         // record rev that last changed the field
  std::int64_t hlc = 0;         // hybrid clock of that change
  std::string device;
  std::int64_t device_seq = 0;
  std::string author;
  // Writes of the same value made concurrently with the one above (which has the
  // latest clock), that it had not seen: a change that saw only some of the
  // writes of a value has not seen the others, in whichever order they arrived.
  std::vector<Write> also;
  std::map<std::string, MemberVersion> members;  // tags: every member ever added or removed
  std::vector<Unsettled> open;                   // the field's open conflicts
};

// The server's state of one record. rev == 0: the record does not exist yet.
struct RecordState {
  std::string id, collection, parent, code;
  std::int64_t rev = 0;
  std::map<std::string, FieldVersion> fields;  // includes "deleted" once set
  // A customer merged into another (kehu customer merge): the survivor's id,
  // and its rev when the merge's delete arrived. What arrives later for this
  // customer is forwarded there (PushService). Cleared by a restore.
  std::string merged_into;
  std::int64_t merged_rev = 0;

  bool exists() const { return rev > 0; }
  bool deleted() const;
  // Plain values {key: value} of the live fields (nulls omitted, "deleted" excluded).
  json values() const;
};

struct MergeResult {
  RecordState state;                             // the new state, rev = old rev + 1
  std::map<std::string, FieldChange> applied;    // what changed: field -> old, new
  std::vector<Conflict> conflicts;               // what the revision records
  std::vector<ConflictRef> settled;              // open conflicts the change closed
};

// Applies `change` (already validated and authorised, its hlc already clamped, its
// author already set to the authenticated user) to `current`.
// Throws Error(validation) for a change that cannot apply: an update, delete or
// restore of a record that does not exist, a create whose collection differs.
// A create of an existing id is treated as an update from base_rev 0.
MergeResult apply_change(const RecordState& current, const Change& change,
                         const CollectionDef& collection);

}  // namespace kehu::sync
