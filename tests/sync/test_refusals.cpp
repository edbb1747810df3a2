// Nothing typed is lost silently (issue 15): edits the server would refuse are
// refused on the device at once, with the reason; edits refused anyway are
// named in the sync summary and kept for `kehu rejected`; a protected field
// waits for approval without holding back the rest of its edit. Real
// kehu-server, real replicas, the real `kehu` binary.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "device.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using kehu::json;
using kehu::test::Device;
using kehu::test::new_customer;
using kehu::test::run_server_command;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;

namespace {

// The admin's customers in 江苏: one owned by wang with credit data, one in the pool.
struct Shop {
  ServerFixture server;
  ScratchDir dir;
  Device root{dir, server, "root"};
  std::string owned, pool;
  Shop() {
    auto in = [](const std::string& name, const std::string& owner) {
      kehu::FieldInputs f = new_customer(name);
      if (!owner.empty()) f.emplace_back("owner", owner);
      return f;
    };
    owned = root.replica->add("customers", in("江苏甲公司", "wang")).code;
    pool = root.replica->add("customers", in("江苏公海公司", "")).code;
    root.replica->edit(owned, {{"credit_rating", "A"}});
    root.sync();
  }
};

std::size_t count_changes(Device& d) { return d.replica->pending_changes(0, 1000).size(); }

}  // namespace

TEST_CASE("refusals: the device refuses at once what its role may not write", "[sync][refusals]") {
  Shop s;
  Device wang(s.dir, s.server, "wang");
  // A restricted field: named, with the rule, nothing logged.
  auto restricted = wang.kehu({"customer", "edit", s.owned, "--set", "annual_spend=5000"});
  INFO(restricted.describe());
  CHECK(restricted.exit_code == 1);
  CHECK(restricted.err.find("annual_spend") != std::string::npos);
  CHECK(restricted.err.find("restricted") != std::string::npos);
  // A pool customer not yet claimed, and its follow-ups.
  auto pooled = wang.kehu({"customer", "edit", s.pool, "--set", "need=扫描仪"});
  CHECK(pooled.exit_code == 1);
  CHECK(pooled.err.find("customer pool") != std::string::npos);
  CHECK(pooled.err.find("kehu customer claim " + s.pool) != std::string::npos);
  auto child = wang.kehu({"followup", "add", s.pool, "--set", "date=2026-12-01", "--set", "person=wang",
                          "--set", "content=电话"});
  CHECK(child.exit_code == 1);
  CHECK(child.err.find("customer pool") != std::string::npos);
  // Reassigning is a manager's.
  auto owner = wang.kehu({"customer", "edit", s.owned, "--set", "owner=li"});
  CHECK(owner.exit_code == 1);
  CHECK(owner.err.find("only a manager reassigns") != std::string::npos);
  CHECK(count_changes(wang) == 0);
  // What the role may write still goes.
  CHECK(wang.kehu({"customer", "edit", s.owned, "--set", "need=扫描仪"}).exit_code == 0);
  CHECK(count_changes(wang) == 1);
  // An auditor edits nothing.
  Device audit(s.dir, s.server, "audit");
  auto audited = audit.kehu({"customer", "edit", s.owned, "--set", "need=打印机"});
  CHECK(audited.exit_code == 1);
  CHECK(audited.err.find("auditor") != std::string::npos);
  CHECK(count_changes(audit) == 0);
}

TEST_CASE("refusals: a refused edit is named by sync and kept to re-apply or dismiss", "[sync][refusals]") {
  Shop s;
  Device wang(s.dir, s.server, "wang");
  // The customer goes back to the pool behind wang's back: his offline edit,
  // made while it was still his, is refused at sync.
  REQUIRE(s.root.kehu({"customer", "edit", s.owned, "--set", "owner="}).exit_code == 0);
  s.root.sync();
  REQUIRE(wang.kehu({"customer", "edit", s.owned, "--set", "need=扫描仪", "--set", "stage=needs"}).exit_code == 0);
  auto sync = wang.kehu({"sync"});
  INFO(sync.describe());
  REQUIRE(sync.exit_code == 1);  // a refusal: a script can tell
  CHECK(sync.out.find("rejected: " + s.owned) != std::string::npos);
  CHECK(sync.out.find("(need)") != std::string::npos);
  CHECK(sync.out.find("kehu rejected") != std::string::npos);

  auto listed = wang.kehu({"--json", "rejected"});
  INFO(listed.describe());
  REQUIRE(listed.exit_code == 0);
  json list = json::parse(listed.out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["typed"]["need"] == "扫描仪");
  CHECK(list[0]["typed"]["stage"] == "needs");
  const std::string seq = std::to_string(list[0]["seq"].get<std::int64_t>());
  auto table = wang.kehu({"rejected"});
  CHECK(table.out.find("扫描仪") != std::string::npos);

  // Dismissed: gone from the list; an unknown number is a clear error.
  REQUIRE(wang.kehu({"rejected", "dismiss", seq}).exit_code == 0);
  CHECK(json::parse(wang.kehu({"--json", "rejected"}).out).empty());
  auto again = wang.kehu({"rejected", "dismiss", seq});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("no refused edit #" + seq) != std::string::npos);
}

TEST_CASE("refusals: a refused edit re-applied in another form goes through", "[sync][refusals]") {
  Shop s;
  Device wang(s.dir, s.server, "wang");
  REQUIRE(wang.kehu({"customer", "edit", s.owned, "--set", "need=扫描仪", "--set", "stage=needs"}).exit_code == 0);
  // A manager makes the stage protected while wang is offline; the manager then
  // turns the request down, and wang re-applies the need alone.
  REQUIRE(run_server_command({"schema", "protect", "customers", "stage", "--data", s.server.data_dir()}).exit_code == 0);
  auto first = wang.kehu({"sync"});
  INFO(first.describe());
  // The need applies at once; the stage waits, and sync says so.
  CHECK(first.out.find("1 change awaits a manager's approval") != std::string::npos);
  CHECK(first.out.find("request #1") != std::string::npos);
  CHECK(wang.customer(s.owned).fields["need"] == "扫描仪");
  CHECK(wang.customer(s.owned).fields["stage"] != "needs");
  s.root.sync();
  CHECK(s.root.customer(s.owned).fields["need"] == "扫描仪");
  // The manager's list shows the whole held change.
  Device zhao(s.dir, s.server, "zhao");
  auto approvals = zhao.kehu({"approvals"});
  INFO(approvals.describe());
  CHECK(approvals.out.find("Needs analysis") != std::string::npos);
  CHECK(approvals.out.find("扫描仪") == std::string::npos);  // not held: already applied
  REQUIRE(zhao.kehu({"reject", "1", "--reason", "阶段由经理定"}).exit_code == 0);
  auto second = wang.kehu({"sync"});
  INFO(second.describe());
  CHECK(second.exit_code == 1);
  CHECK(second.out.find("阶段由经理定") != std::string::npos);
  // The request was pushed by the sync before: this push refused nothing, and
  // the manager's decision is said on a line of its own.
  CHECK(second.out.find("pushed 0 changes (0 applied, 0 rejected)") != std::string::npos);
  CHECK(second.out.find("1 change awaiting approval was turned down by a manager") != std::string::npos);
  CHECK(json::parse(wang.kehu({"--json", "sync"}).out)["turned_down"] == 0);
  json list = json::parse(wang.kehu({"--json", "rejected"}).out);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["typed"]["stage"] == "needs");
  const std::string seq = std::to_string(list[0]["seq"].get<std::int64_t>());
  // Re-applied in another form: a note instead of the stage.
  auto retry = wang.kehu({"rejected", "retry", seq, "--drop", "stage", "--set", "notes=客户在做需求分析"});
  INFO(retry.describe());
  REQUIRE(retry.exit_code == 0);
  CHECK(json::parse(wang.kehu({"--json", "rejected"}).out).empty());
  wang.sync();
  CHECK(wang.replica->status().awaiting == 0);
  CHECK(wang.customer(s.owned).fields["notes"] == "客户在做需求分析");
  // A second protected edit waits whole; approved, history names the approver.
  REQUIRE(wang.kehu({"customer", "edit", s.owned, "--set", "stage=proposal"}).exit_code == 0);
  auto held = wang.kehu({"sync"});
  INFO(held.describe());
  CHECK(held.out.find("pushed 1 change (0 applied, 0 rejected, 1 awaiting approval)") != std::string::npos);
  REQUIRE(zhao.kehu({"approve", "2"}).exit_code == 0);
  auto approved = wang.kehu({"sync"}, "zh");
  INFO(approved.describe());
  CHECK(approved.exit_code == 0);
  CHECK(approved.out.find("经理已批准 1 条之前等待审批的修改") != std::string::npos);
  CHECK(wang.customer(s.owned).fields["stage"] == "proposal");
  auto hist = wang.kehu({"history", s.owned, "--field", "stage"});
  INFO(hist.describe());
  CHECK(hist.out.find("approved by zhao") != std::string::npos);
}

TEST_CASE("refusals: a settling that waits for approval closes the conflict everywhere once approved",
          "[sync][refusals][conflicts]") {
  Shop s;
  Device wang(s.dir, s.server, "wang");
  // wang and the admin set the stage at once; the admin's later edit is kept.
  wang.replica->edit(s.owned, {{"stage", "needs"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  s.root.replica->edit(s.owned, {{"stage", "contract"}});
  s.root.sync();
  wang.sync();
  s.root.sync();
  for (Device* d : {&wang, &s.root}) REQUIRE(json::parse(d->kehu({"--json", "conflicts"}).out).size() == 1);

  // The stage becomes protected; wang settles the conflict for his own value,
  // so the whole settling waits for a manager.
  REQUIRE(run_server_command({"schema", "protect", "customers", "stage", "--data", s.server.data_dir()}).exit_code == 0);
  auto res = wang.kehu({"conflicts", "resolve", s.owned, "stage", "--keep", "mine"});
  INFO(res.describe());
  REQUIRE(res.exit_code == 0);
  auto first = wang.kehu({"sync"});
  INFO(first.describe());
  CHECK(first.out.find("1 change awaits a manager's approval") != std::string::npos);
  s.root.sync();
  CHECK(json::parse(s.root.kehu({"--json", "conflicts"}).out).size() == 1);  // not settled yet
  CHECK(s.root.customer(s.owned).fields["stage"] == "contract");

  Device zhao(s.dir, s.server, "zhao");
  json requests = json::parse(zhao.kehu({"--json", "approvals"}).out);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["resolves"][0]["field"] == "stage");
  REQUIRE(zhao.kehu({"approve", requests[0]["id"].dump()}).exit_code == 0);
  wang.sync();
  s.root.sync();
  Device fresh(s.dir, s.server, "root", true, "root-new-phone");
  for (Device* d : {&wang, &s.root, &fresh}) {
    INFO(d->path);
    CHECK(json::parse(d->kehu({"--json", "conflicts"}).out).empty());
    CHECK(d->customer(s.owned).fields["stage"] == "needs");
  }
}
