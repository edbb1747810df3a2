#include "commit_feed.h"

#include <algorithm>

#include "access_policy.h"
#include "http_errors.h"
#include "kehu/lang.h"

namespace kehu::server {

CommitFeed::CommitFeed(std::size_t max_waiters, std::size_t max_per_user, std::size_t max_per_address,
                       std::size_t max_looking)
    : max_waiters_(max_waiters),
      max_per_user_(max_per_user),
      max_per_address_(max_per_address),
      max_looking_(std::max<std::size_t>(1, max_looking)) {}

CommitFeed::Turn::Turn(CommitFeed& feed) : feed_(feed) {
  std::unique_lock<std::mutex> lock(feed.mu_);
  feed.turns_.wait(lock, [&] { return feed.looking_ < feed.max_looking_ || feed.closed_; });
  ++feed.looking_;
}

CommitFeed::Turn::~Turn() {
  std::lock_guard<std::mutex> lock(feed_.mu_);
  --feed_.looking_;
  feed_.turns_.notify_one();
}

bool CommitFeed::concerns(const Session& session, const CommitNotice& notice) {
  if (!notice.revisions && !notice.everyone) return false;
  if (!notice.scoped() || AccessPolicy::sees_everything(session.role)) return true;
  return std::any_of(notice.scopes.begin(), notice.scopes.end(), [&session](const json& scope) {
    return AccessPolicy::customer_access(session, scope) != Access::none;
  });
}

void CommitFeed::publish(const CommitNotice& notice) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  for (Entry& e : waiters_) {
    const bool account = notice.all_users || std::find(notice.users.begin(), notice.users.end(),
                                                       e.session.user) != notice.users.end();
    bool data = true;  // looking again is always safe
    try {
      data = concerns(e.session, notice);
    } catch (...) {
    }
    if (!account && !data) continue;
    e.woken = true;
    e.cv.notify_one();
  }
}

void CommitFeed::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (Entry& e : waiters_) e.cv.notify_one();
  turns_.notify_all();
}

std::size_t CommitFeed::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

CommitFeed::Waiter::Waiter(CommitFeed& feed, const Session& session, const std::string& address) : feed_(feed) {
  std::lock_guard<std::mutex> lock(feed.mu_);
  if (feed.closed_) {
    throw HttpError(503, "shutting_down", tr("the server is stopping: pull again in a moment",
                                             "服务器正在停止：请稍后再拉取"),
                    /*retry_after_seconds=*/1);
  }
  const std::string most = std::to_string(feed.max_waiters_);
  if (feed.waiters_.size() >= feed.max_waiters_) {
    throw HttpError(503, "too_many_waiting",
                    tr("the server holds as many waiting pulls as it is set to (" + most +
                           "): pull without \"wait\" now, and wait again after Retry-After",
                       "服务器挂起的等待拉取已达上限（" + most + "）：现在请不带 \"wait\" 拉取，"
                                                                 "Retry-After 之后再等待"),
                    kRetryAfterSeconds);
  }
  auto count = [](const std::map<std::string, std::size_t>& counts, const std::string& key) {
    auto it = counts.find(key);
    return it == counts.end() ? std::size_t{0} : it->second;
  };
  if (count(feed.per_address_, address) >= feed.max_per_address_) {
    const std::string per = std::to_string(feed.max_per_address_);
    throw HttpError(503, "too_many_waiting",
                    tr("this address has " + per + " pulls waiting already, the most one address may have, so "
                           "that its other requests get in: pull without \"wait\", and wait again after Retry-After",
                       "这个地址已有 " + per + " 个等待中的拉取，这是每个地址的上限（为其他请求留出连接）：现在请不带 \"wait\" "
                                                "拉取，Retry-After 之后再等待"),
                    kRetryAfterSeconds);
  }
  if (count(feed.per_user_, session.user) >= feed.max_per_user_) {
    const std::string per = std::to_string(feed.max_per_user_);
    throw HttpError(429, "too_many_waiting",
                    tr(session.user + " has " + per + " pulls waiting already, the most one user may have; "
                                                      "pull without \"wait\", or end one of them",
                       session.user + " 已有 " + per + " 个等待中的拉取，这是每个用户的上限；请不带 \"wait\" 拉取，"
                                                       "或结束其中一个"),
                    kRetryAfterSeconds);
  }
  ++feed.per_user_[session.user];
  ++feed.per_address_[address];
  entry_ = feed.waiters_.emplace(feed.waiters_.end());
  entry_->session = session;
  entry_->address = address;
}

CommitFeed::Waiter::~Waiter() {
  std::lock_guard<std::mutex> lock(feed_.mu_);
  auto it = feed_.per_user_.find(entry_->session.user);
  if (it != feed_.per_user_.end() && --it->second == 0) feed_.per_user_.erase(it);
  auto at = feed_.per_address_.find(entry_->address);
  if (at != feed_.per_address_.end() && --at->second == 0) feed_.per_address_.erase(at);
  feed_.waiters_.erase(entry_);
}

CommitFeed::Wake CommitFeed::Waiter::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(feed_.mu_);
  Entry& e = *entry_;
  const bool woken = e.cv.wait_until(lock, deadline, [&] { return feed_.closed_ || e.woken; });
  if (feed_.closed_) return Wake::closed;
  if (!woken) return Wake::timeout;
  e.woken = false;
  return Wake::woken;
}

void CommitFeed::Waiter::update(const Session& session) {
  std::lock_guard<std::mutex> lock(feed_.mu_);
  // The count stays with the user it was taken for: a token's user never changes.
  const std::string user = entry_->session.user;
  entry_->session = session;
  entry_->session.user = user;
}

}  // namespace kehu::server
