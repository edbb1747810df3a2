// One user's replica driven through the real `kehu` binary, for the tests of
// login, TLS and accounts: `kehu init` in a fresh directory, then every command
// pointed at it (KEHU_DB, KEHU_PASSPHRASE, HOME, English messages) with the
// fixture's password in KEHU_PASSWORD unless the caller overrides it.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/replica.h"
#include "server_fixture.h"

namespace kehu::test {

class ReplicaCli {
 public:
  static constexpr const char* kPassphrase = "replica pass 1";

  ReplicaCli() {
    CliResult r = run({"init"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }

  ScratchDir dir{"kehu-replica"};
  std::string db = dir.file("replica.db");

  CliResult run(const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    return run_kehu(args, options(extra));
  }

  // `kehu ARGS` for at most `seconds`, then SIGTERM (timeout --preserve-status):
  // the exit code is kehu's own.
  CliResult run_for(int seconds, const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    std::vector<std::string> full = {"--preserve-status", "-s", "TERM", std::to_string(seconds), kehu_binary()};
    full.insert(full.end(), args.begin(), args.end());
    return run_program("/usr/bin/timeout", full, options(extra));
  }

  RunOptions options(const EnvChanges& extra) const {
    RunOptions o;
    o.env = {{"KEHU_DB", db},
             {"KEHU_PASSPHRASE", kPassphrase},
             {"KEHU_PASSWORD", ServerFixture::kPassword},
             {"HOME", dir.path()},
             {"KEHU_LANG", "en"},
             {"LANG", "C.UTF-8"},
             {"LC_ALL", std::nullopt}};
    for (const auto& [k, v] : extra) o.env[k] = v;
    return o;
  }

  // Runs and requires exit code 0.
  CliResult ok(const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    CliResult r = run(args, extra);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  }

  // `kehu login` to the fixture's server as `user` (its password from the fixture).
  void log_in(ServerFixture& s, const std::string& user) const {
    ok({"login", "--server", s.base_url(), "--user", user});
  }

  // A customer of this user in 江苏/南京 (or the place given), synced: its code.
  std::string add_synced_customer(const std::string& name, const std::string& phone = "13800138111",
                                  const std::string& province = "江苏", const std::string& city = "南京") const {
    ok({"sync"});  // leases customer codes
    const std::string code = ok({"customer", "add", "--set", "name=" + name, "--set", "contact=张三", "--set",
                                 "phone=" + phone, "--set", "need=复印机", "--set", "province=" + province,
                                 "--set", "city=" + city})
                                 .out.substr(0, 10);
    ok({"sync"});
    return code;
  }

  // Writes `text` to the file `name` in this replica's folder; its path.
  std::string write_file(const std::string& name, const std::string& text) const {
    const std::string file = dir.file(name);
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f);
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return file;
  }

  // The text of the file `name` in this replica's folder.
  std::string read_file(const std::string& name) const {
    std::ifstream in(dir.file(name), std::ios::binary);
    REQUIRE(in);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // A metadata value of the replica ("server", "token", "ca_file", ...), read
  // with the library while no kehu process runs.
  std::string meta(const std::string& key) const {
    return Replica::open(db, kPassphrase)->meta(key);
  }
};

}  // namespace kehu::test
