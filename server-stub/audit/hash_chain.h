// The hash-chained revision log (docs/protocol.md "Revisions and the hash chain").
//
// A revision is stored as its canonical body: nlohmann::json's dump() (keys
// sorted, no spaces, UTF-8) of kehu::to_json(Revision) without "hash" and
// "prev_hash". Its link is
//
//   hash = hex(SHA-256(prev_hash + "\n" + body))
//
// where prev_hash is the hash of the revision before it in seq order, or
// kGenesisHash for the first. Changing any stored revision changes its hash and
// breaks every later link; ChainVerifier (chain_verifier.h) finds the first one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kehu/record.h"
#include "store.h"

namespace kehu::server {

// prev_hash of the first revision: 64 zeros.
inline const std::string kGenesisHash(64, '0');

// The canonical body of a JSON revision: a copy without hash and prev_hash, dumped.
std::string canonical_body(json revision);

// hex(SHA-256(prev_hash + "\n" + body)).
std::string chain_hash(std::string_view prev_hash, std::string_view body);

// The stored form of `r` (whose seq is set) linked after `prev_hash`.
StoredRevision seal_revision(const Revision& r, const std::string& prev_hash);

// The wire form: the body with "prev_hash" and "hash" added.
// Throws Error(storage) if the stored body is not a JSON object.
json wire_revision(const StoredRevision& r);
// The same, or nothing for a damaged revision, which is named in the server's
// log the first time: pull, history and audit leave it out rather than fail
// every page that reaches it, for every user (attacker reviews 8 and 10, A8-3,
// A10-6); `kehu-server audit verify` names it.
std::optional<json> wire_revision_or_skip(const StoredRevision& r);

}  // namespace kehu::server
