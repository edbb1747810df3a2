// The team operations beyond plain edits (docs/protocol.md "Teams"):
//
//   * public pool (公海): claim a customer without owner (a daily cap per user,
//     setting "claim_cap"), release one's customer with a reason;
//   * reassignment of a customer to another user (managers, admins);
//   * change requests: an edit of a protected field (setting
//     "protected_fields": {"customers": ["type", ...]}) by a sales user waits for
//     a manager, who approves it (applied as a revision naming the requester as
//     author and the manager as approver) or rejects it with a reason.
//
// Every applied action is one revision through PushService::apply_server_change,
// with its cause ("claim", "release: <reason>", "reassign ...", "approved request
// #N"), in the same transaction as its checks, so two claims of one customer
// cannot both win and a cap cannot be overrun.
//
// Thread-safety: one TeamService serves all request threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kehu/record.h"
#include "push_service.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

class TeamService {
 public:
  TeamService(Store& store, PushService& push) : store_(store), push_(push) {}

  // Each returns the applied change's result ({"status": "applied", "rev", "seq", "code", ...}).
  // Throws Error(not_found) for an unknown or invisible customer,
  // Error(forbidden) when the role or scope does not allow it or the cap is
  // reached, Error(validation) when the customer is not in the state the action
  // needs (claim: in the pool; release: owned) or an argument is bad.
  json claim(const Session& session, const std::string& code);
  json release(const Session& session, const std::string& code, const std::string& reason);
  json reassign(const Session& session, const std::string& code, const std::string& new_owner,
                const std::string& reason);

  // The pool's recycle rule (公海回收): every owned, live customer whose latest
  // follow-up (or, without one, its creation date) is more than `days` days
  // before `today` ("YYYY-MM-DD") goes back to the pool, each as a revision by
  // `session` with cause "pool recycle: no follow-up for N days (last DATE)".
  // With `dry_run` nothing is written. Returns [{"code", "owner", "last"}].
  json recycle(const Session& session, int days, const std::string& today, bool dry_run);

  // {"requests": [...]}: with `ids`, those of them the session may see; else the
  // requests in `status` ("" = all) the session may decide (managers, admins:
  // their scope) or made (sales).
  // One page: the first `limit` requests the session may see with id above
  // `after` ({"requests", "more", "next_after"}); with `ids`, those requests.
  json list_requests(const Session& session, const std::vector<std::int64_t>& ids, std::int64_t after,
                     std::int64_t limit,
                     const std::string& status);
  json approve(const Session& session, std::int64_t id);
  json reject(const Session& session, std::int64_t id, const std::string& reason);

 private:
  Store& store_;
  PushService& push_;
};

// The JSON form of a change request on the wire.
json request_json(const ChangeRequest& r, const std::string& customer_code);

}  // namespace kehu::server
