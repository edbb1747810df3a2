// WriterGate: lets one writer of a process in at a time, in the order they came,
// a short write (a login, a lease, a claim, an approval) before any waiting push
// batch. std::timed_mutex is unfair: a few users pushing in a loop took it again
// and again while a login waited its 10 s and got 503 (attacker review 5, A5-5).
// A batch holds the gate for at most its time budget, so a short write waits at
// most for the one batch inside.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>

namespace kehu::server {

class WriterGate {
 public:
  // Held while a writer is inside; leaves the gate when destroyed.
  class Pass {
   public:
    Pass() = default;
    explicit Pass(WriterGate* gate) : gate_(gate) {}
    Pass(Pass&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)) {}
    Pass& operator=(Pass&& o) noexcept {
      if (this != &o) {
        release();
        gate_ = std::exchange(o.gate_, nullptr);
      }
      return *this;
    }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() { release(); }
    explicit operator bool() const { return gate_ != nullptr; }
    void release() {
      if (gate_) std::exchange(gate_, nullptr)->leave();
    }

   private:
    WriterGate* gate_ = nullptr;
  };

  // Writers waiting now (for tests).
  std::size_t waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return shorts_.size() + batches_.size();
  }

  // Waits up to `timeout` for the gate; an empty Pass when it did not open in time.
  Pass enter(bool batch, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    const std::uint64_t me = next_++;
    std::deque<std::uint64_t>& line = batch ? batches_ : shorts_;
    line.push_back(me);
    auto my_turn = [&] {
      if (inside_ || line.front() != me) return false;
      return !batch || shorts_.empty();  // a short write goes first
    };
    if (!changed_.wait_for(lock, timeout, my_turn)) {
      line.erase(std::find(line.begin(), line.end(), me));
      lock.unlock();
      changed_.notify_all();  // the next in line may be free to go now
      return Pass();
    }
    line.pop_front();
    inside_ = true;
    return Pass(this);
  }

 private:
  void leave() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      inside_ = false;
    }
    changed_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  bool inside_ = false;
  std::uint64_t next_ = 0;
  std::deque<std::uint64_t> shorts_, batches_;
};

}  // namespace kehu::server
