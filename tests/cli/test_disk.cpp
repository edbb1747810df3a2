// A full disk and a read-only replica (issue 6): the real `kehu` binary on a
// real SQLCipher replica that lives on a small tmpfs this test mounts (the
// tests run as root on the CI machine; mounting is required, never skipped).
// Each failure must be a clear message (exit 1) and leave the replica exactly as
// it was.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace kehu::test {
namespace {

// A tmpfs of `size` mounted at `at` for the test's lifetime.
class SmallDisk {
 public:
  SmallDisk(std::string at, const std::string& size) : at_(std::move(at)) {
    std::filesystem::create_directories(at_);
    CliResult r = run_program("/usr/bin/mount", {"-t", "tmpfs", "-o", "size=" + size, "tmpfs", at_});
    INFO("mounting a tmpfs needs root: " << r.describe());
    REQUIRE(r.exit_code == 0);
  }
  ~SmallDisk() { run_program("/usr/bin/umount", {"-l", at_}); }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  void remount(bool read_only) {
    CliResult r = run_program("/usr/bin/mount", {"-o", read_only ? "remount,ro" : "remount,rw", at_});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }
  const std::string& path() const { return at_; }

 private:
  std::string at_;
};

struct DiskReplica {
  ScratchDir dir{"kehu-disk"};
  SmallDisk disk{dir.file("mnt"), "3m"};
  std::string db = disk.path() + "/replica.db";

  CliResult run(const std::vector<std::string>& args) const {
    RunOptions o;
    o.env = {{"KEHU_DB", db}, {"KEHU_PASSPHRASE", "disk test pass"}, {"HOME", dir.path()},
             {"KEHU_LANG", "en"}, {"LANG", "C.UTF-8"}};
    return run_kehu(args, o);
  }
  CliResult ok(const std::vector<std::string>& args) const {
    CliResult r = run(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  }
  // The codes of the live customers, read through `kehu customer list --json`.
  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const auto& c : nlohmann::json::parse(ok({"customer", "list", "--json"}).out)) {
      out.push_back(c.at("code").get<std::string>());
    }
    return out;
  }
};

void add_customer(const DiskReplica& r, const std::string& name, const std::string& phone) {
  r.ok({"customer", "add", "--set", "name=" + name, "--set", "contact=张三", "--set", "phone=" + phone,
        "--set", "need=设备采购"});
}

}  // namespace

TEST_CASE("disk: a full disk fails an import cleanly and the replica stays intact", "[disk]") {
  DiskReplica r;
  r.ok({"init"});
  add_customer(r, "甲方贸易有限公司", "13800138000");
  const std::vector<std::string> before = r.codes();
  REQUIRE(before.size() == 1);

  // About 12 MB of sheet for a 3 MB disk: the one import transaction cannot fit.
  const std::string sheet = r.dir.file("big.csv");
  {
    std::ofstream out(sheet);
    out << "客户名称,联系人,联系电话,核心需求,备注\n";
    std::string notes;
    for (int i = 0; i < 80; ++i) notes += "备注内容很长";
    for (int i = 0; i < 8000; ++i) {
      char phone[16];
      std::snprintf(phone, sizeof phone, "139%08d", i);
      out << "磁盘测试" << i << "号,李四," << phone << ",需求," << notes << "\n";
    }
  }
  CliResult imp = r.run({"import", sheet});
  INFO(imp.describe());
  CHECK(imp.exit_code == 1);
  CHECK(imp.err.find("is full") != std::string::npos);
  CHECK(imp.err.find(r.db) != std::string::npos);
  CHECK(imp.err.find("nothing of this operation was written") != std::string::npos);

  // Nothing of the import, everything from before; and the replica still works.
  CHECK(r.codes() == before);
  CHECK(r.ok({"status"}).out.find("pending changes    1") != std::string::npos);
  add_customer(r, "乙方科技有限公司", "13800138001");
  CHECK(r.codes().size() == 2);
}

TEST_CASE("disk: a read-only replica gives a clear error and is unchanged", "[disk]") {
  DiskReplica r;
  r.ok({"init"});
  add_customer(r, "甲方贸易有限公司", "13800138000");
  const std::vector<std::string> before = r.codes();

  r.disk.remount(/*read_only=*/true);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"customer", "add", "--set", "name=丙方", "--set", "contact=王五", "--set",
                                 "phone=13800138002", "--set", "need=设备"},
        std::vector<std::string>{"customer", "list"}}) {
    CliResult res = r.run(args);
    INFO(res.describe());
    CHECK(res.exit_code == 1);
    CHECK(res.err.find("read-only file system") != std::string::npos);
    CHECK(res.err.find(r.db) != std::string::npos);
  }

  r.disk.remount(/*read_only=*/false);
  CHECK(r.codes() == before);
  CHECK(r.ok({"status"}).out.find("pending changes    1") != std::string::npos);
}

}  // namespace kehu::test
