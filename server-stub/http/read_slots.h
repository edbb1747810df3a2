// The requests each user may have being answered at once (every authenticated
// route: pull, history, audit, approvals, ...): at most `per_user`, held while
// the handler builds its answer (attacker reviews 15 and 16: 75 parallel pulls
// or 40 approvals lists of one token took the process to about 1 GB). Past
// them HttpError 429 too_many_reads; the client asks again after Retry-After.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

namespace kehu::server {

class ReadSlots {
 public:
  explicit ReadSlots(int per_user) : per_user_(per_user) {}
  ReadSlots(const ReadSlots&) = delete;
  ReadSlots& operator=(const ReadSlots&) = delete;

  // One request's slot, given back when it ends.
  class Slot {
   public:
    // Throws HttpError 429 too_many_reads when `user` holds every slot.
    Slot(ReadSlots& slots, const std::string& user);
    // Waits up to `patience` for one of `user`'s slots to come free first: a
    // user's waiting pulls woken by one commit look one after another
    // (commit_feed.h), not fail.
    Slot(ReadSlots& slots, const std::string& user, std::chrono::milliseconds patience);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    ReadSlots& slots_;
    std::string user_;
  };

  // The slots `user` holds now.
  int held(const std::string& user) const;

 private:
  const int per_user_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::map<std::string, int> held_;  // users holding none are absent
};

}  // namespace kehu::server
