// The replica's sync gateway: what kehu_sync reads from and writes to the
// replica. Each call is one transaction, so an interrupted sync leaves either the
// state before a page or the state after it.
#include <algorithm>
#include <set>

#include "kehu/place.h"
#include "kehu/error.h"
#include "replica_impl.h"

namespace kehu {
namespace {

LoggedChange logged_from_row(db::Statement& st) {
  // columns: seq, body, state, reason, at, request
  LoggedChange lc;
  lc.seq = st.int64(0);
  lc.change = change_from_json(json::parse(st.text(1)));
  lc.change.device_seq = lc.seq;
  lc.state = st.text(2);
  lc.reason = in_message_lang(st.text(3));
  lc.at = st.text(4);
  lc.request = st.is_null(5) ? 0 : st.int64(5);
  return lc;
}

// Kept in both languages: it is read later, in the reader's (lang.h).
std::string awaiting_reason(std::int64_t request_id) {
  const std::string n = std::to_string(request_id);
  return in_both("awaiting approval (request #" + n + ")", "等待审批（申请 #" + n + "）");
}

bool is_tags_field(const Schema& schema, const std::string& collection, const std::string& key) {
  const CollectionDef* coll = schema.find(collection);
  const FieldDef* f = coll ? coll->find(key) : nullptr;
  return f && f->type == FieldType::tags;
}

}  // namespace

std::vector<LoggedChange> Replica::pending_changes(std::int64_t after_seq, std::size_t limit) const {
  auto& st = impl_->db.cached(
      "SELECT seq, body, state, reason, at, request FROM changes WHERE state = 'pending' AND seq > ? "
      "ORDER BY seq LIMIT ?");
  st.bind(1, after_seq).bind(2, static_cast<std::int64_t>(limit));
  std::vector<LoggedChange> out;
  while (st.step()) out.push_back(logged_from_row(st));
  st.reset();
  return out;
}

std::vector<LoggedChange> Replica::changes_in_state(std::string_view state) const {
  auto& st = impl_->db.cached(
      "SELECT seq, body, state, reason, at, request FROM changes WHERE state = ? ORDER BY seq");
  st.bind(1, state);
  std::vector<LoggedChange> out;
  while (st.step()) out.push_back(logged_from_row(st));
  st.reset();
  return out;
}

void Replica::mark_accepted(const std::string& change_id, std::int64_t rev,
                            const std::string& final_code) {
  impl_->in_tx([&] {
    auto& db = impl_->db;
    db.cached("UPDATE changes SET state = 'acked', rev = ?, reason = NULL WHERE change_id = ?")
        .bind(1, rev)
        .bind(2, change_id)
        .run();
    if (final_code.empty()) return;
    auto found = impl_->record_of_change(change_id);
    if (!found) return;
    const std::string& record_id = *found;
    auto rec = impl_->load(record_id);
    if (!rec || rec->code == final_code) return;
    // The server replaced a provisional or colliding code: the old one keeps
    // finding the customer.
    if (!rec->code.empty()) {
      db.cached("INSERT OR REPLACE INTO code_aliases(alias, record_id) VALUES (?, ?)")
          .bind(1, rec->code)
          .bind(2, record_id)
          .run();
    }
    impl_->take_code(final_code, record_id);
    rec->code = final_code;
    impl_->store(*rec);
  });
}

void Replica::mark_rejected(const std::string& change_id, const std::string& reason) {
  impl_->in_tx([&] {
    auto& db = impl_->db;
    db.cached("UPDATE changes SET state = 'rejected', reason = ? WHERE change_id = ?")
        .bind(1, reason)
        .bind(2, change_id)
        .run();
    // A refused settling leaves its conflicts open again.
    auto& st = db.cached("SELECT record_id, body FROM changes WHERE change_id = ?");
    st.bind(1, change_id);
    if (st.step()) {
      std::string record_id = st.text(0);
      Change c = change_from_json(json::parse(st.text(1)));
      st.reset();
      impl_->settle_conflicts(record_id, c.resolves, false);
    } else {
      st.reset();
    }
    if (auto record_id = impl_->record_of_change(change_id)) {
      impl_->rebuild_view(*record_id);
      // A refused create of a record the server never had leaves the tables: it
      // is not the team's, and a fresh device would not show it. What was typed
      // stays in the refused change (`kehu rejected retry` makes it again).
      auto rec = impl_->load(*record_id);
      if (rec && rec->rev == 0 && !impl_->has_pending(rec->id)) impl_->drop_unsynced(*rec);
    }
  });
}

void Replica::forget_customer(const std::string& customer_id, const std::string& reason) {
  impl_->in_tx([&] {
    impl_->db
        .cached("UPDATE changes SET state = 'rejected', reason = ?1 WHERE state IN ('pending', 'awaiting') "
                "AND (record_id = ?2 OR record_id IN (SELECT id FROM records WHERE parent = ?2))")
        .bind(1, reason)
        .bind(2, customer_id)
        .run();
    impl_->drop_customers({customer_id});
  });
}

void Replica::mark_unchanged(const std::string& change_id) {
  impl_->in_tx([&] {
    auto record_id = impl_->record_of_change(change_id);
    impl_->db.cached("DELETE FROM changes WHERE change_id = ?").bind(1, change_id).run();
    if (record_id) impl_->rebuild_view(*record_id);
  });
}

std::size_t Replica::rebase_changes(const std::vector<std::string>& change_ids) {
  std::size_t n = 0;
  impl_->in_tx([&] {
    for (const auto& id : change_ids) {
      auto& st = impl_->db.cached(
          "SELECT c.body, r.rev FROM changes c JOIN records r ON r.id = c.record_id "
          "WHERE c.change_id = ? AND c.state = 'pending'");
      st.bind(1, id);
      if (!st.step()) {
        st.reset();
        continue;
      }
      Change c = change_from_json(json::parse(st.text(0)));
      const std::int64_t rev = st.int64(1);
      st.reset();
      if (c.base_rev <= rev) continue;
      c.base_rev = rev;
      c.change_id = new_uuid();
      const std::string body = Impl::change_log_body(c);
      impl_->db.cached("UPDATE changes SET change_id = ?, body = ? WHERE change_id = ?")
          .bind(1, c.change_id)
          .bind(2, body)
          .bind(3, id)
          .run();
      ++n;
    }
  });
  return n;
}

void Replica::mark_awaiting(const std::string& change_id, std::int64_t request_id) {
  impl_->in_tx([&] {
    auto& db = impl_->db;
    db.cached("UPDATE changes SET state = 'awaiting', request = ?, reason = ? WHERE change_id = ?")
        .bind(1, request_id)
        .bind(2, awaiting_reason(request_id))
        .bind(3, change_id)
        .run();
    if (auto record_id = impl_->record_of_change(change_id)) impl_->rebuild_view(*record_id);
  });
}

void Replica::hold_for_approval(const std::string& change_id, std::int64_t request_id,
                                const std::vector<std::string>& fields) {
  impl_->in_tx([&] {
    auto& st = impl_->db.cached("SELECT record_id, body FROM changes WHERE change_id = ?");
    st.bind(1, change_id);
    if (!st.step()) {
      st.reset();
      return;
    }
    const std::string record_id = st.text(0);
    Change held = change_from_json(json::parse(st.text(1)));
    st.reset();
    std::map<std::string, FieldChange> kept;
    for (const auto& key : fields) {
      if (auto it = held.fields.find(key); it != held.fields.end()) kept.insert(*it);
    }
    if (kept.empty()) return;
    held.fields = std::move(kept);
    held.resolves.clear();
    held.change_id = new_uuid();
    const std::string body = Impl::change_log_body(held);
    impl_->db.cached("INSERT INTO changes(change_id, record_id, body, state, at, request, reason) "
                     "SELECT ?, ?, ?, 'awaiting', at, ?, ? FROM changes WHERE change_id = ?")
        .bind(1, held.change_id)
        .bind(2, record_id)
        .bind(3, body)
        .bind(4, request_id)
        .bind(5, awaiting_reason(request_id))
        .bind(6, change_id)
        .run();
  });
}

bool Replica::adopt_awaiting(const Change& change, std::int64_t request_id, const std::string& at) {
  return impl_->in_tx([&] {
    auto& known = impl_->db.cached("SELECT 1 FROM changes WHERE request = ? OR change_id = ?");
    known.bind(1, request_id).bind(2, change.change_id);
    const bool here = known.step();
    known.reset();
    if (here || !get(change.record_id)) return false;
    impl_->db.cached("INSERT INTO changes(change_id, record_id, body, state, at, request, reason) "
                     "VALUES (?, ?, ?, 'awaiting', ?, ?, ?)")
        .bind(1, change.change_id)
        .bind(2, change.record_id)
        .bind(3, Impl::change_log_body(change))
        .bind(4, at)
        .bind(5, request_id)
        .bind(6, awaiting_reason(request_id))
        .run();
    return true;
  });
}

void Replica::mark_decided(const std::string& change_id, bool approved, const std::string& reason) {
  if (approved) {
    impl_->in_tx([&] {
      impl_->db.cached("DELETE FROM changes WHERE change_id = ? AND state = 'awaiting'").bind(1, change_id).run();
    });
  } else {
    mark_rejected(change_id, reason);
  }
}

void Replica::Impl::settle_conflicts(const std::string& record_id,
                                     const std::vector<ConflictRef>& refs, bool settled) {
  for (const ConflictRef& ref : refs) {
    // Settling covers the field's older conflicts; reopening only the one named.
    db.cached(settled ? "UPDATE conflicts SET resolved = 1 WHERE record_id = ? AND field = ? AND rev <= ?"
                      : "UPDATE conflicts SET resolved = 0 WHERE record_id = ? AND field = ? AND rev = ?")
        .bind(1, record_id)
        .bind(2, ref.field)
        .bind(3, ref.rev)
        .run();
  }
}

namespace {

LoggedChange rejected_change(db::Database& db, std::int64_t seq) {
  auto& st = db.cached(
      "SELECT seq, body, state, reason, at, request FROM changes WHERE seq = ? AND state = 'rejected'");
  st.bind(1, seq);
  if (!st.step()) {
    st.reset();
    const std::string n = std::to_string(seq);
    throw Error(Errc::not_found, tr("no refused edit #" + n + " (see `kehu rejected`)",
                                    "没有编号为 #" + n + " 的被拒修改（见 `kehu rejected`）"));
  }
  LoggedChange lc = logged_from_row(st);
  st.reset();
  return lc;
}

}  // namespace

Record Replica::reapply_rejected(std::int64_t seq, const FieldInputs& replace,
                                 const std::vector<std::string>& drop) {
  return impl_->in_tx([&] {
    const LoggedChange lc = rejected_change(impl_->db, seq);
    const Change& c = lc.change;
    std::optional<Record> found = impl_->load(c.record_id);
    if (!found && c.op == Op::create) {
      // Dropped when refused (mark_rejected): made again from the change.
      found.emplace();
      found->id = c.record_id;
      found->collection = c.collection;
      found->parent = c.parent;
      if (c.collection == "customers") found->code = c.code.empty() || impl_->resolve(c.code) ? impl_->allocate_code() : c.code;
    }
    Record rec = found ? *found : require(c.record_id);
    const CollectionDef& coll = impl_->schema().collection(rec.collection);
    json values = json::object();
    for (const auto& [key, fc] : c.fields) {
      if (key == kDeletedField || key == coll.parent_field || fc.old_value == fc.new_value) continue;
      values[key] = fc.new_value;
    }
    for (const auto& name : drop) {
      const std::string key = coll.field(name).key;
      if (!values.contains(key)) {
        const std::string n = std::to_string(seq), field = coll.field(name).zh + " (" + key + ")";
        throw Error(Errc::usage, tr("--drop " + name + ": refused edit #" + n + " did not set " + field,
                                    "--drop " + name + "：被拒修改 #" + n + " 没有改 " + field));
      }
      values.erase(key);
    }
    for (const auto& [name, text] : replace) {
      const FieldDef& f = coll.field(name);
      if (f.derived || f.key == coll.parent_field) {
        throw Error(Errc::validation, f.zh + " (" + f.key + ")" +
                                          tr(" cannot be set: it is derived by Kehu", " 不能修改：它由 Kehu 自动计算"));
      }
      values[f.key] = normalize_value(f, text);
    }
    impl_->db.cached("DELETE FROM changes WHERE seq = ?").bind(1, seq).run();
    // A merge's delete goes again as one, naming the survivor (walkthrough 22b,
    // W22-5: re-applied as a plain delete, the old code no longer led there).
    if (c.op == Op::remove && !c.cause.empty() && !rec.deleted) {
      Record after = rec;
      after.deleted = true;
      return impl_->write_change(rec, std::move(after), Op::remove, c.cause);
    }
    if (c.op == Op::remove) return remove(rec.id);
    if (c.op == Op::restore) return restore(rec.id);
    if (c.op == Op::create && rec.rev == 0) {
      // Never on the server: the whole record goes again as a new create.
      Record after = rec;
      for (const auto& [key, v] : values.items()) after.fields[key] = v;
      check_required(coll, after.fields);
      return impl_->write_change(std::nullopt, std::move(after), Op::create);
    }
    if (values.empty()) {
      const std::string n = std::to_string(seq);
      throw Error(Errc::usage, tr("refused edit #" + n + " has nothing left to apply; use `kehu rejected dismiss " + n +
                                      "` to forget it",
                                  "被拒修改 #" + n + " 已没有可提交的内容；用 `kehu rejected dismiss " + n + "` 放弃它"));
    }
    return edit_values(rec.id, values);
  });
}

void Replica::dismiss_rejected(std::int64_t seq) {
  impl_->in_tx([&] {
    const LoggedChange lc = rejected_change(impl_->db, seq);
    impl_->db.cached("DELETE FROM changes WHERE seq = ?").bind(1, seq).run();
    // A never-synced record whose create is forgotten leaves with it.
    if (lc.change.op == Op::create) {
      if (auto rec = impl_->load(lc.change.record_id); rec && rec->rev == 0 && !impl_->has_pending(rec->id)) {
        impl_->drop_unsynced(*rec);
      }
    } else {
      impl_->rebuild_view(lc.change.record_id);
    }
  });
}

std::optional<std::string> Replica::Impl::record_of_change(const std::string& change_id) {
  auto& st = db.cached("SELECT record_id FROM changes WHERE change_id = ?");
  st.bind(1, change_id);
  std::optional<std::string> out;
  if (st.step()) out = st.text(0);
  st.reset();
  return out;
}

void Replica::Impl::drop_unsynced(const Record& rec) {
  if (rec.collection == "customers") {
    drop_customers({rec.id});
    return;
  }
  for (const char* sql : {"DELETE FROM revisions WHERE record_id = ?", "DELETE FROM conflicts WHERE record_id = ?",
                          "DELETE FROM records WHERE id = ?"}) {
    db.cached(sql).bind(1, rec.id).run();
  }
  if (rec.collection == "followups" && !rec.parent.empty()) refresh_derived(rec.parent);
}

void Replica::Impl::drop_customers(const std::vector<std::string>& customer_ids) {
  for (const auto& id : customer_ids) {
    // A child record named alone (moved to a customer out of sight): its old
    // customer stays, and its dates are recomputed without it.
    std::string parent;
    auto& of = db.cached("SELECT parent FROM records WHERE id = ? AND collection <> 'customers'");
    of.bind(1, id);
    if (of.step()) parent = of.text(0);
    of.reset();
    if (std::int64_t docid = parent.empty() ? rowid_of(id) : 0) index.erase(docid);
    // The customer's own rows, then its children's (by parent).
    for (const char* sql : {"DELETE FROM revisions WHERE record_id = ?1 OR record_id IN "
                            "(SELECT id FROM records WHERE parent = ?1)",
                            "DELETE FROM conflicts WHERE record_id = ?1 OR record_id IN "
                            "(SELECT id FROM records WHERE parent = ?1)",
                            "DELETE FROM code_aliases WHERE record_id = ?1",
                            "DELETE FROM records WHERE id = ?1 OR parent = ?1"}) {
      db.cached(sql).bind(1, id).run();
    }
    if (!parent.empty()) refresh_derived(parent);
  }
}

void Replica::Impl::drop_everything_pulled() {
  // Records with local edits not yet pushed stay: they were made here, and the
  // next push either lands them or has them refused and kept in the log. Their
  // pulled history goes, as everyone else's: the restored store's comes back
  // with the pull (walkthrough 16, R16-1: revisions the store no longer had
  // stayed in `history` and `revert --to-rev` built on them). A conflict this
  // device settled stays settled; the pull brings back the open ones.
  db.exec(
      "DELETE FROM records WHERE id NOT IN (SELECT record_id FROM changes WHERE state = 'pending');"
      "DELETE FROM revisions;"
      "DELETE FROM conflicts WHERE resolved = 0 OR record_id NOT IN (SELECT id FROM records);"
      "DELETE FROM code_aliases WHERE record_id NOT IN (SELECT id FROM records);");
  index.erase_orphans();
  // A customer kept for its pending edits may have lost pulled follow-ups.
  std::vector<std::string> kept;
  auto st = db.prepare("SELECT id FROM records WHERE collection = 'customers'");
  while (st.step()) kept.push_back(st.text(0));
  st.reset();
  for (const auto& id : kept) refresh_derived(id);
}

std::map<std::string, json> Replica::Impl::awaiting_fields(const std::string& record_id) {
  std::map<std::string, json> out;
  auto& st = db.cached("SELECT body FROM changes WHERE record_id = ? AND state = 'awaiting' ORDER BY seq");
  st.bind(1, record_id);
  while (st.step()) {
    for (auto& [key, fc] : change_from_json(json::parse(st.text(0))).fields) out[key] = std::move(fc.new_value);
  }
  st.reset();
  return out;
}

std::string Replica::requeue_awaiting(const std::string& change_id) {
  std::string fresh;
  impl_->in_tx([&] {
    auto& st = impl_->db.cached("SELECT record_id, body FROM changes WHERE change_id = ? AND state = 'awaiting'");
    st.bind(1, change_id);
    if (!st.step()) {
      st.reset();
      return;
    }
    const std::string record_id = st.text(0);
    Change c = change_from_json(json::parse(st.text(1)));
    st.reset();
    c.change_id = fresh = new_uuid();
    const std::string body = Impl::change_log_body(c);
    impl_->db
        .cached("UPDATE changes SET change_id = ?, body = ?, state = 'pending', request = NULL, reason = NULL "
                "WHERE change_id = ?")
        .bind(1, fresh)
        .bind(2, body)
        .bind(3, change_id)
        .run();
    impl_->rebuild_view(record_id);
  });
  return fresh;
}

std::vector<std::int64_t> Replica::narrow_awaiting(const std::string& record_id,
                                                   const std::vector<std::string>& fields) {
  std::vector<std::int64_t> emptied;
  impl_->in_tx([&] {
    struct Touched {
      std::string id;
      Change change;
      std::int64_t request = 0;
      bool deletes = false;  // a waiting delete (or restore)
    };
    std::vector<Touched> touched;
    auto& st =
        impl_->db.cached("SELECT change_id, body, request FROM changes WHERE record_id = ? AND state = 'awaiting'");
    st.bind(1, record_id);
    while (st.step()) {
      Change c = change_from_json(json::parse(st.text(1)));
      const bool deletes = c.fields.count(kDeletedField) > 0;
      bool hit = false;
      for (const auto& key : superseded_fields(fields)) hit = c.fields.erase(key) > 0 || hit;
      if (hit) touched.push_back({st.text(0), std::move(c), st.is_null(2) ? 0 : st.int64(2), deletes});
    }
    st.reset();
    for (auto& entry : touched) {
      const std::string& id = entry.id;
      Change& c = entry.change;
      if (c.fields.empty()) {
        impl_->db.cached("DELETE FROM changes WHERE change_id = ?").bind(1, id).run();
        // A waiting delete undone by a restore is not "changed again" (R14-2).
        if (!entry.deletes) emptied.push_back(entry.request);
        continue;
      }
      c.resolves.erase(std::remove_if(c.resolves.begin(), c.resolves.end(),
                                      [&](const ConflictRef& ref) { return !c.fields.count(ref.field); }),
                       c.resolves.end());
      const std::string body = Impl::change_log_body(c);
      impl_->db.cached("UPDATE changes SET body = ? WHERE change_id = ?").bind(1, body).bind(2, id).run();
    }
  });
  return emptied;
}

void Replica::Impl::rebuild_view(const std::string& record_id) {
  auto& st = db.cached("SELECT server_fields, server_deleted, rev FROM records WHERE id = ?");
  st.bind(1, record_id);
  if (!st.step() || st.is_null(0)) {
    st.reset();
    return;  // never on the server: the local view is all there is
  }
  json fields = json::parse(st.text(0));
  bool deleted = st.int64(1) != 0;
  st.reset();
  auto rec = load(record_id);
  if (!rec) return;
  const std::string view_parent = rec->parent;
  // The server's parent (kept with its fields by apply_pulled): a refused move
  // to another customer goes back to it.
  const std::string& parent_field = Schema::builtin().collection(rec->collection).parent_field;
  if (!parent_field.empty()) {
    if (auto it = fields.find(parent_field); it != fields.end()) {
      if (it->is_string()) rec->parent = it->get<std::string>();
      fields.erase(it);
    }
  }
  // A delete waiting for a manager keeps the record in its user's recycle
  // bin (README, "Roles"); the values a request asks for show once approved
  // (walkthrough 13, R13-8: the customer came back at the first sync).
  auto& pc = db.cached(
      "SELECT body, state FROM changes WHERE record_id = ? AND state IN ('pending', 'awaiting') ORDER BY seq");
  pc.bind(1, record_id);
  while (pc.step()) {
    Change c = change_from_json(json::parse(pc.text(0)));
    if (pc.text(1) == "awaiting") {
      if (auto it = c.fields.find(kDeletedField); it != c.fields.end()) deleted = it->second.new_value == true;
      continue;
    }
    fields = overlay_change(fields, c, [&](const std::string& k) {
      return is_tags_field(schema(), rec->collection, k);
    });
    if (auto it = c.fields.find(kDeletedField); it != c.fields.end()) {
      deleted = it->second.new_value == true;
    }
    // A pending move to another customer (merge): the parent, not a field.
    if (auto it = c.fields.find(parent_field); !parent_field.empty() && it != c.fields.end()) {
      if (it->second.new_value.is_string()) rec->parent = it->second.new_value.get<std::string>();
      fields.erase(parent_field);
    }
  }
  pc.reset();
  rec->fields = std::move(fields);
  rec->deleted = deleted;
  store(*rec);
  // A follow-up that comes back (a refused delete) or goes counts again, for
  // the customer it left too.
  if (rec->collection == "followups") {
    if (!rec->parent.empty()) refresh_derived(rec->parent);
    if (!view_parent.empty() && view_parent != rec->parent) refresh_derived(view_parent);
  }
}

std::size_t Replica::apply_pulled(const std::vector<PulledRecord>& records,
                                  const std::vector<Revision>& revisions, const std::string& cursor,
                                  const std::vector<std::string>& removed, bool reset) {
  std::size_t merged = 0;
  impl_->in_tx([&] {
    auto& db = impl_->db;
    if (reset) impl_->drop_everything_pulled();
    impl_->drop_customers(removed);
    // In seq order: a customer back in scope brings its older revisions along,
    // whose conflicts the later ones may settle.
    std::vector<const Revision*> in_order;
    in_order.reserve(revisions.size());
    for (const Revision& rev : revisions) in_order.push_back(&rev);
    std::stable_sort(in_order.begin(), in_order.end(),
                     [](const Revision* a, const Revision* b) { return a->seq < b->seq; });
    for (const Revision* in : in_order) {
      const Revision& rev = *in;
      json body = to_json(rev);
      db.cached("INSERT OR REPLACE INTO revisions(record_id, rev, seq, change_id, body) "
                "VALUES (?, ?, ?, ?, ?)")
          .bind(1, rev.record_id)
          .bind(2, rev.rev)
          .bind(3, rev.seq)
          .bind(4, rev.change_id)
          .bind(5, body.dump())
          .run();
      // The server has this change now (even if its push answer was lost): it
      // leaves the change log and lives on as a server revision. A change the
      // server forwarded (an edit of a customer merged into another, issue 22)
      // lives on another record: the one it was made on shows the server's values again.
      std::string made_on;
      {
        auto& st = db.cached("SELECT record_id FROM changes WHERE change_id = ? AND state IN ('pending', 'acked')");
        st.bind(1, rev.change_id);
        if (st.step()) made_on = st.text(0);
        st.reset();
      }
      db.cached("DELETE FROM changes WHERE change_id = ? AND state IN ('pending', 'acked')")
          .bind(1, rev.change_id)
          .run();
      if (!made_on.empty() && made_on != rev.record_id) impl_->rebuild_view(made_on);
      std::map<std::string, std::int64_t> nth;  // field -> conflicts on it so far in this revision
      for (const Conflict& c : rev.conflicts) {
        // Sent again (unmasked, after a claim): the values change, whether it
        // was settled does not.
        const std::string text = to_json(c).dump();
        const std::int64_t n = nth[c.field]++;
        db.cached("INSERT OR IGNORE INTO conflicts(record_id, rev, field, n, body) VALUES (?, ?, ?, ?, ?)")
            .bind(1, rev.record_id)
            .bind(2, rev.rev)
            .bind(3, c.field)
            .bind(4, n)
            .bind(5, text)
            .run();
        db.cached("UPDATE conflicts SET body = ? WHERE record_id = ? AND rev = ? AND field = ? AND n = ?")
            .bind(1, text)
            .bind(2, rev.record_id)
            .bind(3, rev.rev)
            .bind(4, c.field)
            .bind(5, n)
            .run();
      }
      impl_->settle_conflicts(rev.record_id, rev.resolves, true);
    }
    std::set<std::string> customers_to_refresh, new_customers;
    for (const PulledRecord& p : records) {
      impl_->take_code(p.code, p.id);
      std::string fields = p.fields.dump();
      // The server's state is stored as sent, a child's parent with it (under
      // the parent field, which is not a field of the view); the view is the
      // same fields unless local edits are still pending on top of it (rebuilt below).
      std::string server_fields = fields;
      if (!p.parent.empty()) {
        if (const CollectionDef* coll = Schema::builtin().find(p.collection); coll && !coll->parent_field.empty()) {
          json sf = p.fields;
          sf[coll->parent_field] = p.parent;
          server_fields = sf.dump();
        }
      }
      const std::int64_t rowid = impl_->rowid_of(p.id);
      if (rowid == 0) {
        auto& ins = db.cached(
            "INSERT INTO records(id, collection, code, parent, rev, deleted, fields, server_fields, "
            "server_deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        ins.bind(1, p.id).bind(2, p.collection).bind_text_or_null(3, p.code);
        ins.bind_text_or_null(4, p.parent).bind(5, p.rev).bind(6, p.deleted ? 1 : 0);
        ins.bind(7, fields).bind(8, server_fields).bind(9, p.deleted ? 1 : 0).run();
        if (p.collection == "customers") {
          impl_->index.put(db.last_insert_rowid(), p.code, p.deleted, p.fields, /*fresh=*/true);
          // Its follow-ups may have come first (an earlier page, or before a
          // scope change brought the customer back).
          new_customers.insert(p.id);
        }
      } else {
        // A follow-up moved to another customer (a merge) leaves its old one's
        // last follow-up date to be recomputed too.
        if (p.collection == "followups") {
          auto& old = db.cached("SELECT parent FROM records WHERE rowid = ?");
          old.bind(1, rowid);
          if (old.step() && !old.is_null(0) && old.text(0) != p.parent) customers_to_refresh.insert(old.text(0));
          old.reset();
        }
        auto& up = db.cached(
            "UPDATE records SET code = ?, parent = ?, rev = ?, deleted = ?, fields = ?, "
            "server_fields = ?, server_deleted = ? WHERE rowid = ?");
        up.bind_text_or_null(1, p.code).bind_text_or_null(2, p.parent).bind(3, p.rev);
        up.bind(4, p.deleted ? 1 : 0).bind(5, fields).bind(6, server_fields).bind(7, p.deleted ? 1 : 0);
        up.bind(8, rowid).run();
        if (impl_->has_pending(p.id)) {
          impl_->rebuild_view(p.id);
          ++merged;
        } else if (impl_->awaits_delete(p.id)) {
          impl_->rebuild_view(p.id);
        } else if (p.collection == "customers") {
          impl_->index.put(rowid, p.code, p.deleted, p.fields);
        }
      }
      for (const auto& alias : p.old_codes) {
        db.cached("INSERT OR REPLACE INTO code_aliases(alias, record_id) VALUES (?, ?)")
            .bind(1, alias)
            .bind(2, p.id)
            .run();
      }
      if (p.collection == "followups" && !p.parent.empty()) customers_to_refresh.insert(p.parent);
    }
    for (const auto& id : customers_to_refresh) impl_->refresh_derived(id);
    for (const auto& id : new_customers) {
      if (!customers_to_refresh.count(id)) impl_->refresh_derived(id, /*unset=*/true);
    }
    impl_->set_meta("cursor", cursor);
  });
  return merged;
}

void Replica::add_code_lease(const std::string& month, std::int64_t first, std::int64_t last) {
  impl_->in_tx([&] {
    impl_->db.cached("INSERT INTO code_leases(month, next, last) VALUES (?, ?, ?)")
        .bind(1, month)
        .bind(2, first)
        .bind(3, last)
        .run();
  });
}

std::int64_t Replica::leased_codes_left(const std::string& month) const {
  auto& st = impl_->db.cached(
      "SELECT coalesce(sum(last - next + 1), 0) FROM code_leases WHERE month = ? AND next <= last");
  st.bind(1, month);
  st.step();
  std::int64_t n = st.int64(0);
  st.reset();
  return n;
}

void Replica::observe_clock(std::int64_t hlc) {
  impl_->clock.observe(hlc);
  set_meta("hlc", std::to_string(impl_->clock.last()));
}

std::vector<OpenConflict> Replica::open_conflicts() const {
  auto& st = impl_->db.cached(
      "SELECT c.id, c.record_id, c.rev, c.body, r.code, p.code FROM conflicts c "
      "LEFT JOIN records r ON r.id = c.record_id LEFT JOIN records p ON p.id = r.parent "
      "WHERE c.resolved = 0 ORDER BY c.id");
  std::vector<OpenConflict> out;
  while (st.step()) {
    OpenConflict oc;
    oc.id = st.int64(0);
    oc.record_id = st.text(1);
    oc.rev = st.int64(2);
    oc.conflict = conflict_from_json(json::parse(st.text(3)));
    oc.code = st.is_null(4) ? st.text(5) : st.text(4);
    out.push_back(std::move(oc));
  }
  st.reset();
  return out;
}

void Replica::resolve_conflict(std::string_view code, std::string_view field,
                               std::string_view keep) {
  if (keep != "mine" && keep != "theirs") {
    throw Error(Errc::usage, tr("--keep must be \"mine\" or \"theirs\", not \"" + std::string(keep) + "\"",
                                "--keep 应为 mine（我的）或 theirs（对方的），不能是“" + std::string(keep) + "”"));
  }
  // Said first, not after advice that leads to it (walkthrough 17, R17-23).
  impl_->refuse_auditor();
  impl_->in_tx([&] {
    Record rec = require(code);
    const CollectionDef& coll = impl_->schema().collection(rec.collection);
    const std::string key = field == kDeletedField ? std::string(kDeletedField) : coll.field(field).key;
    // The newest open conflict on the field decides what "mine" is; settling the
    // field settles its older open conflicts too.
    std::vector<OpenConflict> on_field;
    for (auto& oc : open_conflicts()) {
      if (oc.record_id == rec.id && oc.conflict.field == key) on_field.push_back(std::move(oc));
    }
    if (on_field.empty()) {
      throw Error(Errc::not_found, tr("no open conflict on " + std::string(code) + " " + key,
                                      std::string(code) + " " + key + " 上没有未解决的冲突"));
    }
    // With several (three devices wrote the field): the newest with a side made
    // here, so that each device that lost can keep its own value (W22-1).
    const auto mine = std::find_if(on_field.rbegin(), on_field.rend(), [&](const OpenConflict& oc) {
      return oc.conflict.kept_device == device_id() || oc.conflict.lost_device == device_id();
    });
    const Conflict& c = mine != on_field.rend() ? mine->conflict : on_field.back().conflict;
    const bool kept_is_mine = c.kept_device == device_id();
    if (!kept_is_mine && c.lost_device != device_id() && keep == "mine") {
      throw Error(Errc::usage, tr("neither side of this conflict was made on this device; "
                                  "use --keep theirs to accept the kept value",
                                  "这个冲突的双方都不是在本设备上改的；用 --keep theirs 接受保留的值"));
    }
    const bool want_kept = (keep == "mine") == kept_is_mine;
    std::vector<ConflictRef> settles;
    for (const auto& oc : on_field) settles.push_back({oc.rev, key});
    // One change carries the chosen value (when it is the side that lost) and
    // the settling, so every device closes the conflict when it pulls it.
    Record after = rec;
    Op op = Op::update;
    if (c.kind == "tag") {
      // Each tag added on one side and removed on the other takes the chosen
      // side's presence (its newest open conflict decides whose side is whose).
      std::map<std::string, const Conflict*> by_member;
      for (const auto& oc : on_field) by_member[oc.conflict.member] = &oc.conflict;
      std::set<std::string> tags = tag_set(rec.fields.value(key, json()));
      for (const auto& [member, k] : by_member) {
        const bool keeps = (keep == "mine") == (k->kept_device == device_id());
        if ((keeps ? k->kept : k->lost) == true) tags.insert(member); else tags.erase(member);
      }
      if (tags.empty()) after.fields.erase(key); else after.fields[key] = json(std::vector<std::string>(tags.begin(), tags.end()));
    } else if (!want_kept && key == kDeletedField) {
      if (rec.deleted) {
        after.deleted = false;
        op = Op::restore;
      }
    } else if (!want_kept) {
      if (!c.lost.is_null()) check_stored_value(coll.field(key), c.lost);
      if (c.lost.is_null()) after.fields.erase(key); else after.fields[key] = c.lost;
    }
    const bool follow_up = rec.collection == "followups";
    Record written = impl_->write_change(rec, std::move(after), op, {}, std::move(settles));
    // A follow-up brought back or kept out by the choice plans the customer's
    // next date as `followup restore` and `delete` do (walkthrough 13, R13-15).
    if (follow_up && rec.deleted && !written.deleted) impl_->carry_next_followup(written);
    if (follow_up && !rec.deleted && written.deleted) impl_->withdraw_next_followup(rec);
    for (const auto& oc : on_field) {
      impl_->db.cached("UPDATE conflicts SET resolved = 1 WHERE id = ?").bind(1, oc.id).run();
    }
  });
}

}  // namespace kehu

namespace kehu {

void Replica::Impl::take_code(const std::string& code, const std::string& record_id) {
  if (code.empty()) return;
  auto& st = db.cached("SELECT id FROM records WHERE code = ?");
  st.bind(1, code);
  if (!st.step()) return;
  std::string other = st.text(0);
  st.reset();
  if (other == record_id) return;
  // A local record made offline holds a code the server gave to another record:
  // it takes a provisional code, and the server re-codes it at its own push.
  // The new code is allocated while `other` still holds `code`, so it differs.
  const std::string fresh = allocate_code();
  db.cached("UPDATE records SET code = ? WHERE id = ?").bind(1, fresh).bind(2, other).run();
  if (auto moved = load(other); moved && moved->collection == "customers") {
    index.put(rowid_of(moved->id), moved->code, moved->deleted, moved->fields);
  }
}

}  // namespace kehu
