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

void restore_signals(const struct sigaction& old_int, const struct sigaction& old_term) {
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
}

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
    // Text: the local time of day; JSON: ISO-8601 UTC, as every --json time
    // (walkthrough 16, W16-3).
    std::tm parts{};
    if (json_) {
      gmtime_r(&now, &parts);
      std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &parts);
    } else {
      localtime_r(&now, &parts);
      std::strftime(stamp, sizeof stamp, "%H:%M:%S", &parts);
    }
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
  // Said as every command says it (stderr, exit 1), before any status line
  // (walkthrough 16, W16-4).
  if (rep.meta("token").empty()) {
    throw Error(Errc::unauthorized, tr("not logged in: run `kehu login --server URL --user NAME`",
                                       "未登录：请运行 `kehu login --server URL --user NAME`"));
  }
  const std::string server = rep.meta("server");
  auto opts = net_options(ctx, net);
  opts.progress = nullptr;  // one line per state instead of a rewritten one
  // A request is tried twice, then the round fails and this loop's backoff,
  // which knows no bound of attempts, takes over.
  opts.max_attempts = 2;
  // Ctrl-C ends any request at once, and a server that stops answering is
  // given up after the wait and a margin (walkthrough 16, W16-8).
  opts.cancelled = [] { return g_stop.load(); };
  opts.http.stall_timeout_s = wait_seconds + 20;
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
  const int kFirstBackoffMs = 1000, kMaxBackoffMs = 300000;
  std::atomic<int> backoff_ms{kFirstBackoffMs};
  opts.waiting = [&] {
    at_wait = mark_of(ctx.db_path);
    wait_began = std::chrono::steady_clock::now();
    // The server answered this round's push and pull: an outage that begins
    // now starts again at the first step (walkthrough 16, W16-1).
    backoff_ms = kFirstBackoffMs;
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

  // Sleeps `ms`, less if stopped or an edit is made here (worth trying at once).
  auto pause = [&ctx](int ms) {
    const FileMark before = mark_of(ctx.db_path);
    for (int slept = 0; slept < ms && !g_stop; slept += 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (mark_of(ctx.db_path) != before) break;
    }
  };
  std::mt19937 rng(std::random_device{}());
  bool first = true;
  status.say("connecting", tr("syncing continuously with " + server, "正在与 " + server + " 持续同步"));
  while (!g_stop) {
    // The first round does not wait: what is pending goes, what is new comes.
    opts.wait_seconds = first ? 0 : wait_seconds;
    local_edit = false;
    const std::string token = rep.meta("token");
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
      // The server holds as many waiting devices as it may: poll, as it asks,
      // instead of asking again at once (walkthrough 16, W16-9).
      if (r.poll_after_s > 0) {
        const std::string every = std::to_string(r.poll_after_s);
        status.say("polling", tr("the server is busy with waiting devices: checking every " + every + " s instead",
                                 "服务器等待中的设备已满：改为每 " + every + " 秒检查一次"),
                   {{"poll_every_s", r.poll_after_s}});
        pause(static_cast<int>(r.poll_after_s) * 1000);
      }
    } catch (const Error& e) {
      if (g_stop) break;
      // `kehu passwd` on this device replaced the token the round was using:
      // go on with the new one (walkthrough 16, W16-5). The server revokes
      // the old one before `kehu passwd` has stored the new one: give it a
      // moment.
      if (e.code() == Errc::unauthorized) {
        bool replaced = false;
        for (int i = 0; i < 30 && !replaced && !g_stop; ++i) {
          const std::string now = rep.meta("token");
          replaced = !now.empty() && now != token;
          if (!replaced) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (replaced) continue;
      }
      if (e.code() != Errc::network && e.code() != Errc::server) {
        // Not the network's fault: retrying would not help. Said on stdout as
        // a state, and as every error on stderr with its exit code.
        status.say("stopped", tr("stopped: ", "已停止：") + e.what(), {{"error", errc_name(e.code())}});
        restore_signals(old_int, old_term);
        throw;
      }
      // Offline, or the server failing: wait, doubling up to 5 minutes, with
      // jitter so that a team's devices do not all come back at once. The
      // line says where and how long; JSON has the whole message.
      const int sleep_ms = std::uniform_int_distribution<int>(backoff_ms / 2, backoff_ms)(rng);
      const std::string in = std::to_string(std::max(1, (sleep_ms + 500) / 1000));
      status.say("offline",
                 e.code() == Errc::network
                     ? tr("offline: cannot reach " + server + "; trying again in " + in + " s",
                          "离线：连不上 " + server + "；" + in + " 秒后再试")
                     : tr("the server " + server + " is failing; trying again in " + in + " s",
                          "服务器 " + server + " 出错；" + in + " 秒后再试"),
                 {{"error", errc_name(e.code())}, {"detail", e.what()}, {"retry_in_ms", sleep_ms}});
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
      pause(sleep_ms);
    }
  }
  status.say("stopped", tr("stopped", "已停止"));
  restore_signals(old_int, old_term);
  return 0;
}

}  // namespace kehu::cli
