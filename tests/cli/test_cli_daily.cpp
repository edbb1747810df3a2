// Everyday use through the real binaries (issue 15, "Missing in daily work"):
// editing and deleting follow-ups, orders and contacts by the ID their lists
// show, and syncing those edits; customer show with its child records; the
// service and activity commands; kehu due --limit and its groups; login,
// logout and status messages; the replica passphrase rule; no progress line
// when stderr is not a terminal.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "device.h"
#include "replica_cli.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using kehu::test::CliResult;
using kehu::test::Device;
using kehu::test::EnvChanges;
using kehu::test::ReplicaCli;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;
using json = nlohmann::json;

namespace {

std::string chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// One user's replica without a server: `kehu init`, then commands on it.
class Daily {
 public:
  Daily() {
    CliResult r = run({"init"});
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
  }

  ScratchDir dir{"kehu-daily"};
  std::string db = dir.file("replica.db");

  CliResult run(const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    kehu::test::RunOptions o;
    o.env = {{"KEHU_DB", db},     {"KEHU_PASSPHRASE", "daily secret 42"}, {"HOME", dir.path()},
             {"KEHU_LANG", "en"}, {"LANG", "C.UTF-8"},                    {"LC_ALL", std::nullopt}};
    for (const auto& [k, v] : extra) o.env[k] = v;
    return kehu::test::run_kehu(args, o);
  }
  CliResult ok(const std::vector<std::string>& args, const EnvChanges& extra = {}) const {
    CliResult r = run(args, extra);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return r;
  }
  json ok_json(std::vector<std::string> args, const EnvChanges& extra = {}) const {
    args.insert(args.begin(), "--json");
    CliResult r = ok(args, extra);
    json j;
    REQUIRE_NOTHROW(j = json::parse(r.out));
    return j;
  }
  std::string customer(const std::string& name, const std::vector<std::string>& more = {}) const {
    std::vector<std::string> args = {"customer", "add", "--force", "--set", "name=" + name,
                                     "--set", "contact=张三", "--set", "phone=13800138000", "--set", "need=办公用品"};
    for (const auto& m : more) args.insert(args.end(), {"--set", m});
    std::string code = chomp(ok(args).out);
    REQUIRE_THAT(code, StartsWith("C"));
    return code;
  }
  // Adds a child record; returns its full id (printed by `add`).
  std::string child(const std::string& cmd, const std::string& code,
                    const std::vector<std::string>& sets) const {
    std::vector<std::string> args = {cmd, "add", code};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    std::string id = chomp(ok(args).out);
    REQUIRE(id.size() == 36);
    return id;
  }
};

std::string last8(const std::string& id) { return id.substr(id.size() - 8); }

}  // namespace

TEST_CASE("daily: follow-ups, orders and contacts are edited and deleted by the ID their list shows",
          "[cli][daily]") {
  Daily k;
  const std::string code = k.customer("日常客户");
  const std::string f = k.child("followup", code, {"date=2026-11-02", "person=李四", "content=电话"});
  const std::string o = k.child("order", code, {"product=打印纸", "amount=120", "status=placed"});
  const std::string c = k.child("contact", code, {"name=王五", "title=采购"});

  // The lists show the short ids.
  CHECK_THAT(k.ok({"followup", "list", code}).out, Contains("ID") && Contains(last8(f)));
  CHECK_THAT(k.ok({"order", "list", code}).out, Contains(last8(o)));
  CHECK_THAT(k.ok({"contact", "list", code}).out, Contains(last8(c)));

  // Edit by short id and by full id.
  CliResult edited = k.ok({"order", "edit", last8(o), "--set", "status=delivered"});
  CHECK_THAT(edited.out, Contains("Delivered"));
  json orders = k.ok_json({"order", "list", code});
  REQUIRE(orders.size() == 1);
  CHECK(orders[0]["status"] == "delivered");
  CHECK(orders[0]["amount"] == 12000);
  k.ok({"followup", "edit", f, "--set", "content=上门拜访", "--set", "feedback=positive"});
  // As copied from the list, with its "pending changes" mark.
  k.ok({"followup", "edit", last8(f) + "*", "--set", "method=visit"});
  json fl = k.ok_json({"followup", "list", code});
  REQUIRE(fl.size() == 1);
  CHECK(fl[0]["content"] == "上门拜访");
  CHECK(fl[0]["feedback"] == "positive");
  CHECK(fl[0]["method"] == "visit");

  // A bad value is refused with the field named, exit 2, nothing written.
  CliResult bad = k.run({"order", "edit", last8(o), "--set", "status=lost"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("status") && Contains("lost"));
  CHECK(k.ok_json({"order", "list", code})[0]["status"] == "delivered");

  // The id of a record of another collection, and no record at all: not found, exit 1.
  CliResult other = k.run({"order", "edit", last8(f), "--set", "status=shipped"});
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.err, Contains("no order"));
  CHECK(k.run({"contact", "delete", "abcdef99"}).exit_code == 1);
  // Too short to be an id.
  CHECK(k.run({"contact", "delete", "ab"}).exit_code == 1);

  // Delete moves to the recycle bin; restore brings back.
  CHECK_THAT(k.ok({"contact", "delete", last8(c)}).out, Contains("recycle bin"));
  CHECK(k.ok_json({"contact", "list", code}).empty());
  json bin = k.ok_json({"contact", "list", code, "--deleted"});
  REQUIRE(bin.size() == 1);
  CHECK(bin[0]["id"] == c);
  CHECK(k.run({"contact", "delete", last8(c)}).exit_code == 2);  // already there
  k.ok({"contact", "restore", last8(c)});
  CHECK(k.ok_json({"contact", "list", code}).size() == 1);

  // Deleting the only follow-up clears the customer's last follow-up date.
  CHECK(k.ok_json({"customer", "show", code})["last_followup_at"] == "2026-11-02");
  k.ok({"followup", "delete", last8(f)});
  CHECK_FALSE(k.ok_json({"customer", "show", code}).contains("last_followup_at"));

  // Every edit is a revision in the change log.
  json h = k.ok_json({"history", o});
  REQUIRE(h.size() == 2);
  CHECK(h[0]["state"] == "pending");
  CHECK(k.ok_json({"history", last8(o)}) == h);  // by the short id too
  CHECK(k.run({"history", "zzzzzzzz"}).exit_code == 1);
}

TEST_CASE("daily: editing the latest follow-up's next date moves the customer's", "[cli][daily]") {
  Daily k;
  const std::string code = k.customer("计划客户");
  const std::string f =
      k.child("followup", code, {"date=2026-11-02", "person=李四", "content=电话", "next_date=2026-11-10"});
  CHECK(k.ok_json({"customer", "show", code})["next_date"] == "2026-11-10");
  k.ok({"followup", "edit", last8(f), "--set", "next_date=2026-11-20", "--set", "next_plan=送样品"});
  json c = k.ok_json({"customer", "show", code});
  CHECK(c["next_date"] == "2026-11-20");
  CHECK(c["next_plan"] == "送样品");
}

TEST_CASE("daily: deleting the follow-up that planned the next date takes the plan back - restore brings it",
          "[cli][daily]") {
  Daily k;
  const std::string code = k.customer("撤回计划客户");
  k.child("followup", code, {"date=2026-11-01", "person=李四", "content=电话", "next_date=2026-11-08", "next_plan=报价"});
  const std::string f =
      k.child("followup", code, {"date=2026-11-02", "person=李四", "content=拜访", "next_date=2026-11-10"});
  CHECK(k.ok_json({"customer", "show", code})["next_date"] == "2026-11-10");
  // Deleted: the latest follow-up left plans the 8th.
  k.ok({"followup", "delete", last8(f)});
  json c = k.ok_json({"customer", "show", code});
  CHECK(c["next_date"] == "2026-11-08");
  CHECK(c["next_plan"] == "报价");
  k.ok({"followup", "restore", last8(f)});
  c = k.ok_json({"customer", "show", code});
  CHECK(c["next_date"] == "2026-11-10");
  // R17-16: named as lists name it, not by its full id.
  const auto again = k.run({"followup", "restore", last8(f)});
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Contains("follow-up " + last8(f) + " of " + code + " is not in the recycle bin") &&
                            !Contains(f));
  CHECK_FALSE(c.contains("next_plan"));
  // Clearing the plan on that follow-up clears the customer's (none left later).
  k.ok({"followup", "edit", last8(f), "--set", "next_date="});
  c = k.ok_json({"customer", "show", code});
  CHECK_FALSE(c.contains("next_date"));
}

TEST_CASE("daily: customer show lists the customer's follow-ups, orders and contacts", "[cli][daily]") {
  Daily k;
  const std::string code = k.customer("展示客户");
  const std::string other = k.customer("别的客户");
  const std::string f = k.child("followup", code, {"date=2026-11-02", "person=李四", "content=初次拜访"});
  k.child("order", code, {"product=激光打印机", "amount=3000"});
  k.child("contact", code, {"name=赵六"});
  k.child("followup", other, {"date=2026-11-03", "person=李四", "content=别人的跟进"});

  const std::string out = k.ok({"customer", "show", code}).out;
  CHECK_THAT(out, Contains("展示客户"));
  CHECK_THAT(out, Contains("Follow-ups (1)") && Contains("初次拜访") && Contains(last8(f)));
  CHECK_THAT(out, Contains("Orders (1)") && Contains("激光打印机"));
  CHECK_THAT(out, Contains("Contacts (1)") && Contains("赵六"));
  CHECK_THAT(out, !Contains("别人的跟进"));
  // The fields come first.
  CHECK(out.find("展示客户") < out.find("Follow-ups (1)"));
  // A customer without child records shows no empty sections.
  CHECK_THAT(k.ok({"customer", "show", k.customer("空客户")}).out, !Contains("Follow-ups"));
  // Chinese headings in Chinese.
  CHECK_THAT(k.ok({"customer", "show", code}, {{"KEHU_LANG", "zh"}}).out, Contains("跟进记录（1）"));
}

TEST_CASE("daily: service records and activities are added, listed, edited and deleted", "[cli][daily]") {
  Daily k;
  const std::string code = k.customer("服务客户");
  const std::string s =
      k.child("service", code, {"date=2026-11-05", "kind=complaint", "content=打印机卡纸", "status=open"});
  const std::string a = k.child("activity", code, {"name=秋季展会", "date=2026-10-20", "kind=exhibition"});
  CHECK_THAT(k.ok({"service", "list", code}).out, Contains("打印机卡纸") && Contains(last8(s)));
  CHECK_THAT(k.ok({"activity", "list", code}).out, Contains("秋季展会") && Contains(last8(a)));
  k.ok({"service", "edit", last8(s), "--set", "status=resolved", "--set", "resolution=换了搓纸轮"});
  json sl = k.ok_json({"service", "list", code});
  REQUIRE(sl.size() == 1);
  CHECK(sl[0]["status"] == "resolved");
  CHECK(sl[0]["resolution"] == "换了搓纸轮");
  // Required fields are required.
  CliResult bad = k.run({"service", "add", code, "--set", "date=2026-11-06"});
  CHECK(bad.exit_code == 2);
  k.ok({"activity", "delete", last8(a)});
  CHECK(k.ok_json({"activity", "list", code}).empty());
  CHECK_THAT(k.ok({"customer", "show", code}).out, Contains("Service records (1)"));
}

TEST_CASE("daily: kehu due groups follow-ups by overdue, today and this week, and --limit cuts",
          "[cli][daily]") {
  Daily k;
  const EnvChanges today = {{"KEHU_TODAY", "2026-12-01"}};
  const std::string late1 = k.customer("逾期一", {"next_date=2026-11-20"});
  const std::string late2 = k.customer("逾期二", {"next_date=2026-11-28"});
  const std::string now = k.customer("今天", {"next_date=2026-12-01"});
  const std::string soon = k.customer("本周", {"next_date=2026-12-05"});

  const std::string out = k.ok({"due"}, today).out;
  CHECK_THAT(out, Contains("Follow-ups due within 7 days or overdue (4)"));
  CHECK_THAT(out, Contains("Overdue (2)") && Contains("Due today (1)") && Contains("Due this week (1)"));
  CHECK(out.find("Overdue (2)") < out.find(late1));
  CHECK(out.find(late2) < out.find("Due today (1)"));
  CHECK(out.find("Due today (1)") < out.find(now));
  CHECK(out.find(now) < out.find("Due this week (1)"));
  CHECK(out.find("Due this week (1)") < out.find(soon));
  CHECK_THAT(k.ok({"due", "--days", "10"}, today).out, Contains("Due in the next 10 days (1)"));

  const std::string cut = k.ok({"due", "--limit", "1"}, today).out;
  CHECK_THAT(cut, Contains("Overdue (2)") && Contains("and 1 more"));
  CHECK_THAT(cut, Contains(late1));
  CHECK_THAT(cut, !Contains(late2));
  CHECK_THAT(cut, Contains(now) && Contains(soon));

  json j = k.ok_json({"due", "--limit", "2"}, today);
  REQUIRE(j["followups"].size() == 2);
  CHECK(j["followups"][0]["group"] == "overdue");
  CHECK(j["total"]["followups"] == 4);
  json all = k.ok_json({"due"}, today);
  REQUIRE(all["followups"].size() == 4);
  CHECK(all["followups"][2]["group"] == "today");
  CHECK(all["followups"][3]["group"] == "upcoming");

  CliResult neg = k.run({"due", "--limit", "-1"}, today);
  CHECK(neg.exit_code == 2);
  CHECK_THAT(neg.err, Contains("--limit"));
}

TEST_CASE("daily: the replica passphrase needs 8 characters, counted as characters", "[cli][daily]") {
  ScratchDir dir{"kehu-pass"};
  auto init = [&](const std::string& file, const std::string& pass) {
    kehu::test::RunOptions o;
    o.env = {{"KEHU_DB", dir.file(file)}, {"KEHU_PASSPHRASE", pass}, {"HOME", dir.path()},
             {"KEHU_LANG", "en"}};
    return kehu::test::run_kehu({"init"}, o);
  };
  CliResult seven = init("a.db", "春夏秋冬东南西");  // 7 characters, 21 bytes
  CHECK(seven.exit_code == 2);
  CHECK_THAT(seven.err, Contains("8 characters"));
  CHECK_FALSE(kehu::test::read_bytes(dir.file("a.db")));
  CliResult eight = init("b.db", "春夏秋冬东南西北");
  INFO(eight.describe());
  CHECK(eight.exit_code == 0);
  // The rule is for new passphrases: rekey refuses a short one too.
  kehu::test::RunOptions o;
  o.env = {{"KEHU_DB", dir.file("b.db")}, {"KEHU_PASSPHRASE", "春夏秋冬东南西北"},
           {"KEHU_NEW_PASSPHRASE", "xk7#q"}, {"HOME", dir.path()}, {"KEHU_LANG", "en"}};
  CliResult rekey = kehu::test::run_kehu({"rekey"}, o);
  CHECK(rekey.exit_code == 2);
  CHECK_THAT(rekey.err, Contains("8 characters"));
}

TEST_CASE("daily: status after logout shows no user - login and server messages", "[cli][daily]") {
  ServerFixture s;
  ReplicaCli r;
  // A wrong password: no advice to run `kehu login`, which is what was just run.
  CliResult wrong = r.run({"login", "--server", s.base_url(), "--user", "wang"},
                          {{"KEHU_PASSWORD", "not the password 9"}});
  INFO(wrong.describe());
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Contains("wrong user or password") && !Contains("kehu login") &&
                            !Contains("(unauthorized)"));

  r.ok({"login", "--server", s.base_url(), "--user", "wang"});
  CHECK(r.ok({"--json", "status"}).out.find("\"wang\"") != std::string::npos);
  // Server refusals: their message, never their error kind.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"approve", "999999"},
        std::vector<std::string>{"customer", "claim", "C209912999"}}) {
    CliResult refused = r.run(args);
    INFO(refused.describe());
    CHECK(refused.exit_code == 1);
    CHECK_FALSE(refused.err.empty());
    for (const char* kind : {"(forbidden)", "(not_found)", "(validation)", "(unauthorized)", "(protocol)"}) {
      CHECK_THAT(refused.err, !Contains(kind));
    }
  }

  r.ok({"logout"});
  json st = json::parse(r.ok({"--json", "status"}).out);
  CHECK(st["user"] == "");
  CHECK_FALSE(st["server"].get<std::string>().empty());  // kept for the next login
  CliResult table = r.ok({"status"});
  CHECK_THAT(table.out, !Contains("wang"));
  CHECK_THAT(table.out, Contains("(not logged in)"));
}

TEST_CASE("daily: a claim made offline says that it needs the network", "[cli][daily]") {
  ServerFixture s;
  ReplicaCli r;
  r.ok({"login", "--server", s.base_url(), "--user", "wang"});
  s.stop();
  CliResult claim = r.run({"customer", "claim", "C202612001"});
  INFO(claim.describe());
  CHECK(claim.exit_code == 1);
  CHECK_THAT(claim.err, Contains("needs the network"));
}

TEST_CASE("daily: no progress line when stderr is not a terminal", "[cli][daily]") {
  ServerFixture s;
  ReplicaCli r;
  r.ok({"login", "--server", s.base_url(), "--user", "wang"});
  for (int i = 0; i < 3; ++i) {
    r.ok({"customer", "add", "--force", "--set", "name=进度客户" + std::to_string(i), "--set",
          "contact=张三", "--set", "phone=1380013800" + std::to_string(i), "--set", "province=江苏",
          "--set", "need=打印机"});
  }
  CliResult sync = r.ok({"sync"});
  CHECK(sync.err.empty());
  ScratchDir dir{"kehu-progress"};
  CliResult exp = r.ok({"export", dir.file("out.csv")});
  CHECK(exp.err.empty());
}

TEST_CASE("daily: edits and deletes of child records sync to another device", "[cli][daily][sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  const std::string code = qian.replica->add("customers", kehu::test::new_customer("同步客户")).code;
  auto run = [](Device& d, const std::vector<std::string>& args) {
    CliResult r = d.kehu(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return chomp(r.out);
  };
  const std::string f = run(qian, {"followup", "add", code, "--set", "date=2026-11-02", "--set",
                                   "person=钱", "--set", "content=电话沟通"});
  const std::string o = run(qian, {"order", "add", code, "--set", "product=碳粉", "--set", "status=placed"});
  const std::string c = run(qian, {"contact", "add", code, "--set", "name=孙七"});
  qian.sync();
  sun.sync();
  REQUIRE(sun.replica->get(o));
  REQUIRE(sun.replica->get(c));

  // Sun edits the order's quantity while Qian marks it delivered: both kept, field by field.
  run(sun, {"order", "edit", last8(o), "--set", "quantity=5"});
  run(qian, {"order", "edit", last8(o), "--set", "status=delivered"});
  run(qian, {"followup", "edit", last8(f), "--set", "content=上门拜访"});
  run(qian, {"contact", "delete", last8(c)});
  auto qr = qian.sync();
  CHECK(qr.rejected == 0);
  auto sr = sun.sync();
  CHECK(sr.rejected == 0);
  CHECK(sr.conflicts == 0);
  qian.sync();

  for (Device* d : {&qian, &sun}) {
    auto order = d->replica->get(o);
    REQUIRE(order);
    CHECK(order->fields["status"] == "delivered");
    CHECK(order->fields["quantity"] == 5);
    CHECK_FALSE(order->pending);
    CHECK(d->replica->get(f)->fields["content"] == "上门拜访");
    auto contact = d->replica->get(c);
    REQUIRE(contact);
    CHECK(contact->deleted);
  }
  // The other device's lists show it: the contact is gone, the edit is there.
  CHECK(json::parse(run(sun, {"--json", "contact", "list", code})).empty());
  CHECK(json::parse(run(sun, {"--json", "followup", "list", code}))[0]["content"] == "上门拜访");
  // Kept as revisions on the server: the order has create + two updates.
  auto hist = sun.replica->history(o);
  REQUIRE(hist.size() == 3);
  for (const auto& e : hist) CHECK(e.state == "server");
  CHECK(sun.replica->history(c).front().revision.op == kehu::Op::remove);
  // The "*" legend only when a listed row has a change not yet synced.
  CHECK_THAT(run(sun, {"order", "list", code}), !Contains("pending"));
  run(sun, {"order", "edit", last8(o), "--set", "quantity=6"});
  CHECK_THAT(run(sun, {"order", "list", code}), Contains("* = pending changes"));
}

TEST_CASE("daily: a follow-up's conflict is listed by its short id and resolved by it or by the customer code",
          "[cli][daily][sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  const std::string code = qian.replica->add("customers", kehu::test::new_customer("冲突客户")).code;
  auto run = [](Device& d, const std::vector<std::string>& args) {
    CliResult r = d.kehu(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return chomp(r.out);
  };
  const std::string f = run(qian, {"followup", "add", code, "--set", "date=2026-11-02", "--set", "content=电话"});
  const std::string g = run(qian, {"followup", "add", code, "--set", "date=2026-11-03", "--set", "content=邮件"});
  qian.sync();
  sun.sync();
  // Both edit the content of both follow-ups offline: two conflicts on one customer.
  for (const std::string& id : {f, g}) {
    run(sun, {"followup", "edit", last8(id), "--set", "content=孙改的"});
    run(qian, {"followup", "edit", last8(id), "--set", "content=钱改的"});
  }
  sun.sync();
  qian.sync();
  const std::string listed = run(qian, {"conflicts"});
  CHECK_THAT(listed, Contains(code + " follow-up " + last8(f)));
  CHECK_THAT(listed, Contains(code + " follow-up " + last8(g)));

  // The customer code alone is ambiguous here: the message lists the short ids.
  CliResult both = qian.kehu({"conflicts", "resolve", code, "content", "--keep", "theirs"});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Contains(last8(f)) && Contains(last8(g)));
  // The short id the list shows, and the field's Chinese label.
  CHECK_THAT(run(qian, {"conflicts", "resolve", last8(f), "跟进内容", "--keep", "theirs"}), Contains("resolved:"));
  // One left on the customer: its code is enough.
  CHECK_THAT(run(qian, {"conflicts", "resolve", code, "content", "--keep", "mine"}), Contains("resolved:"));
  CHECK(qian.replica->open_conflicts().empty());
  qian.sync();
  sun.sync();
  CHECK(sun.replica->open_conflicts().empty());
  CHECK(sun.replica->get(g)->fields["content"] == "钱改的");
}

TEST_CASE("daily: a follow-up a conflict's resolution brings back plans the customer's next date again",
          "[cli][daily][sync][due]") {
  // Walkthrough 13, R13-15: deleted on one device, edited on another, brought
  // back by `conflicts resolve … deleted --keep theirs`: the customer's next
  // date, cleared by the delete, stayed cleared, and `due` lost the customer.
  ServerFixture server;
  ScratchDir dir;
  Device qian(dir, server, "qian"), sun(dir, server, "sun");
  const std::string code = qian.replica->add("customers", kehu::test::new_customer("回来的跟进")).code;
  auto run = [](Device& d, const std::vector<std::string>& args) {
    CliResult r = d.kehu(args);
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    return chomp(r.out);
  };
  const std::string f = run(qian, {"followup", "add", code, "--set", "date=2026-11-02", "--set", "content=电话",
                                   "--set", "next_date=2026-11-20"});
  qian.sync();
  sun.sync();
  run(qian, {"followup", "delete", last8(f)});
  CHECK(qian.customer(code).fields.value("next_date", "") == "");
  run(sun, {"followup", "edit", last8(f), "--set", "content=孙改的"});
  qian.sync();
  sun.sync();
  qian.sync();
  REQUIRE(qian.replica->open_conflicts().size() == 1);
  CHECK_THAT(run(qian, {"conflicts", "resolve", last8(f), "deleted", "--keep", "theirs"}), Contains("resolved:"));
  CHECK(qian.customer(code).fields.value("next_date", "") == "2026-11-20");  // what `due` reads
  qian.sync();
  sun.sync();
  CHECK(sun.customer(code).fields.value("next_date", "") == "2026-11-20");
}

TEST_CASE("daily: a salesperson's import leaves a restricted column out with a note - sheet codes any case",
          "[cli][daily][sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device wang(dir, server, "wang");
  const std::string sheet = dir.file("mine.csv");
  {
    std::ofstream f(sheet);
    f << "客户编号,公司名称,联系人,手机,核心需求,地区,年消费额,信用等级\n"
         "JS001,苏州甲公司,张三,13912349999,包装,江苏,1.2万,A\n"
         "JS002,南京乙公司,李四,13800138000,印刷,江苏,,\n";
  }
  CliResult r = wang.kehu({"import", sheet});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("column \"年消费额\" not imported: 年消费额 (annual_spend) is restricted") &&
                        Contains("column \"信用等级\" not imported: 信用等级 (credit_rating) is restricted"));
  CHECK_THAT(r.out, Contains("2 rows, 0 bad; 2 created"));
  auto s = wang.sync();
  CHECK(s.rejected == 0);
  // The server gave them codes of its own; the sheet's stay findable, typed in any case.
  for (const char* typed : {"JS001", "js001", "Js001"}) {
    CliResult show = wang.kehu({"--json", "customer", "show", typed});
    INFO(show.describe());
    REQUIRE(show.exit_code == 0);
    const json c = json::parse(show.out);
    CHECK(c["name"] == "苏州甲公司");
    CHECK_FALSE(c.contains("annual_spend"));
  }
}

TEST_CASE("daily: a salesperson's import names the rows their role may not write - and sync exits 1 on a refusal",
          "[cli][daily][sync]") {
  ServerFixture server;
  ScratchDir dir;
  Device wang(dir, server, "wang"), root(dir, server, "root");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.file(name)) << text;
    return dir.file(name);
  };
  const std::string owners = write("owners.csv",
                                   "客户编号,公司名称,联系人,手机,核心需求,地区,业务员\n"
                                   "JS101,苏州自己公司,张三,13912349999,包装,江苏,wang\n"
                                   "JS102,南京别人公司,李四,13800138000,印刷,江苏,li\n");
  // The dry run promises only what the import does: the other salesperson's row is named.
  for (const bool dry : {true, false}) {
    std::vector<std::string> args = {"import", owners};
    if (dry) args.push_back("--dry-run");
    CliResult r = wang.kehu(args);
    INFO(r.describe());
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("owners.csv:3:") && Contains("creates customers of their own only"));
  }
  CHECK(wang.replica->status().pending == 0);  // nothing half-written
  CliResult skipped = wang.kehu({"import", owners, "--skip-bad"});
  INFO(skipped.describe());
  REQUIRE(skipped.exit_code == 0);
  REQUIRE(wang.kehu({"sync"}).exit_code == 0);

  // A reassignment in a sheet is a manager's: refused at its line, dry run included.
  const std::string reassign = write("reassign.csv", "客户编号,业务员\nJS101,li\n");
  CliResult dry = wang.kehu({"import", reassign, "--dry-run"});
  INFO(dry.describe());
  CHECK(dry.exit_code == 2);
  CHECK_THAT(dry.err, Contains("reassign.csv:2:") && Contains("only a manager reassigns"));

  // What the device cannot foresee (an admin moved the customer out of wang's
  // regions meanwhile) is refused at sync: the summary says so, exit code 1.
  const std::string code = wang.replica->require("JS101").code;
  REQUIRE(wang.kehu({"customer", "edit", code, "--set", "need=新需求"}).exit_code == 0);
  root.sync();
  REQUIRE(root.kehu({"customer", "edit", code, "--set", "province=浙江", "--set", "owner=li"}).exit_code == 0);
  root.sync();
  CliResult refused = wang.kehu({"sync"});
  INFO(refused.describe());
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.out, Contains("1 rejected") && Contains("kehu rejected"));
}

TEST_CASE("daily: a follow-up is today's and the logged-in user's unless given - an order placed today",
          "[cli][daily]") {
  SECTION("logged in: only the content is needed") {
    ServerFixture server;
    ScratchDir dir;
    Device qian(dir, server, "qian");
    const std::string code = qian.replica->add("customers", kehu::test::new_customer("拜访客户")).code;
    kehu::test::RunOptions o;
    o.env = {{"KEHU_PASSPHRASE", "pass-qian"}, {"KEHU_LANG", "en"}, {"KEHU_TODAY", "2026-12-07"}};
    auto add = kehu::test::run_kehu({"--db", qian.path, "--json", "followup", "add", code, "--set", "content=电话沟通"}, o);
    INFO(add.describe());
    REQUIRE(add.exit_code == 0);
    const json f = json::parse(add.out);
    CHECK(f["date"] == "2026-12-07");
    CHECK(f["person"] == "qian");
    // Given values win.
    auto given = kehu::test::run_kehu({"--db", qian.path, "--json", "followup", "add", code, "--set", "跟进日期=2026/12/1",
                                       "--set", "跟进人=孙", "--set", "content=上门"}, o);
    REQUIRE(given.exit_code == 0);
    CHECK(json::parse(given.out)["date"] == "2026-12-01");
    CHECK(json::parse(given.out)["person"] == "孙");
    auto order = kehu::test::run_kehu({"--db", qian.path, "--json", "order", "add", code, "--set", "product=纸箱"}, o);
    REQUIRE(order.exit_code == 0);
    CHECK(json::parse(order.out)["date"] == "2026-12-07");
  }
  SECTION("a replica nobody logged in to: the person is still needed, and named") {
    Daily d;
    const std::string code = chomp(d.ok({"customer", "add", "--set", "name=甲", "--set", "contact=张",
                                         "--set", "phone=13800138000", "--set", "need=包装"}).out);
    auto r = d.run({"followup", "add", code, "--set", "content=电话沟通"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("跟进人 (person) is required") && !Contains("(date)"));
  }
}
