// The HTTP server's worker pool (httplib::TaskQueue): idle workers are reused,
// a new one is started when none is idle, up to `max_threads`; past that, tasks
// wait in arrival order. Workers above `min_threads` exit after `idle` without a
// task. httplib runs one connection's whole keep-alive life as one task, so the
// pool must be as large as the connections the server should hold at once
// (server_config.h kMaxWorkers says why 512).
//
// Thread-safety: enqueue() from any thread (httplib calls it from its accept
// loop); shutdown() once, then runs the tasks already queued and joins.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace kehu::server {

class ElasticPool : public httplib::TaskQueue {
 public:
  ElasticPool(std::size_t min_threads, std::size_t max_threads, std::chrono::seconds idle);
  ~ElasticPool() override;
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // Workers alive now (for tests and the log).
  std::size_t threads() const;

 private:
  void work();
  void reap_locked();

  const std::size_t min_, max_;
  const std::chrono::seconds idle_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::list<std::thread> threads_;
  std::vector<std::thread::id> exited_;  // retired workers not yet joined
  std::size_t live_ = 0, idle_ = 0;
  bool shutdown_ = false;
};

}  // namespace kehu::server
