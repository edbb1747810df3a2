#include "pull_service.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "access_policy.h"
#include "hash_chain.h"
#include "kehu/error.h"
#include "server_config.h"

namespace kehu::server {

namespace {

std::int64_t parse_cursor(const json& body) {
  auto it = body.find("cursor");
  if (it == body.end() || it->is_null()) return 0;
  // The protocol sends it as a string; accept the integer a careless client
  // might send, since it cannot mean anything else.
  if (it->is_number_integer()) return std::max<std::int64_t>(0, it->get<std::int64_t>());
  if (!it->is_string()) throw Error(Errc::protocol, "\"cursor\" must be a string");
  const std::string s = it->get<std::string>();
  if (s.empty()) return 0;
  std::int64_t seq = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seq);
  if (ec != std::errc() || end != s.data() + s.size() || seq < 0) {
    throw Error(Errc::protocol, "\"cursor\" \"" + s + "\" is not a cursor this server made");
  }
  return seq;
}

std::int64_t parse_limit(const json& body) {
  auto it = body.find("limit");
  if (it == body.end() || it->is_null()) return config::kDefaultPullLimit;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
    throw Error(Errc::protocol, "\"limit\" must be a positive integer");
  }
  return std::min(it->get<std::int64_t>(), config::kMaxPullLimit);
}

json record_json(const RecordView& v, Role role) {
  json fields = v.fields;
  if (const CollectionDef* coll = Schema::builtin().find(v.collection)) {
    AccessPolicy::redact_fields(role, *coll, fields);
  }
  return {{"id", v.id},     {"collection", v.collection}, {"code", v.code},
          {"parent", v.parent}, {"rev", v.rev},           {"deleted", v.deleted},
          {"old_codes", v.old_codes}, {"fields", std::move(fields)}};
}

json revision_json(const StoredRevision& r, Role role) {
  json j = wire_revision(r);
  AccessPolicy::redact_revision(role, j);
  return j;
}

}  // namespace

json PullService::pull(const Session& session, const json& body) {
  const std::int64_t cursor = parse_cursor(body);
  const std::int64_t limit = parse_limit(body);

  auto txn = store_.begin(TxnMode::read);
  // One more than asked for tells whether another page follows.
  std::vector<StoredRevision> page = txn->revisions_since(cursor, limit + 1);
  const bool more = static_cast<std::int64_t>(page.size()) > limit;
  if (more) page.pop_back();

  json revisions = json::array(), records = json::array();
  std::set<std::string> seen;
  for (const auto& r : page) {
    revisions.push_back(revision_json(r, session.role));
    if (!seen.insert(r.record_id).second) continue;
    if (auto view = txn->find_record_view(r.record_id)) records.push_back(record_json(*view, session.role));
  }
  const std::int64_t next = page.empty() ? cursor : page.back().seq;
  return {{"records", std::move(records)},
          {"revisions", std::move(revisions)},
          {"next_cursor", std::to_string(next)},
          {"more", more}};
}

json PullService::history(const Session& session, std::string_view record_id) {
  auto txn = store_.begin(TxnMode::read);
  std::vector<StoredRevision> revs = txn->revisions_of(record_id);
  if (revs.empty() && !txn->find_record_view(record_id)) {
    throw Error(Errc::not_found, "no record " + std::string(record_id));
  }
  json out = json::array();
  for (const auto& r : revs) out.push_back(revision_json(r, session.role));
  return {{"revisions", std::move(out)}};
}

}  // namespace kehu::server
