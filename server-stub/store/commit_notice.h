// What a committed write transaction changed, as far as a waiting pull cares
// (docs/protocol.md "Waiting pulls"): a pull held open for new revisions wakes
// for the notices that may concern its user, and looks again.
//
// A notice only ever makes a waiter look again, so it may say too much (a
// waiter looks, finds nothing and waits on); it must not say too little.
// Hence a transaction that wrote a revision nobody described (`scopes`) is
// everyone's concern.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "kehu/record.h"

namespace kehu::server {

struct CommitNotice {
  // Revisions were written. `scopes`: the owner, province and city of every
  // customer they touched, before and after, as {"owner", "province", "city"}.
  bool revisions = false;
  std::vector<json> scopes;
  // Something every waiter must look at again: a revision no customer's scope
  // covers, or a setting (the schema, the protected fields).
  bool everyone = false;
  // Accounts whose tokens, role, regions or state changed: their waiters check
  // their token again. `all_users`: every waiter does (the users did not fit
  // in a NOTIFY, or notices may have been missed).
  std::vector<std::string> users;
  bool all_users = false;

  bool empty() const { return !revisions && !everyone && users.empty() && !all_users; }
  // Whether scopes describe every revision written.
  bool scoped() const { return revisions && !everyone && !scopes.empty(); }

  // As JSON text for PostgreSQL's NOTIFY (under 8000 bytes: past that the
  // scopes and users are dropped and it says everyone / all_users), and back.
  // `origin` names the process that committed, so it skips its own.
  std::string to_text(const std::string& origin, std::size_t max_bytes = 7900) const;
  // Returns false for text that is not a notice: the listener drops it (only
  // kehu-server sends them; a stray sender must not make every waiting pull
  // look again, attacker review 16, A16-2).
  static bool from_text(const std::string& text, CommitNotice& out, std::string& origin);
};

}  // namespace kehu::server
