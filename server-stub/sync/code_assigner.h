// Gives a newly pushed customer its final code (docs/protocol.md "Customer
// codes"), inside the push's store transaction:
//
//   * a well-formed code of a usable month (kehu/customer_code.h) that no other
//     record holds (as code or alias) is kept if the sender may have it: a
//     serial of a lease the server gave the sender's device, or, for a manager
//     or an admin (who import sheets with their codes), any serial up to
//     config::kMaxChosenSerial; its month's serial counter moves past it so no
//     later lease hands it out;
//   * anything else (a provisional code "P...", a malformed, empty or held one,
//     a serial of somebody else's lease) is replaced by the next free serial of
//     the code's month (this month, if the code names no usable one). The
//     replaced code becomes an alias of the record if nobody holds it and it is
//     the sender's to give up: a manager's or admin's, or the device's own
//     provisional code (its device tag: the first 4 characters of the device
//     id, which another device id may share). A sales user never keeps
//     another's serial.
//
// Never two records with one code: the store's UNIQUE constraint backs this up.
#pragma once

#include <string>
#include <string_view>

#include "kehu/customer_code.h"
#include "store.h"

namespace kehu::server {

// Who creates the customer: the session's user and device, and whether the role
// may choose codes outside its leases (manager, admin).
struct CodeSender {
  std::string_view user, device;
  bool may_choose = false;
};

struct CodeAssignment {
  std::string code;   // the final code
  std::string alias;  // the code the device used, if it was replaced and is free; else empty
};

class CodeAssigner {
 public:
  // REQUIRES: `txn` is a write transaction that outlives the assigner.
  explicit CodeAssigner(StoreTxn& txn) : txn_(txn) {}

  // Decides the code of record `record_id`, created with `requested`, and advances
  // the serial counter. Does not write the record or the alias (the caller saves
  // both with the record). Throws Error(storage).
  CodeAssignment assign(std::string_view record_id, std::string_view requested, const CodeSender& sender);

 private:
  bool held_by_other(std::string_view code, std::string_view record_id);
  bool may_keep(const CustomerCode& code, const CodeSender& sender);
  bool may_alias(std::string_view code, const CodeSender& sender);

  StoreTxn& txn_;
};

}  // namespace kehu::server
