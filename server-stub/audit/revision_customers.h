// The customer each revision belongs to, for the audit log: the record itself
// for a customer, its parent for a follow-up, order, contact or other child
// record. Audit answers name every revision by its customer's current code.
//
// Lookups are cached; the cache is dropped whenever it reaches kMaxCached
// entries, so a scan over the whole log keeps its memory bounded.
//
// REQUIRES: the transaction outlives this object. Thread-compatible.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "store.h"

namespace kehu::server {

struct CustomerOfRecord {
  std::string id;                // the customer's record id; empty if the store has no such record
  std::string code;              // its current code
  json fields = json::object();  // its current values (AccessPolicy decides scope on them)
};

class RevisionCustomers {
 public:
  static constexpr std::size_t kMaxCached = 4096;

  explicit RevisionCustomers(StoreTxn& txn) : txn_(txn) {}

  // The customer of record `record_id`. The reference stays valid until the
  // next call.
  const CustomerOfRecord& of(const std::string& record_id);

 private:
  const std::optional<RecordView>& view(const std::string& id);

  StoreTxn& txn_;
  std::map<std::string, std::optional<RecordView>> views_;
  CustomerOfRecord last_;
};

}  // namespace kehu::server
