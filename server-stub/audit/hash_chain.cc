#include "hash_chain.h"

#include <cstdio>
#include <mutex>
#include <set>

#include "crypto.h"
#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

std::string canonical_body(json revision) {
  revision.erase("hash");
  revision.erase("prev_hash");
  return revision.dump();
}

std::string chain_hash(std::string_view prev_hash, std::string_view body) {
  std::string input;
  input.reserve(prev_hash.size() + 1 + body.size());
  input.append(prev_hash).append("\n").append(body);
  return crypto::sha256_hex(input);
}

StoredRevision seal_revision(const Revision& r, const std::string& prev_hash) {
  StoredRevision out;
  out.seq = r.seq;
  out.record_id = r.record_id;
  out.rev = r.rev;
  out.change_id = r.change_id;
  out.body = canonical_body(to_json(r));
  out.prev_hash = prev_hash;
  out.hash = chain_hash(prev_hash, out.body);
  return out;
}

json wire_revision(const StoredRevision& r) {
  json j;
  try {
    j = json::parse(r.body);
  } catch (const json::exception& e) {
    throw Error(Errc::storage, tr("revision " + std::to_string(r.seq) + " is damaged: " + e.what(),
                                   "修订 " + std::to_string(r.seq) + " 已损坏：" + e.what()));
  }
  if (!j.is_object()) throw Error(Errc::storage, tr("revision " + std::to_string(r.seq) + " is damaged",
                                                              "修订 " + std::to_string(r.seq) + " 已损坏"));
  j["prev_hash"] = r.prev_hash;
  j["hash"] = r.hash;
  return j;
}

std::optional<json> wire_revision_or_skip(const StoredRevision& r) {
  try {
    return wire_revision(r);
  } catch (const Error& e) {
    if (e.code() != Errc::storage) throw;
    static std::mutex mu;
    static std::set<std::int64_t> logged;
    std::lock_guard<std::mutex> lock(mu);
    if (logged.size() < 1000 && logged.insert(r.seq).second) {
      const std::string line = now_iso8601() + " error: revision " + std::to_string(r.seq) + " of record " +
                               r.record_id + " is damaged (not a JSON object); pull, history and audit leave it "
                               "out; run `kehu-server audit verify`\n";
      std::fwrite(line.data(), 1, line.size(), stderr);
    }
    return std::nullopt;
  }
}

}  // namespace kehu::server
