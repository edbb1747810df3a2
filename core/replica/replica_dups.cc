// The replica's duplicate check (lookups on customer_keys, duplicate_index.h)
// and the merge of two customers.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "replica_impl.h"

namespace kehu {
namespace {

constexpr const char* kCustomers = "customers";

// Above this many ids, duplicates_involving() reads every shared key in one
// pass instead of looking each customer's keys up.
constexpr std::size_t kScanAbove = 500;

std::string value_of_kind(const Record& r, const std::string& kind) {
  const char* field = kind == "phone" ? "phone" : kind == "wechat" ? "wechat" : "name";
  auto it = r.fields.find(field);
  return it != r.fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string label(const Record& r) { return r.code.empty() ? r.id : r.code; }

bool by_code(const Record& a, const Record& b) {
  if (a.code != b.code) return code_less(a.code, b.code);
  return a.id < b.id;
}

// The groups of one (kind, key): a name key whose holders name two regions or
// more splits into one group per region, each with the holders naming none.
std::vector<std::vector<std::int64_t>> split_by_region(const std::vector<DuplicateIndex::Hit>& hits,
                                                       std::size_t from, std::size_t to) {
  std::vector<std::int64_t> open;
  std::map<std::string, std::vector<std::int64_t>> by_region;
  for (std::size_t i = from; i < to; ++i) {
    if (hits[i].region.empty()) {
      open.push_back(hits[i].docid);
    } else {
      by_region[hits[i].region].push_back(hits[i].docid);
    }
  }
  std::vector<std::vector<std::int64_t>> out;
  if (by_region.size() <= 1) {
    std::vector<std::int64_t> all = open;
    if (!by_region.empty())
      all.insert(all.end(), by_region.begin()->second.begin(), by_region.begin()->second.end());
    out.push_back(std::move(all));
  } else {
    for (auto& [region, ids] : by_region) {
      std::vector<std::int64_t> g = open;
      g.insert(g.end(), ids.begin(), ids.end());
      out.push_back(std::move(g));
    }
  }
  for (auto& g : out) std::sort(g.begin(), g.end());
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& g) { return g.size() < 2; }),
            out.end());
  return out;
}

}  // namespace

std::vector<DuplicateMatch> Replica::find_duplicates(const json& fields,
                                                     std::string_view except_id) const {
  const std::vector<DupKey> keys = duplicate_keys(fields);
  if (keys.empty()) return {};
  const std::int64_t except = except_id.empty() ? 0 : impl_->rowid_of(except_id);
  std::vector<DuplicateMatch> out;
  for (const auto& hit : impl_->index.keys().lookup(keys)) {
    if (hit.docid == except) continue;
    auto rec = impl_->load_customer_docid(hit.docid);
    if (!rec || rec->deleted) continue;
    std::string value = value_of_kind(*rec, hit.kind);
    out.push_back({std::move(*rec), hit.kind, std::move(value)});
  }
  std::sort(out.begin(), out.end(), [](const DuplicateMatch& a, const DuplicateMatch& b) {
    return std::tie(a.customer.code, a.customer.id, a.kind) <
           std::tie(b.customer.code, b.customer.id, b.kind);
  });
  return out;
}

std::vector<DuplicateGroup> Replica::duplicate_groups() const {
  std::vector<DuplicateGroup> out;
  impl_->index.keys().for_each_shared_key([&](const std::vector<DuplicateIndex::Hit>& hits) {
    for (const auto& docids : split_by_region(hits, 0, hits.size())) {
      DuplicateGroup g;
      g.kind = hits[0].kind;
      g.key = hits[0].key;
      for (std::int64_t d : docids) {
        if (auto r = impl_->load_customer_docid(d); r && !r->deleted)
          g.customers.push_back(std::move(*r));
      }
      if (g.customers.size() < 2) continue;
      std::sort(g.customers.begin(), g.customers.end(), by_code);
      out.push_back(std::move(g));
    }
    return true;
  });
  // Phone first (the surest), then WeChat, then names; each by its first code.
  auto rank = [](const std::string& k) { return k == "phone" ? 0 : k == "wechat" ? 1 : 2; };
  std::stable_sort(out.begin(), out.end(), [&](const DuplicateGroup& a, const DuplicateGroup& b) {
    if (rank(a.kind) != rank(b.kind)) return rank(a.kind) < rank(b.kind);
    return code_less(a.customers[0].code, b.customers[0].code);
  });
  return out;
}

std::vector<DuplicatePair> Replica::duplicates_involving(const std::vector<std::string>& ids,
                                                         std::size_t limit, bool* truncated) const {
  auto& keys = impl_->index.keys();
  std::set<std::int64_t> wanted;
  for (const auto& id : ids) {
    if (std::int64_t d = impl_->rowid_of(id)) wanted.insert(d);
  }
  // (smaller docid, larger docid) -> kinds
  std::map<std::pair<std::int64_t, std::int64_t>, std::set<std::string>> pairs;
  bool full = false;  // a pair beyond `limit` was found: stop looking
  auto add = [&](std::int64_t a, std::int64_t b, const std::string& kind) {
    if (a == b) return;
    const std::pair<std::int64_t, std::int64_t> ab{std::min(a, b), std::max(a, b)};
    if (limit && pairs.size() >= limit && !pairs.count(ab)) {
      full = true;
      return;
    }
    pairs[ab].insert(kind);
  };
  if (wanted.size() > kScanAbove) {
    keys.for_each_shared_key([&](const std::vector<DuplicateIndex::Hit>& hits) {
      for (const auto& group : split_by_region(hits, 0, hits.size())) {
        for (std::size_t x = 0; x < group.size() && !full; ++x) {
          if (!wanted.count(group[x])) continue;
          for (std::size_t y = 0; y < group.size() && !full; ++y)
            add(group[x], group[y], hits[0].kind);
        }
      }
      return !full;
    });
  } else {
    for (auto d = wanted.begin(); d != wanted.end() && !full; ++d) {
      for (const auto& hit : keys.lookup(keys.keys_of(*d))) add(*d, hit.docid, hit.kind);
    }
  }
  if (truncated) *truncated = full;
  // Each customer read once: one that shares a key with many others (a common
  // name) is in as many pairs (bench B6: 6 ms of a one-change sync).
  std::map<std::int64_t, std::optional<Record>> loaded;
  auto customer = [&](std::int64_t docid) {
    auto it = loaded.find(docid);
    if (it == loaded.end()) it = loaded.emplace(docid, impl_->load_customer_docid(docid)).first;
    return it->second;
  };
  std::vector<DuplicatePair> out;
  for (const auto& [ab, kinds] : pairs) {
    std::optional<Record> a = customer(ab.first), b = customer(ab.second);
    if (!a || !b || a->deleted || b->deleted) continue;
    if (by_code(*b, *a)) std::swap(a, b);
    out.push_back({std::move(*a), std::move(*b), {}});
    // Phone, WeChat, name: the surest first.
    for (const char* k : {"phone", "wechat", "name"})
      if (kinds.count(k)) out.back().kinds.push_back(k);
  }
  std::sort(out.begin(), out.end(), [](const DuplicatePair& x, const DuplicatePair& y) {
    if (x.a.code != y.a.code) return code_less(x.a.code, y.a.code);
    return code_less(x.b.code, y.b.code);
  });
  return out;
}

std::vector<std::string> Replica::pending_customer_creates() const {
  auto& st =
      impl_->db.cached("SELECT record_id, body FROM changes WHERE state = 'pending' ORDER BY seq");
  std::vector<std::string> out;
  while (st.step()) {
    Change c = change_from_json(json::parse(st.text(1)));
    if (c.op == Op::create && c.collection == kCustomers) out.push_back(st.text(0));
  }
  st.reset();
  return out;
}

MergeReport Replica::merge_customers(std::string_view keep_arg, std::string_view other_arg,
                                     bool dry_run) {
  return impl_->in_tx([&] {
    Record keep = require(keep_arg);
    Record other = require(other_arg);
    for (const Record* r : {&keep, &other}) {
      if (r->collection != kCustomers) {
        throw Error(Errc::validation, tr(label(*r) + " is a " + r->collection +
                                             " record, not a customer: merge joins two customers",
                                         label(*r) + " 是 " + r->collection + " 记录，不是客户：只能合并两个客户"));
      }
      if (r->deleted) {
        throw Error(Errc::validation,
                    tr(label(*r) + " is in the recycle bin: restore it first (kehu customer restore " + label(*r) + ")",
                       label(*r) + " 在回收站里：请先恢复（kehu customer restore " + label(*r) + "）"));
      }
    }
    if (keep.id == other.id) {
      throw Error(Errc::validation, tr("cannot merge " + label(keep) + " into itself", "不能把 " + label(keep) + " 合并到它自己"));
    }
    const CollectionDef& coll = Schema::builtin().collection(kCustomers);
    MergeReport report;
    report.dry_run = dry_run;

    // KEEP's fields: empty ones filled from OTHER, tags united; fields both hold
    // with different values stay KEEP's, and OTHER's values go to KEEP's notes.
    json values = json::object();
    std::vector<std::string> kept_aside;  // "联系电话: 139…"
    for (const FieldDef& f : coll.fields) {
      if (f.derived || f.key == "code" || f.key == "created_at") continue;
      const json o = other.fields.value(f.key, json());
      const json k = keep.fields.value(f.key, json());
      if (o.is_null() || o == k) continue;
      if (f.type == FieldType::tags) {
        std::set<std::string> all;
        if (k.is_array())
          for (const auto& t : k) all.insert(t.get<std::string>());
        for (const auto& t : o) {
          if (all.insert(t.get<std::string>()).second)
            report.tags_added.push_back(t.get<std::string>());
        }
        if (!report.tags_added.empty())
          values[f.key] = json(std::vector<std::string>(all.begin(), all.end()));
        continue;
      }
      if (k.is_null() && f.key != "owner") {
        values[f.key] = o;
        report.filled.push_back(f.key);
        continue;
      }
      report.differing.push_back(f.key);
      kept_aside.push_back(f.zh + ": " + display_value(f, o, Lang::zh));
    }
    if (!kept_aside.empty()) {
      std::string notes = values.contains("notes") ? values["notes"].get<std::string>()
                                                   : keep.fields.value("notes", "");
      std::string block = "【合并自 " + label(other) + " " + other.fields.value("name", "") + "】";
      for (const auto& line : kept_aside) block += "\n" + line;
      notes = notes.empty() ? block : notes + "\n" + block;
      const FieldDef& nf = coll.field("notes");
      try {
        check_stored_value(nf, notes);
      } catch (const Error& e) {
        const std::string a = label(other), b = label(keep), notes_field = nf.zh + " (" + nf.key + ")";
        throw Error(Errc::validation,
                    tr("cannot merge " + a + " into " + b + ": " + a + "'s differing values do not fit into " + b + "'s " +
                           notes_field + ": " + e.what() + "; shorten the notes first",
                       "无法把 " + a + " 合并到 " + b + "：" + a + " 不同的值放不进 " + b + " 的" + notes_field + "：" +
                           e.what() + "；请先缩短备注"));
      }
      values["notes"] = notes;
    }

    // Children of OTHER, in every child collection (in the recycle bin too).
    std::vector<std::string> children;
    auto& st = impl_->db.cached("SELECT id FROM records WHERE parent = ? ORDER BY rowid");
    st.bind(1, other.id);
    while (st.step()) children.push_back(st.text(0));
    st.reset();
    std::map<std::string, std::size_t> moved;
    const std::string cause = "merged " + label(other) + " into " + label(keep);
    for (const auto& id : children) {
      auto before = impl_->load(id);
      if (!before) continue;
      ++moved[before->collection];
      if (dry_run) continue;
      Record after = *before;
      after.parent = keep.id;
      impl_->write_change(before, std::move(after), Op::update, cause);
    }
    for (auto& [c, n] : moved) report.moved.emplace_back(c, n);

    if (dry_run) {
      report.keep = keep;
      for (const auto& [k, v] : values.items()) report.keep.fields[k] = v;
      report.other = other;
      report.other.deleted = true;
      return report;
    }
    if (!values.empty()) edit_values(keep.id, values, cause);
    Record gone = *impl_->load(other.id);
    Record after = gone;
    after.deleted = true;
    impl_->write_change(gone, std::move(after), Op::remove, "merged into " + label(keep));
    impl_->refresh_derived(keep.id);
    impl_->refresh_derived(other.id);
    report.keep = *impl_->load(keep.id);
    report.other = *impl_->load(other.id);
    return report;
  });
}

}  // namespace kehu
