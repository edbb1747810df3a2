#include "read_slots.h"

#include "http_errors.h"
#include "kehu/lang.h"

namespace kehu::server {

ReadSlots::Slot::Slot(ReadSlots& slots, const std::string& user) : Slot(slots, user, std::chrono::milliseconds(0)) {}

ReadSlots::Slot::Slot(ReadSlots& slots, const std::string& user, std::chrono::milliseconds patience)
    : slots_(slots), user_(user) {
  std::unique_lock<std::mutex> lock(slots_.mu_);
  if (patience.count() > 0) {
    slots_.freed_.wait_for(lock, patience, [&] { return slots_.held_[user_] < slots_.per_user_; });
  }
  int& n = slots_.held_[user_];
  if (n >= slots_.per_user_) {
    const std::string most = std::to_string(slots_.per_user_);
    throw HttpError(429, "too_many_reads",
                    tr("at most " + most + " requests of one user are answered at once; " + user_ +
                           " has that many running: retry in a moment",
                       "每个用户同时最多处理 " + most + " 个请求；" + user_ + " 已有这么多正在处理：请稍后重试"),
                    /*retry_after_seconds=*/1);
  }
  ++n;
}

ReadSlots::Slot::~Slot() {
  std::lock_guard<std::mutex> lock(slots_.mu_);
  auto it = slots_.held_.find(user_);
  if (it != slots_.held_.end() && --it->second <= 0) slots_.held_.erase(it);
  slots_.freed_.notify_all();
}

int ReadSlots::held(const std::string& user) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(user);
  return it == held_.end() ? 0 : it->second;
}

}  // namespace kehu::server
