// What the benchmarks share in one run: the scale, a temporary directory, the
// 100,000-customer replica that B1 builds (B2, B5, B6 and B9 reuse it, as a
// salesperson's replica would be reused), the kehu-server the sync benchmarks talk
// to, and measurements one benchmark takes for another (B8 reads B4's and B7's).
//
// Benchmarks may run alone (--only), so each asks for what it needs through the
// ensure_*() functions, which build it untimed when the benchmark that would have
// built it did not run.
//
// Not thread-safe. The destructor stops every server and removes the directory.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "kehu/replica.h"
#include "server_process.h"

namespace kehu::bench {

// The passphrase of every replica and of the baseline's encrypted file.
inline constexpr const char* kPassphrase = "bench passphrase 客户";
// The main server's users: the B1 replica syncs as the writer; B4 pulls as the
// reader (a second admin, so nothing the writer sees is filtered away).
inline constexpr const char* kWriterUser = "bench-writer";
inline constexpr const char* kReaderUser = "bench-reader";
// Seed of the customers in the big replica (B1) and, + 1, of the CSV sheet (B3).
inline constexpr std::uint64_t kCustomerSeed = 20261127;

class Workspace {
 public:
  explicit Workspace(double scale);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  double scale() const { return scale_; }
  // n × scale, at least `min`.
  std::int64_t scaled(std::int64_t n, std::int64_t min = 1) const;
  const std::string& root() const { return root_; }
  // root() + "/" + name
  std::string path(const std::string& name) const { return root_ + "/" + name; }

  // The main kehu-server (started on first use, with kWriterUser and kReaderUser).
  ServerProcess& main_server();

  // The big replica: big_customers() customers made by add_values.
  std::unique_ptr<Replica> big;
  std::int64_t big_customers() const { return scaled(100'000); }
  bool big_synced = false;  // logged in to main_server() and synced (B5 ran)

  // B1's baseline (raw SQLCipher inserts, rows/s), which B3 compares with too.
  std::optional<double> raw_insert_rate;

  // B7's store: "" for SQLite in the workspace, else a PostgreSQL URL of an
  // empty database (kehu-bench --store), served by b7_servers processes with
  // the replicas spread over them (--servers).
  std::string b7_store;
  int b7_servers = 1;

  // Handed from B4 and B7 to B8.
  std::optional<long> client_peak_rss_kb;  // ru_maxrss of `kehu sync` in B4
  std::optional<long> server_peak_rss_kb;  // VmHWM of the B7 server after B7
  std::optional<long> main_server_hwm_kb;  // VmHWM of the main server after B4-B6

 private:
  double scale_;
  std::string root_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace kehu::bench
