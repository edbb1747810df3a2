#include "commit_feed.h"

#include <algorithm>

#include "access_policy.h"
#include "http_errors.h"
#include "kehu/lang.h"

namespace kehu::server {

CommitFeed::CommitFeed(std::size_t max_waiters, std::size_t max_per_user)
    : max_waiters_(max_waiters), max_per_user_(max_per_user) {}

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
    bool data = false;
    try {
      data = concerns(e.session, notice);
    } catch (...) {
      data = true;  // looking again is always safe
    }
    if (!account && !data) continue;
    e.account = e.account || account;
    e.data = e.data || data;
    e.cv.notify_one();
  }
}

void CommitFeed::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (Entry& e : waiters_) e.cv.notify_one();
}

std::size_t CommitFeed::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

CommitFeed::Waiter::Waiter(CommitFeed& feed, const Session& session) : feed_(feed) {
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
  std::size_t& mine = feed.per_user_[session.user];
  if (mine >= feed.max_per_user_) {
    const std::string per = std::to_string(feed.max_per_user_);
    throw HttpError(429, "too_many_waiting",
                    tr(session.user + " has " + per + " pulls waiting already, the most one user may have; "
                                                      "pull without \"wait\", or end one of them",
                       session.user + " 已有 " + per + " 个等待中的拉取，这是每个用户的上限；请不带 \"wait\" 拉取，"
                                                       "或结束其中一个"),
                    kRetryAfterSeconds);
  }
  ++mine;
  entry_ = feed.waiters_.emplace(feed.waiters_.end());
  entry_->session = session;
}

CommitFeed::Waiter::~Waiter() {
  std::lock_guard<std::mutex> lock(feed_.mu_);
  auto it = feed_.per_user_.find(entry_->session.user);
  if (it != feed_.per_user_.end() && --it->second == 0) feed_.per_user_.erase(it);
  feed_.waiters_.erase(entry_);
}

CommitFeed::Wake CommitFeed::Waiter::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(feed_.mu_);
  Entry& e = *entry_;
  const bool woken = e.cv.wait_until(lock, deadline, [&] { return feed_.closed_ || e.account || e.data; });
  if (feed_.closed_) return Wake::closed;
  if (!woken) return Wake::timeout;
  const Wake wake = e.account ? Wake::account : Wake::data;
  e.account = e.data = false;
  return wake;
}

void CommitFeed::Waiter::update(const Session& session) {
  std::lock_guard<std::mutex> lock(feed_.mu_);
  // The count stays with the user it was taken for: a token's user never changes.
  const std::string user = entry_->session.user;
  entry_->session = session;
  entry_->session.user = user;
}

}  // namespace kehu::server
