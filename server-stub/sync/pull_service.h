// POST /v1/pull and GET /v1/records/{id}/history (docs/protocol.md).
//
// Pull pages through the revision log by seq: the revisions after the cursor,
// oldest first, at most `limit`, plus the current state of every record they
// touch. The cursor is the decimal seq of the last revision sent; clients treat
// it as opaque. All of a page is read in one snapshot, so records and revisions
// agree.
//
// What a role may not read is cut out (AccessPolicy).
//
// Thread-safety: one PullService serves all request threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kehu/record.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

class PullService {
 public:
  // Reads KEHU_PULL_MAX_BYTES (the page's byte cap) from the environment, for
  // tests; the default is config::kMaxPullBytes.
  explicit PullService(Store& store);

  // `body` is {"cursor": "1180", "limit": 500}, both optional. Returns the
  // answer's JSON text: {"records", "revisions", "removed", "next_cursor",
  // "more", "schema_version", "server_hlc"} (built as text, so stored values
  // are not parsed and printed again). Throws Error(protocol) for
  // a cursor that is not one this server made or a limit that is not a positive
  // integer; a limit above the maximum is lowered to it.
  std::string pull(const Session& session, const json& body, std::int64_t server_hlc);

  // {"revisions": [...], "more": bool[, "before": seq]} of one record, newest
  // first: at most `limit` (lowered to the pull's maximum) with seq below
  // `before` (0: from the newest). "before" is what the next page passes.
  // Throws Error(not_found) for an unknown record.
  json history(const Session& session, std::string_view record_id, std::int64_t limit, std::int64_t before);

 private:
  Store& store_;
  std::size_t max_bytes_;
};

}  // namespace kehu::server
