// Admin settings kept in the store (StoreTxn::get_setting / put_setting), read
// and written through these functions only, so each key has one meaning:
//
//   "claim_cap"         integer: pool customers one user may claim per day
//   "protected_fields"  {"customers": ["type", "status", ...]}: fields whose
//                       edit by a sales user needs a manager's approval
//   "cursor_tag_key"    string: 64 random hex digits, the key of the pull
//                       cursor's TAG (written once, by the layout v8 migration)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store.h"

namespace kehu::server::settings {

std::int64_t claim_cap(StoreTxn& txn);
// Throws Error(validation) for a negative cap.
void set_claim_cap(StoreTxn& txn, std::int64_t cap);

std::vector<std::string> protected_fields(StoreTxn& txn, const std::string& collection);
// Every collection's: {"customers": ["type", ...]}, collections without any left out.
json all_protected_fields(StoreTxn& txn);

// The key of the pull cursor's TAG ("" in a store not migrated to layout v8).
std::string cursor_tag_key(StoreTxn& txn);
// Replaces the protected fields of `collection`; keys or labels, each checked
// against the schema (Error(validation) naming the unknown one). Returns the keys.
std::vector<std::string> set_protected_fields(StoreTxn& txn, const std::string& collection,
                                              const std::vector<std::string>& fields);

}  // namespace kehu::server::settings
