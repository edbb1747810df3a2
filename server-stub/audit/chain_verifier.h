// `kehu-server audit verify`: recomputes the revision hash chain (hash_chain.h)
// from the first revision to the last and reports the first broken link.
//
// A link is broken when its prev_hash is not the previous revision's hash (a
// revision was removed or reordered), when its body is not the JSON it claims,
// when its hash does not match its body (the body was edited), or when the
// store's columns (seq, record, rev, change id) disagree with the hashed body
// (a row was moved to another record).
//
// Then each record against its revisions (attacker review 12, A12-4): its rev
// must be its newest revision's, and its values the ones its revisions wrote,
// or a row was changed outside the chain, or the chain's tail was cut. Every
// record must have revisions, every revision a record, and the triggers that
// keep revisions append-only must be in place.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "store.h"

namespace kehu::server {

struct ChainReport {
  std::int64_t checked = 0;  // revisions whose link was verified
  std::int64_t records = 0;  // records that match their revisions
  std::int64_t newest_seq = 0;  // the last revision verified, its hash and time: a chain
  std::string newest_hash;      // cut at its end with its records looks whole, these tell
  std::string newest_at;
  bool ok = true;
  // When !ok: the first broken link (seq > 0), or what is wrong beside the
  // chain (seq == 0): a record that disagrees with its revisions (record_id
  // set), or the store as a whole.
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
  // The second pass, once the chain is whole: `ids` are the records it names.
  void check_records(StoreTxn& txn, const std::set<std::string>& ids, ChainReport& report);

  Store& store_;
};

}  // namespace kehu::server
