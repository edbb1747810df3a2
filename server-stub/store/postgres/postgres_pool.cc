#include "postgres_pool.h"

#include <chrono>

namespace kehu::server::pg {

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
  }
  return *this;
}

void Lease::release() {
  if (pool_ && conn_) pool_->give_back(std::move(conn_));
  conn_.reset();
}

void Lease::discard() {
  if (pool_ && conn_) {
    conn_.reset();              // closes it
    pool_->give_back(nullptr);  // frees its slot
  }
}

ConnectionPool::ConnectionPool(std::string url, std::size_t max_connections, int wait_ms,
                               std::function<void(Connection&)> setup)
    : url_(std::move(url)), max_(max_connections), wait_ms_(wait_ms), setup_(std::move(setup)) {}

Lease ConnectionPool::acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms_);
    while (idle_.empty() && open_ >= max_) {
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= max_) {
        throw Error(Errc::storage, "all " + std::to_string(max_) + " connections to " +
                                       redact_url(url_) + " stayed busy for " +
                                       std::to_string(wait_ms_ / 1000) + " s");
      }
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot; connect outside the lock (it takes milliseconds)
  }
  try {
    auto conn = std::make_unique<Connection>(url_);
    if (setup_) setup_(*conn);
    return Lease(this, std::move(conn));
  } catch (...) {
    give_back(nullptr);
    throw;
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn && !conn->broken()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  returned_.notify_one();
  // A broken connection (if any) is closed here, outside the lock.
}

}  // namespace kehu::server::pg
