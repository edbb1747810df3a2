#include "chain_verifier.h"

#include <map>

#include "hash_chain.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/sync/merge.h"
#include "schema_service.h"

namespace kehu::server {

namespace {

// The first column that disagrees with the hashed body, or empty.
std::string column_mismatch(const StoredRevision& r, const json& body, std::string& expected,
                            std::string& stored) {
  auto differs = [&](const char* key, const json& column) {
    auto it = body.find(key);
    if (it != body.end() && *it == column) return false;
    expected = it == body.end() ? tr("(missing)", "（缺失）") : it->dump();
    stored = column.dump();
    return true;
  };
  if (differs("seq", r.seq)) return tr("its seq column differs from the hashed revision", "其 seq 列与计算哈希的修订内容不一致");
  if (differs("record_id", r.record_id)) return tr("its record_id column differs from the hashed revision", "其 record_id 列与计算哈希的修订内容不一致");
  if (differs("rev", r.rev)) return tr("its rev column differs from the hashed revision", "其 rev 列与计算哈希的修订内容不一致");
  if (differs("change_id", r.change_id)) return tr("its change_id column differs from the hashed revision", "其 change_id 列与计算哈希的修订内容不一致");
  return {};
}

}  // namespace

ChainReport ChainVerifier::verify() {
  ChainReport report;
  std::string prev = kGenesisHash;
  std::set<std::string> ids;
  auto txn = store_.begin(TxnMode::read);
  const auto unguarded = [&] {
    report.ok = false;
    report.problem = tr("the triggers that keep revisions append-only are missing, disabled or rewritten: the "
                        "store was changed by hand, and removed revisions would go unnoticed",
                        "保证修订只能追加的触发器缺失、被停用或被改写：存储被人手工改过，删掉的修订将无从发现");
    report.expected = "revisions_no_update, revisions_no_delete";
    report.stored = tr("(missing)", "（缺失）");
  };
  txn->for_each_revision([&](const StoredRevision& r) {
    // Returns false to stop at the first broken link.
    auto broken = [&](std::string problem, std::string expected, std::string stored) {
      report.ok = false;
      report.seq = r.seq;
      report.record_id = r.record_id;
      report.problem = std::move(problem);
      report.expected = std::move(expected);
      report.stored = std::move(stored);
      return false;
    };
    if (r.prev_hash != prev) {
      return broken(tr("its prev_hash is not the hash of the revision before it (one was removed, "
                       "inserted or reordered)",
                       "其 prev_hash 不是前一条修订的哈希（有修订被删除、插入或调换了顺序）"),
                    prev, r.prev_hash);
    }
    json body;
    try {
      body = json::parse(r.body);
    } catch (const json::exception&) {
      return broken(tr("its stored body is not JSON", "其存储的内容不是 JSON"), r.hash,
                    tr("(unparseable)", "（无法解析）"));
    }
    if (!body.is_object()) return broken(tr("its stored body is not a JSON object", "其存储的内容不是 JSON 对象"), r.hash, r.body);
    const std::string recomputed = chain_hash(prev, canonical_body(body));
    if (recomputed != r.hash) {
      return broken(tr("its content does not match its hash (the revision was edited)",
                       "其内容与哈希不符（该修订被改动过）"),
                    recomputed, r.hash);
    }
    std::string expected, stored;
    std::string problem = column_mismatch(r, body, expected, stored);
    if (!problem.empty()) return broken(problem, expected, stored);
    prev = r.hash;
    ++report.checked;
    report.newest_seq = r.seq;
    report.newest_hash = r.hash;
    if (auto at = body.find("at"); at != body.end() && at->is_string()) report.newest_at = at->get<std::string>();
    ids.insert(r.record_id);
    return true;
  });
  // A broken link is the more exact report, so it comes first.
  if (report.ok && !txn->revisions_guarded()) unguarded();
  if (report.ok) check_records(*txn, ids, report);
  return report;
}

void ChainVerifier::check_records(StoreTxn& txn, const std::set<std::string>& ids, ChainReport& report) {
  auto broken = [&](const std::string& id, std::string problem, std::string expected, std::string stored) {
    report.ok = false;
    report.record_id = id;
    report.problem = std::move(problem);
    report.expected = std::move(expected);
    report.stored = std::move(stored);
  };
  const auto schema = store_schema(txn);
  for (const std::string& id : ids) {
    // What the revisions wrote, oldest first: each change's new value.
    std::int64_t rev = 0;
    std::string collection;
    std::map<std::string, json> want;
    const auto revisions = txn.revisions_of(id);
    for (auto it = revisions.rbegin(); it != revisions.rend(); ++it) {
      const Revision r = revision_from_json(json::parse(it->body));  // the chain pass parsed it
      rev = r.rev;
      collection = r.collection;
      for (const auto& [field, change] : r.changes) want[field] = change.new_value;
    }
    // The record as the server merges onto it (`state`) and as devices are
    // sent it (its flat values): a cell damaged in either (A12-4).
    sync::RecordState have;
    std::optional<RecordView> sent;
    try {
      have = txn.load_record(id);
      sent = txn.find_record_view(id);
    } catch (const Error& e) {
      if (e.code() != Errc::storage) throw;
      return broken(id, tr("its stored row cannot be read", "其存储的行无法读取"), tr("(readable)", "（可读）"),
                    e.what());
    }
    if (!have.exists() || !sent) {
      return broken(id, tr("it has revisions but the record itself is gone", "它有修订，但记录本身不见了"),
                    "rev " + std::to_string(rev), tr("(missing)", "（缺失）"));
    }
    if (have.rev != rev) {
      return broken(id,
                    tr("its rev is not its newest revision's: revisions after it were removed, or the record "
                       "was changed outside the chain",
                       "其 rev 与最新修订不符：之后的修订被删除了，或记录在修订链之外被改动过"),
                    "rev " + std::to_string(rev), "rev " + std::to_string(have.rev));
    }
    if (have.collection != collection) {
      return broken(id, tr("its collection is not the one its revisions name", "其集合与修订中的不符"), collection,
                    have.collection);
    }
    // A child's parent field only carries moves: the record keeps it as its
    // parent, not as a field (PushService).
    const CollectionDef* coll = schema->find(collection);
    if (coll && !coll->parent_field.empty()) {
      const auto w = want.find(coll->parent_field);
      const json expected = w != want.end() ? w->second : json(have.parent);
      if (expected != json(have.parent)) {
        return broken(id, tr("its parent is not the one its revisions name", "其所属记录与修订中的不符"),
                      expected.dump(), json(have.parent).dump());
      }
      want.erase(coll->parent_field);
    }
    std::set<std::string> fields;
    for (const auto& w : want) fields.insert(w.first);
    for (const auto& f : have.fields) fields.insert(f.first);
    for (const std::string& field : fields) {
      const json absent = field == kDeletedField ? json(false) : json();
      const auto w = want.find(field);
      const auto h = have.fields.find(field);
      const json& expected = w != want.end() ? w->second : absent;
      const json& stored = h != have.fields.end() ? h->second.value : absent;
      if (expected != stored) {
        return broken(id,
                      tr("its field " + field + " is not the value its revisions wrote: the record was changed "
                         "outside the chain",
                         "其字段 " + field + " 不是修订写入的值：记录在修订链之外被改动过"),
                      expected.dump(), stored.dump());
      }
    }
    if (sent->rev != have.rev || sent->deleted != have.deleted() || sent->fields != have.values()) {
      return broken(id,
                    tr("the values devices are sent differ from its state: the record was changed outside the "
                       "chain",
                       "发给设备的值与其状态不符：记录在修订链之外被改动过"),
                    have.values().dump(), sent->fields.dump());
    }
    ++report.records;
  }
  const std::int64_t held = txn.count_records();
  if (held != static_cast<std::int64_t>(ids.size())) {
    const std::string n = std::to_string(held), wrote = std::to_string(ids.size());
    broken({},
           tr("the store holds " + n + " records, but its revisions wrote " + wrote +
                  ": rows were added outside the chain",
              "存储中有 " + n + " 条记录，但修订只写入了 " + wrote + " 条：有行在修订链之外被加入"),
           wrote, n);
  }
}

}  // namespace kehu::server
