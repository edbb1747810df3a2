// The merge rules of merge.h. Pure: the result depends only on the arguments.
//
// Each field of a server record is a last-writer-wins register that also knows
// which record rev wrote it, so a change can tell a value it had seen (apply)
// from one written behind its back (concurrent: later hybrid clock wins).
// Three choices keep the outcome independent of the order concurrent changes
// arrive in (tests/sync/test_merge.cpp checks this on random changes):
//   * a field cleared to null keeps its version (a tombstone with a null value,
//     which values() omits) instead of disappearing; otherwise a concurrent write
//     arriving after the clear would find "no writer" and win whatever its clock;
//   * a concurrent write of the value the field already holds takes over the
//     field's clock when it is later, so the field carries the latest time that
//     value was written and a third, earlier write cannot beat it;
//   * a field a change carries with old == new is no write: the device did not
//     change it, so it must not beat (or be beaten by) a real concurrent edit.
#include "kehu/sync/merge.h"

#include <tuple>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::sync {

bool RecordState::deleted() const {
  auto it = fields.find(kDeletedField);
  return it != fields.end() && it->second.value == true;
}

json RecordState::values() const {
  json out = json::object();
  for (const auto& [key, fv] : fields) {
    if (key != kDeletedField && !fv.value.is_null()) out[key] = fv.value;
  }
  return out;
}

namespace {

// What every per-field step needs: the incoming change, the rev it is taken to
// have seen, and the result being built.
struct Merge {
  const Change& change;
  const CollectionDef& collection;
  std::int64_t base_rev;
  MergeResult out;
};

// Change fields are keyed by canonical keys only, so no label lookup is needed
// (and merge stays independent of the schema implementation).
const FieldDef* find_field(const CollectionDef& collection, const std::string& key) {
  for (const auto& f : collection.fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

// Refuses what cannot apply before touching anything, so a bad change leaves
// no half-merged result behind.
void check_change(const RecordState& current, const Change& change,
                  const CollectionDef& collection) {
  if (!current.exists() && change.op != Op::create) {
    throw Error(Errc::validation, tr("record " + change.record_id + " does not exist on the server",
                                  "服务器上不存在记录 " + change.record_id));
  }
  if (current.exists() && change.collection != current.collection) {
    throw Error(Errc::validation, tr("record " + change.record_id + " is in " + current.collection +
                                      ", not in " + change.collection,
                                  "记录 " + change.record_id + " 属于 " + current.collection + " 表，而不是 " +
                                      change.collection));
  }
  for (const auto& [key, fc] : change.fields) {
    if (key != kDeletedField && !find_field(collection, key)) {
      throw Error(Errc::validation, tr(collection.name + " has no field \"" + key + "\"",
                                    collection.name + " 没有“" + key + "”这个字段"));
    }
  }
}

RecordState start_state(const RecordState& current, const Change& change) {
  RecordState s = current;
  if (!current.exists()) {
    s.id = change.record_id;
    s.collection = change.collection;
  }
  // A device may fill in what the server does not know yet, never overwrite it:
  // the server owns the final customer code.
  if (s.parent.empty()) s.parent = change.parent;
  if (s.code.empty()) s.code = change.code;
  s.rev = current.rev + 1;
  return s;
}

// The value a field holds; a record never deleted reads as "deleted": false, so
// a restore of a live record is recognised as changing nothing.
json value_of(const RecordState& state, const std::string& key) {
  auto it = state.fields.find(key);
  if (it != state.fields.end()) return it->second.value;
  return key == kDeletedField ? json(false) : json();
}

// Whether the change's author could see the field's last write when typing: it
// is at or below the change's base, or an earlier write of the same author on
// the same device (a device id alone is no proof: anyone may claim one).
bool seen(const FieldVersion& fv, const Merge& m) {
  return fv.rev <= m.base_rev || (fv.device == m.change.device && fv.author == m.change.author &&
                                  fv.device_seq < m.change.device_seq);
}

// Later hybrid clock wins; equal clocks go to the greater device id, so every
// server decides the same way.
bool change_wins(const Change& c, const FieldVersion& fv) {
  return std::tie(c.hlc, c.device) > std::tie(fv.hlc, fv.device);
}

// Sets the field to `value` under the change's version and records the diff.
// Writing the value the field already holds changes nothing.
void write(Merge& m, const std::string& key, json value) {
  json before = value_of(m.out.state, key);
  if (before == value) return;
  m.out.applied[key] = FieldChange{before, value};
  const Change& c = m.change;
  m.out.state.fields[key] =
      FieldVersion{std::move(value), m.out.state.rev, c.hlc, c.device, c.device_seq, c.author};
}

// See the file comment: a later concurrent write of the same value keeps the
// field's rev (the value did not change there) but takes over its clock.
void adopt_later_clock(Merge& m, FieldVersion& fv) {
  const Change& c = m.change;
  if (!change_wins(c, fv)) return;
  fv.hlc = c.hlc;
  fv.device = c.device;
  fv.device_seq = c.device_seq;
  fv.author = c.author;
}

// One side of a conflict: a value and who wrote it when.
struct Side {
  json value;
  const std::string& author;
  const std::string& device;
  std::int64_t hlc;
};

Side side_of(const Change& c, json value) { return {std::move(value), c.author, c.device, c.hlc}; }
Side side_of(const FieldVersion& fv, json value) {
  return {std::move(value), fv.author, fv.device, fv.hlc};
}

Conflict make_conflict(const std::string& key, const char* kind, Side kept, Side lost) {
  Conflict k;
  k.field = key;
  k.kind = kind;
  k.kept = std::move(kept.value);
  k.lost = std::move(lost.value);
  k.kept_author = kept.author;
  k.kept_device = kept.device;
  k.kept_hlc = kept.hlc;
  k.lost_author = lost.author;
  k.lost_device = lost.device;
  k.lost_hlc = lost.hlc;
  return k;
}

// A plain field written concurrently by someone else: last writer wins, and the
// losing value goes into the conflicts so nothing typed is lost.
void merge_concurrent(Merge& m, const std::string& key, FieldVersion& fv, const json& value) {
  const Change& c = m.change;
  if (fv.value == value) {  // both sides agree: nothing to decide
    adopt_later_clock(m, fv);
    return;
  }
  if (change_wins(c, fv)) {
    m.out.conflicts.push_back(
        make_conflict(key, "field", side_of(c, value), side_of(fv, fv.value)));
    write(m, key, value);  // after the push: write() replaces fv
  } else {
    m.out.conflicts.push_back(
        make_conflict(key, "field", side_of(fv, fv.value), side_of(c, value)));
  }
}

void merge_field(Merge& m, const std::string& key, const FieldChange& fc) {
  if (fc.old_value == fc.new_value) return;  // untouched on the device: no write
  const FieldDef* def = find_field(m.collection, key);
  if (def && def->type == FieldType::tags) {
    // Sets merge: both sides' adds and removes apply, so there is nothing to lose.
    write(m, key, merge_tags(value_of(m.out.state, key), fc.old_value, fc.new_value));
    return;
  }
  auto it = m.out.state.fields.find(key);
  if (it == m.out.state.fields.end() || seen(it->second, m)) {
    write(m, key, fc.new_value);  // never written, or seen: nothing concurrent
  } else {
    merge_concurrent(m, key, it->second, fc.new_value);
  }
}

// The most recent write to a field other than "deleted" that `m`'s change had
// not seen, or nullptr.
const FieldVersion* concurrent_edit(const RecordState& current, const Merge& m) {
  const FieldVersion* latest = nullptr;
  for (const auto& [key, fv] : current.fields) {
    if (key == kDeletedField || seen(fv, m)) continue;
    if (!latest || fv.rev > latest->rev) latest = &fv;
  }
  return latest;
}

// Delete meets edit: both applied, so the record sits in the recycle bin
// carrying an edit its author expected to stay live. One flag for review.
void flag_delete_edit(const RecordState& current, Merge& m) {
  if (!m.out.state.deleted()) return;
  const Change& c = m.change;
  if (c.op == Op::remove) {
    // A delete that took effect now, over edits its author never saw.
    const FieldVersion* edit = concurrent_edit(current, m);
    if (edit && m.out.applied.count(kDeletedField)) {
      m.out.conflicts.push_back(
          make_conflict(kDeletedField, "delete_edit", side_of(c, true), side_of(*edit, json())));
    }
    return;
  }
  if (c.op == Op::restore) return;  // restore vs delete is a plain field conflict
  // An edit landing on a record deleted behind its author's back; an edit that
  // changed nothing and lost nothing carries nothing worth flagging.
  auto it = current.fields.find(kDeletedField);
  bool edited = !m.out.applied.empty() || !m.out.conflicts.empty();
  if (it != current.fields.end() && current.deleted() && !seen(it->second, m) && edited) {
    m.out.conflicts.push_back(
        make_conflict(kDeletedField, "delete_edit", side_of(it->second, true), side_of(c, json())));
  }
}

}  // namespace

MergeResult apply_change(const RecordState& current, const Change& change,
                         const CollectionDef& collection) {
  check_change(current, change, collection);
  // A create of an id the server already has was made without seeing any of it.
  std::int64_t base_rev = change.op == Op::create ? 0 : change.base_rev;
  Merge m{change, collection, base_rev, MergeResult{start_state(current, change), {}, {}}};
  for (const auto& [key, fc] : change.fields) merge_field(m, key, fc);
  flag_delete_edit(current, m);
  return std::move(m.out);
}

}  // namespace kehu::sync
