// The SQLite implementation of Store: one file, DIR/kehu-server.db, opened
// through SQLCipher's library without a key (the server's disk is the server's;
// SQLCipher is linked only because it and libsqlite3 cannot both be).
//
// WAL mode, synchronous=NORMAL: readers never block the single writer, and a
// commit is durable once the WAL is synced at checkpoint (a power cut loses at
// most the last few commits, never the file's consistency). Writes are
// serialised by BEGIN IMMEDIATE.
//
// Thread-safety: one connection per thread that calls begin(), kept for the
// store's lifetime (the HTTP server's worker pool is fixed, so this is bounded).
// A db::Database is never shared between threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "listener_thread.h"
#include "store.h"
#include "store_version.h"
#include "writer_gate.h"

namespace kehu::db {
class Database;
}

namespace kehu::server {

class SqliteStore final : public Store {
 public:
  // Creates the file and its tables, or migrates an older file to the current
  // layout. Returns false if the file was already current.
  // Throws Error(storage) for a file that is not a kehu-server store or is newer
  // than this program; Error(not_found) if the directory does not exist.
  static bool initialise(const std::string& path);

  // Opens an initialised store. Throws Error(not_found) when there is no file
  // (message says to run `kehu-server init`), Error(storage) when its layout
  // version is not the current one.
  explicit SqliteStore(std::string path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  std::unique_ptr<StoreTxn> begin(TxnMode mode) override;

  // Writes a consistent copy of the store to `dest` while other threads and
  // processes keep reading and writing (SQLite's online backup API; the copy is
  // one read snapshot). Writes dest + ".tmp" and renames, so `dest` is either the
  // old file or a complete copy. Throws Error(storage) or Error(io).
  void backup_to(const std::string& dest);

  // What SQLite's integrity check finds wrong with the file, the first ten
  // lines; empty when it is sound. A damaged page the revision chain never
  // reads (an index, free space) is found here, not by the chain check
  // (walkthrough 11, R11-13).
  std::vector<std::string> integrity_problems();

  const std::string& path() const { return path_; }

  // Also hears of the commits of other processes on the file (`kehu-server
  // user disable`, `customer reassign`, ... beside `serve`): they send their
  // notices as datagrams to the socket path() + ".notify", which this binds
  // (owner-only, in the server's private folder) and reads on a thread of
  // its own. The PostgreSQL store's NOTIFY, for one file.
  void listen(CommitListener listener) override;
  // A transaction committed: tell the listener, or the listening process.
  void committed(const CommitNotice& notice) const;

 private:
  db::Database& connection();
  void listen_loop();

  std::string path_;
  std::mutex mu_;  // guards connections_
  // Writers of this process queue here, in order (short writes before push
  // batches, writer_gate.h), before BEGIN IMMEDIATE: SQLite's busy handler polls
  // with growing sleeps, and under 8 concurrent pushers one of them could wait
  // past the busy timeout (bench B7). Other processes still meet the busy
  // timeout. A writer waits here at most as long (config::kBusyTimeoutMs), then
  // the request fails with Error(storage), a 503 (docs/protocol.md).
  WriterGate gate_;
  std::map<std::thread::id, std::unique_ptr<db::Database>> connections_;
  // The notice socket: bound by listen() (-1 in a process that does not listen).
  int notice_socket_ = -1;
  unsigned long notice_inode_ = 0;  // the socket file this process bound
  ListenerThread listener_;
};

}  // namespace kehu::server
