// Waiting pulls (docs/protocol.md "Waiting pulls"): a POST /v1/pull with
// "wait" that finds nothing new is held until a commit may concern its user,
// then looks again. The store tells the feed of every commit (Store::listen;
// with PostgreSQL, of other server processes' commits too), and the feed wakes
// the waiters the commit may concern:
//   - revisions whose customers' scopes (owner, province, city, before and
//     after) the waiter's session may see (AccessPolicy::customer_access), or
//     any revisions for the roles that see everything, or revisions or settings
//     that concern everyone;
//   - a change to the waiter's account (tokens, role, regions, disabled), or a
//     token deleted by its hash alone: the waiter checks its token again.
// A waiter is woken at most once per call of wait_until however many commits
// came: a burst costs one look.
//
// Waiting holds the request's worker thread (elastic_pool.h), so the feed has
// a capacity: at most `max_waiters` at once (then 503 too_many_waiting with
// Retry-After: the client pulls without waiting), `max_per_user` per user
// (429), so that one token cannot take them all, and `max_per_address` per
// client address (503), so that waiting devices behind one NAT leave room
// under the per-address connection cap for everything else (attacker review
// 16, A16-1: 64 of them kept every other request of the address out).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <string>

#include "commit_notice.h"
#include "session.h"

namespace kehu::server {

class CommitFeed {
  // One waiter's state, guarded by mu_.
  struct Entry {
    Session session;
    std::string address;
    bool woken = false;  // a notice concerned it since its last wait
    std::condition_variable cv;
  };

 public:
  CommitFeed(std::size_t max_waiters, std::size_t max_per_user, std::size_t max_per_address,
             std::size_t max_looking = 8);
  CommitFeed(const CommitFeed&) = delete;
  CommitFeed& operator=(const CommitFeed&) = delete;

  // Wakes the waiters `notice` may concern. Never throws.
  void publish(const CommitNotice& notice) noexcept;
  // Wakes every waiter for good and lets none wait again (the server stops).
  void close();
  // Waiters now (for tests and the benchmark).
  std::size_t waiting() const;

  // Whether revisions described by `notice` may be in `session`'s scope.
  static bool concerns(const Session& session, const CommitNotice& notice);

  enum class Wake {
    timeout,  // the deadline passed
    woken,    // a commit may concern the session, or its account changed:
              // authenticate again, then look again
    closed,   // the server stops
  };

  // One waiting request; counted from construction, so that nothing committed
  // between the request's first look and its first wait is missed.
  class Waiter {
   public:
    // Throws HttpError 503 too_many_waiting (Retry-After) when the feed holds
    // max_waiters or `address` max_per_address, 429 too_many_waiting when
    // session.user holds max_per_user, and 503 when the feed is closed.
    Waiter(CommitFeed& feed, const Session& session, const std::string& address);
    ~Waiter();
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    // Returns at once for what came since the last call, else waits until
    // `deadline` for the next.
    Wake wait_until(std::chrono::steady_clock::time_point deadline);
    // The session after a new authentication (role and regions may differ).
    void update(const Session& session);

   private:
    CommitFeed& feed_;
    std::list<Entry>::iterator entry_;
  };

  // A woken waiter's turn to look again: at most `max_looking` build their
  // pages at once, the others queue in arrival order, so one commit that
  // wakes hundreds costs a few pages' memory at a time (attacker review 16,
  // A16-9: a bulk write woke 160, and memory rose by 590 MB).
  class Turn {
   public:
    explicit Turn(CommitFeed& feed);
    ~Turn();
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;

   private:
    CommitFeed& feed_;
  };

  // Seconds a client is told to wait (Retry-After) before waiting again when
  // the feed is full.
  static constexpr long kRetryAfterSeconds = 15;

 private:
  const std::size_t max_waiters_, max_per_user_, max_per_address_, max_looking_;
  std::size_t looking_ = 0;
  std::condition_variable turns_;
  mutable std::mutex mu_;
  std::list<Entry> waiters_;
  std::map<std::string, std::size_t> per_user_, per_address_;
  bool closed_ = false;
};

}  // namespace kehu::server
