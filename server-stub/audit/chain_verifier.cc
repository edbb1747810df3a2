#include "chain_verifier.h"

#include "hash_chain.h"
#include "kehu/lang.h"

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
  auto txn = store_.begin(TxnMode::read);
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
    return true;
  });
  return report;
}

}  // namespace kehu::server
