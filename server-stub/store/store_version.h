// The layout version of a kehu-server store, one value per migration. SQLite
// (sqlite_store.cc) and PostgreSQL (postgres_store.cc) stores share the numbers:
// a version names the same tables and columns in both, and both record it as
// meta.schema_version.
#pragma once

namespace kehu::server {

enum class StoreVersion : int {
  v1_initial = 1,
  v2_scopes = 2,  // user regions and scope versions, settings, claims, change requests
  v3_result_sender = 3,  // results.sender and results.at: a change id belongs to its sender;
                         // code_leases: who holds which serials
  v4_request_resolves = 4,  // change_requests.resolves: the conflicts a held change settles
  v5_revision_by_rev = 5,   // an index of revisions by (record_id, rev): a conflict a change
                            // settles is found without reading the record's whole history
  v6_releases = 6,          // releases: who released which customer to the pool on which day
                            // (the daily release cap)
  v7_scope_moves = 7,       // scope_moves: a customer's owner, province and city after each
                            // revision that set them (StoreTxn::add_scope_move), built from
                            // the revisions by the first command after the migration
  v8_expiring_results_by_sender = 8,  // results(sender) where expires_at > 0: the answers a
                                      // user may still have stored (config::kMaxExpiringResultsPerUser);
                                      // change_requests(requester, created_at): the requests a user
                                      // filed in a day; tokens(user, expires_at): a user's live
                                      // tokens (config::kMaxTokensPerUser); settings.cursor_tag_key
  v9_request_cause = 9,     // change_requests.cause: the cause a held change came with (a merge's
                            // delete names the survivor), carried into the approval's cause
  current = v9_request_cause,
};

// Written by the v8 migration (both stores): the key of the pull cursor's TAG,
// so a TAG reveals nothing of the chain hash (attacker review 13, A13-7).
inline constexpr const char* kCursorTagKeySetting = "cursor_tag_key";

}  // namespace kehu::server
