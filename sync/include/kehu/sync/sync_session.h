// One sync of a replica with its server: push the change log, then pull.
//
// Every step is safe to interrupt: pushes are idempotent by change_id, and each
// pulled page (records, revisions, cursor) is stored in one transaction, so the
// next sync resumes where this one stopped, losing and duplicating nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "kehu/progress.h"
#include "kehu/sync/http_client.h"

namespace kehu {
class Replica;
}

namespace kehu::sync {

struct SyncOptions {
  HttpOptions http;
  std::size_t push_page = 500;   // changes per push request
  std::size_t pull_page = 500;   // revisions per pull request
  int max_attempts = 5;          // per request, on network errors and 5xx
  int backoff_initial_ms = 200;  // doubled per attempt, capped at backoff_max_ms
  int backoff_max_ms = 5000;
  std::function<void(const std::string&)> progress;  // one status line; may be empty
  // Counts for a progress line (kehu/progress.h): changes pushed of those
  // pending when the push began, after each page; revisions pulled (total 0:
  // unknown), after each page. May be empty; when set, `progress` gets only
  // the other lines (retries).
  std::function<void(ProgressKind kind, std::size_t done, std::size_t total)> counts;
  // A waiting pull (docs/protocol.md "Waiting pulls"): when the push is done
  // and nothing is new, the first pull page is held by the server up to this
  // many seconds (at most 60) until something in the user's scope is. 0: not
  // held. A server that holds as many as it may is asked again without.
  int wait_seconds = 0;
  // While the pull waits: `waiting` is called as it begins, then
  // `stop_waiting` about once a second; true ends the wait at once, and the
  // sync returns as if nothing came (a local edit to push, Ctrl-C). Either may
  // be empty. They run on a thread of the sync's.
  std::function<void()> waiting;
  std::function<bool()> stop_waiting;
  // Polled about once a second during every request of the sync; true
  // abandons the sync at once (Interrupted, an Error(network)): Ctrl-C of a
  // continuous sync. Nothing is half-written, as when the network fails.
  std::function<bool()> cancelled;
};

struct SyncReport {
  std::size_t pushed = 0;        // changes sent
  std::size_t applied = 0;       // accepted (first time or duplicate)
  std::size_t unchanged = 0;     // of those, changes the server had every value of
                                 // already ("noop": no revision carries them)
  std::size_t rejected = 0;      // refused by the server, kept on the device (with
                                 // turned_down: the exit code and `kehu rejected` count both)
  std::size_t turned_down = 0;   // of those, changes that were awaiting approval and a
                                 // manager rejected now (pushed by an earlier sync)
  bool waited = false;           // the pull waited for news (wait_seconds)
  // The server would not hold the pull (it holds as many waiting as it may):
  // the seconds it asks a device to poll for, instead, before waiting again.
  long poll_after_s = 0;
  std::size_t pulled_records = 0;
  std::size_t pulled_revisions = 0;
  std::size_t merged = 0;        // pushed changes merged with others' concurrent edits,
                                 // plus pulled records shown with local pending edits
  std::size_t conflicts = 0;     // conflicts in pulled revisions still open after the sync
  std::size_t awaiting = 0;      // pushed changes the server holds for a manager's approval
  std::size_t partly_awaiting = 0;  // applied ones whose protected fields wait (counted in applied)
  std::size_t approved = 0;      // changes that were awaiting approval and are approved now
  // Requests of this user withdrawn because the user changed their fields
  // again (typed the old value back): their numbers (walkthrough 13, R13-14).
  std::vector<std::int64_t> withdrawn_by_edit;
  // The server's write limit for this user was reached (429 too_many_changes):
  // its words, saying when to sync again; the changes not sent stay pending.
  std::string held_back;
  std::size_t held_back_changes = 0;  // how many changes wait for that
  std::size_t removed = 0;       // customers that left the user's scope and left the device
  std::vector<std::string> removed_codes;  // the codes of those customers the device held
  // The user's customers someone else returned to the public pool (the pool
  // recycle, a manager's release): still on the device, masked now, and
  // anyone's to claim (walkthrough 18, R18-21). Their codes.
  std::vector<std::string> to_pool_codes;
  // Customers another's hand gave the user, and the user's customers given to
  // a colleague that stay in the user's reach: codes, and code -> new owner.
  std::vector<std::string> reassigned_to_you;
  std::vector<std::pair<std::string, std::string>> reassigned_away;
  // A manager's or admin's: the change requests waiting for their decision
  // (`kehu approvals`), counted up to kRequestsCounted (walkthrough 19, R19-16).
  static constexpr std::size_t kRequestsCounted = 1000;
  std::size_t requests_to_decide = 0;
  // The server's store was restored from a backup since the last sync: the
  // device pulled it again from the start (docs/protocol.md, "restored").
  bool server_restored = false;
  // Customers the device held before that the restored store does not have
  // (written after the backup was taken); their codes.
  std::vector<std::string> vanished_codes;
  // Customers the restored store has, whose values differ from what the device
  // held before (edits written after the backup are gone, walkthrough 12,
  // R12-5); their codes. The copy below holds what they were.
  std::vector<std::string> changed_by_restore;
  // The encrypted copy of the replica taken before it dropped what it had
  // pulled (Replica::backup): what vanished can still be read there.
  std::string copy_before_restore;
  // Edits made on revisions the restored store no longer has, sent again on
  // its present ones ("rebase" answers).
  std::size_t rebased = 0;
  // New customers' codes the server replaced at this push: (sent, given).
  std::vector<std::pair<std::string, std::string>> renumbered;
  // Edits and new child records of a customer merged into another meanwhile,
  // which the server put on that one: (merged-away code, survivor's code), once each.
  std::vector<std::pair<std::string, std::string>> forwarded;
  // A change the server refused (kept on the device: `kehu rejected`) or holds
  // for a manager's approval: which customer, which fields, and why.
  struct Refusal {
    std::int64_t seq = 0;          // the change's number in the device's log
    std::string code;              // the customer's code (a child's: its customer's)
    std::string collection;        // the changed record's collection
    std::vector<std::string> fields;  // the fields the change set
    json typed;                    // what it set them to (typed_values), readable after a refusal
    std::string reason;            // the server's words, or "awaiting approval (request #N)"
    std::int64_t request = 0;      // the change request holding it, 0 when refused
  };
  std::vector<Refusal> rejections;
  std::vector<Refusal> held;       // pushed changes awaiting approval now
  // Customers pulled or created here since the last sync that share a phone,
  // WeChat or name key with another live customer (duplicates.h describe_pair()).
  std::vector<std::string> possible_duplicates;
  // More pairs than kDuplicatesReported exist (kehu customer duplicates lists all).
  bool more_possible_duplicates = false;
  static constexpr std::size_t kDuplicatesReported = 200;
};

// The replica's meta key naming the user whose data it holds: set at the first
// login, kept by logout.
inline constexpr const char* kReplicaUserMeta = "replica_user";

// Logs in with a password and stores server URL, user, role, token and
// opts.http.ca_file (as given; later requests use it when their options name no
// CA file) in the replica. Throws Error(validation) before any request when the
// replica holds another user's data (kReplicaUserMeta: a replica is one
// user's), Error(unauthorized) for a wrong user or
// password, Error(forbidden) while the server throttles the user (429), TlsError
// for a refused certificate; the replica is unchanged then.
void login(Replica& replica, const std::string& server_url, const std::string& user,
           const std::string& password, const SyncOptions& opts);

// Revokes the token on the server (POST /v1/logout, one attempt), then forgets
// it here whatever happened (kept: server URL, user, CA file, data). Returns ""
// if the server revoked it, else a note saying why not (server unreachable, not
// logged in): the token is forgotten here all the same.
std::string logout(Replica& replica, const SyncOptions& opts);

// Changes the logged-in user's password (POST /v1/passwd) and stores the fresh
// token the server returns; the server revokes the user's other tokens. Throws
// Error(forbidden) for a wrong current password or while throttled,
// Error(validation) for a new password the server's policy refuses,
// Error(unauthorized) when not logged in or the token is refused.
void change_password(Replica& replica, const std::string& current, const std::string& next,
                     const SyncOptions& opts);

// Pushes every pending change, then pulls everything new since the cursor.
// Network errors and 5xx are retried with capped exponential backoff; after
// max_attempts it throws Error(network/server) and the replica is consistent.
SyncReport sync(Replica& replica, const SyncOptions& opts);

// One request of an online command (claim, release, approvals, ...) as the
// replica's logged-in user, with the same retries as sync. Returns the answer's
// body. Throws Error(unauthorized) when not logged in or the token is refused,
// and Error with the server's message (validation, not_found, forbidden, ...)
// when the server refuses; `what` names the action in that message.
json request(Replica& replica, const SyncOptions& opts, const std::string& path, const json& body,
             const std::string& what);

}  // namespace kehu::sync
