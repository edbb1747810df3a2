// The merge rules of merge.h. Pure: the result depends only on the arguments.
//
// Each field of a server record is a last-writer-wins register that also knows
// which record rev wrote it, so a change can tell a value it had seen (apply)
// from one written behind its back (concurrent: later hybrid clock wins).
// These choices keep the outcome independent of the order concurrent changes
// arrive in (tests/sync/test_merge.cpp checks this on random changes and on
// random causal histories, conflicts included):
//   * a field cleared to null keeps its version (a tombstone with a null value,
//     which values() omits) instead of disappearing; otherwise a concurrent write
//     arriving after the clear would find "no writer" and win whatever its clock;
//   * a write of the value the field already holds joins its writers (join()):
//     the latest clock holds it, so a third, earlier write cannot beat it, and a
//     change that saw only some of the writes has not seen the others;
//   * each member of a tags field is such a register (merge_member()), with
//     removed members kept as tombstones (bounded, merge.h);
//   * open conflicts live with the fields they are about (open_conflicts()):
//     replaced, carried or closed by each change the same way in every order;
//   * a field a change carries with old == new is no write: the device did not
//     change it, so it must not beat (or be beaten by) a real concurrent edit.
#include "kehu/sync/merge.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>

#include "kehu/cause_text.h"
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

// A place one value lives: a field, or one member of a tags field.
using Slot = std::pair<std::string, std::string>;  // field key, tag member ("" for a field)

// What every per-field step needs: the incoming change, the rev it is taken to
// have seen, and the result being built.
struct Merge {
  const Change& change;
  const CollectionDef& collection;
  std::int64_t base_rev;
  MergeResult out;
  std::vector<Unsettled> found;  // conflicts this change met, before open_conflicts() files them
  std::set<Slot> changed;        // slots whose value the change replaced
  std::set<Slot> joined;         // slots whose value the change wrote again (join())
  std::set<Slot> wrote;          // slots the change wrote, whatever came of it
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

// Whether the change's author could see a write when typing: it is at or below
// the change's base, or an earlier write of the same author on the same device
// (a device id alone is no proof: anyone may claim one).
template <class Version>
bool seen(const Version& v, const Merge& m) {
  return v.rev <= m.base_rev || (v.device == m.change.device && v.author == m.change.author &&
                                 v.device_seq < m.change.device_seq);
}

// Later hybrid clock wins; equal clocks go to the greater device id, so every
// server decides the same way.
template <class Version>
bool change_wins(const Change& c, const Version& v) {
  return std::tie(c.hlc, c.device) > std::tie(v.hlc, v.device);
}

// The change as a write arriving at the result's rev.
Write write_of(const Merge& m) {
  const Change& c = m.change;
  return Write{m.out.state.rev, c.hlc, c.device, c.device_seq, c.author};
}

template <class Version>
Write write_of(const Version& v) {
  return Write{v.rev, v.hlc, v.device, v.device_seq, v.author};
}

template <class Version>
void set_holder(Version& v, const Write& w) {
  v.rev = w.rev;
  v.hlc = w.hlc;
  v.device = w.device;
  v.device_seq = w.device_seq;
  v.author = w.author;
}

// Stamps `v` with the change's version, written at the result's rev: the one
// write of its new value.
template <class Version>
void stamp(Merge& m, Version& v) {
  set_holder(v, write_of(m));
  v.also.clear();
}

// The writes of the value `v` holds that the change had not seen.
template <class Version>
std::vector<Write> unseen_writes(const Version& v, const Merge& m) {
  std::vector<Write> out;
  if (!seen(v, m)) out.push_back(write_of(v));
  for (const auto& w : v.also) {
    if (!seen(w, m)) out.push_back(w);
  }
  return out;
}

// Whether the change had seen at least one write of the value `v` holds.
template <class Version>
bool saw_any(const Version& v, const Merge& m) {
  return seen(v, m) || std::any_of(v.also.begin(), v.also.end(), [&](const Write& w) { return seen(w, m); });
}

// A change that wrote a slot and lost had still seen the writes of the value
// it tried to replace: those drop out of its writers, as if the change had won
// and then lost to the unseen write (the order that would give).
template <class Version>
void drop_seen_writers(Version& v, const Merge& m) {
  std::erase_if(v.also, [&](const Write& w) { return seen(w, m); });
}

bool later(const Write& a, const Write& b) { return std::tie(a.hlc, a.device) > std::tie(b.hlc, b.device); }

const Write& latest(const std::vector<Write>& writes) {
  return *std::max_element(writes.begin(), writes.end(), [](const Write& a, const Write& b) { return later(b, a); });
}

// A write of the value a slot already holds joins its writers: those the change
// had seen drop out, the latest of the rest holds the value, the others stay
// beside it (see FieldVersion::also).
template <class Version>
void join(Merge& m, const Slot& slot, Version& v) {
  std::vector<Write> writers = unseen_writes(v, m);
  writers.push_back(write_of(m));
  m.joined.insert(slot);
  const Write holder = latest(writers);
  set_holder(v, holder);
  v.also.clear();
  for (const auto& w : writers) {
    if (w.rev != holder.rev || w.device != holder.device || w.hlc != holder.hlc) v.also.push_back(w);
  }
}

// Sets the field to `value` under the change's version and records the diff.
// Writing the value the field already holds changes nothing (merge_field joins
// the change to its writers).
void write(Merge& m, const std::string& key, json value) {
  json before = value_of(m.out.state, key);
  if (before == value) return;
  m.out.applied[key] = FieldChange{before, value};
  FieldVersion& fv = m.out.state.fields[key];  // keeps its members and open conflicts
  fv.value = std::move(value);
  stamp(m, fv);
  m.changed.insert({key, ""});
}

// One side of a conflict: a value and who wrote it when.
struct Side {
  json value;
  std::string author, device;
  std::int64_t hlc;
};

Side side_of(const Change& c, json value) { return {std::move(value), c.author, c.device, c.hlc}; }
template <class Version>
Side side_of(const Version& v, json value) {
  return {std::move(value), v.author, v.device, v.hlc};
}

Conflict make_conflict(const std::string& key, const char* kind, Side kept, Side lost) {
  Conflict k;
  k.field = key;
  k.kind = kind;
  k.kept = std::move(kept.value);
  k.lost = std::move(lost.value);
  k.kept_author = std::move(kept.author);
  k.kept_device = std::move(kept.device);
  k.kept_hlc = kept.hlc;
  k.lost_author = std::move(lost.author);
  k.lost_device = std::move(lost.device);
  k.lost_hlc = lost.hlc;
  return k;
}

// Notes a conflict the change met. `lost_rev`: where the losing write reached
// the server (the change itself arrives at the result's rev).
void found(Merge& m, Conflict k, std::int64_t lost_rev) {
  m.found.push_back(Unsettled{m.out.state.rev, lost_rev, std::move(k), false});
}

// A plain field whose value was written by someone the change had not seen:
// the latest such write against the change, last writer wins, and the losing
// value goes into the conflicts so nothing typed is lost.
void merge_concurrent(Merge& m, const std::string& key, FieldVersion& fv, const json& value,
                      const std::vector<Write>& unseen) {
  const Change& c = m.change;
  const Write& rival = latest(unseen);
  if (change_wins(c, rival)) {
    found(m, make_conflict(key, "field", side_of(c, value), side_of(rival, fv.value)), rival.rev);
    write(m, key, value);
  } else {
    drop_seen_writers(fv, m);
    found(m, make_conflict(key, "field", side_of(fv, fv.value), side_of(c, value)), m.out.state.rev);
  }
}

// One member of a tags field added (present) or removed by the change: a
// register of its own, merged like a plain field.
void merge_member(Merge& m, const std::string& key, FieldVersion& fv, const std::string& tag, bool present) {
  const Change& c = m.change;
  m.wrote.insert({key, tag});
  auto [it, fresh] = fv.members.try_emplace(tag);
  MemberVersion& mv = it->second;
  const bool was = !fresh && mv.present;
  const std::vector<Write> unseen = fresh ? std::vector<Write>{} : unseen_writes(mv, m);
  if (!fresh && mv.present == present) {
    join(m, {key, tag}, mv);
  } else if (unseen.empty()) {
    mv.present = present;
    stamp(m, mv);
  } else if (const Write& rival = latest(unseen); change_wins(c, rival)) {
    Conflict k = make_conflict(key, "tag", side_of(c, json(present)), side_of(rival, json(mv.present)));
    k.member = tag;
    found(m, std::move(k), rival.rev);
    mv.present = present;
    stamp(m, mv);
  } else {
    drop_seen_writers(mv, m);
    Conflict k = make_conflict(key, "tag", side_of(mv, json(mv.present)), side_of(c, json(present)));
    k.member = tag;
    found(m, std::move(k), m.out.state.rev);
  }
  if (mv.present != was) m.changed.insert({key, tag});
}

// A stored tags field written before members were kept: each member present
// carries the field's version.
void seed_members(FieldVersion& fv) {
  if (!fv.members.empty()) return;
  for (const auto& t : tag_set(fv.value)) {
    MemberVersion& mv = fv.members[t];
    mv.present = true;
    set_holder(mv, write_of(fv));
  }
}

void merge_tags_field(Merge& m, const std::string& key, const FieldChange& fc) {
  FieldVersion& fv = m.out.state.fields[key];
  seed_members(fv);
  const std::set<std::string> before = tag_set(fc.old_value), after = tag_set(fc.new_value);
  for (const auto& t : after) {
    if (!before.count(t)) merge_member(m, key, fv, t, true);
  }
  for (const auto& t : before) {
    if (!after.count(t)) merge_member(m, key, fv, t, false);
  }
  // Bounded: the oldest removed tags are forgotten first (merge.h).
  if (fv.members.size() > kMaxTagMembers) {
    std::vector<std::pair<std::tuple<std::int64_t, std::string, std::string>, std::string>> removed;
    for (const auto& [t, mv] : fv.members) {
      if (!mv.present) removed.push_back({{mv.hlc, mv.device, t}, t});
    }
    std::sort(removed.begin(), removed.end());
    for (std::size_t i = 0; i < removed.size() && fv.members.size() > kMaxTagMembers; ++i) {
      fv.members.erase(removed[i].second);
    }
  }
  std::vector<std::string> present;
  for (const auto& [t, mv] : fv.members) {
    if (mv.present) present.push_back(t);
  }
  write(m, key, present.empty() ? json() : json(present));
  m.changed.erase({key, ""});  // a tags field's conflicts live on its members
}

void merge_field(Merge& m, const std::string& key, const FieldChange& fc) {
  if (fc.old_value == fc.new_value) return;  // untouched on the device: no write
  const FieldDef* def = find_field(m.collection, key);
  if (def && def->type == FieldType::tags) {
    merge_tags_field(m, key, fc);
    return;
  }
  m.wrote.insert({key, ""});
  auto it = m.out.state.fields.find(key);
  if (it == m.out.state.fields.end()) {
    write(m, key, fc.new_value);  // never written: nothing concurrent
    return;
  }
  FieldVersion& fv = it->second;
  if (fv.value == fc.new_value) {
    join(m, {key, ""}, fv);  // both sides agree: nothing to decide
    return;
  }
  const std::vector<Write> unseen = unseen_writes(fv, m);
  if (unseen.empty()) {
    write(m, key, fc.new_value);  // every write of the value seen: nothing concurrent
  } else {
    merge_concurrent(m, key, fv, fc.new_value, unseen);
  }
}

// Whether the change's author had seen the losing write of an open conflict.
bool saw_lost(const Unsettled& u, const Merge& m) {
  const Conflict& k = u.conflict;
  return u.lost_rev <= m.base_rev || (k.lost_device == m.change.device && k.lost_author == m.change.author &&
                                      k.lost_hlc < m.change.hlc);
}

// The writes to fields other than "deleted" that `m`'s change had not seen,
// those that lost a conflict still open included (they were edits all the same).
std::vector<Write> concurrent_edits(const RecordState& current, const Merge& m) {
  std::vector<Write> unseen;
  for (const auto& [key, fv] : current.fields) {
    if (key == kDeletedField) continue;
    // A tags field's own version is its latest change of the set; each member
    // keeps each write.
    if (fv.members.empty()) {
      for (auto& w : unseen_writes(fv, m)) unseen.push_back(std::move(w));
    }
    for (const auto& [tag, mv] : fv.members) {
      for (auto& w : unseen_writes(mv, m)) unseen.push_back(std::move(w));
    }
    for (const auto& u : fv.open) {
      const Conflict& k = u.conflict;
      if (k.kind != "delete_edit" && !saw_lost(u, m)) {
        unseen.push_back(Write{u.lost_rev, k.lost_hlc, k.lost_device, 0, k.lost_author});
      }
    }
  }
  return unseen;
}

// Delete meets edit: both applied, so the record sits in the recycle bin
// carrying an edit its author expected to stay live. One flag for review, whose
// lost side open_conflicts() keeps to the latest such edit.
void flag_delete_edit(const RecordState& current, Merge& m) {
  if (!m.out.state.deleted()) return;
  const Change& c = m.change;
  if (c.op == Op::remove) {
    // A merge's delete (kehu customer merge): what was edited on the customer
    // goes on to the one it was merged into (PushService), nothing to flag.
    if (!merge_target_of(c.cause).empty()) return;
    // A delete that took effect now, over edits its author never saw.
    // Each one a flag; open_conflicts() shows the latest (merge.h, Unsettled).
    if (m.out.applied.count(kDeletedField)) {
      for (const Write& edit : concurrent_edits(current, m)) {
        found(m, make_conflict(kDeletedField, "delete_edit", side_of(c, true), side_of(edit, json())), edit.rev);
      }
    }
    return;
  }
  if (c.op == Op::restore) return;  // restore vs delete is a plain field conflict
  // An edit landing on a record deleted behind its author's back; an edit that
  // changed nothing and lost nothing carries nothing worth flagging.
  auto it = current.fields.find(kDeletedField);
  bool edited = !m.out.applied.empty() || !m.found.empty() || !m.joined.empty();
  if (it != current.fields.end() && current.deleted() && !saw_any(it->second, m) && edited) {
    found(m, make_conflict(kDeletedField, "delete_edit", side_of(it->second, true), side_of(c, json())),
          m.out.state.rev);
  }
}

// The kept side of every conflict on a slot is the slot's current write.
void keep_current(const FieldVersion& fv, Conflict& k) {
  if (!k.member.empty()) {
    const MemberVersion& mv = fv.members.at(k.member);
    const Side s = side_of(mv, json(mv.present));
    k.kept = s.value;
    k.kept_author = s.author;
    k.kept_device = s.device;
    k.kept_hlc = s.hlc;
    return;
  }
  if (k.kind != "delete_edit") k.kept = fv.value;
  k.kept_author = fv.author;
  k.kept_device = fv.device;
  k.kept_hlc = fv.hlc;
}

bool same(const Unsettled& a, const Unsettled& b) {
  return a.rev == b.rev && a.lost_rev == b.lost_rev && to_json(a.conflict) == to_json(b.conflict);
}

// Files the conflicts a change met among the field's open ones (see merge.h):
// a conflict the user settled leaves; a losing write is a write like the
// holder's: a change that wrote the slot having seen it closes its conflict
// (whatever became of the change's own value), and a change that replaced the
// kept value without having seen it keeps the conflict against the new value;
// each slot keeps one conflict per value that lost (the latest such write), and
// one delete_edit flag (the latest edit). When nothing already open changed, the revision records only what is
// new; otherwise the field's open conflicts are closed and recorded anew.
void open_conflicts(const RecordState& current, Merge& m) {
  std::set<std::string> keys;
  for (const auto& [key, fv] : current.fields) {
    if (!fv.open.empty()) keys.insert(key);
  }
  for (const auto& u : m.found) keys.insert(u.conflict.field);
  for (const auto& key : keys) {
    FieldVersion& fv = m.out.state.fields[key];
    std::vector<Unsettled> before;
    for (const auto& u : fv.open) {
      const bool settled = std::any_of(m.change.resolves.begin(), m.change.resolves.end(), [&](const ConflictRef& r) {
        return r.field == key && u.rev <= r.rev;
      });
      if (!settled) before.push_back(u);
    }
    std::vector<Unsettled> after;
    for (const auto& u : before) {
      const Slot slot{key, u.conflict.member};
      const bool flag = u.conflict.kind == "delete_edit";
      // A change that wrote the slot having seen the losing write replaced it
      // knowingly, whether or not its own value held: the losing value is
      // overwritten as if it had won (a delete that had seen the edit a flag
      // names: the record would be in the recycle bin without the concurrent one too).
      if ((flag ? m.joined.count(slot) : m.wrote.count(slot)) && saw_lost(u, m)) continue;
      if (!m.changed.count(slot)) {
        after.push_back(u);
      } else if (!flag && !saw_lost(u, m)) {
        // A new value over a losing write the change had not seen: that write
        // still lost (to a later clock: the change saw what beat it), now to this value.
        after.push_back(u);
        after.back().rev = m.out.state.rev;
      }
    }
    for (const auto& u : m.found) {
      if (u.conflict.field == key) after.push_back(u);
    }
    // One per (member, kind, lost value); the latest losing write stands for it.
    // Every delete_edit flag is kept (one per edit), the latest shown.
    std::map<std::tuple<std::string, std::string, std::string>, Unsettled> one;
    for (auto& u : after) {
      if (!u.conflict.member.empty() && !fv.members.count(u.conflict.member)) continue;  // forgotten
      keep_current(fv, u.conflict);
      const Conflict& k = u.conflict;
      if (k.kind != "delete_edit" && k.kept == k.lost) continue;
      const auto id = std::make_tuple(k.member, k.kind,
                                      k.kind == "delete_edit" ? k.lost_device + " " + std::to_string(k.lost_hlc)
                                                              : k.lost.dump());
      auto [it, fresh] = one.try_emplace(id, u);
      const Conflict& o = it->second.conflict;
      if (!fresh && std::tie(k.lost_hlc, k.lost_device) > std::tie(o.lost_hlc, o.lost_device)) it->second = u;
      if (!fresh && std::tie(k.lost_hlc, k.lost_device) == std::tie(o.lost_hlc, o.lost_device) &&
          u.rev < it->second.rev) {
        it->second = u;  // the one already open stays open
      }
    }
    std::vector<Unsettled> open;
    Unsettled* shown_flag = nullptr;
    for (auto& [id, u] : one) open.push_back(std::move(u));
    for (auto& u : open) {
      if (u.conflict.kind != "delete_edit") continue;
      u.hidden = true;
      const Conflict& k = u.conflict;
      if (!shown_flag || std::tie(k.lost_hlc, k.lost_device) >
                             std::tie(shown_flag->conflict.lost_hlc, shown_flag->conflict.lost_device)) {
        shown_flag = &u;
      }
    }
    if (shown_flag) shown_flag->hidden = false;
    // At most kMaxOpenConflictsPerField shown, the latest losing writes: each
    // revision that changes them records them all (attacker review 22, A22-4).
    std::stable_sort(open.begin(), open.end(), [](const Unsettled& a, const Unsettled& b) {
      return std::tie(a.conflict.lost_hlc, a.conflict.lost_device) > std::tie(b.conflict.lost_hlc, b.conflict.lost_device);
    });
    std::size_t shown_count = 0;
    std::erase_if(open, [&](const Unsettled& u) {
      return !u.hidden && ++shown_count > kMaxOpenConflictsPerField;
    });
    if (open.size() > 4 * kMaxOpenConflictsPerField) open.resize(4 * kMaxOpenConflictsPerField);
    // Only what devices list counts: hidden flags change without a revision saying so.
    const auto shown_same = [&](const Unsettled& b) {
      return b.hidden || std::any_of(open.begin(), open.end(), [&](const Unsettled& u) { return !u.hidden && same(u, b); });
    };
    const bool kept_all = std::all_of(before.begin(), before.end(), shown_same);
    std::int64_t newest_before = 0;
    for (const auto& u : before) {
      if (!u.hidden) newest_before = std::max(newest_before, u.rev);
    }
    if (!kept_all) {
      m.out.settled.push_back(ConflictRef{newest_before, key});
      for (auto& u : open) u.rev = m.out.state.rev;
    }
    for (const auto& u : open) {
      if (!u.hidden && u.rev == m.out.state.rev) m.out.conflicts.push_back(u.conflict);
    }
    fv.open = std::move(open);
  }
}

}  // namespace

MergeResult apply_change(const RecordState& current, const Change& change,
                         const CollectionDef& collection) {
  check_change(current, change, collection);
  // A create of an id the server already has was made without seeing any of it.
  std::int64_t base_rev = change.op == Op::create ? 0 : change.base_rev;
  Merge m{change, collection, base_rev, MergeResult{start_state(current, change), {}, {}, {}}, {}, {}, {}, {}};
  for (const auto& [key, fc] : change.fields) merge_field(m, key, fc);
  flag_delete_edit(current, m);
  open_conflicts(current, m);
  return std::move(m.out);
}

}  // namespace kehu::sync
