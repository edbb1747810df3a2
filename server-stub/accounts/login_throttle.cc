#include "login_throttle.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <tuple>

#include "kehu/lang.h"
#include "kehu/text.h"

namespace kehu::server {

namespace {

// Longer names cannot exist (user_admin.h allows 64 bytes), so a longer one is
// cut to 65 bytes: still wrong, still counted, and a huge name costs no memory.
constexpr std::size_t kMaxKeyBytes = 65;

void write_stderr(const std::string& line) {
  const std::string text = line + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);  // one write, so lines never interleave
}

// A user-typed name as it may appear in a log line (text.h): no control
// characters (a newline would forge a line) nor bidi overrides, bounded length.
std::string printable(std::string_view s) { return s.empty() ? "-" : loggable(s, kMaxKeyBytes); }

std::string user_key(std::string_view user) {
  return "u:" + std::string(user.substr(0, kMaxKeyBytes));
}
// An IPv6 client holds a whole /64 (2^64 addresses): its failures count per
// /64, or a flood from one host could pass any per-address limit and fill the
// table (attacker review 15, A15-7). IPv4 (and v4-mapped) addresses as they are.
std::string address_key(std::string_view address) {
  std::string a(address.substr(0, kMaxKeyBytes));
  in6_addr v6{};
  if (a.find(':') != std::string::npos && inet_pton(AF_INET6, a.c_str(), &v6) == 1 && !IN6_IS_ADDR_V4MAPPED(&v6)) {
    for (int i = 8; i < 16; ++i) v6.s6_addr[i] = 0;
    char text[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET6, &v6, text, sizeof text) != nullptr) a = std::string(text) + "/64";
  }
  return "a:" + a;
}

// "45 s", "15 min", "2 h 30 min": rounded up, never "0 s".
std::string human_duration(std::int64_t seconds) {
  if (seconds < 60) return std::to_string(std::max<std::int64_t>(seconds, 1)) + " s";
  const std::int64_t minutes = (seconds + 59) / 60;
  if (minutes < 60) return std::to_string(minutes) + " min";
  const std::int64_t h = minutes / 60, m = minutes % 60;
  return std::to_string(h) + " h" + (m ? " " + std::to_string(m) + " min" : "");
}

}  // namespace

std::int64_t system_unix_seconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso_utc(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string LoginLock::message() const {
  if (message_lang() == Lang::zh) {
    const std::int64_t minutes = (retry_after + 59) / 60;
    const std::string wait = retry_after < 60   ? std::to_string(std::max<std::int64_t>(retry_after, 1)) + " 秒"
                             : minutes < 60     ? std::to_string(minutes) + " 分钟"
                             : minutes % 60 == 0 ? std::to_string(minutes / 60) + " 小时"
                                                 : std::to_string(minutes / 60) + " 小时 " +
                                                       std::to_string(minutes % 60) + " 分钟";
    // The wait alone: a UTC stamp inside a Chinese sentence reads as a wrong clock.
    return (by_address ? "来自 " + subject + " 的" : "用户“" + subject + "”") + "登录失败次数过多；请在 " + wait +
           "后再试";
  }
  return std::string("too many failed logins ") +
         (by_address ? "from " + subject : "for \"" + subject + "\"") + "; try again in " +
         human_duration(retry_after) + " (after " + iso_utc(until) + ")";
}

LoginThrottle::LoginThrottle(ThrottleLimits limits, UnixClock now, LogSink log)
    : limits_(limits),
      now_(now ? std::move(now) : UnixClock(system_unix_seconds)),
      log_(log ? std::move(log) : LogSink(write_stderr)) {
  // Zero or negative limits would lock everyone at once or never end a lock.
  limits_.max_user_failures = std::max(limits_.max_user_failures, 1);
  limits_.max_address_failures = std::max(limits_.max_address_failures, 1);
  limits_.window_seconds = std::max<std::int64_t>(limits_.window_seconds, 1);
  limits_.lock_seconds = std::max<std::int64_t>(limits_.lock_seconds, 1);
  limits_.max_lock_seconds = std::max(limits_.max_lock_seconds, limits_.lock_seconds);
  limits_.max_entries = std::max<std::size_t>(limits_.max_entries, 2);
}

std::optional<LoginLock> LoginThrottle::locked(std::string_view user, std::string_view address) {
  const std::int64_t now = now_();
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<LoginLock> out;
  auto consider = [&](const std::string& key, bool by_address, std::string_view subject) {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.locked_until <= now) return;
    if (out && out->until >= it->second.locked_until) return;
    out = LoginLock{by_address, printable(subject), it->second.locked_until,
                    it->second.locked_until - now};
  };
  consider(user_key(user), false, user);
  if (!address.empty()) consider(address_key(address), true, address);
  return out;
}

std::size_t LoginThrottle::add_failure(const std::string& key, int max_failures, std::int64_t now,
                                       std::int64_t& lock_seconds) {
  Entry& e = entries_[key];
  e.last_seen = now;
  const std::int64_t cutoff = now - limits_.window_seconds;
  e.failures.erase(e.failures.begin(), std::find_if(e.failures.begin(), e.failures.end(),
                                                    [&](std::int64_t t) { return t > cutoff; }));
  e.failures.push_back(now);
  const std::size_t count = e.failures.size();
  if (count >= static_cast<std::size_t>(max_failures)) {
    ++e.locks;
    std::int64_t seconds = limits_.lock_seconds;
    for (int i = 1; i < e.locks && seconds < limits_.max_lock_seconds; ++i) seconds *= 2;
    lock_seconds = std::min(seconds, limits_.max_lock_seconds);
    e.locked_until = now + lock_seconds;
    e.failures.clear();  // the lock is the consequence; counting starts afresh after it
  }
  return count;
}

void LoginThrottle::record_failure(std::string_view user, std::string_view address, bool account) {
  const std::int64_t now = now_();
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() + 2 > limits_.max_entries || now - last_prune_ >= limits_.window_seconds)
      prune(now);
    std::int64_t user_lock = 0, address_lock = 0;
    const std::string ukey = user_key(user);
    const std::size_t user_count = add_failure(ukey, limits_.max_user_failures, now, user_lock);
    if (account) entries_[ukey].account = true;
    std::size_t address_count = 0;
    if (!address.empty()) {
      address_count =
          add_failure(address_key(address), limits_.max_address_failures, now, address_lock);
    }
    const std::string who = "user=" + printable(user) + " address=" + printable(address);
    const std::string at = iso_utc(now);
    lines.push_back(at + " login failed: " + who + " failures=" + std::to_string(user_count) +
                    " (user), " + std::to_string(address_count) + " (address)");
    auto lock_line = [&](const char* what, std::size_t count, std::int64_t seconds,
                         const std::string& key) {
      lines.push_back(at + " login locked: " + who + " locked=" + what + " failures=" +
                      std::to_string(count) + " lock=" + std::to_string(entries_[key].locks) +
                      " for=" + std::to_string(seconds) + "s until=" + iso_utc(now + seconds));
    };
    if (user_lock > 0) lock_line("user", user_count, user_lock, ukey);
    if (address_lock > 0) lock_line("address", address_count, address_lock, address_key(address));
  }
  for (const auto& line : lines) log_(line);  // outside the lock: the sink may block
}

void LoginThrottle::record_success(std::string_view user) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(user_key(user));
}

std::size_t LoginThrottle::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

void LoginThrottle::prune(std::int64_t now) {
  last_prune_ = now;
  const std::int64_t idle = std::max(limits_.window_seconds, limits_.max_lock_seconds);
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Entry& e = it->second;
    if (e.locked_until <= now && e.last_seen + idle <= now) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  if (entries_.size() + 2 <= limits_.max_entries) return;
  // Still full: drop made-up names and addresses before accounts, and of those
  // the longest idle, unlocked ones first, down to 90%, so a flood of made-up
  // names costs one sort per tenth of the table, not one per request.
  std::vector<std::tuple<bool, bool, std::int64_t, std::string>> order;
  order.reserve(entries_.size());
  for (const auto& [key, e] : entries_) order.emplace_back(e.account, e.locked_until > now, e.last_seen, key);
  std::sort(order.begin(), order.end());
  const std::size_t keep = limits_.max_entries * 9 / 10;
  const std::size_t drop = entries_.size() + 2 > keep ? entries_.size() + 2 - keep : 0;
  for (std::size_t i = 0; i < drop && i < order.size(); ++i) entries_.erase(std::get<3>(order[i]));
}

}  // namespace kehu::server
