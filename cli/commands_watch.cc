// kehu sync --watch: continuous sync in the foreground (issue 16). Each round
// pushes what is pending and then waits on the server (a waiting pull,
// docs/protocol.md) for the team's next edit in the user's scope; an edit made
// here meanwhile (another `kehu` process writes the replica) ends the wait so
// that it goes at once. Offline, it retries with capped exponential backoff
// and jitter. One status line per change of state; Ctrl-C or SIGTERM ends the
// round in flight (an interrupted push or pull loses and repeats nothing, as
// every sync) and exits 0.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "commands.h"
#include "kehu/lang.h"
#include "kehu/sync/sync_session.h"
#include "output.h"

namespace kehu::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop = true; }

// The replica's file and its WAL as last written: another process's edit
// changes them. Our own writes happen outside the wait.
struct FileMark {
  std::int64_t size = -1, mtime_ns = -1, wal_size = -1, wal_mtime_ns = -1;
  bool operator!=(const FileMark& o) const {
    return size != o.size || mtime_ns != o.mtime_ns || wal_size != o.wal_size || wal_mtime_ns != o.wal_mtime_ns;
  }
};

FileMark mark_of(const std::string& path) {
  FileMark m;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    m.size = st.st_size;
    m.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  if (::stat((path + "-wal").c_str(), &st) == 0) {
    m.wal_size = st.st_size;
    m.wal_mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  return m;
}

// One status line, prefixed with the local time, unless it repeats the last.
class StatusLines {
 public:
  explicit StatusLines(bool json) : json_(json) {}
  void say(const std::string& state, const std::string& text, const json& extra = json::object()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (state == last_ && text == last_text_) return;
    last_ = state;
    last_text_ = text;
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&now));
    if (json_) {
      json line = {{"state", state}, {"message", text}, {"at", stamp}};
      line.update(extra);
      std::cout << line.dump() << std::endl;
    } else {
      std::cout << "[" << stamp << "] " << text << std::endl;
    }
  }

 private:
  std::mutex mu_;
  std::string last_, last_text_;
  const bool json_;
};

}  // namespace

int cmd_sync_watch(Context& ctx, const NetArgs& net, int wait_seconds) {
  Replica& rep = ctx.replica();
  auto opts = net_options(ctx, net);
  opts.progress = nullptr;  // one line per state instead of a rewritten one
  // A request is tried twice, then the round fails and this loop's backoff,
  // which knows no bound of attempts, takes over.
  opts.max_attempts = 2;
  StatusLines status(ctx.json);
  g_stop = false;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  FileMark at_wait;
  bool local_edit = false;
  std::chrono::steady_clock::time_point wait_began;
  opts.waiting = [&] {
    at_wait = mark_of(ctx.db_path);
    wait_began = std::chrono::steady_clock::now();
  };
  opts.stop_waiting = [&] {
    if (g_stop) return true;
    // Said once the server holds the pull (a pull that brings something back
    // at once, this device's own push, is not waiting).
    if (std::chrono::steady_clock::now() - wait_began > std::chrono::milliseconds(500)) {
      status.say("idle", tr("up to date; waiting for the team's changes (Ctrl-C stops)",
                            "已是最新；等待团队的修改（Ctrl-C 停止）"));
    }
    local_edit = mark_of(ctx.db_path) != at_wait;
    return local_edit;
  };
  opts.counts = [&](ProgressKind kind, std::size_t done, std::size_t total) {
    if (kind == ProgressKind::push_changes && total > 0 && done == 0) {
      status.say("pushing", tr("pushing " + std::to_string(total) + " change(s)",
                               "正在上传 " + std::to_string(total) + " 条修改"));
    } else if (kind == ProgressKind::pull_revisions && done > 0) {
      status.say("pulling", tr("receiving changes (" + std::to_string(done) + ")",
                               "正在接收修改（" + std::to_string(done) + "）"));
    }
  };

  std::mt19937 rng(std::random_device{}());
  const int kFirstBackoffMs = 1000, kMaxBackoffMs = 300000;
  int backoff_ms = kFirstBackoffMs;
  int rc = 0;
  bool first = true;
  status.say("connecting", tr("syncing continuously with " + rep.meta("server"),
                              "正在与 " + rep.meta("server") + " 持续同步"));
  while (!g_stop) {
    // The first round does not wait: what is pending goes, what is new comes.
    opts.wait_seconds = first ? 0 : wait_seconds;
    local_edit = false;
    try {
      sync::SyncReport r = sync::sync(rep, opts);
      first = false;
      backoff_ms = kFirstBackoffMs;
      if (r.pushed > 0 || r.pulled_revisions > 0 || r.rejected > 0 || r.conflicts > 0 || r.awaiting > 0) {
        std::string line;
        auto add = [&line](const std::string& part) { line += (line.empty() ? "" : tr("; ", "；")) + part; };
        if (r.pushed > 0) add(tr("sent " + std::to_string(r.pushed) + " change(s)",
                                 "上传了 " + std::to_string(r.pushed) + " 条修改"));
        if (r.pulled_revisions > 0) add(tr("received " + std::to_string(r.pulled_revisions) + " change(s)",
                                           "收到 " + std::to_string(r.pulled_revisions) + " 条修改"));
        if (r.conflicts > 0) add(tr(std::to_string(r.conflicts) + " conflict(s): kehu conflicts",
                                    std::to_string(r.conflicts) + " 处冲突：kehu conflicts"));
        if (r.rejected > 0) add(tr(std::to_string(r.rejected) + " refused: kehu rejected",
                                   std::to_string(r.rejected) + " 条被拒绝：kehu rejected"));
        if (r.awaiting > 0) add(tr(std::to_string(r.awaiting) + " awaiting approval: kehu status",
                                   std::to_string(r.awaiting) + " 条等待审批：kehu status"));
        status.say("synced", line,
                   {{"pushed", r.pushed}, {"pulled_revisions", r.pulled_revisions}, {"conflicts", r.conflicts},
                    {"rejected", r.rejected}, {"awaiting_approval", r.awaiting}});
      }
    } catch (const Error& e) {
      if (g_stop) break;
      if (e.code() == Errc::unauthorized || e.code() == Errc::forbidden || e.code() == Errc::validation ||
          e.code() == Errc::protocol || e.code() == Errc::storage || e.code() == Errc::internal ||
          e.code() == Errc::usage || e.code() == Errc::io) {
        // Not the network's fault: retrying would not help.
        status.say("stopped", tr("stopped: ", "已停止：") + e.what(), {{"error", errc_name(e.code())}});
        rc = exit_code(e.code());
        break;
      }
      // Offline, or the server failing: wait, doubling up to 5 minutes, with
      // jitter so that a team's devices do not all come back at once.
      const int sleep_ms = std::uniform_int_distribution<int>(backoff_ms / 2, backoff_ms)(rng);
      status.say("offline", tr("offline: " + std::string(e.what()) + "; retrying in " +
                                   std::to_string((sleep_ms + 999) / 1000) + " s",
                               std::string("离线：") + e.what() + "；" + std::to_string((sleep_ms + 999) / 1000) +
                                   " 秒后重试"),
                 {{"error", errc_name(e.code())}, {"retry_in_ms", sleep_ms}});
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
      const FileMark before = mark_of(ctx.db_path);
      for (int slept = 0; slept < sleep_ms && !g_stop; slept += 100) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        // A local edit is worth trying again at once.
        if (mark_of(ctx.db_path) != before) break;
      }
      status.say("connecting", tr("connecting to " + rep.meta("server"), "正在连接 " + rep.meta("server")));
    }
  }
  if (g_stop) status.say("stopped", tr("stopped", "已停止"));
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return rc;
}

}  // namespace kehu::cli
