// The thread on which a store hears of other processes' commits (Store::listen):
// the PostgreSQL store's LISTEN connection, the SQLite store's notice socket.
// Its waits end at once when the store goes away (a wake pipe), so a
// destructor never waits for a notice that may not come.
//
// Thread-safety: start() and stop() from the owner's thread; wait() and
// stopping() from the listener's own.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace kehu::server {

class ListenerThread {
 public:
  ListenerThread() = default;
  ~ListenerThread() { stop(); }
  ListenerThread(const ListenerThread&) = delete;
  ListenerThread& operator=(const ListenerThread&) = delete;

  // Runs `loop` on the thread. Throws Error(io) when no pipe can be made.
  void start(std::function<void()> loop);
  bool running() const { return thread_.joinable(); }
  // Ends the thread's waits and joins it. Does nothing when it is not running.
  void stop();

  // Waits up to `ms` (-1: without end) for `fd` to be readable (fd < 0: only
  // the time). Returns false once stop() was called.
  bool wait(int fd, int ms);
  bool stopping() const { return stopping_; }

 private:
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace kehu::server
