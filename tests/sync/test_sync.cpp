// End-to-end sync: real kehu-server processes on 127.0.0.1 (server_fixture.h)
// and real encrypted replicas syncing through the libcurl client, plus the
// `kehu` binary where the user-facing commands matter (conflicts, resolve).
#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "cli_runner.h"
#include "kehu/cause_text.h"
#include "kehu/error.h"
#include "kehu/replica.h"
#include "kehu/sync/sync_session.h"
#include "server_fixture.h"
#include "device.h"
#include "sync_test_util.h"
#include "team_ops.h"

using kehu::json;
using kehu::Record;
using kehu::Replica;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;
using kehu::test::run_server_command;
using kehu::test::new_customer;
using kehu::test::snapshot;
using kehu::test::Device;

namespace {

}  // namespace

TEST_CASE("sync: edits to different fields on two offline replicas are both kept", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  std::string code = qian.replica->add("customers", new_customer("明达医疗器械有限公司")).code;
  qian.sync();
  sun.sync();
  REQUIRE(sun.customer(code).fields["name"] == "明达医疗器械有限公司");

  qian.replica->edit(code, {{"phone", "13912345678"}});
  sun.replica->edit(code, {{"stage", "方案制定"}});
  qian.sync();
  auto report = sun.sync();
  CHECK(report.conflicts == 0);
  qian.sync();
  for (Device* d : {&qian, &sun}) {
    Record c = d->customer(code);
    CHECK(c.fields["phone"] == "13912345678");
    CHECK(c.fields["stage"] == "proposal");
    CHECK_FALSE(c.pending);
  }
  CHECK(snapshot(*qian.replica) == snapshot(*sun.replica));
}

TEST_CASE("sync: a push the server defers at its time budget is sent again in device order", "[sync]") {
  // The server stops a batch at its time budget under the write lock (here 1 ms)
  // and answers "deferred": N for the rest; the client sends those again first.
  kehu::test::ServeOptions o;
  o.env["KEHU_PUSH_BATCH_BUDGET_MS"] = "1";
  ServerFixture server(o);
  ScratchDir dir;
  Device wang(dir, server, "wang"), qian(dir, server, "qian");
  std::vector<std::string> codes;
  for (int i = 0; i < 20; ++i) {
    codes.push_back(wang.replica->add("customers", new_customer("延后客户 " + std::to_string(i))).code);
    // Each customer edited right after its create: out of order, the edit would reach the server first.
    wang.replica->edit(codes.back(), {{"phone", "139" + std::to_string(10000000 + i)}});
  }
  auto report = wang.sync();
  CHECK(report.rejected == 0);
  CHECK(wang.replica->status().pending == 0);
  qian.sync();
  for (int i = 0; i < 20; ++i) {
    Record c = qian.customer(wang.customer(codes[i]).code);
    CHECK(c.fields["phone"] == "139" + std::to_string(10000000 + i));
  }
}

TEST_CASE("sync: the same field on both: the later edit wins, the other is a conflict", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  std::string code = qian.replica->add("customers", new_customer("东方服饰有限公司")).code;
  qian.sync();
  sun.sync();

  qian.replica->edit(code, {{"stage", "needs"}});
  // A few milliseconds apart, so sun's hybrid clock is the later one (within one
  // millisecond the tie goes to the greater device id, which is random here).
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sun.replica->edit(code, {{"stage", "contract"}});  // later hybrid clock: wins
  sun.sync();
  qian.sync();
  sun.sync();
  for (Device* d : {&qian, &sun}) CHECK(d->customer(code).fields["stage"] == "contract");

  // Both replicas list the conflict with both authors.
  for (Device* d : {&qian, &sun}) {
    auto res = d->kehu({"--json", "conflicts"});
    INFO(res.describe());
    REQUIRE(res.exit_code == 0);
    json list = json::parse(res.out);
    REQUIRE(list.size() == 1);
    CHECK(list[0]["code"] == code);
    CHECK(list[0]["field"] == "stage");
    CHECK(list[0]["kept"] == "contract");
    CHECK(list[0]["lost"] == "needs");
    CHECK(list[0]["kept_author"] == "sun");
    CHECK(list[0]["lost_author"] == "qian");
  }

  // qian keeps his own value: a new edit that wins everywhere after the next syncs.
  auto res = qian.kehu({"conflicts", "resolve", code, "stage", "--keep", "mine"});
  INFO(res.describe());
  REQUIRE(res.exit_code == 0);
  // R13-3: the value kept is named, not only the side.
  CHECK(res.out.find("resolved: " + code + " Sales stage (mine), keeping \"Needs analysis\"; the next sync closes it") !=
        std::string::npos);
  CHECK(json::parse(qian.kehu({"--json", "conflicts"}).out).empty());
  qian.sync();
  sun.sync();
  for (Device* d : {&qian, &sun}) CHECK(d->customer(code).fields["stage"] == "needs");
  CHECK(snapshot(*qian.replica) == snapshot(*sun.replica));

  // A conflict that is gone cannot be resolved again: a clear error, exit 1.
  auto again = qian.kehu({"conflicts", "resolve", code, "stage", "--keep", "theirs"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("no open conflict") != std::string::npos);
}

TEST_CASE("sync: delete on one replica, edit on the other", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  std::string code = qian.replica->add("customers", new_customer("正泰贸易有限公司")).code;
  qian.sync();
  sun.sync();

  qian.replica->remove(code);
  sun.replica->edit(code, {{"notes", "客户要求周五回电"}});
  qian.sync();
  auto report = sun.sync();
  qian.sync();
  for (Device* d : {&qian, &sun}) {
    Record c = d->customer(code);
    CHECK(c.deleted);                                   // deleted…
    CHECK(c.fields["notes"] == "客户要求周五回电");      // …carrying the edit
  }
  CHECK(report.conflicts >= 1);  // flagged
  bool flagged = false;
  for (const auto& oc : sun.replica->open_conflicts()) flagged |= oc.conflict.kind == "delete_edit";
  CHECK(flagged);

  sun.replica->restore(code);  // restorable, with the edit
  sun.sync();
  qian.sync();
  for (Device* d : {&qian, &sun}) {
    Record c = d->customer(code);
    CHECK_FALSE(c.deleted);
    CHECK(c.fields["notes"] == "客户要求周五回电");
  }
}

TEST_CASE("sync: tag adds and removes from both sides merge", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  std::string code = qian.replica->add("customers", new_customer("安和食品股份有限公司")).code;
  qian.sync();
  sun.sync();
  // Base {华东地区, 重点客户}. qian drops 华东地区 and adds 高预算; sun drops 重点客户
  // and adds 需要演示.
  qian.replica->edit(code, {{"tags", "重点客户;高预算"}});
  sun.replica->edit(code, {{"tags", "华东地区;需要演示"}});
  qian.sync();
  auto report = sun.sync();
  CHECK(report.conflicts == 0);
  qian.sync();
  for (Device* d : {&qian, &sun}) {
    CHECK(d->customer(code).fields["tags"] == json({"需要演示", "高预算"}));
  }
}

TEST_CASE("sync: a push whose response was lost is applied once", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian");
  std::string code = qian.replica->add("customers", new_customer("瑞丰教育咨询有限公司")).code;
  qian.sync();
  qian.replica->edit(code, {{"phone", "13700137000"}});

  // The push reaches the server, but its answer never reaches the device: we send
  // the change log ourselves and drop the response.
  auto pending = qian.replica->pending_changes(0, 100);
  REQUIRE(pending.size() == 1);
  std::string token = qian.replica->meta("token");
  json changes = json::array({kehu::to_json(pending[0].change)});
  auto lost = server.post("/v1/push", {{"device", qian.replica->device_id()}, {"changes", changes}}, token);
  REQUIRE(lost.status == 200);
  REQUIRE(qian.replica->status().pending == 1);  // the device still thinks it is pending

  auto report = qian.sync();  // retries the same change_id
  CHECK(report.pushed == 1);
  CHECK(report.applied == 1);
  CHECK(qian.replica->status().pending == 0);

  std::string id = qian.customer(code).id;
  auto hist = server.get("/v1/records/" + id + "/history", token);
  REQUIRE(hist.status == 200);
  int with_change = 0;
  for (const auto& rev : hist.body["revisions"]) with_change += rev["change_id"] == pending[0].change.change_id;
  CHECK(with_change == 1);
  CHECK(hist.body["revisions"].size() == 2);  // create + one edit, not two
  CHECK(qian.customer(code).fields["phone"] == "13700137000");
}

TEST_CASE("sync: customers created offline on two devices get distinct codes", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian", false), sun(dir, server, "sun", false);
  // Never synced: no lease yet, so both get provisional codes the server replaces.
  std::string w1 = qian.replica->add("customers", new_customer("甲公司")).code;
  std::string l1 = sun.replica->add("customers", new_customer("乙公司")).code;
  CHECK(w1.front() == 'P');
  CHECK(l1.front() == 'P');
  qian.sync();
  sun.sync();
  // Leased now: codes made offline come from disjoint blocks.
  std::vector<std::string> leased;
  for (int i = 0; i < 3; ++i) {
    leased.push_back(qian.replica->add("customers", new_customer("丙公司" + std::to_string(i))).code);
    leased.push_back(sun.replica->add("customers", new_customer("丁公司" + std::to_string(i))).code);
  }
  for (const auto& c : leased) CHECK(c.front() == 'C');
  qian.sync();
  sun.sync();
  qian.sync();

  std::set<std::string> codes;
  auto all = qian.replica->list(kehu::ListQuery{});
  REQUIRE(all.size() == 8);
  for (const auto& r : all) {
    CHECK(r.code.front() == 'C');
    CHECK(r.code.size() == 10);
    codes.insert(r.code);
  }
  CHECK(codes.size() == 8);
  CHECK(snapshot(*qian.replica) == snapshot(*sun.replica));
  // The provisional code still finds the customer on the device that made it.
  auto found = qian.replica->find_customer(w1);
  REQUIRE(found);
  CHECK(found->fields["name"] == "甲公司");
  CHECK(found->code != w1);
}

TEST_CASE("sync: history on every replica names the right author", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  std::string code = qian.replica->add("customers", new_customer("万嘉医疗器械有限公司", "浙江")).code;
  qian.sync();
  sun.sync();
  sun.replica->edit(code, {{"city", "杭州"}});
  sun.sync();
  qian.replica->edit(code, {{"province", "浙江省"}});
  qian.sync();
  sun.sync();
  for (Device* d : {&qian, &sun}) {
    auto res = d->kehu({"--json", "history", code});
    INFO(res.describe());
    REQUIRE(res.exit_code == 0);
    json h = json::parse(res.out);
    REQUIRE(h.size() == 3);  // newest first
    CHECK(h[0]["rev"] == 3);
    CHECK(h[0]["author"] == "qian");
    CHECK(h[0]["changes"]["province"]["new"] == "浙江省");
    CHECK(h[1]["rev"] == 2);
    CHECK(h[1]["author"] == "sun");
    CHECK(h[1]["changes"]["city"]["new"] == "杭州");
    CHECK(h[2]["rev"] == 1);
    CHECK(h[2]["author"] == "qian");
    CHECK(h[2]["changes"]["name"]["new"] == "万嘉医疗器械有限公司");
  }
}

TEST_CASE("sync: a change the server refuses stays on the device with the reason", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device audit(dir, server, "audit");  // auditors read everything and write nothing
  // A device that does not know its role (its login predates the role in the
  // replica) cannot refuse the edit itself: the server does (test_refusals.cpp
  // has the device that knows).
  audit.replica->set_meta("role", "");
  audit.replica->add("customers", new_customer("审计测试公司"));
  auto report = audit.sync();
  CHECK(report.rejected == 1);
  auto rejected = audit.replica->changes_in_state("rejected");
  REQUIRE(rejected.size() == 1);
  CHECK_FALSE(rejected[0].reason.empty());
  auto res = audit.kehu({"--json", "status"});
  REQUIRE(res.exit_code == 0);
  CHECK(json::parse(res.out)["rejected"] == 1);
  // The next sync does not drop it either.
  audit.sync();
  CHECK(audit.replica->changes_in_state("rejected").size() == 1);
}

TEST_CASE("sync: with the server down, sync fails clearly and loses nothing", "[sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian");
  std::string code = qian.replica->add("customers", new_customer("断网测试公司")).code;
  server.stop();
  auto opts = Device::options();
  opts.max_attempts = 2;
  try {
    kehu::sync::sync(*qian.replica, opts);
    FAIL("sync succeeded without a server");
  } catch (const kehu::Error& e) {
    CHECK(e.code() == kehu::Errc::network);
    CHECK(std::string(e.what()).find("run `kehu sync` again") != std::string::npos);
  }
  CHECK(qian.replica->status().pending == 1);
  server.start();
  kehu::sync::login(*qian.replica, Device::url(server), "qian", ServerFixture::kPassword, opts);
  qian.sync();
  CHECK(qian.replica->status().pending == 0);
  CHECK_FALSE(qian.customer(code).pending);
}

// Random operations on several replicas with random sync orders. At the end every
// replica equals the server's state, and every value a user typed is either in a
// revision or in a conflict.
namespace {

struct Typed {
  std::string change_id, record_id, field;
  json value;
};

void run_property(std::uint32_t seed, int ops, int devices) {
  INFO("seed " << seed << " (rerun: this seed reproduces the failure)");
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  ServerFixture server;
  ScratchDir dir;
  const std::vector<std::string> users = {"qian", "sun", "root"};
  std::vector<std::unique_ptr<Device>> devs;
  for (int i = 0; i < devices; ++i) {
    devs.push_back(std::make_unique<Device>(dir, server, users[i % 3], true, "dev" + std::to_string(i)));
  }
  std::vector<Typed> typed;
  std::size_t changes_made = 0;

  for (int op = 0; op < ops; ++op) {
    Device& d = *devs[pick(devs.size())];
    auto before = d.replica->pending_changes(0, 1000000).size();
    if (!kehu::test::random_edit(*d.replica, rng, d.user, op)) {
      d.sync();
      continue;
    }
    auto after = d.replica->pending_changes(0, 1000000);
    changes_made += after.size() - before;
    if (after.size() > before) {
      const auto& c = after.back().change;
      for (const auto& [field, fc] : c.fields) {
        if (field != "tags") typed.push_back({c.change_id, c.record_id, field, fc.new_value});
      }
    }
  }
  // Everyone pushes, then everyone pulls.
  for (int round = 0; round < 2; ++round) {
    std::vector<std::size_t> order(devs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (auto i : order) {
      auto r = devs[i]->sync();
      CHECK(r.rejected == 0);
    }
  }
  // The server's state, as a fresh replica of an admin sees it.
  Device fresh(dir, server, "root");
  fresh.sync();
  auto truth = snapshot(*fresh.replica);
  for (auto& d : devs) {
    CHECK(d->replica->status().pending == 0);
    CHECK(snapshot(*d->replica) == truth);
  }
  // Every typed value is in a revision (as a new value) or in a conflict.
  std::map<std::string, std::vector<kehu::Revision>> revs;
  for (const auto& [id, rec] : truth) {
    for (auto& e : fresh.replica->history(id)) revs[id].push_back(e.revision);
  }
  std::set<std::string> seen_changes;
  for (const auto& [id, list] : revs) {
    for (const auto& r : list) seen_changes.insert(r.change_id);
  }
  CHECK(seen_changes.size() == changes_made);
  for (const auto& t : typed) {
    INFO("change " << t.change_id << " field " << t.field << " value " << t.value.dump());
    bool found = false;
    for (const auto& r : revs[t.record_id]) {
      if (auto it = r.changes.find(t.field); it != r.changes.end() && it->second.new_value == t.value) found = true;
      for (const auto& c : r.conflicts) {
        if (c.field == t.field && (c.lost == t.value || c.kept == t.value)) found = true;
      }
    }
    CHECK(found);
  }
}

}  // namespace

TEST_CASE("sync: random operations and sync orders converge (a few seeds)", "[sync][property]") {
  for (std::uint32_t seed : {1u, 2u, 3u}) run_property(seed, 60, 3);
}

// Seeds 100..139 by default. KEHU_PROPERTY_SEED=N runs only seed N (same ops and
// devices), to rerun the seed a failure names:
//   KEHU_PROPERTY_SEED=130 build/tests/kehu_tests "sync: random operations and sync orders converge (many seeds)"
TEST_CASE("sync: random operations and sync orders converge (many seeds)", "[sync][property][.slow]") {
  std::uint32_t first = 100, last = 139;
  if (const char* env = std::getenv("KEHU_PROPERTY_SEED"); env && *env) {
    first = last = static_cast<std::uint32_t>(std::stoul(env));
  }
  for (std::uint32_t seed = first; seed <= last; ++seed) run_property(seed, 300, 4);
}

// The same property with the whole team: devices of every role (sales wang and
// li, manager zhao, admins root and qian, auditor audit) doing every op that
// changes a record (team_ops.h): edits, creates, deletes, restores, follow-ups,
// protected-field edits that wait for approval, approve and reject, conflict
// resolve, revert, merge of duplicates, pool claim and release, reassign. At
// quiescence every device equals what a fresh device of its user pulls from the
// server, no open conflict differs between devices, the revision chain
// verifies, the auditor wrote nothing, and every change a device logged is a
// server revision, a change request that was approved, or kept on the device
// (refused, with the reason, or awaiting approval). The divergences it found
// have a reduced case each below; none is exempted.
namespace {

using kehu::test::TeamOpResult;
using kehu::test::role_of;

struct Logged {
  std::size_t device;
  std::string change_id, op;
  json typed;  // what the change set, as logged (typed_values)
};

// The values a change just logged on `r` set.
json typed_of(const Replica& r, const std::string& change_id) {
  for (const auto& lc : r.pending_changes(0, 1000000)) {
    if (lc.change.change_id == change_id) return kehu::typed_values(lc.change);
  }
  return json::object();
}

// Open conflicts as comparable tuples; for `sales`, without the restricted fields.
std::set<std::string> conflict_keys(const Replica& r, const std::string& role) {
  static const std::set<std::string> restricted = {"credit_rating", "annual_spend", "credit_limit"};
  std::set<std::string> out;
  for (const auto& oc : r.open_conflicts()) {
    if (role == "sales" && restricted.count(oc.conflict.field)) continue;
    out.insert(oc.record_id + " rev " + std::to_string(oc.rev) + " " + oc.conflict.field + " " + oc.conflict.member + " " +
               oc.conflict.kind + " kept " + oc.conflict.kept.dump() + " lost " + oc.conflict.lost.dump());
  }
  return out;
}

// Syncs every device, in random orders, until a whole round pushes and pulls nothing.
void quiesce(std::vector<std::unique_ptr<Device>>& devs, std::mt19937& rng, std::size_t& unchanged) {
  for (int round = 0; round < 8; ++round) {
    std::vector<std::size_t> order(devs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    bool quiet = true;
    for (auto i : order) {
      auto r = devs[i]->sync();
      unchanged += r.unchanged;
      if (r.pushed > 0 || r.pulled_revisions > 0 || r.removed > 0) quiet = false;
    }
    if (quiet) return;
  }
  FAIL("the devices did not reach quiescence in 8 rounds of syncs");
}

struct TeamRun {
  std::map<std::string, int> done, refused;  // per op name
  std::string trace;                         // the ops, one per line (for a failure's message)
};

TeamRun run_team_property(std::uint32_t seed, int ops, const std::vector<std::string>& users) {
  INFO("team seed " << seed << " (rerun: this seed reproduces the failure)");
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  ServerFixture server;
  ScratchDir dir;
  // type and status need a manager's approval when sales edits them.
  auto prot = run_server_command({"schema", "protect", "customers", "type,status", "--data", server.data_dir()});
  INFO(prot.output);
  REQUIRE(prot.exit_code == 0);
  std::vector<std::unique_ptr<Device>> devs;
  for (std::size_t i = 0; i < users.size(); ++i) {
    devs.push_back(std::make_unique<Device>(dir, server, users[i], true, "dev" + std::to_string(i) + "-" + users[i]));
  }
  TeamRun run;
  std::vector<Logged> logged;
  std::size_t unchanged = 0;
  for (int op = 0; op < ops; ++op) {
    const std::size_t di = pick(devs.size());
    Device& d = *devs[di];
    if (pick(8) == 0) {
      // Contention: another device edits the stage of a customer both hold,
      // offline, just before this one does (the later clock wins, the other is
      // a conflict every device must list alike once synced).
      const std::size_t oi = pick(devs.size());
      Device& o = *devs[oi];
      auto theirs = o.replica->list(kehu::ListQuery{});
      if (oi != di && !theirs.empty()) {
        const kehu::Record& c = theirs[pick(theirs.size())];
        if (d.replica->get(c.id)) {
          static const std::vector<std::string> stages = {"contact", "needs", "proposal", "contract"};
          for (Device* who : {&o, &d}) {
            TeamOpResult res;
            res.op = "contend";
            const std::string stage = stages[pick(stages.size())];
            const auto before = who->replica->pending_changes(0, 1000000).size();
            try {
              who->replica->edit(c.id, {{"stage", stage}});
            } catch (const kehu::Error& e) {
              res.refused = e.what();
            }
            auto after = who->replica->pending_changes(0, 1000000);
            for (std::size_t k = before; k < after.size(); ++k) {
              res.new_changes.push_back(after[k].change.change_id);
            }
            res.done = !res.new_changes.empty();
            const std::size_t wi = who == &o ? oi : di;
            run.trace += std::to_string(op) + " " + who->path.substr(who->path.rfind('/') + 1) + " contend " +
                         c.code + " stage=" + stage + (res.done ? " done" : "") +
                         (res.refused.empty() ? "" : " refused: " + res.refused) + "\n";
            if (res.done) ++run.done["contend"];
            if (!res.refused.empty()) ++run.refused["contend"];
            for (const auto& id : res.new_changes) logged.push_back({wi, id, "contend", typed_of(*who->replica, id)});
            if (role_of(who->user) == "auditor") CHECK(res.new_changes.empty());
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
          }
          for (Device* who : {&o, &d, &o}) unchanged += who->sync().unchanged;
          continue;
        }
      }
    }
    TeamOpResult res = kehu::test::random_team_op(d, rng, op);
    // People sync often (the background replicator does it for them).
    if (res.op != "sync" && pick(3) == 0) res.syncs.push_back(d.sync());
    for (const auto& s : res.syncs) unchanged += s.unchanged;
    run.trace += std::to_string(op) + " " + d.path.substr(d.path.rfind('/') + 1) + " " + res.op +
                 (res.done ? " done" : "") + (res.refused.empty() ? "" : " refused: " + res.refused) + "\n";
    if (res.done) ++run.done[res.op];
    if (!res.refused.empty()) ++run.refused[res.op];
    for (const auto& id : res.new_changes) logged.push_back({di, id, res.op, typed_of(*d.replica, id)});
    if (role_of(d.user) == "auditor") {
      // An auditor writes nothing, and is told so: no change logged, no server action.
      INFO(run.trace);
      CHECK(res.new_changes.empty());
      CHECK_FALSE(res.done);
    }
  }
  // A decision round, so that every run decides change requests: every device
  // syncs once (the requests reach the server), then each manager's and admin's
  // device approves or rejects what it may (admins are refused today: bug 4 in
  // findings/property.md).
  for (auto& d : devs) unchanged += d->sync().unchanged;
  for (std::size_t di = 0; di < devs.size(); ++di) {
    Device& d = *devs[di];
    if (role_of(d.user) != "manager" && role_of(d.user) != "admin") continue;
    for (int k = 0; k < 3; ++k) {
      TeamOpResult res = kehu::test::team_op(pick(3) == 0 ? "reject" : "approve", d, rng, ops + k);
      for (const auto& s : res.syncs) unchanged += s.unchanged;
      run.trace += "decide " + d.path.substr(d.path.rfind('/') + 1) + " " + res.op + (res.done ? " done" : "") +
                   (res.refused.empty() ? "" : " refused: " + res.refused) + "\n";
      if (res.done) ++run.done[res.op];
      if (!res.refused.empty()) ++run.refused[res.op];
    }
  }
  if (const char* env = std::getenv("KEHU_PROPERTY_TRACE"); env && *env) WARN(run.trace);
  INFO(run.trace);
  quiesce(devs, rng, unchanged);

  // What the server holds for each user: a fresh device of that user.
  std::map<std::string, std::unique_ptr<Device>> fresh;
  for (const auto& u : users) {
    if (!fresh.count(u)) fresh[u] = std::make_unique<Device>(dir, server, u, true, "fresh-" + u);
  }
  if (!fresh.count("root")) fresh["root"] = std::make_unique<Device>(dir, server, "root", true, "fresh-root");
  const auto all = snapshot(*fresh["root"]->replica);
  const auto all_conflicts = conflict_keys(*fresh["root"]->replica, "admin");
  for (const auto& [u, f] : fresh) {
    INFO("user " << u);
    const auto truth = snapshot(*f->replica);
    for (const auto& [id, rec] : truth) {
      INFO("record " << rec.dump());
      REQUIRE(all.count(id));
      CHECK(all.at(id)["rev"] == rec["rev"]);
    }
    if (role_of(u) == "admin" || role_of(u) == "auditor") {
      CHECK(truth == all);
      CHECK(conflict_keys(*f->replica, role_of(u)) == all_conflicts);
    }
  }
  for (auto& d : devs) {
    INFO("device " << d->path << " of " << d->user);
    CHECK(d->replica->status().pending == 0);
    const auto& f = *fresh[d->user];
    const auto mine = snapshot(*d->replica);
    const auto theirs = snapshot(*f.replica);
    CHECK(mine == theirs);
    if (mine != theirs) {
      // Name each record that differs, with what the device's log holds about it
      // and what the server holds (the admin's view).
      for (const char* state : {"rejected", "awaiting", "pending"}) {
        for (const auto& lc : d->replica->changes_in_state(state)) {
          const auto& id = lc.change.record_id;
          if ((mine.count(id) ? mine.at(id) : json()) == (theirs.count(id) ? theirs.at(id) : json())) continue;
          WARN("differing record " << id << " has a " << state << " change " << lc.change.change_id << ": "
                                   << lc.reason);
        }
      }
      for (const auto& [id, rec] : mine) {
        if (theirs.count(id) && theirs.at(id) == rec) continue;
        WARN("record " << id << " differs: device " << rec.dump() << " / fresh "
                       << (theirs.count(id) ? theirs.at(id).dump() : "-") << " / server "
                       << (all.count(id) ? all.at(id).dump() : "-"));
      }
      for (const auto& [id, rec] : theirs) {
        if (!mine.count(id)) WARN("record " << id << " missing on the device: fresh " << rec.dump());
      }
    }
    {
      const auto mine_c = conflict_keys(*d->replica, role_of(d->user));
      const auto theirs_c = conflict_keys(*f.replica, role_of(d->user));
      CHECK(mine_c == theirs_c);
    }
    for (const auto& k : conflict_keys(*d->replica, role_of(d->user))) {
      INFO("open conflict " << k);
      CHECK(all_conflicts.count(k));
    }
  }
  // The chain is whole and every record holds what its revisions wrote, after every op.
  const auto verified = run_server_command({"audit", "verify", "--data", server.data_dir()});
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  CHECK_THAT(verified.output, Catch::Contains(std::to_string(all.size()) + " records match them"));

  // Every logged change: a server revision, an approved request, or kept on its
  // device (refused with a reason, or awaiting approval).
  std::set<std::string> revision_ids, causes;
  for (const auto& [id, rec] : all) {
    for (auto& e : fresh["root"]->replica->history(id)) {
      revision_ids.insert(e.revision.change_id);
      causes.insert(e.revision.cause);
    }
  }
  std::map<std::string, json> requests;  // change id -> request
  auto listed = server.post("/v1/approvals", {{"status", "all"}}, server.login("root"));
  REQUIRE(listed.status == 200);
  for (const auto& r : listed.body["requests"]) requests[r.value("change_id", "")] = r;
  std::size_t missing = 0;
  for (const auto& l : logged) {
    INFO("change " << l.change_id << " (" << l.op << ") of " << devs[l.device]->path);
    if (revision_ids.count(l.change_id)) continue;
    if (auto it = requests.find(l.change_id); it != requests.end() && it->second["status"] == "approved") {
      CHECK(causes.count(kehu::approval_cause(it->second["id"].get<std::int64_t>(), it->second.value("cause", ""))));
      continue;
    }
    bool kept = false;
    for (const char* state : {"rejected", "awaiting"}) {
      for (const auto& lc : devs[l.device]->replica->changes_in_state(state)) {
        if (lc.change.change_id == l.change_id) {
          kept = true;
          CHECK_FALSE(lc.reason.empty());
          // What was typed stays readable (kehu rejected, --json): each value
          // the kept change sets is the one typed (a later edit may have taken
          // a field out of a request, never changed one).
          const json kept_typed = kehu::typed_values(lc.change);
          for (const auto& [key, value] : kept_typed.items()) {
            INFO("field " << key);
            CHECK(l.typed.value(key, json("(not typed)")) == value);
          }
          if (lc.change.op == kehu::Op::update && !l.typed.empty()) CHECK_FALSE(kept_typed.empty());
        }
      }
    }
    if (!kept) ++missing;
  }
  // A change the server found every value of already ("noop") leaves the log
  // without a revision; nothing else may.
  CHECK(missing == unchanged);
  return run;
}

}  // namespace

TEST_CASE("sync: every role doing every op converges (a few seeds)", "[sync][property][teams]") {
  const std::vector<std::string> users = {"wang", "zhao", "root", "li", "audit", "qian"};
  std::map<std::string, int> done, refused;
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    auto r = run_team_property(seed, 60, users);
    for (const auto& [k, v] : r.done) done[k] += v;
    for (const auto& [k, v] : r.refused) refused[k] += v;
  }
  std::string summary;
  auto names = kehu::test::team_op_names();
  names.push_back("contend");
  for (const auto& n : names) {
    summary += n + " " + std::to_string(done[n]) + "/" + std::to_string(refused[n]) + "  ";
  }
  WARN("ops done/refused: " << summary);
}

// Seeds 300..339 by default; KEHU_PROPERTY_SEED=N runs only seed N.
TEST_CASE("sync: every role doing every op converges (many seeds)", "[sync][property][teams][.slow]") {
  const std::vector<std::string> users = {"wang", "zhao", "root", "li", "audit", "qian", "wang", "zhao"};
  std::uint32_t first = 300, last = 339;
  if (const char* env = std::getenv("KEHU_PROPERTY_SEED"); env && *env) {
    first = last = static_cast<std::uint32_t>(std::stoul(env));
  }
  for (std::uint32_t seed = first; seed <= last; ++seed) run_team_property(seed, 300, users);
}

// kill -9 of `kehu sync` at random points, then sync again: nothing lost, nothing
// applied twice, codes unique.
namespace {

// Starts the kehu binary on `db`; returns its pid.
pid_t spawn_kehu_sync(const std::string& db, const std::string& passphrase) {
  std::string bin = kehu::test::kehu_binary();
  std::vector<std::string> args = {bin, "--db", db, "sync"};
  std::vector<std::string> env = {"KEHU_PASSPHRASE=" + passphrase, "PATH=/usr/bin:/bin"};
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

void kill_during_sync(std::uint32_t seed, int customers, int kills) {
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian");
  qian.replica->batch([&] {
    for (int i = 0; i < customers; ++i) qian.replica->add("customers", new_customer("批量客户" + std::to_string(i)));
  });
  for (int i = 0; i < 5; ++i) {  // the customers get follow-ups too, so pages mix collections
    auto list = qian.replica->list(kehu::ListQuery{});
    qian.replica->add("followups", {{"date", "2026-11-20"}, {"person", "qian"}, {"content", "电话回访"}},
                      list[i].code);
  }
  const auto made = qian.replica->status().pending;
  for (int k = 0; k < kills; ++k) {
    pid_t pid = spawn_kehu_sync(qian.path, "pass-qian");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  // Run to completion now, through the real binary.
  auto res = qian.kehu({"sync"});
  INFO(res.describe());
  REQUIRE(res.exit_code == 0);
  CHECK(qian.replica->status().pending == 0);

  Device fresh(dir, server, "root");
  auto all = fresh.replica->list(kehu::ListQuery{});
  CHECK(all.size() == static_cast<std::size_t>(customers));
  std::set<std::string> codes, names;
  for (const auto& r : all) {
    codes.insert(r.code);
    names.insert(r.fields["name"].get<std::string>());
    CHECK(r.rev == 1);  // created once, never applied twice
  }
  CHECK(codes.size() == all.size());
  CHECK(names.size() == all.size());
  CHECK(snapshot(*fresh.replica) == snapshot(*qian.replica));
  // Every change made is a server revision, exactly once.
  std::size_t revisions = 0;
  for (const auto& [id, rec] : snapshot(*fresh.replica)) revisions += fresh.replica->history(id).size();
  CHECK(revisions == static_cast<std::size_t>(made));
  CHECK(run_server_command({"audit", "verify", "--data", server.data_dir()}).exit_code == 0);
}

}  // namespace

TEST_CASE("sync: kehu killed mid-sync loses and duplicates nothing (a few kills)", "[sync][crash]") {
  kill_during_sync(7, 400, 4);
}

TEST_CASE("sync: kehu killed mid-sync loses and duplicates nothing (many kills)", "[sync][crash][.slow]") {
  for (std::uint32_t seed = 200; seed < 210; ++seed) kill_during_sync(seed, 1500, 20);
}

TEST_CASE("sync: a conflict settled on one device is closed on every device, a fresh one too",
          "[sync][conflicts]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  std::string code = qian.replica->add("customers", new_customer("华信仪表有限公司")).code;
  qian.sync();
  sun.sync();
  qian.replica->edit(code, {{"stage", "needs"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sun.replica->edit(code, {{"stage", "contract"}});  // later: kept
  sun.sync();
  qian.sync();
  sun.sync();
  for (Device* d : {&qian, &sun}) REQUIRE(json::parse(d->kehu({"--json", "conflicts"}).out).size() == 1);

  // sun keeps the kept value: nothing changes, yet the settling is an edit that syncs.
  auto res = sun.kehu({"conflicts", "resolve", code, "stage", "--keep", "mine"});
  INFO(res.describe());
  REQUIRE(res.exit_code == 0);
  sun.sync();
  qian.sync();
  for (Device* d : {&qian, &sun}) {
    INFO(d->user);
    CHECK(json::parse(d->kehu({"--json", "conflicts"}).out).empty());
    CHECK(d->customer(code).fields["stage"] == "contract");
  }
  // A device that starts from nothing pulls the conflict and its settling, and
  // its first sync counts no conflict to look at.
  Device fresh(dir, server, "qian", false, "qian-new-phone");
  auto first = fresh.sync();
  CHECK(first.pulled_revisions >= 4);
  CHECK(first.conflicts == 0);
  CHECK(json::parse(fresh.kehu({"--json", "conflicts"}).out).empty());
  // History names who settled it, on every device.
  auto hist = qian.kehu({"history", code, "--field", "stage"});
  INFO(hist.describe());
  CHECK(hist.out.find("settled the conflicts up to rev") != std::string::npos);
  auto hist_json = json::parse(fresh.kehu({"--json", "history", code}).out);
  bool settled_by_sun = false;
  for (const auto& e : hist_json) {
    if (e.contains("resolves") && e["author"] == "sun") settled_by_sun = e["resolves"][0]["field"] == "stage";
  }
  CHECK(settled_by_sun);
  CHECK(snapshot(*qian.replica) == snapshot(*sun.replica));
  // So does the audit, which showed the settling as a bare "update" (walkthrough 16, R16-6).
  Device root(dir, server, "root");
  auto audit = root.kehu({"audit", "--customer", code});
  INFO(audit.describe());
  CHECK(audit.exit_code == 0);
  CHECK_THAT(audit.out, Catch::Contains("conflict: kept") && Catch::Contains("settled the conflicts up to rev"));

  // The losing side settles a second conflict for its own value: the value and
  // the settling travel together.
  qian.replica->edit(code, {{"stage", "proposal"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sun.replica->edit(code, {{"stage", "won"}});
  sun.sync();
  qian.sync();
  sun.sync();
  REQUIRE(json::parse(sun.kehu({"--json", "conflicts"}).out).size() == 1);
  REQUIRE(qian.kehu({"conflicts", "resolve", code, "stage", "--keep", "mine"}).exit_code == 0);
  qian.sync();
  sun.sync();
  fresh.sync();
  for (Device* d : {&qian, &sun, &fresh}) {
    INFO(d->path);
    CHECK(json::parse(d->kehu({"--json", "conflicts"}).out).empty());
    CHECK(d->customer(code).fields["stage"] == "proposal");
  }
}

// Divergences the team property test found, each reduced to a few steps (all
// fixed: they were [!mayfail] until the product changed).

// Team seed 1 (60 ops): C202612061 merged into another customer on one device;
// the devices that had pulled its follow-up keep last_followup_at on the
// merged-away customer, a fresh device has none. Reduced to three steps:
TEST_CASE("sync: a follow-up moved by a pulled merge leaves the old customer's last follow-up stale",
          "[sync][property][teams]") {
  ServerFixture server;
  ScratchDir dir;
  Device root(dir, server, "root"), qian(dir, server, "qian");
  std::string keep = root.replica->add("customers", new_customer("保留公司")).code;
  std::string other = root.replica->add("customers", new_customer("重复公司")).code;
  root.replica->add("followups", {{"date", "2026-11-12"}, {"person", "root"}, {"content", "回访"}}, other);
  root.sync();
  qian.sync();
  REQUIRE(qian.customer(other).fields.value("last_followup_at", "") == "2026-11-12");
  root.replica->merge_customers(keep, other);  // as `kehu customer merge KEEP OTHER`
  root.sync();
  qian.sync();
  Device fresh(dir, server, "qian", true, "qian-fresh");
  CHECK(qian.customer(keep).fields.value("last_followup_at", "") == "2026-11-12");
  CHECK(fresh.customer(other).fields.count("last_followup_at") == 0);
  CHECK(root.customer(other).fields.count("last_followup_at") == 0);
  // The device that pulled the move still has it on the merged-away customer:
  CHECK(qian.customer(other).fields.count("last_followup_at") == 0);
  CHECK(snapshot(*qian.replica) == snapshot(*fresh.replica));
}

// Team seed 3 (60 ops, first version of the generator): zhao (manager of 江苏)
// creates a customer in 浙江 for li. The device takes it (its policy check does
// not know the manager's regions), the server refuses it at sync ("not in the
// scope of zhao"), and the device keeps showing the customer, rev 0, for good:
// its view never equals the server's.
TEST_CASE("sync: a create the server refused stays shown on the device",
          "[sync][property][teams]") {
  ServerFixture server;
  ScratchDir dir;
  Device zhao(dir, server, "zhao");
  kehu::FieldInputs in = new_customer("浙江客户", "浙江");
  in.emplace_back("owner", "li");
  // The device now refuses it at once (it knows zhao's regions from the
  // login); one that does not know them yet leaves it to the server.
  CHECK_THROWS_WITH(zhao.replica->add("customers", in), Catch::Contains("outside your regions"));
  zhao.replica->set_meta("regions", "");
  zhao.replica->add("customers", in);
  auto r = zhao.sync();
  CHECK(r.rejected == 1);  // kept with the reason: nothing lost
  REQUIRE(zhao.replica->changes_in_state("rejected").size() == 1);
  zhao.sync();
  Device fresh(dir, server, "zhao", true, "zhao-fresh");
  CHECK(snapshot(*zhao.replica) == snapshot(*fresh.replica));  // fails: the refused customer is still listed
}

// Team seed 333 (300 ops, [.slow]): wang's revert moved a follow-up back to a
// customer the server would not let him write; the server refused the move,
// and the device kept showing the follow-up under that customer (and its last
// follow-up date there) for good: a refused move never went back to the
// server's parent. Reduced: a merge into a customer reassigned meanwhile.
TEST_CASE("sync: a follow-up move the server refused goes back to the server's customer",
          "[sync][property][teams]") {
  ServerFixture server;
  ScratchDir dir;
  Device root(dir, server, "root"), wang(dir, server, "wang");
  auto mine = [](const char* name) {
    kehu::FieldInputs in = new_customer(name, "浙江");  // wang's by ownership only, not by his region
    in.emplace_back("owner", "wang");
    return in;
  };
  std::string keep = root.replica->add("customers", mine("保留公司")).code;
  std::string other = root.replica->add("customers", mine("重复公司")).code;
  root.replica->add("followups", {{"date", "2026-11-12"}, {"person", "wang"}, {"content", "回访"}}, other);
  root.sync();
  wang.sync();
  wang.replica->merge_customers(keep, other);  // offline, as `kehu customer merge KEEP OTHER`
  REQUIRE(wang.customer(keep).fields.value("last_followup_at", "") == "2026-11-12");
  root.replica->edit(keep, {{"owner", "li"}});  // meanwhile: KEEP is li's now
  root.sync();
  auto r = wang.sync();
  CHECK(r.rejected > 0);  // the move into li's customer is refused, and kept with its reason
  wang.sync();
  Device fresh(dir, server, "wang", true, "wang-fresh");
  CHECK(snapshot(*wang.replica) == snapshot(*fresh.replica));
}

// `kehu revert` rebuilds the values of rev N from the pulled revisions; a
// salesperson's revisions of a pool customer were pulled masked, so after a
// claim a revert to a pool-time rev writes the mask back as the value.
TEST_CASE("sync: revert after a claim does not write masked pool values back",
          "[sync][property][teams]") {
  ServerFixture server;
  ScratchDir dir;
  Device root(dir, server, "root");
  kehu::FieldInputs in = new_customer("公海公司");
  in.emplace_back("wechat", "wx_mingda_2026");
  std::string code = root.replica->add("customers", in).code;
  root.sync();
  root.replica->edit(code, {{"stage", "needs"}});  // rev 2
  root.sync();
  Device li(dir, server, "li");
  REQUIRE(li.customer(code).fields.value("wechat", "") != "wx_mingda_2026");  // masked in the pool
  kehu::sync::request(*li.replica, Device::options(), "/v1/customers/" + code + "/claim", json::object(), "claim");
  li.sync();
  REQUIRE(li.customer(code).fields.value("wechat", "") == "wx_mingda_2026");
  // One field that held no masked value then either: the WeChat id was the same
  // at rev 1, so there is nothing to revert.
  auto one = li.kehu({"revert", code, "--to-rev", "1", "--field", "wechat"});
  INFO(one.describe());
  CHECK(one.exit_code == 0);
  CHECK(li.customer(code).fields.value("wechat", "") == "wx_mingda_2026");  // not the mask
  auto res = li.kehu({"revert", code, "--to-rev", "1"});
  INFO(res.describe());
  CHECK(res.exit_code == 0);  // was exit 2: the masked phone 138****8000 is no phone number
  li.sync();
  root.sync();
  CHECK(root.customer(code).fields.value("wechat", "") == "wx_mingda_2026");
  CHECK(root.customer(code).fields.value("phone", "") == "13800138000");
  CHECK(root.customer(code).fields.count("stage") == 0);  // what the revert was for
}

// Fixed: team seeds 1 and 2: qian and root (admins) were refused approve and reject
// with "change request #1 is about a customer outside your regions".
// request_access() (server-stub/team/team_service.cc) answers Access::read for
// every role that sees everything, the auditor and the admin alike, and
// approve/reject want Access::write; docs/protocol.md: "Managers and admins".
TEST_CASE("sync: an admin decides change requests", "[sync][property][teams]") {
  ServerFixture server;
  ScratchDir dir;
  auto prot = run_server_command({"schema", "protect", "customers", "type", "--data", server.data_dir()});
  REQUIRE(prot.exit_code == 0);
  Device root(dir, server, "root"), wang(dir, server, "wang");
  kehu::FieldInputs in = new_customer("江苏客户");
  std::string code = wang.replica->add("customers", in).code;
  wang.sync();
  wang.replica->edit(code, {{"type", "deal"}});
  REQUIRE(wang.sync().awaiting == 1);
  json listed = kehu::sync::request(*root.replica, Device::options(), "/v1/approvals", {{"status", "pending"}}, "list");
  REQUIRE(listed["requests"].size() == 1);
  const std::string id = std::to_string(listed["requests"][0]["id"].get<std::int64_t>());
  CHECK_NOTHROW(kehu::sync::request(*root.replica, Device::options(), "/v1/approvals/" + id + "/approve",
                                    json::object(), "approve"));
  wang.sync();
  root.sync();
  CHECK(root.customer(code).fields.value("type", "") == "deal");
}

// Team seeds 302 and 311 (300 ops, 8 devices): wang's devices lack an open
// conflict that a fresh device of wang lists. Reduced: a customer leaves
// wang's scope (reassigned to li) and comes back; the device dropped its
// revisions and conflicts when it left, and its return brings the current state
// but not the older revisions, so the conflict (and the history) before the
// round trip is gone from the device, while a fresh device pulls them all.
TEST_CASE("sync: a customer that leaves a device's scope and comes back keeps its conflicts and history",
          "[sync][property][teams]") {
  ServerFixture server;
  ScratchDir dir;
  Device root(dir, server, "root"), qian(dir, server, "qian"), wang(dir, server, "wang");
  kehu::FieldInputs in = new_customer("浙江客户", "浙江");
  in.emplace_back("owner", "wang");
  std::string code = root.replica->add("customers", in).code;
  root.sync();
  qian.sync();
  root.replica->edit(code, {{"stage", "needs"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  qian.replica->edit(code, {{"stage", "contract"}});
  root.sync();
  qian.sync();
  wang.sync();
  REQUIRE(wang.replica->open_conflicts().size() == 1);
  const std::size_t history_before = wang.replica->history(code).size();
  auto reassign = [&](const std::string& to) {
    kehu::sync::request(*root.replica, Device::options(), "/v1/customers/" + code + "/reassign",
                        {{"owner", to}, {"reason", "调岗"}}, "reassign");
    root.sync();
    wang.sync();
  };
  reassign("li");
  REQUIRE_FALSE(wang.replica->find_customer(code));  // left wang's device
  reassign("wang");
  REQUIRE(wang.replica->find_customer(code));
  Device fresh(dir, server, "wang", true, "wang-fresh");
  CHECK(fresh.replica->open_conflicts().size() == 1);
  CHECK(wang.replica->open_conflicts().size() == 1);
  CHECK(wang.replica->history(code).size() == fresh.replica->history(code).size());
  CHECK(wang.replica->history(code).size() == history_before + 2);
}
