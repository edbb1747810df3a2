// A small pool of PostgreSQL connections shared by a server's request threads.
//
// acquire() hands out an idle connection, or opens a new one while fewer than
// `max_connections` are open, or waits for one to come back (at most
// `wait_ms`, then Error(storage)). A Lease gives its connection back when it ends
// (the store's transaction ends it at commit or rollback); a connection that
// broke meanwhile is closed instead, and the next acquire() opens a fresh one.
// The cap keeps several server processes within PostgreSQL's max_connections.
//
// Thread-safety: acquire() may be called from any thread; a Lease and its
// connection belong to the thread that acquired it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "postgres_connection.h"

namespace kehu::server::pg {

class ConnectionPool;

// Exclusive use of one pooled connection until destroyed. Move-only.
class Lease {
 public:
  Lease() = default;
  Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
      : pool_(pool), conn_(std::move(conn)) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { release(); }

  Connection& operator*() const { return *conn_; }
  Connection* operator->() const { return conn_.get(); }
  explicit operator bool() const { return conn_ != nullptr; }
  // Gives the connection back now (closed instead if it is broken).
  void release();
  // Closes the connection instead of giving it back (its state is unknown).
  void discard();

 private:
  ConnectionPool* pool_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

class ConnectionPool {
 public:
  // Opens no connection yet. `url` is a postgresql:// URL; `setup` runs once on
  // every new connection before it is handed out (session settings).
  ConnectionPool(std::string url, std::size_t max_connections, int wait_ms,
                 std::function<void(Connection&)> setup = {});
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Throws Error(storage) when no connection can be opened or none comes back
  // within wait_ms.
  Lease acquire();

  const std::string& url() const { return url_; }

 private:
  friend class Lease;
  // Takes a connection back (or closes it if it is broken or null).
  void give_back(std::unique_ptr<Connection> conn);

  const std::string url_;
  const std::size_t max_;
  const int wait_ms_;
  const std::function<void(Connection&)> setup_;
  std::mutex mu_;  // guards idle_ and open_
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // idle + leased, and those being opened
};

}  // namespace kehu::server::pg
