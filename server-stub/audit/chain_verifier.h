// `kehu-server audit verify`: recomputes the revision hash chain (hash_chain.h)
// from the first revision to the last and reports the first broken link.
//
// A link is broken when its prev_hash is not the previous revision's hash (a
// revision was removed or reordered), when its body is not the JSON it claims,
// when its hash does not match its body (the body was edited), or when the
// store's columns (seq, record, rev, change id) disagree with the hashed body
// (a row was moved to another record).
#pragma once

#include <cstdint>
#include <string>

#include "store.h"

namespace kehu::server {

struct ChainReport {
  std::int64_t checked = 0;  // revisions whose link was verified
  bool ok = true;
  // When !ok: the first broken link.
  std::int64_t seq = 0;
  std::string record_id;
  std::string problem;       // a sentence a person can act on
  std::string expected;      // the hash it should have (or the field's expected value)
  std::string stored;        // what is stored
};

class ChainVerifier {
 public:
  explicit ChainVerifier(Store& store) : store_(store) {}
  // Reads the whole log in one read transaction (constant memory).
  // Throws Error(storage) if the store cannot be read.
  ChainReport verify();

 private:
  Store& store_;
};

}  // namespace kehu::server
