#include "elastic_pool.h"

#include <algorithm>
#include <utility>

namespace kehu::server {

ElasticPool::ElasticPool(std::size_t min_threads, std::size_t max_threads, std::chrono::seconds idle)
    : min_(std::min(min_threads, max_threads)), max_(std::max<std::size_t>(max_threads, 1)), idle_timeout_(idle) {}

ElasticPool::~ElasticPool() { shutdown(); }

void ElasticPool::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  jobs_.push_back(std::move(fn));
  // Every idle worker will take one queued task; start one more for the rest.
  if (jobs_.size() > idle_ && live_ < max_) {
    reap_locked();
    ++live_;
    threads_.emplace_back([this] { work(); });
  }
  cv_.notify_one();
}

void ElasticPool::shutdown() {
  std::list<std::thread> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    all.swap(threads_);
    exited_.clear();
  }
  cv_.notify_all();
  for (auto& t : all) {
    if (t.joinable()) t.join();
  }
}

std::size_t ElasticPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

// REQUIRES: mu_ held. Joins the workers that have retired (they are past their
// last use of the pool, so the join returns at once).
void ElasticPool::reap_locked() {
  for (const auto& id : exited_) {
    auto it = std::find_if(threads_.begin(), threads_.end(), [&](const std::thread& t) { return t.get_id() == id; });
    if (it != threads_.end()) {
      it->join();
      threads_.erase(it);
    }
  }
  exited_.clear();
}

void ElasticPool::work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    ++idle_;
    const bool woken = cv_.wait_for(lock, idle_timeout_, [this] { return !jobs_.empty() || shutdown_; });
    --idle_;
    if (jobs_.empty()) {
      if (shutdown_ || (!woken && live_ > min_)) break;
      continue;
    }
    std::function<void()> fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    fn = nullptr;
    lock.lock();
  }
  --live_;
  if (!shutdown_) exited_.push_back(std::this_thread::get_id());
}

}  // namespace kehu::server
