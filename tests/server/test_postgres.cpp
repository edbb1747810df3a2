// kehu-server on PostgreSQL with several server processes on one database
// (issue 7): the --store commands, writers in different processes racing for
// the same record, seq, change_id, code serial and hash chain, pulls that never
// skip a late commit, real replicas spread over 2 and 4 processes converging,
// and a process killed mid-push while clients move to another.
//
// Each test makes its own database in the shared throwaway cluster
// (postgres_fixture.h). The cluster start/stop cases below are hidden: ctest
// runs them as the setup and cleanup of every "pg:" test.
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <mutex>
#include <random>
#include <set>
#include <chrono>
#include <thread>

#include "device.h"
#include "postgres_fixture.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using kehu::test::Device;
using kehu::test::hlc_now;
using kehu::test::json;
using kehu::test::make_change;
using kehu::test::new_customer_fields;
using kehu::test::PostgresCluster;
using kehu::test::Reply;
using kehu::test::run_server_command;
using kehu::test::ScratchDir;
using kehu::test::ServeOptions;
using kehu::test::ServerFixture;
using kehu::test::snapshot;
using kehu::test::TestStore;

TEST_CASE("pg cluster: start", "[.pg-cluster]") { PostgresCluster::start_shared_cluster(); }

TEST_CASE("pg cluster: stop", "[.pg-cluster]") { PostgresCluster::stop_shared_cluster(); }

namespace {

ServeOptions on_postgres() {
  ServeOptions o;
  o.store = TestStore::postgresql;
  return o;
}

// `first` plus n - 1 more serve processes on its database.
struct Servers {
  explicit Servers(int n) {
    for (int i = 1; i < n; ++i)
      more.push_back(std::make_unique<ServerFixture>(first, ServeOptions{}));
  }
  ServerFixture& operator[](std::size_t i) { return i == 0 ? first : *more[i - 1]; }
  std::size_t size() const { return 1 + more.size(); }

  ServerFixture first{on_postgres()};
  std::vector<std::unique_ptr<ServerFixture>> more;
};

// The rows of a one-column query through psql, one per line.
std::vector<std::string> sql_rows(const ServerFixture& s, const std::string& sql) {
  const std::string db = s.store_url().substr(s.store_url().rfind('/') + 1);
  auto r = PostgresCluster::shared().psql(db, sql);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> rows;
  std::size_t start = 0;
  while (start < r.output.size()) {
    auto end = r.output.find('\n', start);
    if (end == std::string::npos) end = r.output.size();
    rows.push_back(r.output.substr(start, end - start));
    start = end + 1;
  }
  return rows;
}

// How many revisions the server holds, and how many distinct change ids they carry.
std::pair<std::int64_t, std::int64_t> revision_counts(const ServerFixture& s) {
  auto counts = sql_rows(s, "SELECT count(*), count(DISTINCT change_id) FROM revisions");
  REQUIRE(counts.size() == 1);
  const auto bar = counts[0].find('|');
  return {std::stoll(counts[0].substr(0, bar)), std::stoll(counts[0].substr(bar + 1))};
}

void require_verified(const ServerFixture& s, std::int64_t revisions) {
  auto verify = run_server_command({"audit", "verify", "--store", s.store_url()});
  INFO(verify.output);
  REQUIRE(verify.exit_code == 0);
  CHECK_THAT(verify.output, Catch::Contains("ok: " + std::to_string(revisions) + " revisions"));
}

// One push per user at a time in each process: a parallel one of the same user
// is 429 too_many_pushes and is sent again, as the kehu client does.
// POSTs `body`, sent again while the server answers 429 (one push, and three
// requests, of a user at once per process), as the kehu client does.
Reply post_until_taken(ServerFixture& s, const std::string& path, const json& body, const std::string& token) {
  Reply r = s.post(path, body, token);
  for (int again = 0; again < 1000 && r.status == 429; ++again) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    r = s.post(path, body, token);
  }
  return r;
}

json push_change(ServerFixture& s, const std::string& token, const json& change) {
  const json body = {{"device", change["device"]}, {"changes", json::array({change})}};
  const Reply r = post_until_taken(s, "/v1/push", body, token);
  if (r.status != 200) return {{"status", "http " + std::to_string(r.status)}, {"body", r.body}};
  return r.body["results"][0];
}

json field(const json& old_value, const json& new_value) {
  return {{"old", old_value}, {"new", new_value}};
}

}  // namespace

TEST_CASE("postgres: init creates the tables once, and every admin command takes --store URL",
          "[pg]") {
  ServerFixture s(on_postgres());
  REQUIRE(s.on_postgres());
  auto again = run_server_command({"init", "--store", s.store_url()});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.output, Catch::Contains("already initialised"));
  CHECK(sql_rows(s, "SELECT value FROM meta WHERE key = 'schema_version'") ==
        std::vector<std::string>{"9"});  // layout v9: a held change's cause

  auto list = run_server_command({"user", "list", "--store", s.store_url()});
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.output, Catch::Contains("wang\tsales\t江苏"));
  auto schema = run_server_command({"schema", "show", "--store", s.store_url()});
  CHECK(schema.exit_code == 0);
  CHECK_THAT(schema.output, Catch::Contains("claim cap: 10"));

  SECTION("usage errors exit 2 and name the problem") {
    // (Not data_dir(): run_server_command would turn it into --store.)
    auto both =
        run_server_command({"user", "list", "--store", s.store_url(), "--data", "/srv/kehu"});
    CHECK(both.exit_code == 2);
    CHECK_THAT(both.output, Catch::Contains("either --data DIR or --store URL"));
    auto neither = run_server_command({"user", "list"});
    CHECK(neither.exit_code == 2);
    auto not_url = run_server_command({"audit", "verify", "--store", "mysql://db/kehu"});
    CHECK(not_url.exit_code == 2);
    CHECK_THAT(not_url.output,
               Catch::Contains("mysql://db/kehu") && Catch::Contains("postgresql://"));
    auto backup = run_server_command({"backup", "--store", s.store_url(), s.data_dir() + "/b.db"});
    CHECK(backup.exit_code == 2);
    CHECK_THAT(backup.output, Catch::Contains("pg_dump"));
  }
  SECTION("an unreachable store is named without its password") {
    const int port = PostgresCluster::shared().port();
    auto down = run_server_command(
        {"audit", "verify", "--store", "postgresql://kehu:s3cret@127.0.0.1:1/kehu?password=other"});
    CHECK(down.exit_code == 1);
    CHECK_THAT(down.output,
               Catch::Contains("cannot connect to postgresql://kehu:***@127.0.0.1:1/kehu"));
    CHECK_THAT(down.output, !Catch::Contains("s3cret") && !Catch::Contains("other"));
    const std::string no_db =
        "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/no_such_db";
    auto missing = run_server_command({"serve", "--store", no_db, "--listen", "127.0.0.1:0"});
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.output, Catch::Contains(no_db) && Catch::Contains("no_such_db"));
  }
  SECTION("a database that is not a store is refused") {
    PostgresCluster& c = PostgresCluster::shared();
    const std::string db = c.create_database();
    auto empty = run_server_command({"user", "list", "--store", c.url(db)});
    CHECK(empty.exit_code == 1);
    CHECK_THAT(empty.output, Catch::Contains("run `kehu-server init --store URL` first"));
    REQUIRE(c.psql(db, "CREATE TABLE other(x int)").exit_code == 0);
    auto foreign = run_server_command({"init", "--store", c.url(db)});
    CHECK(foreign.exit_code == 1);
    CHECK_THAT(foreign.output, Catch::Contains("not a kehu-server store"));
    c.drop_database(db);
  }
}

TEST_CASE("postgres: revisions are append-only, and audit verify names a tampered one", "[pg]") {
  ServerFixture s(on_postgres());
  const std::string wang = s.login("wang", "dev-a");
  json created = push_change(s, wang,
                             make_change("c-1", "rec-1", "create", 0, hlc_now(), "dev-a", 1,
                                         new_customer_fields("篡改测试")));
  REQUIRE(created["status"] == "applied");
  json edited = push_change(s, wang,
                            make_change("u-1", "rec-1", "update", 1, hlc_now(), "dev-a", 2,
                                        {{"phone", field("13800138000", "13900139000")}}));
  REQUIRE(edited["status"] == "applied");
  require_verified(s, 2);

  const std::string db = s.store_url().substr(s.store_url().rfind('/') + 1);
  PostgresCluster& c = PostgresCluster::shared();
  for (const char* sql : {"UPDATE revisions SET body = body WHERE seq = 1",
                          "DELETE FROM revisions WHERE seq = 2", "TRUNCATE revisions"}) {
    auto refused = c.psql(db, sql);
    INFO(sql);
    CHECK(refused.exit_code != 0);
    CHECK_THAT(refused.output, Catch::Contains("revisions are append-only"));
  }
  // What a DBA could still do on purpose: the hash chain catches it.
  auto tamper = c.psql(
      db,
      "ALTER TABLE revisions DISABLE TRIGGER revisions_no_update; "
      "UPDATE revisions SET body = replace(body, '13900139000', '13911112222') WHERE seq = 2");
  INFO(tamper.output);
  REQUIRE(tamper.exit_code == 0);
  auto broken = run_server_command({"audit", "verify", "--store", s.store_url()});
  CHECK(broken.exit_code == 1);
  CHECK_THAT(broken.output, Catch::Contains("seq 2") && Catch::Contains("rec-1"));
}

TEST_CASE("postgres: audit verify finds the append-only guard rewritten under its names", "[pg]") {
  // A14-2: a trigger kept by name, its function made to let everything through
  // or a WHEN that never holds, passed as "ok".
  for (const char* sql :
       {"CREATE OR REPLACE FUNCTION kehu_revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RETURN NEW; END $$",
        "DROP TRIGGER revisions_no_update ON revisions; CREATE TRIGGER revisions_no_update BEFORE UPDATE ON "
        "revisions FOR EACH ROW WHEN (false) EXECUTE FUNCTION kehu_revisions_append_only()",
        "DROP TRIGGER revisions_no_delete ON revisions; CREATE TRIGGER revisions_no_delete AFTER DELETE ON "
        "revisions FOR EACH ROW EXECUTE FUNCTION kehu_revisions_append_only()",
        "ALTER TABLE revisions ENABLE REPLICA TRIGGER revisions_no_update"}) {
    INFO(sql);
    ServerFixture s(on_postgres());
    const std::string wang = s.login("wang", "dev-a");
    REQUIRE(push_change(s, wang,
                        make_change("c-1", "rec-1", "create", 0, hlc_now(), "dev-a", 1, new_customer_fields("守卫")))
                ["status"] == "applied");
    require_verified(s, 1);
    const std::string db = s.store_url().substr(s.store_url().rfind('/') + 1);
    auto tamper = PostgresCluster::shared().psql(db, sql);
    INFO(tamper.output);
    REQUIRE(tamper.exit_code == 0);
    auto broken = run_server_command({"audit", "verify", "--store", s.store_url()});
    INFO(broken.output);
    CHECK(broken.exit_code == 1);
    CHECK_THAT(broken.output, Catch::Contains("append-only are missing, disabled or rewritten"));
  }
}

TEST_CASE("postgres: connections the database dropped are replaced without failing a request",
          "[pg]") {
  ServerFixture s(on_postgres());
  const std::string wang = s.login("wang", "dev-a");
  // Several pooled connections, all idle afterwards.
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i)
    readers.emplace_back([&] { s.post("/v1/pull", {{"cursor", "0"}}, wang); });
  for (auto& t : readers) t.join();
  const std::string db = s.store_url().substr(s.store_url().rfind('/') + 1);
  auto killed = PostgresCluster::shared().psql(
      db,
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  INFO(killed.output);
  REQUIRE(killed.exit_code == 0);
  CHECK(std::stoi(killed.output) >= 1);
  json created = push_change(s, wang,
                             make_change("c-1", "rec-1", "create", 0, hlc_now(), "dev-a", 1,
                                         new_customer_fields("断线重连")));
  CHECK(created["status"] == "applied");
  Reply pulled = s.post("/v1/pull", {{"cursor", "0"}}, wang);
  CHECK(pulled.status == 200);
  CHECK(pulled.body["revisions"].size() == 1);
}

// Writers in two processes racing: one record, one change_id, one month's code
// serials; a reader paging through both processes meanwhile.
TEST_CASE(
    "postgres: two processes pushing to one record at once keep rev, seq, codes and the chain",
    "[pg]") {
  Servers servers(2);
  ServerFixture& a = servers[0];
  ServerFixture& b = servers[1];
  const std::string root_a = a.login("root", "dev-root"), root_b = b.login("root", "dev-root2");
  REQUIRE(push_change(a, root_a,
                      make_change("create-hot", "hot", "create", 0, hlc_now(), "dev-root", 1,
                                  new_customer_fields("热点客户")))["status"] == "applied");

  constexpr int kThreads = 6, kEach = 8;
  // Provisional codes are re-coded in this month, leases come from the next: one
  // counter each, so the leases' blocks follow each other without gaps.
  const std::string this_month = kehu::this_month_local();
  const int m = std::stoi(this_month.substr(4, 2));
  const std::string next_month = m == 12 ? std::to_string(std::stoi(this_month.substr(0, 4)) + 1) + "01"
                                         : this_month.substr(0, 4) + (m < 9 ? "0" : "") + std::to_string(m + 1);
  std::mutex mu;
  std::vector<json> results, codes, leases;
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ServerFixture& s = t % 2 ? b : a;
      const std::string& token = t % 2 ? root_b : root_a;
      const std::string device = "dev-" + std::to_string(t);
      for (int i = 1; i <= kEach; ++i) {
        json edit =
            make_change(device + "-" + std::to_string(i), "hot", "update", 1, hlc_now(), device,
                        3 * i, {{"notes", field(nullptr, device + " #" + std::to_string(i))}});
        // The same change_id through both processes at once: applied once.
        json twice =
            make_change("twice-" + std::to_string(t) + "-" + std::to_string(i), "hot", "update", 1,
                        hlc_now(), device, 3 * i + 1, {{"stage", field(nullptr, "needs")}});
        json created =
            make_change(device + "-new-" + std::to_string(i), device + "-c" + std::to_string(i),
                        "create", 0, hlc_now(), device, 3 * i + 2, new_customer_fields("新客户"),
                        "customers", "P" + kehu::this_month_local() + "-" + device + "-00" + std::to_string(i));
        json r1 = push_change(s, token, edit);
        json r2 = push_change(a, root_a, twice), r3 = push_change(b, root_b, twice);
        json r4 = push_change(s, token, created);
        Reply lease = post_until_taken(s, "/v1/leases", {{"month", next_month}, {"count", 2}}, token);
        std::lock_guard<std::mutex> lock(mu);
        results.insert(results.end(), {r1, r2, r3});
        codes.push_back(r4);
        leases.push_back(lease.status == 200 ? lease.body : json{{"status", lease.status}});
      }
    });
  }
  // A reader pulling through both processes while the writers run: every page
  // starts right after its cursor, so together they hold every seq once.
  std::vector<std::int64_t> pulled;
  std::string reader_error;
  std::thread reader([&] {
    std::string cursor = "0";
    for (int n = 0; writing || n % 2; ++n) {
      ServerFixture& s = n % 2 ? b : a;
      Reply r = post_until_taken(s, "/v1/pull", {{"cursor", cursor}, {"limit", 7}}, n % 2 ? root_b : root_a);
      if (r.status != 200) {
        reader_error = r.body.dump();
        return;
      }
      for (const auto& rev : r.body["revisions"]) pulled.push_back(rev["seq"]);
      cursor = r.body["next_cursor"];
    }
    for (bool more = true; more;) {  // the rest, after the last commit
      Reply r = post_until_taken(a, "/v1/pull", {{"cursor", cursor}, {"limit", 50}}, root_a);
      for (const auto& rev : r.body["revisions"]) pulled.push_back(rev["seq"]);
      cursor = r.body["next_cursor"];
      more = r.body["more"];
    }
  });
  for (auto& t : threads) t.join();
  writing = false;
  reader.join();
  REQUIRE(reader_error.empty());

  std::set<std::int64_t> seqs, revs;
  int duplicates = 0;
  for (const auto& r : results) {
    INFO(r.dump());
    REQUIRE(r["status"] == "applied");
    if (r.value("duplicate", false)) {
      ++duplicates;
    } else {
      seqs.insert(r["seq"].get<std::int64_t>());
      revs.insert(r["rev"].get<std::int64_t>());
    }
  }
  CHECK(duplicates == kThreads * kEach);  // the second of each "twice" pair
  const std::int64_t edits = 2 * kThreads * kEach;
  CHECK(static_cast<std::int64_t>(revs.size()) == edits);
  CHECK(*revs.begin() == 2);
  CHECK(*revs.rbegin() == edits + 1);
  std::set<std::string> code_set;
  for (const auto& r : codes) {
    INFO(r.dump());
    REQUIRE(r["status"] == "applied");
    code_set.insert(r["code"].get<std::string>());
  }
  CHECK(code_set.size() == codes.size());
  std::vector<std::pair<std::int64_t, std::int64_t>> blocks;
  for (const auto& l : leases) {
    INFO(l.dump());
    REQUIRE(l.contains("first"));
    blocks.emplace_back(l["first"], l["last"]);
  }
  std::sort(blocks.begin(), blocks.end());
  for (std::size_t i = 1; i < blocks.size(); ++i)
    CHECK(blocks[i].first == blocks[i - 1].second + 1);

  const std::int64_t total =
      1 + edits + kThreads * kEach;  // the create, the edits, the new customers
  std::vector<std::int64_t> expected(static_cast<std::size_t>(total));
  for (std::int64_t i = 0; i < total; ++i) expected[static_cast<std::size_t>(i)] = i + 1;
  CHECK(pulled == expected);
  CHECK(revision_counts(a) == std::make_pair(total, total));
  require_verified(a, total);
}

// Real replicas on `n_servers` processes: each device edits and syncs in its own
// thread against a random process each time, then everyone syncs in random
// orders. Every replica converges to the server's state, every change is one
// revision, codes are unique, and the chain verifies.
namespace {

void run_spread(std::uint32_t seed, int n_servers, int devices, int ops) {
  INFO("seed " << seed << ", " << n_servers
               << " server processes (rerun: this seed reproduces it)");
  Servers servers(n_servers);
  ScratchDir dir;
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  auto url_of = [&](std::size_t i) { return Device::url(servers[i]); };
  const std::vector<std::string> users = {"qian", "sun", "root"};
  std::vector<std::unique_ptr<Device>> devs;
  for (int i = 0; i < devices; ++i) {
    devs.push_back(std::make_unique<Device>(dir, servers[pick(servers.size())], users[i % 3], true,
                                            "dev" + std::to_string(i)));
  }
  std::vector<std::size_t> made(devs.size(), 0);
  std::vector<std::string> errors(devs.size());
  std::vector<std::thread> threads;
  for (std::size_t d = 0; d < devs.size(); ++d) {
    threads.emplace_back([&, d, thread_seed = static_cast<std::uint32_t>(rng())] {
      std::mt19937 local(thread_seed);
      Device& dev = *devs[d];
      try {
        for (int op = 0; op < ops; ++op) {
          auto before = dev.replica->status().pending;
          if (kehu::test::random_edit(*dev.replica, local, dev.user, op)) {
            made[d] += static_cast<std::size_t>(dev.replica->status().pending - before);
            continue;
          }
          // The load balancer sends this sync to any process.
          dev.replica->set_meta("server", url_of(std::uniform_int_distribution<std::size_t>(
                                              0, servers.size() - 1)(local)));
          dev.sync();
        }
      } catch (const std::exception& e) {
        errors[d] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e.empty());
  for (int round = 0; round < 2; ++round) {
    std::vector<std::size_t> order(devs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (auto i : order) {
      devs[i]->replica->set_meta("server", url_of(pick(servers.size())));
      CHECK(devs[i]->sync().rejected == 0);
    }
  }
  Device fresh(dir, servers[pick(servers.size())], "root");
  const auto truth = snapshot(*fresh.replica);
  for (auto& d : devs) {
    CHECK(d->replica->status().pending == 0);
    CHECK(snapshot(*d->replica) == truth);
  }
  std::size_t changes = 0;
  for (auto n : made) changes += n;
  const auto total = static_cast<std::int64_t>(changes);
  CHECK(revision_counts(servers[0]) == std::make_pair(total, total));  // none lost, none twice
  std::set<std::string> codes;
  std::size_t customers = 0;
  for (const auto& [id, rec] : truth) {
    if (rec["parent"] != "") continue;
    ++customers;
    codes.insert(rec["code"].get<std::string>());
    CHECK(rec["code"].get<std::string>().rfind("C", 0) == 0);  // final codes, none provisional
  }
  CHECK(codes.size() == customers);
  require_verified(servers[0], total);
}

}  // namespace

TEST_CASE("postgres: replicas spread over two server processes converge", "[pg][sync]") {
  for (std::uint32_t seed : {11u, 12u}) run_spread(seed, 2, 3, 30);
}

TEST_CASE("postgres: replicas spread over four server processes converge", "[pg][sync]") {
  run_spread(13, 4, 5, 30);
}

TEST_CASE("postgres: replicas spread over two and four server processes converge (many seeds)",
          "[pg][sync][.slow]") {
  for (std::uint32_t seed = 300; seed < 310; ++seed) run_spread(seed, seed % 2 ? 4 : 2, 6, 150);
}

// SIGKILL of the process a device is pushing to; the device then syncs through
// another process (the load balancer's retry), and nothing is lost or doubled.
namespace {

void kill_mid_push(std::uint32_t seed, int customers, int kills) {
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  Servers servers(2);
  ScratchDir dir;
  Device qian(dir, servers[0], "qian");
  qian.replica->batch([&] {
    for (int i = 0; i < customers; ++i) {
      qian.replica->add("customers", kehu::test::new_customer("杀进程客户" + std::to_string(i)));
    }
  });
  const auto made = qian.replica->status().pending;
  int interrupted = 0;
  for (int k = 0; k < kills; ++k) {
    ServerFixture& victim = servers[static_cast<std::size_t>(k % 2)];
    ServerFixture& other = servers[static_cast<std::size_t>(1 - k % 2)];
    qian.replica->set_meta("server", Device::url(victim));
    std::string error;
    std::thread pusher([&] {
      auto opts = Device::options();
      opts.max_attempts = 2;
      try {
        kehu::sync::sync(*qian.replica, opts);
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 300)(rng)));
    CHECK(victim.stop(SIGKILL) == 128 + SIGKILL);
    pusher.join();
    if (!error.empty()) ++interrupted;
    // The retry goes to the process that is still up, and gets on with the push.
    qian.replica->set_meta("server", Device::url(other));
    auto opts = Device::options();
    opts.push_page = 3;
    int pages = 0;
    opts.progress = [&pages](const std::string& line) {
      if (line.rfind("pushing", 0) == 0 && ++pages == 2)
        throw std::runtime_error("stop after one push page");
    };
    try {
      kehu::sync::sync(*qian.replica, opts);
    } catch (const std::runtime_error&) {
    }
    victim.start();
  }
  qian.replica->set_meta("server", Device::url(servers[0]));
  qian.sync();
  CHECK(qian.replica->status().pending == 0);
  WARN(interrupted << " of " << kills << " pushes were cut off by the kill");

  Device fresh(dir, servers[1], "root");
  auto all = fresh.replica->list(kehu::ListQuery{});
  CHECK(all.size() == static_cast<std::size_t>(customers));
  std::set<std::string> codes;
  for (const auto& r : all) {
    codes.insert(r.code);
    CHECK(r.rev == 1);  // created once, never applied twice
  }
  CHECK(codes.size() == all.size());
  CHECK(snapshot(*fresh.replica) == snapshot(*qian.replica));
  CHECK(revision_counts(servers[0]) == std::pair<std::int64_t, std::int64_t>(made, made));
  require_verified(servers[1], made);
}

}  // namespace

TEST_CASE(
    "postgres: a server process killed mid-push, the client retries on another, nothing is lost",
    "[pg][crash]") {
  kill_mid_push(21, 300, 3);
}

TEST_CASE("postgres: server processes killed mid-push, many times", "[pg][crash][.slow]") {
  for (std::uint32_t seed = 400; seed < 405; ++seed) kill_mid_push(seed, 1500, 12);
}

TEST_CASE("postgres: a store migrated to layout v7 gets its scope index from the revisions it holds", "[pg]") {
  ServerFixture s(on_postgres());
  const std::string root = s.login("root", "dev-root");
  const std::string id = "7d3b2c1e-0000-4000-8000-0000000070a1";
  REQUIRE(push_change(s, root, make_change("mig-1", id, "create", 0, hlc_now(), "dev-root", 1,
                                           new_customer_fields("迁移客户")))["status"] == "applied");
  REQUIRE(push_change(s, root, make_change("mig-2", id, "update", 1, hlc_now(), "dev-root", 2,
                                           {{"need", field("CT 设备", "MR")}}))["status"] == "applied");
  REQUIRE(push_change(s, root, make_change("mig-3", id, "update", 2, hlc_now(), "dev-root", 3,
                                           {{"province", field("江苏", "浙江")}}))["status"] == "applied");
  const std::string query = "SELECT customer_id || ' ' || seq || ' ' || vals FROM scope_moves ORDER BY seq";
  const std::vector<std::string> written = sql_rows(s, query);
  REQUIRE(written.size() == 2);  // the create and the move
  CHECK(written[1].find(R"("province":"浙江")") != std::string::npos);
  REQUIRE(s.stop() == 0);
  sql_rows(s, "DROP TABLE scope_moves; UPDATE meta SET value = '6' WHERE key = 'schema_version'");
  auto init = run_server_command({"init", "--store", s.store_url()});
  INFO(init.output);
  REQUIRE(init.exit_code == 0);
  CHECK_THAT(init.output, Catch::StartsWith("initialised"));
  CHECK(sql_rows(s, query) == written);
  CHECK(sql_rows(s, "SELECT value FROM settings WHERE key = 'scope_index_pending'") ==
        std::vector<std::string>{"null"});
}
