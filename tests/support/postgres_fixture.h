// A throwaway PostgreSQL cluster for the tests, and one fresh database per
// ServerFixture.
//
// The cluster is Debian's PostgreSQL (initdb and pg_ctl from
// /usr/lib/postgresql/N/bin, or $KEHU_PG_BINDIR) in a temporary folder under
// /tmp, run as the `postgres` system user when the tests run as root (initdb
// refuses root), listening on 127.0.0.1 only, on a free port, with trust
// authentication for local connections only, and fsync off (nothing in it
// needs to survive a crash).
//
// One cluster serves a whole ctest run: the CTest fixture test "pg: start the
// PostgreSQL cluster" runs start_shared_cluster(), which writes the cluster's
// port and folder to a state file (KEHU_TEST_PG_STATE_PATH, set by
// tests/CMakeLists.txt, or $KEHU_TEST_PG_STATE); every "pg:" test reads it; and
// "pg: stop the PostgreSQL cluster" stops the cluster and removes the folder.
// A test binary run by hand with KEHU_TEST_STORE=postgresql, or a [pg] test,
// finds no running cluster there and starts its own, stopped when the process
// exits. If PostgreSQL cannot start, the test FAILs with initdb's or the
// server's own words; it never skips.
//
// Not thread-safe: used from the test's main thread.
#pragma once

#include <string>

namespace kehu::test {

// KEHU_TEST_STORE=postgresql: ServerFixture runs its servers on PostgreSQL.
bool postgres_selected();

struct PgCommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

class PostgresCluster {
 public:
  // The running cluster of this test run (see the file comment). Fails the
  // test (Catch FAIL) with the reason when none is running and none can start.
  static PostgresCluster& shared();

  // For the CTest fixture tests: start a new cluster and record it in the state
  // file (stopping a stale one left there first), or stop the recorded one.
  // Fail the test with the reason.
  static void start_shared_cluster();
  static void stop_shared_cluster();

  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:PORT/DB
  std::string url(const std::string& db) const;
  // Creates an empty UTF8 database and returns its name. REQUIRE-fails with psql's output.
  std::string create_database();
  // Drops it, disconnecting whoever is still connected. Never fails the test.
  void drop_database(const std::string& name);
  // psql -c SQL on database `db` (ON_ERROR_STOP; unaligned rows, no headers,
  // columns split by '|'): for tests that act as a DBA.
  PgCommandResult psql(const std::string& db, const std::string& sql) const;

  PostgresCluster(std::string dir, int port, bool owned)
      : dir_(std::move(dir)), port_(port), owned_(owned) {}
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

 private:
  std::string dir_;  // holds data/ and postgres.log
  int port_ = 0;
  bool owned_ = false;  // started by this process: stopped by its destructor
};

// One fresh database in the shared cluster, dropped when this ends.
class PostgresDatabase {
 public:
  PostgresDatabase();
  ~PostgresDatabase();
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  const std::string& name() const { return name_; }
  std::string url() const { return PostgresCluster::shared().url(name_); }

 private:
  std::string name_;
};

}  // namespace kehu::test
