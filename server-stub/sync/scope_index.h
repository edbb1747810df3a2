// The scope index: a customer's owner, province and city after each of its
// revisions that set one of them (StoreTxn::add_scope_move). Pull decides from
// it whether a customer was in a user's scope at a cursor, or at any moment
// since, and which of its moves is the last, each in one read: replaying the
// revisions themselves had to stop at a scan budget, and an attacker padding a
// customer's history past it got the cautious answers at will (attacker review
// 6, A6-1, A6-10).
#pragma once

#include <cstdint>
#include <string>

#include "kehu/record.h"
#include "store.h"

namespace kehu::server {

// The scope fields of `fields` (a record's values) as scope reads them
// (江苏省/南京市 is 江苏/南京), empty ones left out, as the canonical JSON text
// the index keeps: equal values give equal text.
std::string scope_values(const json& fields);

// Whether `changes` ({field: {"old", "new"}}) set a field that decides a
// customer's scope.
bool changes_scope(const json& changes);

// Fills the index from the revisions after a migration to layout v7 (the
// setting "scope_index_pending"), in one write transaction. Returns whether it
// had to. Cheap when there is nothing to do: every command that opens a store
// calls it.
bool build_scope_index(Store& store);

}  // namespace kehu::server
