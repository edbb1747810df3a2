// Helpers shared by the sync tests (test_sync.cpp) and the fault tests
// (test_faults.cpp): sample customers, random edits, and the comparable view of
// a replica.
#pragma once

#include <map>
#include <random>
#include <string>

#include "kehu/replica.h"

namespace kehu::test {

// The fields of a valid new customer named `name`, as a user types them.
kehu::FieldInputs new_customer(const std::string& name, const std::string& province = "江苏");

// Record views without local bookkeeping (customers and follow-ups, live and
// deleted), keyed by id: what "two replicas are equal" means.
std::map<std::string, kehu::json> snapshot(const kehu::Replica& r);

// Makes one random edit on `r` as `user`: create a customer, edit city and stage,
// set tags, delete, restore, or add a follow-up (`op` numbers names and texts).
// Returns false, having written nothing, when the draw asks for no edit (about
// a fifth of the time); callers sync then. Draws only from `rng`, so a seed gives
// the same edits.
bool random_edit(kehu::Replica& r, std::mt19937& rng, const std::string& user, int op);

}  // namespace kehu::test
