// Reading the replica: records, lists with filters, history.
#include <algorithm>
#include <cstdio>

#include "customer_filter.h"
#include "kehu/cause_text.h"
#include "kehu/customer_code.h"
#include "kehu/collate.h"
#include "kehu/error.h"
#include "kehu/text.h"
#include "replica_impl.h"

namespace kehu {

Record record_from_row(db::Statement& st) {
  Record r;
  r.id = st.text(0);
  r.collection = st.text(1);
  r.code = st.text(2);
  r.parent = st.text(3);
  r.rev = st.int64(4);
  r.deleted = st.int64(5) != 0;
  r.fields = json::parse(st.text(6));
  r.pending = st.int64(7) != 0;
  if (!st.is_null(8)) r.fields[kLastFollowupField] = st.text(8);
  return r;
}

// The stored form of a record's fields: without what the replica derives.
static std::string stored_fields(const json& fields) {
  if (!fields.contains(kLastFollowupField)) return fields.dump();
  json copy = fields;
  copy.erase(kLastFollowupField);
  return copy.dump();
}

bool Replica::Impl::has_pending(const std::string& record_id) {
  auto& st = db.cached("SELECT 1 FROM changes WHERE record_id = ? AND state = 'pending' LIMIT 1");
  st.bind(1, record_id);
  bool found = st.step();
  st.reset();
  return found;
}

bool Replica::Impl::awaits_delete(const std::string& record_id) {
  auto& st = db.cached("SELECT body FROM changes WHERE record_id = ? AND state = 'awaiting'");
  st.bind(1, record_id);
  bool found = false;
  while (!found && st.step()) {
    const json body = json::parse(st.text(0));
    const auto f = body.find("fields");
    found = f != body.end() && f->is_object() && f->contains(kDeletedField);
  }
  st.reset();
  return found;
}

std::optional<Record> Replica::Impl::load(std::string_view id) {
  auto& st = db.cached(std::string("SELECT ") + kRecordColumns + " FROM records WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  Record r = record_from_row(st);
  st.reset();
  return r;
}

std::optional<Record> Replica::Impl::load_by_code(std::string_view code) {
  auto& st = db.cached(std::string("SELECT ") + kRecordColumns + " FROM records WHERE code = ?");
  st.bind(1, code);
  if (!st.step()) return std::nullopt;
  Record r = record_from_row(st);
  st.reset();
  return r;
}

std::optional<Record> Replica::Impl::merged_into(const Record& r) {
  std::optional<Record> at = r;
  for (int hop = 0; hop < 8 && at && at->collection == "customers" && at->deleted; ++hop) {
    // The delete's cause: a pending one (merged here, not synced yet) first.
    std::string body;
    auto& pending = db.cached("SELECT body FROM changes WHERE record_id = ? AND state IN ('pending', 'acked') "
                              "ORDER BY seq DESC LIMIT 1");
    pending.bind(1, at->id);
    if (pending.step()) body = pending.text(0);
    pending.reset();
    if (body.empty()) {
      auto& pulled = db.cached("SELECT body FROM revisions WHERE record_id = ? ORDER BY rev DESC LIMIT 1");
      pulled.bind(1, at->id);
      if (pulled.step()) body = pulled.text(0);
      pulled.reset();
    }
    const json j = json::parse(body.empty() ? std::string("{}") : body, nullptr, /*allow_exceptions=*/false);
    const std::string cause = j.is_object() ? j.value("cause", std::string()) : std::string();
    const std::string target = merge_target_of(cause);
    if (target.empty()) break;
    at = resolve(target, /*forward=*/false);
  }
  if (!at || at->id == r.id || at->deleted || at->collection != "customers") return std::nullopt;
  return at;
}

std::optional<Record> Replica::Impl::resolve(std::string_view id_or_code, bool forward) {
  if (forward) {
    std::optional<Record> r = resolve(id_or_code, false);
    if (r && r->deleted && r->collection == "customers") {
      if (auto survivor = merged_into(*r)) return survivor;
    }
    return r;
  }
  auto exact = [&](std::string_view key) -> std::optional<Record> {
    if (auto r = load_by_code(key)) return r;
    auto& st = db.cached("SELECT record_id FROM code_aliases WHERE alias = ?");
    st.bind(1, key);
    if (st.step()) {
      std::string id = st.text(0);
      st.reset();
      return load(id);
    }
    return load(key);
  };
  if (auto r = exact(id_or_code)) return r;
  // Every command that takes a code comes through here: a code typed in lower
  // case or in full-width forms ("c202611001", "Ｃ２０２６１１００１") is the
  // code. Tried second, so an exact id, code or alias always wins.
  const std::string typed = canonical_code(fold_fullwidth(trim_view(id_or_code)));
  if (typed != id_or_code) {
    if (auto r = exact(typed)) return r;
  }
  // A sheet's own code the server replaced (JS001) stays findable as an alias,
  // in any case too ("js001"), unless two aliases differ only in case.
  auto& st = db.cached("SELECT DISTINCT record_id FROM code_aliases WHERE alias = ? COLLATE NOCASE LIMIT 2");
  st.bind(1, typed);
  std::vector<std::string> ids;
  while (st.step()) ids.push_back(st.text(0));
  st.reset();
  if (ids.size() == 1) return load(ids.front());
  return std::nullopt;
}

std::int64_t Replica::Impl::rowid_of(std::string_view id) {
  auto& st = db.cached("SELECT rowid FROM records WHERE id = ?");
  st.bind(1, id);
  const std::int64_t rowid = st.step() ? st.int64(0) : 0;
  st.reset();
  return rowid;
}

std::optional<Record> Replica::Impl::load_customer_docid(
    std::int64_t docid, const std::unordered_set<std::string>* pending) {
  auto& st = pending
                 ? db.cached(
                       "SELECT id, collection, code, parent, rev, deleted, fields, 0, "
                       "last_followup_at FROM records WHERE rowid = ? AND collection = 'customers'")
                 : db.cached(std::string("SELECT ") + kRecordColumns +
                             " FROM records WHERE rowid = ? AND collection = 'customers'");
  st.bind(1, docid);
  std::optional<Record> r;
  if (st.step()) {
    r = record_from_row(st);
    if (pending) r->pending = pending->count(r->id) > 0;
  }
  st.reset();
  return r;
}

std::unordered_set<std::string> Replica::Impl::pending_ids() {
  // One pass over the (record_id, state) index instead of a random probe of it
  // per listed record (bench B9: most of a long list's page reads).
  auto& st = db.cached(
      "SELECT DISTINCT record_id FROM changes INDEXED BY changes_record WHERE state = 'pending'");
  std::unordered_set<std::string> ids;
  while (st.step()) ids.insert(st.text(0));
  st.reset();
  return ids;
}

void Replica::Impl::store(const Record& r) {
  // Looked up first: an UPDATE that matches nothing costs several times this
  // SELECT in SQLCipher (B1, B4 measured), and every create would pay it.
  const std::int64_t existing = rowid_of(r.id);
  auto& st = existing == 0
                 ? db.cached(
                       "INSERT INTO records(code, parent, rev, deleted, fields, id, collection) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)")
                 : db.cached(
                       "UPDATE records SET code = ?, parent = ?, rev = ?, deleted = ?, fields = ? "
                       "WHERE rowid = ?");
  st.bind_text_or_null(1, r.code)
      .bind_text_or_null(2, r.parent)
      .bind(3, r.rev)
      .bind(4, r.deleted ? 1 : 0)
      .bind(5, stored_fields(r.fields));
  if (existing == 0) {
    st.bind(6, r.id).bind(7, r.collection);
  } else {
    st.bind(6, existing);
  }
  st.run();
  if (r.collection == "customers") {
    const bool fresh = existing == 0;
    index.put(fresh ? db.last_insert_rowid() : existing, r.code, r.deleted, r.fields, fresh);
  }
}

std::optional<Record> Replica::get(std::string_view id) const { return impl_->load(id); }

std::optional<Record> Replica::find_customer(std::string_view code_or_id) const {
  auto r = impl_->resolve(code_or_id);
  if (r && r->collection != "customers") return std::nullopt;
  return r;
}

std::optional<Record> Replica::find_customer_forwarded(std::string_view code_or_id) const {
  auto r = impl_->resolve(code_or_id, /*forward=*/true);
  if (r && r->collection != "customers") return std::nullopt;
  return r;
}

std::string Replica::customer_code_of(std::string_view record_id) const {
  auto rec = impl_->load(record_id);
  if (rec && rec->collection != "customers") rec = impl_->load(rec->parent);
  return rec ? rec->code : std::string();
}

std::string Replica::customer_code_of(const Change& change) const {
  std::string code = customer_code_of(change.record_id);
  if (code.empty() && !change.parent.empty()) code = customer_code_of(change.parent);
  return code.empty() ? change.code : code;
}

Record Replica::require(std::string_view id_or_code) const {
  if (auto r = impl_->resolve(id_or_code)) return *r;
  const std::string typed(id_or_code);
  throw Error(Errc::not_found, tr("no customer or record \"" + typed + "\"", "没有客户或记录“" + typed + "”"));
}

namespace {

constexpr const char* kCustomers = "customers";

// Candidates from the customer index beyond which list() reads the pending flags
// in one pass (Impl::pending_ids) rather than per record.
constexpr std::size_t kPendingPassAbove = 2000;

// Candidates beyond which a page of a list in code order (--limit) walks the
// code index rather than reading every candidate: reading ~1,000 records costs
// about what a walk over 100,000 index entries does.
constexpr std::size_t kWalkCodesAbove = 1000;

// Other collections' --search: a substring of their text fields (child lists are
// a handful of rows under one customer, so no index).
bool child_search_matches(const Record& r, const std::string& search) {
  if (search.empty()) return true;
  for (const char* key : {"name", "contact", "need", "notes", "phone", "content", "product"}) {
    auto it = r.fields.find(key);
    if (it != r.fields.end() && it->is_string() &&
        it->get_ref<const std::string&>().find(search) != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool has_customer_filters(const ListQuery& q) {
  return !q.tags.empty() || q.region || q.owner || q.stage || q.stale_days;
}

std::string sort_value(const Record& r, const std::string& key, bool pinyin) {
  if (key == "code") return code_sort_key(r.code);
  auto it = r.fields.find(key);
  if (it == r.fields.end()) return std::string();
  if (it->is_string()) return pinyin ? pinyin_sort_key(it->get_ref<const std::string&>()) : it->get<std::string>();
  if (it->is_number_integer()) {
    // Zero-padded so integers sort numerically as text (negative values first).
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+020lld", static_cast<long long>(it->get<std::int64_t>()));
    return buf;
  }
  return it->dump();
}

}  // namespace

std::vector<Record> Replica::list(const ListQuery& given) const {
  const CollectionDef& coll = impl_->schema().collection(given.collection);
  // An old code searched for (a provisional P… code, a sheet's own code the
  // server replaced, a customer merged into another) finds the customer that
  // holds it now, as `customer show` does (issue 22).
  ListQuery forwarded;
  const bool old_code = coll.name == kCustomers && given.parent.empty() && !given.search.empty() && !given.deleted;
  if (auto r = old_code ? impl_->resolve(trim_view(given.search), /*forward=*/true) : std::nullopt;
      r && r->collection == kCustomers && !r->deleted && !r->code.empty() && r->code != given.search) {
    forwarded = given;
    forwarded.search = r->code;
  }
  const ListQuery& q = forwarded.search.empty() ? given : forwarded;
  std::string key = q.sort;
  const bool desc = !key.empty() && key[0] == '-';
  if (desc) key.erase(0, 1);
  if (key.empty()) {
    // Customers by code; dated records (follow-ups, orders, ...) by date;
    // others (contacts) by name, else as stored.
    key = coll.name == kCustomers ? "code" : coll.find("date") ? "date" : coll.find("name") ? "name" : "";
  } else if (key != "code") {
    const FieldDef& f = coll.field(key);
    check_readable(f);
    key = f.key;
  }
  for (const auto& [name, value] : q.where) check_readable(coll.field(name));
  std::vector<Record> out;
  auto& db = impl_->db;
  if (coll.name == kCustomers && q.parent.empty()) {
    const CustomerFilter filter(q, coll);
    auto docids = filter.candidates(impl_->index);
    if (docids && docids->empty()) return out;
    if (q.limit && key == "code" && (!docids || docids->size() > kWalkCodesAbove)) {
      // The first page in code order: walk the code-order index (v6; rowid
      // only, no record read) and read and check only the customers it passes until the
      // page is full, instead of reading and parsing every match (bench B9).
      auto st =
          db.prepare(desc ? "SELECT rowid FROM records WHERE code IS NOT NULL "
                              "ORDER BY substr(code, 1, 7) DESC, length(code) DESC, code DESC"
                            : "SELECT rowid FROM records WHERE code IS NOT NULL "
                              "ORDER BY substr(code, 1, 7), length(code), code");
      std::size_t skipped = 0;
      while (out.size() < q.limit && st.step()) {
        const std::int64_t docid = st.int64(0);
        if (docids && !std::binary_search(docids->begin(), docids->end(), docid)) continue;
        auto r = impl_->load_customer_docid(docid, nullptr);
        if (!r || r->deleted != q.deleted || !filter.matches(*r)) continue;
        if (skipped < q.offset) {
          ++skipped;
        } else {
          out.push_back(std::move(*r));
        }
      }
      return out;
    }
    if (docids) {
      // The index narrowed the list: read only those customers.
      // Past a few thousand records, one pass over the change log's index is
      // cheaper than a lookup in it per record.
      std::optional<std::unordered_set<std::string>> pending;
      if (docids->size() > kPendingPassAbove) pending = impl_->pending_ids();
      for (std::int64_t docid : *docids) {
        auto r = impl_->load_customer_docid(docid, pending ? &*pending : nullptr);
        if (r && r->deleted == q.deleted && filter.matches(*r)) out.push_back(std::move(*r));
      }
    } else {
      auto& st = db.cached(std::string("SELECT ") + kRecordColumns +
                           " FROM records WHERE collection = 'customers' AND deleted = ?");
      st.bind(1, q.deleted ? 1 : 0);
      while (st.step()) {
        Record r = record_from_row(st);
        if (filter.matches(r)) out.push_back(std::move(r));
      }
      st.reset();
    }
  } else {
    if (has_customer_filters(q)) {
      throw Error(Errc::usage, tr("--tag, --region, --owner, --stage and --stale filter customers, not " + coll.name,
                                  "--tag、--region、--owner、--stage 和 --stale 只用于筛选客户，不能用于 " + coll.name));
    }
    const std::vector<FieldFilter> filters = parse_where(coll, q.where);
    std::string sql = std::string("SELECT ") + kRecordColumns +
                      " FROM records WHERE collection = ? AND deleted = ?";
    if (!q.parent.empty()) sql += " AND parent = ?";
    // Cheap pre-filter on the stored JSON text; the C++ checks decide exactly.
    if (!q.search.empty()) sql += " AND instr(fields, ?) > 0";
    auto st = db.prepare(sql);
    int i = 1;
    st.bind(i++, coll.name);
    st.bind(i++, q.deleted ? 1 : 0);
    if (!q.parent.empty()) st.bind(i++, q.parent);
    if (!q.search.empty()) st.bind(i++, q.search);
    while (st.step()) {
      Record r = record_from_row(st);
      if (where_matches(r, filters) && child_search_matches(r, q.search)) {
        out.push_back(std::move(r));
      }
    }
  }
  // Each record's sort key is computed once, not once per comparison.
  std::vector<std::pair<std::string, std::size_t>> order;
  order.reserve(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) order.emplace_back(sort_value(out[i], key, q.pinyin), i);
  std::stable_sort(order.begin(), order.end(), [desc](const auto& a, const auto& b) {
    return desc ? a.first > b.first : a.first < b.first;
  });
  const std::size_t first = std::min(q.offset, order.size());
  const std::size_t n = q.limit ? std::min<std::size_t>(q.limit, order.size() - first) : order.size() - first;
  std::vector<Record> sorted;
  sorted.reserve(n);
  for (std::size_t i = first; i < first + n; ++i) sorted.push_back(std::move(out[order[i].second]));
  return sorted;
}

std::vector<Replica::HistoryEntry> Replica::history(std::string_view id_or_code,
                                                    std::string_view field) const {
  Record r = require(id_or_code);
  std::string key;
  if (!field.empty()) {
    if (field == kDeletedField) {
      key = kDeletedField;
    } else {
      // A field the role never receives has no history here: said, not shown
      // as "(no history)" (walkthrough 15, R15-7).
      const FieldDef& f = impl_->schema().collection(r.collection).field(field);
      check_readable(f);
      key = f.key;
    }
  }
  std::vector<HistoryEntry> out;
  // With a field: the entries that changed it or had a conflict on it, showing
  // that field alone (a create sets every field at once).
  auto keep = [&](std::map<std::string, FieldChange>& changes, std::vector<Conflict>* conflicts,
                  std::vector<ConflictRef>& resolves) {
    if (key.empty()) return true;
    if (conflicts) {
      std::erase_if(*conflicts, [&](const Conflict& c) { return c.field != key; });
    }
    std::erase_if(resolves, [&](const ConflictRef& c) { return c.field != key; });
    auto it = changes.find(key);
    if (it == changes.end()) {
      changes.clear();
      return (conflicts && !conflicts->empty()) || !resolves.empty();
    }
    std::map<std::string, FieldChange> only;
    only.insert(changes.extract(it));
    changes = std::move(only);
    return true;
  };
  // Local changes the server has not confirmed in a pulled revision, newest first.
  auto& lc = impl_->db.cached(
      "SELECT seq, body, state, reason, at, rev FROM changes WHERE record_id = ? ORDER BY seq DESC");
  lc.bind(1, r.id);
  while (lc.step()) {
    Change c = change_from_json(json::parse(lc.text(1)));
    if (!keep(c.fields, nullptr, c.resolves)) continue;
    HistoryEntry e;
    e.revision.record_id = c.record_id;
    e.revision.collection = c.collection;
    e.revision.rev = lc.int64(5);
    e.revision.change_id = c.change_id;
    e.revision.op = c.op;
    e.revision.author = c.author;
    e.revision.device = c.device;
    e.revision.at = lc.text(4);
    e.revision.hlc = c.hlc;
    e.revision.cause = std::move(c.cause);
    e.revision.changes = std::move(c.fields);
    e.revision.resolves = std::move(c.resolves);
    e.state = lc.text(2);
    e.reason = in_message_lang(lc.text(3));
    out.push_back(std::move(e));
  }
  lc.reset();
  auto& sr = impl_->db.cached("SELECT body FROM revisions WHERE record_id = ? ORDER BY rev DESC");
  sr.bind(1, r.id);
  while (sr.step()) {
    Revision rev = revision_from_json(json::parse(sr.text(0)));
    if (!keep(rev.changes, &rev.conflicts, rev.resolves)) continue;
    out.push_back(HistoryEntry{std::move(rev), "server", ""});
  }
  sr.reset();
  return out;
}

}  // namespace kehu
