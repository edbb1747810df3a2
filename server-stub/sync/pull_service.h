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

// One pull page.
struct PullPage {
  std::string text;  // the answer's JSON text
  std::string next_cursor;
  // It carries something for the device: records, revisions, removals, a next
  // page, or a reset. A waiting pull without news waits on from next_cursor.
  bool news = false;
  // The user's regions, the protected fields and the schema version: a waiting
  // pull answers when they change, news or not.
  std::string context;
};

class PullService {
 public:
  // Reads KEHU_PULL_MAX_BYTES (the page's byte cap) from the environment, for
  // tests; the default is config::kMaxPullBytes.
  explicit PullService(Store& store);

  // `body` is {"cursor": "1180", "limit": 500}, both optional ("wait" is the
  // HTTP layer's, parse_wait). Returns the page, whose text is
  // {"records", "revisions", "removed", "next_cursor",
  // "more", "schema_version", "server_hlc"} (built as text, so stored values
  // are not parsed and printed again). Throws Error(protocol) for
  // a cursor that is not one this server made or a limit that is not a positive
  // integer; a limit above the maximum is lowered to it.
  PullPage pull(const Session& session, const json& body, std::int64_t server_hlc);

  // The body's "wait": how many seconds a pull without news may be held
  // (0, the default: none), lowered to config::kMaxPullWaitSeconds. Throws
  // Error(protocol) unless it is a non-negative integer.
  static int parse_wait(const json& body);

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
