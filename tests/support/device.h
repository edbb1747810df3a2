// One user's device for the end-to-end tests: an encrypted replica logged in
// to a ServerFixture through the real sync library, plus the `kehu` binary on
// the same file. Shared by the sync, team and audit tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "kehu/replica.h"
#include "kehu/sync/sync_session.h"
#include "server_fixture.h"

namespace kehu::test {

// One salesperson's device: an encrypted replica logged in to the fixture.
struct Device {
  std::string path, user;
  std::unique_ptr<kehu::Replica> replica;

  // A first sync right after login gives the device its lease of customer codes,
  // as `kehu login` followed by `kehu sync` does; without it new customers get
  // provisional codes until their first push.
  Device(const ScratchDir& dir, ServerFixture& server, const std::string& who,
         bool first_sync = true, const std::string& file = {})
      : path(dir.file((file.empty() ? who : file) + ".db")), user(who) {
    replica = kehu::Replica::create(path, "pass-" + who);
    kehu::sync::login(*replica, url(server), who, ServerFixture::kPassword, options());
    if (first_sync) sync();
  }
  static std::string url(ServerFixture& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }
  static kehu::sync::SyncOptions options() {
    kehu::sync::SyncOptions o;
    o.push_page = 7;  // small pages so paging is exercised
    o.pull_page = 11;
    o.backoff_initial_ms = 10;
    return o;
  }
  kehu::sync::SyncReport sync() { return kehu::sync::sync(*replica, options()); }
  kehu::Record customer(const std::string& code) { return replica->require(code); }
  // Runs the kehu binary on this replica.
  kehu::test::CliResult kehu(const std::vector<std::string>& args, const std::string& lang = "en") {
    std::vector<std::string> full = {"--db", path};
    full.insert(full.end(), args.begin(), args.end());
    kehu::test::RunOptions o;
    o.env["KEHU_PASSPHRASE"] = "pass-" + user;
    o.env["KEHU_LANG"] = lang;
    return kehu::test::run_kehu(full, o);
  }
};


}  // namespace kehu::test
