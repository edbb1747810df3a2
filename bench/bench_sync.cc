// B4-B8: sync against a real kehu-server on 127.0.0.1.
//
// Push and pull share one sync() call, and the library reports no phase times, so
// the push phase is read off SyncOptions::progress: sync pushes, then pulls, and
// reports "pulled N revisions…" after storing each pull page. The push phase ends
// when the first pull request starts, about one pull page before that first
// "pulled" line (pulls are pipelined, so later pages come faster than the first:
// the estimate errs toward a longer push phase, never a flattering one). The
// server's request log (one line per request, with its handler time) gives the
// server's share.
#include <algorithm>
#include <filesystem>
#include <latch>
#include <map>
#include <mutex>
#include <thread>

#include "bare_pull.h"
#include "benches.h"
#include "child_process.h"
#include "data_gen.h"
#include "kehu/error.h"
#include "kehu/sync/http_client.h"
#include "kehu/sync/sync_session.h"
#include "stats.h"

namespace kehu::bench {

using launch::ChildResult;
using launch::run_child;

namespace {

constexpr std::int64_t kBatch = 1000;

// Times of the progress lines of one sync.
struct PhaseClock {
  Clock::time_point start = Clock::now();
  std::vector<Clock::time_point> pulled;  // each "pulled …" line

  void on_progress(const std::string& line) {
    if (line.rfind("pulled", 0) == 0) pulled.push_back(Clock::now());
  }
  // Seconds from start to the start of the first pull request: the first
  // "pulled" line minus one typical pull page (the median gap between later
  // "pulled" lines; nothing when there was a single page, which then counts as
  // push time: a conservative estimate). If nothing was pulled, `end`.
  double push_seconds(Clock::time_point end) const {
    if (pulled.empty()) return std::chrono::duration<double>(end - start).count();
    double page = 0;
    if (pulled.size() >= 2) {
      std::vector<double> gaps;
      for (std::size_t i = 1; i < pulled.size(); ++i) {
        gaps.push_back(std::chrono::duration<double>(pulled[i] - pulled[i - 1]).count());
      }
      page = median(gaps);
    }
    const double first = std::chrono::duration<double>(pulled.front() - start).count();
    return first - std::min(page, first / 2);  // never more than half of it
  }
};

struct LogSummary {
  std::int64_t requests = 0, errors = 0;
  double ms = 0;
  std::vector<double> each_ms;
};

LogSummary summarise(const std::vector<RequestLogLine>& lines, const std::string& path) {
  LogSummary s;
  for (const auto& l : lines) {
    if (l.path != path) continue;
    ++s.requests;
    if (l.status != 200) ++s.errors;
    s.ms += l.ms;
    s.each_ms.push_back(l.ms);
  }
  return s;
}

std::string seconds_text(double s) { return format_number(s) + " s"; }

// Logs the big replica in to the main server as the writer (once).
void ensure_logged_in(Workspace& ws, Replica& rep) {
  if (!rep.meta("token").empty()) return;
  sync::login(rep, ws.main_server().url(), kWriterUser, ServerProcess::kPassword, {});
}

// The big replica pushed to the main server (B5's work, untimed if B5 did not run).
void ensure_big_synced(Workspace& ws) {
  if (ws.big_synced) return;
  Replica& rep = ensure_big_replica(ws);
  ensure_logged_in(ws, rep);
  sync::sync(rep, {});
  ws.big_synced = true;
}

// Thrown from a progress callback to end a sync once its push phase is over (B7).
struct PushDone {};

}  // namespace

Figure bench_b5_push(Workspace& ws) {
  Figure f("B5", "push every pending change of one replica (sync)", "changes/s");
  Replica& rep = ensure_big_replica(ws);
  ServerProcess& srv = ws.main_server();
  ensure_logged_in(ws, rep);
  const std::int64_t pending = rep.status().pending;
  const auto mark = srv.log_mark();
  const double cpu0 = srv.cpu_seconds();
  PhaseClock clock;
  sync::SyncOptions opts;
  opts.progress = [&](const std::string& line) { clock.on_progress(line); };
  clock.start = Clock::now();
  sync::SyncReport r = sync::sync(rep, opts);
  const auto end = Clock::now();
  ws.big_synced = true;
  const double server_cpu_s = srv.cpu_seconds() - cpu0;
  const double total_s = std::chrono::duration<double>(end - clock.start).count();
  const double push_s = clock.push_seconds(end);
  const auto log = srv.requests_since(mark);
  const LogSummary push = summarise(log, "/v1/push"), pull = summarise(log, "/v1/pull");
  f.value = static_cast<double>(r.pushed) / push_s;
  f.shown = format_number(f.value) + " changes/s (push share)";
  f.target = "≥ 30,000 changes/s";
  f.pass = f.value >= 30'000 && r.rejected == 0;
  f.note = std::to_string(r.pushed) + " changes (" + std::to_string(r.applied) + " applied, " +
           std::to_string(r.rejected) + " rejected) pushed in " + seconds_text(push_s) + " (" +
           std::to_string(push.requests) + " requests; server handler time " +
           seconds_text(push.ms / 1000) + "); the whole sync took " + seconds_text(total_s) +
           " because it then pulls its own " + std::to_string(r.pulled_revisions) +
           " revisions back (" + std::to_string(pull.requests) + " pages; server " +
           seconds_text(pull.ms / 1000) + ")";
  f.extra = {{"pending_before", pending},
             {"pushed", r.pushed},
             {"applied", r.applied},
             {"rejected", r.rejected},
             {"push_seconds", push_s},
             {"sync_seconds", total_s},
             {"whole_sync_changes_per_s", static_cast<double>(r.pushed) / total_s},
             {"server_push_ms_total", push.ms},
             {"server_push_requests", push.requests},
             {"server_push_ms_p50", median(push.each_ms)},
             {"server_pull_ms_total", pull.ms},
             {"pulled_revisions", r.pulled_revisions},
             {"pulled_records", r.pulled_records},
             {"server_cpu_seconds_whole_sync", server_cpu_s}};
  return f;
}

Figure bench_b4_first_sync(Workspace& ws) {
  Figure f("B4", "first sync: `kehu sync` into an empty replica", "records/s");
  ensure_big_synced(ws);
  ServerProcess& srv = ws.main_server();
  const std::int64_t customers = ws.big_customers();

  // Baseline twice around the CLI run; the faster is the limit.
  const std::string token = bare_login(srv.url(), kReaderUser, ServerProcess::kPassword);
  const auto bare_mark = srv.log_mark();
  const BarePullResult bare1 = bare_pull_all(srv.url(), token, 500);
  const LogSummary bare_pull = summarise(srv.requests_since(bare_mark), "/v1/pull");

  const std::string dir = ws.path("b4");
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/replica.kehu";
  const std::map<std::string, std::string> env = {{"KEHU_PASSPHRASE", kPassphrase},
                                                  {"KEHU_PASSWORD", ServerProcess::kPassword},
                                                  {"KEHU_LANG", "en"}};
  auto kehu = [&](const std::string& step, std::vector<std::string> args, int timeout_s) {
    args.insert(args.begin(), {"--db", db});
    ChildResult r = run_child(
        {KEHU_CLI_BIN_PATH, args, env, dir + "/" + step + ".out", dir + "/" + step + ".err"},
        timeout_s);
    if (r.exit_code != 0) throw Error(Errc::internal, "kehu " + step + " failed: " + r.describe());
    return r;
  };
  const ChildResult init = kehu("init", {"init"}, 120);
  const ChildResult login =
      kehu("login", {"login", "--server", srv.url(), "--user", kReaderUser}, 120);
  const auto mark = srv.log_mark();
  const ChildResult sync = kehu("sync", {"--json", "sync"}, 3600);
  const auto log = srv.requests_since(mark);
  const BarePullResult bare2 = bare_pull_all(srv.url(), token, 500);
  const BarePullResult& bare = bare1.seconds <= bare2.seconds ? bare1 : bare2;

  json out = json::parse(sync.out, nullptr, false);
  const std::int64_t pulled_records =
      out.is_object() ? out.value("pulled_records", std::int64_t{0}) : 0;
  const std::int64_t pulled_revisions =
      out.is_object() ? out.value("pulled_revisions", std::int64_t{0}) : 0;
  const LogSummary pull = summarise(log, "/v1/pull");
  ws.client_peak_rss_kb = sync.peak_rss_kb;
  ws.main_server_hwm_kb = srv.vm_hwm_kb();

  f.value = static_cast<double>(customers) / sync.wall_s;
  f.baseline = static_cast<double>(customers) / bare.seconds;
  f.baseline_what = "bare libcurl loop over the same pull pages (500, gzip), body discarded";
  f.ratio = bare.seconds / sync.wall_s;
  f.target = "≥ 50,000/s and ≥ 0.5 × baseline";
  f.pass = f.value >= 50'000 && *f.ratio >= 0.5;
  f.note = std::to_string(customers) + " customers (" + std::to_string(pulled_revisions) +
           " revisions, " + std::to_string(bare.pages) + " pages, " +
           format_number(static_cast<double>(bare.wire_bytes) / 1e6) + " MB gzip / " +
           format_number(static_cast<double>(bare.body_bytes) / 1e6) + " MB JSON) in " +
           seconds_text(sync.wall_s) + " of `kehu sync` (server handler time " +
           seconds_text(pull.ms / 1000) + ", so the client spent about " +
           seconds_text(sync.wall_s - pull.ms / 1000) + "); bare loop " +
           seconds_text(bare.seconds) + "; `kehu init` " + seconds_text(init.wall_s) +
           ", `kehu login` " + seconds_text(login.wall_s);
  f.extra = {{"customers", customers},
             {"sync_seconds", sync.wall_s},
             {"sync_peak_rss_kb", sync.peak_rss_kb},
             // Includes the bench's own RSS at fork: see ChildResult::max_rss_kb.
             {"sync_ru_maxrss_kb", sync.max_rss_kb},
             {"pulled_records", pulled_records},
             {"pulled_revisions", pulled_revisions},
             {"server_pull_ms_total", pull.ms},
             {"server_pull_requests", pull.requests},
             {"bare_seconds", bare.seconds},
             {"bare_server_pull_ms_total", bare_pull.ms},
             {"bare_seconds_before", bare1.seconds},
             {"bare_seconds_after", bare2.seconds},
             {"bare_pages", bare.pages},
             {"bare_wire_bytes", bare.wire_bytes},
             {"bare_body_bytes", bare.body_bytes},
             {"init_seconds", init.wall_s},
             {"login_seconds", login.wall_s}};
  return f;
}

Figure bench_b6_round_trip(Workspace& ws) {
  Figure f("B6", "one change, push + pull round trip (edit + sync)", "ms");
  ensure_big_synced(ws);
  Replica& rep = *ws.big;
  ServerProcess& srv = ws.main_server();
  const std::int64_t rounds = ws.scaled(200, 20);
  const std::int64_t n = ws.big_customers();
  CustomerGenerator gen(kCustomerSeed + 6);
  sync::sync(rep, {});  // warm: leases, statement caches, anything left to pull
  const auto mark = srv.log_mark();
  std::vector<double> ms;
  std::int64_t pulled = 0;
  for (std::int64_t i = 0; i < rounds; ++i) {
    const std::string code =
        code_for_index(static_cast<std::int64_t>(gen.rng().below(static_cast<std::uint64_t>(n))));
    const json one = {{"next_plan", "电话回访（第" + std::to_string(i) + "轮）"}};
    const auto t0 = Clock::now();
    rep.edit_values(code, one);
    sync::SyncReport r = sync::sync(rep, {});
    ms.push_back(seconds_since(t0) * 1000);
    pulled += static_cast<std::int64_t>(r.pulled_revisions);
  }
  const auto log = srv.requests_since(mark);
  const LogSummary push = summarise(log, "/v1/push"), pull = summarise(log, "/v1/pull");
  const double p50 = percentile(ms, 50), p99 = percentile(ms, 99);
  f.value = p50;
  f.shown = "p50 " + format_number(p50) + " ms, p99 " + format_number(p99) + " ms";
  f.target = "p50 ≤ 10 ms";
  f.pass = p50 <= 10;
  f.note = std::to_string(rounds) + " rounds of Replica::edit_values + sync::sync on the " +
           std::to_string(n) + "-customer replica; server handler p50: push " +
           format_number(median(push.each_ms)) + " ms, pull " +
           format_number(median(pull.each_ms)) +
           " ms (log resolution 1 ms). sync() opens a new connection " +
           "each call, so only the requests within one sync share a warm connection";
  f.extra = {{"rounds", rounds},
             {"p50_ms", p50},
             {"p99_ms", p99},
             {"pulled_revisions", pulled},
             {"server_push_ms_p50", median(push.each_ms)},
             {"server_pull_ms_p50", median(pull.each_ms)},
             {"requests", static_cast<std::int64_t>(log.size())}};
  return f;
}

Figure bench_b7_concurrent(Workspace& ws) {
  const bool pg = !ws.b7_store.empty();
  const int n_servers = ws.b7_servers;
  Figure f("B7",
           !pg ? std::string("8 replicas push concurrently into one server")
               : "8 replicas push concurrently into " + std::to_string(n_servers) + " server process" +
                     (n_servers > 1 ? "es" : "") + " on PostgreSQL",
           "changes/s");
  constexpr int kReplicas = 8;
  const std::int64_t pool = ws.scaled(5000, 20);
  const std::int64_t edits_each = ws.scaled(12'500, 10);
  // A server of its own, so its peak memory (B8) is B7's alone. With --store its
  // store is that PostgreSQL database, and --servers N processes share it.
  ServerProcess srv(ws.path("server-b7"), ws.b7_store);
  srv.add_user("b7-seed", "admin");
  // Eight salespeople whose territories all cover the shared customers.
  for (int k = 1; k <= kReplicas; ++k) {
    srv.add_user("b7-" + std::to_string(k), "sales");
    srv.set_regions("b7-" + std::to_string(k), all_provinces());
  }
  srv.start();
  std::vector<std::unique_ptr<ServerProcess>> more;
  for (int i = 1; i < n_servers; ++i) {
    more.push_back(std::make_unique<ServerProcess>(ws.path("server-b7-" + std::to_string(i + 1)), srv));
    more.back()->start();
  }
  std::vector<ServerProcess*> procs{&srv};
  for (auto& p : more) procs.push_back(p.get());

  // The shared customers: created by one device, pulled by all eight.
  auto seed = Replica::create(ws.path("b7-seed.kehu"), kPassphrase);
  sync::login(*seed, srv.url(), "b7-seed", ServerProcess::kPassword, {});
  CustomerGenerator gen(kCustomerSeed + 7);
  for (std::int64_t first = 0; first < pool; first += kBatch) {
    seed->batch([&] {
      for (std::int64_t i = first; i < std::min(pool, first + kBatch); ++i) {
        seed->add_values("customers", gen.next(i).values);
      }
    });
  }
  sync::sync(*seed, {});
  const std::string seed_cursor = seed->meta("cursor");

  std::vector<std::unique_ptr<Replica>> reps;
  std::int64_t total = 0;
  for (int k = 1; k <= kReplicas; ++k) {
    auto rep = Replica::create(ws.path("b7-" + std::to_string(k) + ".kehu"), kPassphrase);
    // Spread over the processes, as a load balancer would.
    const ServerProcess& home = *procs[static_cast<std::size_t>(k - 1) % procs.size()];
    sync::login(*rep, home.url(), "b7-" + std::to_string(k), ServerProcess::kPassword, {});
    sync::sync(*rep, {});
    // Offline edits on random shared customers: every customer is edited by
    // several devices from the same base rev, so the server merges and finds
    // conflicts (next_plan always, and stage/status/tags/notes sometimes).
    CustomerGenerator edits(kCustomerSeed + 100 + static_cast<std::uint64_t>(k));
    for (std::int64_t first = 0; first < edits_each; first += kBatch) {
      rep->batch([&] {
        for (std::int64_t j = first; j < std::min(edits_each, first + kBatch); ++j) {
          const auto c =
              static_cast<std::int64_t>(edits.rng().below(static_cast<std::uint64_t>(pool)));
          rep->edit_values(code_for_index(c), edits.edit_values(j));
        }
      });
    }
    total += rep->status().pending;
    reps.push_back(std::move(rep));
  }

  std::vector<std::uintmax_t> marks;
  double cpu0 = 0;
  for (auto* p : procs) {
    marks.push_back(p->log_mark());
    cpu0 += p->cpu_seconds();
  }
  std::latch ready(kReplicas + 1);
  std::mutex mu;
  std::vector<std::string> failures;
  std::vector<Clock::time_point> ends(kReplicas);
  Clock::time_point t0;
  std::vector<std::thread> threads;
  for (int k = 0; k < kReplicas; ++k) {
    threads.emplace_back([&, k] {
      sync::SyncOptions opts;
      // Ending each sync at its first pull page: all eight would otherwise pull
      // the other seven's ~100,000 revisions, which is B4's subject, not this one.
      opts.progress = [](const std::string& line) {
        if (line.rfind("pulled", 0) == 0) throw PushDone{};
      };
      ready.arrive_and_wait();
      try {
        sync::sync(*reps[static_cast<std::size_t>(k)], opts);
      } catch (const PushDone&) {
      } catch (const std::exception& e) {
        std::lock_guard lock(mu);
        failures.push_back("replica " + std::to_string(k + 1) + ": " + e.what());
      }
      ends[static_cast<std::size_t>(k)] = Clock::now();
    });
  }
  t0 = Clock::now();
  ready.arrive_and_wait();
  for (auto& t : threads) t.join();
  const double wall =
      std::chrono::duration<double>(*std::max_element(ends.begin(), ends.end()) - t0).count();
  double server_cpu_s = -cpu0;
  std::vector<RequestLogLine> log;
  for (std::size_t i = 0; i < procs.size(); ++i) {
    server_cpu_s += procs[i]->cpu_seconds();
    for (auto& line : procs[i]->requests_since(marks[i])) log.push_back(std::move(line));
  }
  std::int64_t left = 0;
  for (auto& rep : reps) left += rep->status().pending;
  const std::int64_t pushed = total - left;
  const LogSummary push = summarise(log, "/v1/push");

  // Evidence that merging happened: conflicts among the first revisions after the seed.
  std::int64_t sampled = 0, conflicts = 0;
  {
    sync::HttpClient http(srv.url(), {});
    auto login = http.post(
        "/v1/login",
        {{"user", "b7-seed"}, {"password", ServerProcess::kPassword}, {"device", "bench-audit"}});
    http.set_token(login.body.value("token", ""));
    std::string cursor = seed_cursor;
    for (int page = 0; page < 4; ++page) {
      auto r = http.post("/v1/pull", {{"cursor", cursor}, {"limit", 5000}});
      if (r.status != 200) break;
      for (const auto& rev : r.body.value("revisions", json::array())) {
        ++sampled;
        conflicts += rev.value("conflicts", json::array()).empty() ? 0 : 1;
      }
      if (!r.body.value("more", false)) break;
      cursor = r.body.value("next_cursor", cursor);
    }
  }
  ws.server_peak_rss_kb = srv.vm_hwm_kb();
  for (auto& p : more) p->stop();
  srv.stop();

  f.value = static_cast<double>(pushed) / wall;
  f.target = "≥ 10,000 changes/s";
  f.pass = f.value >= 10'000 && failures.empty() && left == 0;
  f.note = std::to_string(kReplicas) + " threads × " + std::to_string(edits_each) + " edits on " +
           std::to_string(pool) + " shared customers: " + std::to_string(pushed) +
           " changes pushed in " + seconds_text(wall) +
           " (until the last replica's first pull page; " + std::to_string(push.requests) +
           " push requests, " + std::to_string(push.errors) + " not 200, server handler time " +
           seconds_text(push.ms / 1000) + " summed over requests, server CPU " +
           seconds_text(server_cpu_s) + "); " + std::to_string(conflicts) + " of the first " +
           std::to_string(sampled) + " revisions carry conflicts";
  if (pg) {
    f.note += "; store PostgreSQL, " + std::to_string(n_servers) + " server process" +
              (n_servers > 1 ? "es (replica k syncs with process k mod " + std::to_string(n_servers) + ")" : "") +
              ", server CPU summed over them (PostgreSQL's own CPU not included)";
  }
  for (const auto& why : failures) f.note += "; FAILED " + why;
  f.extra = {{"replicas", kReplicas},
             {"pool_customers", pool},
             {"changes", total},
             {"pushed", pushed},
             {"left_pending", left},
             {"seconds", wall},
             {"push_requests", push.requests},
             {"push_not_200", push.errors},
             {"server_push_ms_total", push.ms},
             {"server_push_ms_p50", median(push.each_ms)},
             {"server_push_ms_p99", percentile(push.each_ms, 99)},
             {"sampled_revisions", sampled},
             {"revisions_with_conflicts", conflicts},
             {"server_cpu_seconds", server_cpu_s},
             {"server_peak_rss_mb", static_cast<double>(*ws.server_peak_rss_kb) / 1024},
             {"store", pg ? "postgresql" : "sqlite"},
             {"server_processes", n_servers},
             {"failures", failures}};
  return f;
}

Figure bench_b8_memory(Workspace& ws) {
  Figure f("B8", "peak memory: client in B4, server in B7", "MB");
  if (!ws.client_peak_rss_kb) bench_b4_first_sync(ws);
  if (!ws.server_peak_rss_kb) bench_b7_concurrent(ws);
  const double client = static_cast<double>(*ws.client_peak_rss_kb) / 1024;
  const double server = static_cast<double>(*ws.server_peak_rss_kb) / 1024;
  f.value = client;
  f.shown = "client " + format_number(client) + " MB, server " + format_number(server) + " MB";
  f.target = "client ≤ 64, server ≤ 128 MB";
  f.pass = client <= 64 && server <= 128;
  f.note =
      "client: VmHWM of `kehu sync` in B4 (sampled every 5 ms after exec; wait4's ru_maxrss "
      "would include the bench's own RSS at fork); server: VmHWM of the B7 server after B7";
  f.extra = {{"client_peak_rss_mb", client}, {"server_peak_rss_mb", server}};
  if (ws.main_server_hwm_kb) {
    const double main_mb = static_cast<double>(*ws.main_server_hwm_kb) / 1024;
    f.extra["main_server_hwm_mb_after_b4"] = main_mb;
    f.note += "; the main server peaked at " + format_number(main_mb) + " MB serving B5 and B4";
  }
  return f;
}

}  // namespace kehu::bench
