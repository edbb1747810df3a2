// TLS end to end: a real `kehu-server serve --tls-cert --tls-key` on 127.0.0.1
// with certificates made at test time (test_certs.h), and the real `kehu`
// client checking them: a team CA passed with --ca-file and remembered, an
// untrusted self-signed certificate, a certificate for another host, --insecure,
// and a server given bad certificate files.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "cli_runner.h"
#include "replica_cli.h"
#include "server_fixture.h"
#include "test_certs.h"

using Catch::Matchers::Contains;
using kehu::test::CliResult;
using kehu::test::ReplicaCli;
using kehu::test::RunOptions;
using kehu::test::ScratchDir;
using kehu::test::ServeOptions;
using kehu::test::ServerFixture;
using kehu::test::TestCert;

namespace {

// Certificate files in a scratch directory: the team's CA and a server
// certificate it signed for 127.0.0.1 and localhost, plus whatever a test adds.
struct CertFiles {
  ScratchDir dir{"kehu-tls"};
  TestCert ca = TestCert::authority("Kehu Test Team CA");
  std::string ca_pem = dir.file("ca.pem");

  CertFiles() { ca.write(ca_pem, dir.file("ca.key")); }

  // Writes `cert` as NAME.pem and NAME.key; returns serve's --tls-cert/--tls-key.
  std::vector<std::string> serve_args(const TestCert& cert, const std::string& name) const {
    cert.write(dir.file(name + ".pem"), dir.file(name + ".key"));
    return {"--tls-cert", dir.file(name + ".pem"), "--tls-key", dir.file(name + ".key")};
  }
  std::vector<std::string> good_server_args() const {
    return serve_args(TestCert::issued_by(ca, "127.0.0.1", {"IP:127.0.0.1", "DNS:localhost"}),
                      "server");
  }
};

// Runs `kehu-server serve` on the fixture's data directory with `args` and
// returns when it exits; a server that wrongly starts is killed after 60 s.
CliResult serve_once(const ServerFixture& s, const std::vector<std::string>& args,
                     const kehu::test::EnvChanges& env = {}) {
  std::vector<std::string> all = {"serve", "--data", s.data_dir(), "--listen", "127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  RunOptions o;
  o.env = env;
  o.timeout_seconds = 60;
  return kehu::test::run_program(kehu::test::server_binary(), all, o);
}

}  // namespace

TEST_CASE("tls: login and sync over https with --ca-file, which login remembers", "[tls]") {
  CertFiles certs;
  ServerFixture s(ServeOptions{certs.good_server_args(), {}});
  REQUIRE(s.tls());
  const std::string url = s.base_url();
  REQUIRE(url.rfind("https://127.0.0.1:", 0) == 0);

  ReplicaCli a;
  a.ok({"login", "--server", url, "--user", "root", "--ca-file", certs.ca_pem});
  CHECK(a.meta("ca_file") == certs.ca_pem);
  a.ok({"customer", "add", "--set", "name=华东医疗设备有限公司", "--set", "contact=张三", "--set",
        "phone=13800138000", "--set", "need=CT 设备"});
  CliResult synced = a.ok({"sync"});  // no --ca-file: the remembered one
  CHECK_THAT(synced.out, Contains("pushed 1 change (1 applied, 0 rejected); pulled 1 record, 1 revision;"));
  CHECK(synced.err.find("warning") == std::string::npos);

  // The other device trusts a copy of the CA, given as a relative path: login
  // stores it absolute, so later commands find it from any directory.
  ReplicaCli b;
  const std::string copy = b.dir.file("team-ca.pem");
  std::filesystem::copy_file(certs.ca_pem, copy);
  const std::string relative = std::filesystem::relative(copy).string();
  REQUIRE(relative.front() != '/');
  b.ok({"login", "--server", url, "--user", "audit", "--ca-file", relative});
  const std::string remembered = b.meta("ca_file");
  CHECK(remembered.front() == '/');
  CHECK(std::filesystem::equivalent(remembered, copy));
  b.ok({"sync"});
  CliResult listed = b.ok({"customer", "list"});
  CHECK_THAT(listed.out, Contains("华东医疗设备有限公司"));

  SECTION("a remembered CA file that is gone is named, and nothing is sent") {
    std::filesystem::remove(copy);
    CliResult r = b.run({"sync"});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err,
               Contains(remembered) && Contains("remembered at login") && Contains("--ca-file"));
  }
  SECTION("a --ca-file given to sync is used for that sync") {
    std::filesystem::remove(copy);
    b.ok({"sync", "--ca-file", certs.ca_pem});
  }
}

TEST_CASE("tls: an untrusted certificate is refused with what to do, and nothing is stored", "[tls]") {
  CertFiles certs;
  ServerFixture s(ServeOptions{
      certs.serve_args(TestCert::self_signed("127.0.0.1", {"IP:127.0.0.1", "DNS:localhost"}),
                       "self"),
      {}});
  ReplicaCli r;

  CliResult plain = r.run({"login", "--server", s.base_url(), "--user", "wang"});
  INFO(plain.describe());
  CHECK(plain.exit_code == 1);
  CHECK_THAT(plain.err, Contains("certificate is not trusted") && Contains("self-signed") &&
                            Contains("pass --ca-file"));
  CHECK(plain.out.empty());
  CHECK(r.meta("token").empty());
  CHECK(r.meta("server").empty());

  CliResult wrong_ca =
      r.run({"login", "--server", s.base_url(), "--user", "wang", "--ca-file", certs.ca_pem});
  INFO(wrong_ca.describe());
  CHECK(wrong_ca.exit_code == 1);
  CHECK_THAT(wrong_ca.err, Contains("not trusted") && Contains(certs.ca_pem + " did not sign it"));
  CHECK(r.meta("token").empty());

  // The server saw no login at all: the client stopped at the handshake.
  CHECK(s.log().find("/v1/login") == std::string::npos);

  SECTION("--insecure works, with a warning every time, and is not remembered") {
    CliResult in = r.run({"login", "--server", s.base_url(), "--user", "wang", "--insecure"});
    INFO(in.describe());
    REQUIRE(in.exit_code == 0);
    CHECK_THAT(in.err,
               Contains("warning") && Contains("--insecure") && Contains("development only"));
    CliResult synced = r.run({"sync", "--insecure"});
    INFO(synced.describe());
    CHECK(synced.exit_code == 0);
    CHECK_THAT(synced.err, Contains("warning"));
    CliResult checked = r.run({"sync"});
    INFO(checked.describe());
    CHECK(checked.exit_code == 1);
    CHECK_THAT(checked.err, Contains("not trusted"));
  }
}

TEST_CASE("tls: a certificate for another host name is refused, naming both hosts", "[tls]") {
  CertFiles certs;
  ServerFixture s(ServeOptions{
      certs.serve_args(TestCert::issued_by(certs.ca, "kehu.example.com", {"DNS:kehu.example.com"}),
                       "other"),
      {}});
  ReplicaCli r;
  CliResult login =
      r.run({"login", "--server", s.base_url(), "--user", "wang", "--ca-file", certs.ca_pem});
  INFO(login.describe());
  CHECK(login.exit_code == 1);
  CHECK_THAT(login.err, Contains("certificate is for host kehu.example.com, not 127.0.0.1"));
  CHECK(r.meta("token").empty());
}

TEST_CASE("tls: --ca-file must be a readable PEM file", "[tls]") {
  ScratchDir dir{"kehu-tls"};
  ReplicaCli r;
  const std::string missing = dir.file("no-such-ca.pem");
  CliResult gone =
      r.run({"login", "--server", "https://127.0.0.1:9", "--user", "wang", "--ca-file", missing});
  INFO(gone.describe());
  CHECK(gone.exit_code == 2);
  CHECK_THAT(gone.err, Contains("--ca-file " + missing + ": cannot read it"));

  const std::string junk = dir.file("junk.pem");
  kehu::test::write_bytes(junk, "this is not a certificate\n");
  CliResult bad =
      r.run({"login", "--server", "https://127.0.0.1:9", "--user", "wang", "--ca-file", junk});
  INFO(bad.describe());
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains(junk) && Contains("no PEM certificate"));
  CHECK(r.meta("server").empty());
}

TEST_CASE("tls: the server refuses to start with bad certificate files", "[tls]") {
  CertFiles certs;
  ServerFixture s;
  s.stop();
  auto first =
      certs.serve_args(TestCert::issued_by(certs.ca, "127.0.0.1", {"IP:127.0.0.1"}), "first");
  auto second =
      certs.serve_args(TestCert::issued_by(certs.ca, "127.0.0.1", {"IP:127.0.0.1"}), "second");

  SECTION("a key that is not the certificate's") {
    CliResult r = serve_once(s, {"--tls-cert", first[1], "--tls-key", second[3]});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err,
               Contains(second[3] + " does not belong to the certificate") && Contains(first[1]));
  }
  SECTION("a certificate file that does not exist") {
    const std::string missing = certs.dir.file("missing.pem");
    CliResult r = serve_once(s, {"--tls-cert", missing, "--tls-key", first[3]});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("--tls-cert " + missing + ": cannot read it"));
  }
  SECTION("a key file that is not a key") {
    kehu::test::write_bytes(certs.dir.file("junk.key"), "-----BEGIN NOTHING-----\n");
    CliResult r = serve_once(s, {"--tls-cert", first[1], "--tls-key", certs.dir.file("junk.key")});
    INFO(r.describe());
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Contains("junk.key: no unencrypted PEM private key"));
  }
  SECTION("a certificate without its key is a usage error") {
    CliResult r = serve_once(s, {"--tls-cert", first[1]});
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("--tls-cert and --tls-key go together"));
  }
}
