// The PostgreSQL implementation of Store (DESIGN.md "Where it scales"): several
// kehu-server processes, on one machine or many, share one database, e.g.
//   kehu-server serve --store postgresql://kehu@db.example.lan/kehu
//
// Tables and columns mean what they mean in the SQLite store (sqlite_store.cc;
// postgres_store.cc lists both layouts), with the same StoreVersion numbers in
// meta.schema_version. The revisions table is append-only by triggers.
//
// Concurrency between processes, not only threads:
//   * A write transaction is READ COMMITTED and takes the transaction-scoped
//     advisory lock kWriterLockKey right after BEGIN, so writers in every process
//     run one at a time, as SQLite's BEGIN IMMEDIATE makes them. Everything a
//     writer reads after the lock (the greatest seq, the last hash, a record's
//     rev, code serials, results by change_id) includes every earlier writer's
//     commit, because the lock is released only after that commit is visible.
//     Hence seq = max + 1 and prev_hash are right, and seqs commit in seq order.
//     (REPEATABLE READ would be wrong here: its snapshot would be taken by the
//     lock statement itself, before the wait.)
//   * A read transaction is REPEATABLE READ, READ ONLY: one snapshot, and since
//     seqs commit in order, a snapshot holds every revision up to some seq and
//     none after it. A pull cursor therefore never skips a revision that commits
//     late (docs/protocol.md, "Several server processes").
//   * A writer waits for the lock at most config::kBusyTimeoutMs (lock_timeout),
//     then fails with Error(storage), as SQLite's busy timeout does.
//
// Thread-safety: begin() may be called from any number of threads; each
// transaction holds one pooled connection (postgres_pool.h) until it commits or
// rolls back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "listener_thread.h"
#include "postgres_pool.h"
#include "store.h"
#include "store_version.h"

namespace kehu::server {

class PostgresStore final : public Store {
 public:
  // pg_advisory_xact_lock key every write transaction takes: "KEHU" in ASCII.
  static constexpr std::int64_t kWriterLockKey = 0x4B454855;

  // Creates the tables in an empty database, or migrates an older kehu-server
  // layout to the current one; returns false if it was already current. Safe
  // against a concurrent init or serve (it takes the writer lock).
  // Throws Error(storage) when the database cannot be reached (the message names
  // the URL without its password), is not UTF8, holds other tables but no
  // kehu-server store, or has a newer layout than this program.
  static bool initialise(const std::string& url);

  // Connects and checks the layout. Throws Error(not_found) when the database
  // has no kehu-server store (the message says to run `kehu-server init
  // --store URL`), Error(storage) when it cannot be reached or its layout is not
  // the current one.
  explicit PostgresStore(std::string url);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  std::unique_ptr<StoreTxn> begin(TxnMode mode) override;
  // Also LISTENs on kNotifyChannel, on a connection and thread of its own, and
  // tells `listener` what other processes committed: each write transaction
  // NOTIFYs its notice there (PostgreSQL delivers it at COMMIT, to every
  // listening process). After a lost connection it reconnects every second
  // and then tells a notice that concerns everyone (some may have been missed).
  void listen(CommitListener listener) override;

  // The URL without its password.
  std::string display_url() const { return pg::redact_url(pool_.url()); }

  static constexpr const char* kNotifyChannel = "kehu_commits";
  // Names this process in its notices, so that its listener skips its own
  // (they were told at commit already).
  const std::string& origin() const { return origin_; }

 private:
  void listen_loop();

  pg::ConnectionPool pool_;
  const std::string origin_;
  ListenerThread listener_;  // last: stopped before what its loop uses goes
};

}  // namespace kehu::server
