// Records, changes and revisions: the vocabulary shared by the replica, the
// merge rules (sync/) and the server.
//
// A record's fields are a JSON object keyed by canonical field keys (see
// schema.h for the stored shapes). "deleted" is not a schema field but is
// versioned like one, so that a delete and a concurrent edit both apply.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kehu {

using json = nlohmann::json;

// The pseudo-field that carries the recycle-bin flag through merge and history.
inline constexpr const char* kDeletedField = "deleted";

enum class Op { create, update, remove, restore };
const char* op_name(Op op) noexcept;  // "create", "update", "delete", "restore"
Op parse_op(std::string_view s);      // throws Error(protocol)

// A record as the replica shows it.
struct Record {
  std::string id;          // UUID made on the device that created it
  std::string collection;  // "customers", "followups", ...
  std::string code;        // customers only: C202405001 (may be provisional before first push)
  std::string parent;      // id of the owning customer for child records
  std::int64_t rev = 0;    // server rev this state is based on; 0 = never synced
  bool deleted = false;
  bool pending = false;    // has local changes not yet accepted by the server
  json fields = json::object();
};

// Old and new value of one field in one change. For tags the merge derives the
// added and removed members from old and new.
struct FieldChange {
  json old_value;
  json new_value;
};

// A conflict that a change settles: the record rev whose revision recorded it
// and the field. Settling a field settles its older open conflicts too.
struct ConflictRef {
  std::int64_t rev = 0;
  std::string field;
};

// One local edit, as kept in the change log and pushed to the server.
struct Change {
  std::string change_id;   // UUID; the idempotency key
  std::string record_id;
  std::string collection;
  std::string parent;      // owning customer id for child records
  std::string code;        // customers: the code the device gave (maybe provisional)
  Op op = Op::update;
  std::int64_t base_rev = 0;    // the record rev the device had when it made the edit
  std::int64_t hlc = 0;         // hybrid logical clock time of the edit
  std::string device;
  std::int64_t device_seq = 0;  // the device's own order of its changes (strictly increasing)
  std::string author;           // who typed it (the server replaces this by the session user)
  std::string cause;            // why, when not typed by hand: "revert to rev 3", "pool recycle", ...
  std::string approved_by;      // server-made only: the manager who approved a change request
  std::map<std::string, FieldChange> fields;
  std::vector<ConflictRef> resolves;  // conflicts this change settles (kehu conflicts resolve)
};

// The losing side of a concurrent edit of one field, or a delete that met an edit.
struct Conflict {
  std::string field;
  std::string kind = "field";  // "field" | "delete_edit" | "tag"
  std::string member;          // "tag": the tag added on one side, removed on the other
  json kept;                   // "tag": true (the member is present) or false
  json lost;
  std::string kept_author, kept_device;
  std::int64_t kept_hlc = 0;
  std::string lost_author, lost_device;
  std::int64_t lost_hlc = 0;
};

// One accepted change. rev == 0 means a local revision not yet accepted (pending).
struct Revision {
  std::string record_id;
  std::string collection;
  std::int64_t rev = 0;
  std::int64_t seq = 0;          // server global sequence, 0 for local
  std::string change_id;
  Op op = Op::update;
  std::string author;
  std::string device;
  std::string at;                // server (or local) time, ISO 8601 UTC
  std::int64_t hlc = 0;          // hybrid clock of the change (clamped by the server)
  std::int64_t client_hlc = 0;   // the device's own clock reading, before clamping
  std::map<std::string, FieldChange> changes;
  std::vector<Conflict> conflicts;
  std::string cause;             // what made it, when not a hand edit (claim, release, revert, rule)
  std::string approved_by;       // the manager who approved a protected-field change request
  std::vector<ConflictRef> resolves;  // conflicts of this record it settles, for every device
  std::string hash;              // server: SHA-256 chain link (hex); empty locally
  std::string prev_hash;
};

// JSON forms used on the wire and in the replica's log tables.
json to_json(const Change& c);
Change change_from_json(const json& j);   // throws Error(protocol) on a malformed change
json to_json(const Conflict& c);
Conflict conflict_from_json(const json& j);
json to_json(const Revision& r);
Revision revision_from_json(const json& j);
json field_changes_to_json(const std::map<std::string, FieldChange>& m);
std::map<std::string, FieldChange> field_changes_from_json(const json& j);
json resolves_to_json(const std::vector<ConflictRef>& refs);
std::vector<ConflictRef> resolves_from_json(const json& j);  // throws Error(protocol)

// Tags merge as sets: applies what a change added (new - old) and removed
// (old - new) to `current`. Returns a sorted array without duplicates.
json merge_tags(const json& current, const json& old_value, const json& new_value);
// What a change typed: {field: new value} for each field it changed (old != new).
// A refused change keeps these on the device (kehu rejected, --json).
json typed_values(const Change& c);
// The members of a tags value (an array of strings; anything else is empty).
std::set<std::string> tag_set(const json& v);

// Applies a device's own change on top of a record's values as the device shows
// it before the server has it: tags by set difference, other fields overwritten,
// nulls removed. Used to rebuild a record's view after a pull.
// `is_tags(key)` tells which fields are tag sets.
json overlay_change(const json& values, const Change& change,
                    const std::function<bool(const std::string&)>& is_tags);

// New UUID v7, lower-case: time-ordered (creation order within a process), 62 random bits.
// For record and change ids, which indexes keep in order.
std::string new_uuid();
// New random UUID v4, lower-case: for ids whose prefix must tell them apart (a
// device id's first characters label it in history and in provisional codes).
std::string new_random_uuid();
// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ"; today's date in the local time zone
// as "YYYY-MM-DD" (sales teams date follow-ups by their own calendar).
std::string now_iso8601();
// `t` as now_iso8601() writes it: YYYY-MM-DDTHH:MM:SSZ.
std::string iso8601_utc(std::time_t t);
std::string today_local();
// The month of today_local() as "YYYYMM": the month part of customer codes.
std::string this_month_local();
// Fixes the day today_local() and this_month_local() answer for this process:
// KEHU_TODAY in the binaries, ScopedToday in tests, so nothing that depends on
// the date (codes, created_at, reminders) depends on the wall clock. An empty
// day goes back to the calendar. Error(usage) unless `ymd` is a real
// "YYYY-MM-DD" day; `what` names its source in that message. Thread-safe.
void set_today(std::string_view ymd, std::string_view what = "today");
// Applies KEHU_TODAY if it is set and not empty (the binaries call this first).
void set_today_from_env();

}  // namespace kehu
