#include "duplicate_index.h"

#include <algorithm>

namespace kehu {

std::vector<DupKey> DuplicateIndex::keys_of(std::int64_t docid) {
  auto& st = db_.cached("SELECT kind, key, region FROM customer_keys WHERE docid = ?");
  st.bind(1, docid);
  std::vector<DupKey> out;
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2)});
  st.reset();
  std::sort(out.begin(), out.end());
  return out;
}

void DuplicateIndex::put(std::int64_t docid, bool deleted, const json& fields, bool fresh) {
  const std::vector<DupKey> now = deleted ? std::vector<DupKey>{} : duplicate_keys(fields);
  if (!fresh) {
    if (keys_of(docid) == now) return;
    erase(docid);
  }
  for (const auto& k : now) {
    db_.cached("INSERT OR IGNORE INTO customer_keys(kind, key, docid, region) VALUES (?, ?, ?, ?)")
        .bind(1, k.kind)
        .bind(2, k.key)
        .bind(3, docid)
        .bind(4, k.region)
        .run();
  }
}

void DuplicateIndex::erase(std::int64_t docid) {
  db_.cached("DELETE FROM customer_keys WHERE docid = ?").bind(1, docid).run();
}

void DuplicateIndex::erase_orphans() {
  db_.exec(
      "DELETE FROM customer_keys WHERE NOT EXISTS "
      "(SELECT 1 FROM records WHERE records.rowid = customer_keys.docid)");
}

void DuplicateIndex::rebuild() {
  db_.exec("DELETE FROM customer_keys");
  auto st = db_.prepare(
      "SELECT rowid, deleted, fields FROM records WHERE collection = 'customers' ORDER BY rowid");
  while (st.step()) {
    if (st.int64(1) != 0) continue;
    put(st.int64(0), false, json::parse(st.text(2)), /*fresh=*/true);
  }
}

std::vector<DuplicateIndex::Hit> DuplicateIndex::lookup(const std::vector<DupKey>& keys) {
  std::vector<Hit> out;
  auto& st = db_.cached("SELECT docid, region FROM customer_keys WHERE kind = ? AND key = ?");
  for (const auto& k : keys) {
    st.bind(1, k.kind).bind(2, k.key);
    while (st.step()) {
      std::string region = st.text(1);
      if (k.kind == "name" && !regions_compatible(region, k.region)) continue;
      out.push_back({k.kind, k.key, std::move(region), st.int64(0)});
    }
    st.reset();
  }
  return out;
}

void DuplicateIndex::for_each_shared_key(const std::function<bool(const std::vector<Hit>&)>& fn) {
  // The primary key (kind, key, docid) gives the order; a key with one holder
  // is skipped as its run ends.
  auto st =
      db_.prepare("SELECT kind, key, docid, region FROM customer_keys ORDER BY kind, key, docid");
  std::vector<Hit> run;
  auto flush = [&] {
    const bool go_on = run.size() < 2 || fn(run);
    run.clear();
    return go_on;
  };
  while (st.step()) {
    Hit h{st.text(0), st.text(1), st.text(3), st.int64(2)};
    if (!run.empty() && (run.front().kind != h.kind || run.front().key != h.key) && !flush())
      return;
    run.push_back(std::move(h));
  }
  flush();
}

}  // namespace kehu
