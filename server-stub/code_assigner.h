// Gives a newly pushed customer its final code (docs/protocol.md "Customer
// codes"), inside the push's store transaction:
//
//   * a well-formed code no other record holds (as code or alias) is kept, and
//     its month's serial counter moves past it so no later lease hands it out;
//   * a provisional code ("P..."), a malformed one, an empty one or one another
//     customer holds is replaced by the next free serial of the code's month
//     (or this month, if the code names none); the replaced code becomes an
//     alias of the record unless another record holds it.
//
// Never two records with one code: the store's UNIQUE constraint backs this up.
#pragma once

#include <string>
#include <string_view>

#include "store.h"

namespace kehu::server {

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
  CodeAssignment assign(std::string_view record_id, std::string_view requested);

 private:
  bool held_by_other(std::string_view code, std::string_view record_id);

  StoreTxn& txn_;
};

}  // namespace kehu::server
