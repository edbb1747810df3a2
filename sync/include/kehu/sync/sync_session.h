// One sync of a replica with its server: push the change log, then pull.
//
// Every step is safe to interrupt: pushes are idempotent by change_id, and each
// pulled page (records, revisions, cursor) is stored in one transaction, so the
// next sync resumes where this one stopped, losing and duplicating nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

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
};

struct SyncReport {
  std::size_t pushed = 0;        // changes sent
  std::size_t applied = 0;       // accepted (first time or duplicate)
  std::size_t rejected = 0;      // refused by the server, kept on the device
  std::size_t pulled_records = 0;
  std::size_t pulled_revisions = 0;
  std::size_t merged = 0;        // pushed changes merged with others' concurrent edits,
                                 // plus pulled records shown with local pending edits
  std::size_t conflicts = 0;     // conflicts in pulled revisions
  std::vector<std::string> rejections;  // "CODE: reason"
};

// Logs in with a password and stores server URL, user, role and token in the
// replica. Throws Error(unauthorized) for a wrong user or password.
void login(Replica& replica, const std::string& server_url, const std::string& user,
           const std::string& password, const SyncOptions& opts);

// Forgets the token (kept: server URL, user, data).
void logout(Replica& replica);

// Pushes every pending change, then pulls everything new since the cursor.
// Network errors and 5xx are retried with capped exponential backoff; after
// max_attempts it throws Error(network/server) and the replica is consistent.
SyncReport sync(Replica& replica, const SyncOptions& opts);

}  // namespace kehu::sync
