// Random team operations for the convergence property test (test_sync.cpp):
// every op that changes a record, done by devices of every role, through the
// public APIs the `kehu` CLI calls for it:
//
//   create / edit / tags / delete / restore / follow-up   Replica (random_edit too)
//   edit of a protected field (approval)                  Replica::edit
//   conflict resolve                                      Replica::resolve_conflict
//   revert to an earlier revision                         the `kehu revert` binary
//                                                         (its logic lives in cli/)
//   merge of duplicate customers                          Replica::merge_customers
//   pool claim / release, reassign,                       sync::request on the
//   approve / reject a change request                     paths cli/commands_team.cc
//                                                         uses, then a sync, as it does
//
// An op the device or the server refuses is reported, never hidden: `refused`
// holds the message. Draws only from `rng` (plus the state of the replica), so
// a seed gives the same ops.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "device.h"
#include "kehu/sync/sync_session.h"

namespace kehu::test {

struct TeamOpResult {
  std::string op;                        // what was tried ("claim", "revert", ...)
  bool done = false;                     // it changed something, here or on the server
  std::string refused;                   // why the device or the server said no
  std::vector<std::string> new_changes;  // change ids it appended to the device's log
  std::vector<kehu::sync::SyncReport> syncs;  // syncs it ran (the team ops sync, as the CLI does)
};

// The fixture user's role (ServerFixture::users()).
const std::string& role_of(const std::string& user);

// Every op random_team_op may draw, by name.
const std::vector<std::string>& team_op_names();

// Does one random op on `d` as its user. `op` numbers names and texts.
TeamOpResult random_team_op(Device& d, std::mt19937& rng, int op);

// Does the op named `name` (one of team_op_names()) on `d`.
TeamOpResult team_op(const std::string& name, Device& d, std::mt19937& rng, int op);

}  // namespace kehu::test
