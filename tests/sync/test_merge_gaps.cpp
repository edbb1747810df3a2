// Issue 22: the merge gaps found by racing devices, each scenario against a real
// kehu-server with three devices, in every order the devices can sync in.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "device.h"
#include "kehu/cause_text.h"
#include "kehu/replica.h"
#include "kehu/text.h"
#include "server_fixture.h"
#include "sync_test_util.h"

using kehu::json;
using kehu::test::Device;
using kehu::test::new_customer;
using kehu::test::ScratchDir;
using kehu::test::ServerFixture;

namespace {

// A device's open conflicts, without what differs between runs (record ids,
// revs, clocks): field, member, kind, both values and both authors.
std::multiset<std::string> conflict_list(const kehu::Replica& r) {
  std::multiset<std::string> out;
  for (const auto& oc : r.open_conflicts()) {
    const kehu::Conflict& c = oc.conflict;
    out.insert(oc.code + " " + c.field + " " + c.member + " " + c.kind + " kept " + c.kept.dump() + " by " +
               c.kept_author + " lost " + c.lost.dump() + " by " + c.lost_author);
  }
  return out;
}

// Makes the next edit's clock later than the previous one's, on any device.
void tick() { std::this_thread::sleep_for(std::chrono::milliseconds(3)); }

// Every device syncs twice, so that what any pushed reaches all.
void settle(const std::vector<Device*>& devices) {
  for (int round = 0; round < 2; ++round) {
    for (Device* d : devices) d->sync();
  }
}

// Every permutation of 0..n-1.
std::vector<std::vector<std::size_t>> orders(std::size_t n) {
  std::vector<std::size_t> o(n);
  for (std::size_t i = 0; i < n; ++i) o[i] = i;
  std::vector<std::vector<std::size_t>> out;
  do out.push_back(o); while (std::next_permutation(o.begin(), o.end()));
  return out;
}

}  // namespace

TEST_CASE("gaps: an older tag remove never undoes a later add, whichever device syncs first", "[sync][gaps]") {
  std::set<std::multiset<std::string>> lists;
  for (bool b_first : {true, false}) {
    INFO("B syncs before C: " << b_first);
    ServerFixture server;
    ScratchDir dir;
    Device a(dir, server, "root"), b(dir, server, "qian"), c(dir, server, "sun");
    kehu::FieldInputs in = new_customer("安和食品股份有限公司");
    std::erase_if(in, [](const auto& f) { return f.first == "tags"; });
    const std::string code = a.replica->add("customers", in).code;
    settle({&a, &b, &c});
    // A sets x; C pulls it and clears the tags; B, which has not synced since,
    // sets x and y later than C's clear.
    a.replica->edit(code, {{"tags", "x"}});
    a.sync();
    c.sync();
    REQUIRE(c.customer(code).fields["tags"] == json({"x"}));
    c.replica->edit(code, {{"tags", ""}});
    tick();
    b.replica->edit(code, {{"tags", "x;y"}});
    if (b_first) {
      b.sync();
      c.sync();
    } else {
      c.sync();
      b.sync();
    }
    settle({&a, &b, &c});
    for (Device* d : {&a, &b, &c}) {
      INFO(d->user);
      CHECK(d->customer(code).fields["tags"] == json({"x", "y"}));
      const auto list = conflict_list(*d->replica);
      REQUIRE(list.size() == 1);
      // B's add of x (later) is kept; C's remove of x is the conflict's lost side.
      CHECK(*list.begin() == code + " tags x tag kept true by qian lost false by sun");
      lists.insert(list);
    }
    // Shown in words, in both languages.
    auto shown = c.kehu({"conflicts"});
    CHECK_THAT(shown.out, Catch::Contains("with tag x") && Catch::Contains("without tag x"));
    auto zh = c.kehu({"conflicts"}, "zh");
    CHECK_THAT(zh.out, Catch::Contains("有标签 x") && Catch::Contains("没有标签 x"));
    // Keeping C's side removes x, on every device.
    auto settled = c.kehu({"conflicts", "resolve", code, "tags", "--keep", "mine"});
    INFO(settled.describe());
    REQUIRE(settled.exit_code == 0);
    c.replica = kehu::Replica::open(c.path, "pass-sun");
    settle({&a, &b, &c});
    for (Device* d : {&a, &b, &c}) {
      CHECK(d->customer(code).fields["tags"] == json({"y"}));
      CHECK(d->replica->open_conflicts().empty());
    }
  }
  CHECK(lists.size() == 1);
}

TEST_CASE("gaps: delete, two edits and a restore leave the same conflicts in every sync order", "[sync][gaps]") {
  std::set<std::multiset<std::string>> before_restore;
  for (const auto& order : orders(3)) {
    INFO("order " << order[0] << order[1] << order[2]);
    ServerFixture server;
    ScratchDir dir;
    Device a(dir, server, "root"), b(dir, server, "qian"), c(dir, server, "sun");
    const std::string code = a.replica->add("customers", new_customer("正泰贸易有限公司")).code;
    settle({&a, &b, &c});
    // All three offline: A deletes, B and C edit different fields.
    a.replica->remove(code);
    tick();
    b.replica->edit(code, {{"notes", "客户要求周五回电"}});
    tick();
    c.replica->edit(code, {{"phone", "13900139000"}});
    std::vector<Device*> devs = {&a, &b, &c};
    for (std::size_t i : order) devs[i]->sync();
    settle(devs);
    std::multiset<std::string> first;
    for (Device* d : devs) {
      INFO(d->user);
      const kehu::Record r = d->customer(code);
      CHECK(r.deleted);
      CHECK(r.fields["notes"] == "客户要求周五回电");
      CHECK(r.fields["phone"] == "13900139000");
      const auto list = conflict_list(*d->replica);
      // One flag, naming the latest edit the delete did not see (C's).
      REQUIRE(list.size() == 1);
      CHECK(*list.begin() == code + " deleted  delete_edit kept true by root lost null by sun");
      if (first.empty()) first = list; else CHECK(list == first);
    }
    before_restore.insert(first);
    auto shown = b.kehu({"conflicts"});
    INFO(shown.describe());
    CHECK_THAT(shown.out, Catch::Contains("not deleted (the edit is kept)") && Catch::Contains("deleted while edited"));
    // A later restore closes it everywhere.
    b.replica->restore(code);
    settle(devs);
    for (Device* d : devs) {
      INFO(d->user);
      CHECK_FALSE(d->customer(code).deleted);
      CHECK(d->replica->open_conflicts().empty());
    }
  }
  CHECK(before_restore.size() == 1);
}

TEST_CASE("gaps: three devices writing one field leave the same conflicts in every sync order", "[sync][gaps]") {
  std::set<std::multiset<std::string>> lists;
  for (const auto& order : orders(3)) {
    INFO("order " << order[0] << order[1] << order[2]);
    ServerFixture server;
    ScratchDir dir;
    Device a(dir, server, "root"), b(dir, server, "qian"), c(dir, server, "sun");
    const std::string code = a.replica->add("customers", new_customer("正泰贸易有限公司")).code;
    settle({&a, &b, &c});
    a.replica->edit(code, {{"contact", "李雷"}});
    tick();
    b.replica->edit(code, {{"contact", "韩梅梅"}});
    tick();
    c.replica->edit(code, {{"contact", "王芳"}});
    std::vector<Device*> devs = {&a, &b, &c};
    for (std::size_t i : order) devs[i]->sync();
    settle(devs);
    for (Device* d : devs) {
      INFO(d->user);
      CHECK(d->customer(code).fields["contact"] == "王芳");
      const auto list = conflict_list(*d->replica);
      CHECK(list.size() == 2);  // 王芳 kept over 李雷 and over 韩梅梅
      lists.insert(list);
    }
    // A later edit by someone who saw them closes both, on every device.
    a.replica->edit(code, {{"contact", "张伟"}});
    settle(devs);
    for (Device* d : devs) CHECK(d->replica->open_conflicts().empty());
  }
  CHECK(lists.size() == 1);
}

TEST_CASE("gaps: an edit refused after a reassignment keeps what was typed, readable", "[sync][gaps][teams]") {
  ServerFixture server;
  ScratchDir dir;
  Device root(dir, server, "root"), wang(dir, server, "wang");
  // In 浙江, outside wang's territory: his only because he owns it.
  kehu::FieldInputs in = new_customer("浙江甲公司", "浙江");
  in.emplace_back("owner", "wang");
  const std::string code = root.replica->add("customers", in).code;
  root.sync();
  wang.sync();
  wang.replica->edit(code, {{"need", "二期扩容 120 套工位"}});  // offline
  auto moved = root.kehu({"customer", "reassign", code, "li", "--reason", "区域调整"});
  INFO(moved.describe());
  REQUIRE(moved.exit_code == 0);
  auto report = wang.sync();
  CHECK(report.rejected == 1);
  REQUIRE(report.rejections.size() == 1);
  CHECK(report.rejections[0].typed == json({{"need", "二期扩容 120 套工位"}}));
  for (const char* lang : {"en", "zh"}) {
    auto listed = wang.kehu({"rejected"}, lang);
    INFO(listed.describe());
    CHECK(listed.exit_code == 0);
    CHECK_THAT(listed.out, Catch::Contains("二期扩容 120 套工位") && Catch::Contains(code));
  }
  auto js = wang.kehu({"rejected", "--json"});
  const json arr = json::parse(js.out);
  REQUIRE(arr.size() == 1);
  CHECK(arr[0]["typed"] == json({{"need", "二期扩容 120 套工位"}}));
  CHECK(arr[0]["code"] == code);
  auto status = wang.kehu({"status", "--json"});
  const json st = json::parse(status.out);
  REQUIRE(st["rejected_changes"].size() == 1);
  CHECK(st["rejected_changes"][0]["typed"] == json({{"need", "二期扩容 120 套工位"}}));
  CHECK(st["rejected_changes"][0]["code"] == code);
}

TEST_CASE("gaps: a release pushes the customer's own pending edits first", "[sync][gaps][teams]") {
  ServerFixture server;
  ScratchDir dir;
  Device root(dir, server, "root"), wang(dir, server, "wang"), li(dir, server, "li");
  kehu::FieldInputs in = new_customer("江苏甲公司");
  in.emplace_back("owner", "wang");
  const std::string code = root.replica->add("customers", in).code;
  root.sync();
  wang.sync();
  wang.replica->edit(code, {{"notes", "预算冻结到明年"}});  // typed while it is still his
  auto released = wang.kehu({"customer", "release", code, "--reason", "客户无预算"});
  INFO(released.describe());
  REQUIRE(released.exit_code == 0);
  wang.replica = kehu::Replica::open(wang.path, "pass-wang");
  CHECK(wang.replica->changes_in_state("rejected").empty());
  CHECK(wang.replica->status().pending == 0);
  root.sync();
  CHECK(root.customer(code).fields["notes"] == "预算冻结到明年");
  CHECK(root.customer(code).fields.count("owner") == 0);
  // The edit came before the release, in history.
  auto h = root.replica->history(code);
  std::vector<std::string> causes;
  for (const auto& e : h) causes.push_back(e.revision.cause);
  INFO(json(causes).dump());
  auto release_at = std::find_if(h.begin(), h.end(), [](const auto& e) {
    return e.revision.cause.rfind("release to the public pool", 0) == 0;
  });
  auto edit_at = std::find_if(h.begin(), h.end(), [](const auto& e) { return e.revision.changes.count("notes"); });
  REQUIRE(release_at != h.end());
  REQUIRE(edit_at != h.end());
  CHECK(edit_at->revision.rev < release_at->revision.rev);

  SECTION("a second claim says someone else claimed it") {
    li.sync();
    Device other(dir, server, "wang", true, "wang-second");
    auto first = li.kehu({"customer", "claim", code});
    INFO(first.describe());
    REQUIRE(first.exit_code == 0);
    // wang sees li's customer (his territory): named.
    auto second = other.kehu({"customer", "claim", code});
    INFO(second.describe());
    CHECK(second.exit_code == 2);
    CHECK_THAT(second.err, Catch::Contains("no longer in the public pool (公海): li claimed it first"));
    auto zh = other.kehu({"customer", "claim", code}, "zh");
    CHECK_THAT(zh.err, Catch::Contains("li 先认领了"));
    // A code nobody holds still reads as no customer.
    auto none = other.kehu({"customer", "claim", "C209901999"});
    CHECK_THAT(none.err, !Catch::Contains("claimed it first"));
    // A pool customer outside wang's territory, claimed by li: out of wang's
    // sight now, and still not "no customer".
    kehu::FieldInputs far = new_customer("浙江公海公司", "浙江");
    const std::string pool = root.replica->add("customers", far).code;
    root.sync();
    other.sync();
    REQUIRE(other.replica->find_customer(pool).has_value());
    li.sync();
    REQUIRE(li.kehu({"customer", "claim", pool}).exit_code == 0);
    auto hidden = other.kehu({"customer", "claim", pool});
    INFO(hidden.describe());
    CHECK(hidden.exit_code == 2);
    CHECK_THAT(hidden.err, Catch::Contains("someone else claimed it first") && !Catch::Contains(": li "));
  }
}

TEST_CASE("gaps: a merge leaves a forwarding address, in every sync order", "[sync][gaps]") {
  for (const auto& order : orders(3)) {
    INFO("order " << order[0] << order[1] << order[2]);
    ServerFixture server;
    ScratchDir dir;
    Device a(dir, server, "root"), b(dir, server, "qian"), c(dir, server, "sun");
    kehu::FieldInputs keep_in = new_customer("明达医疗器械有限公司");
    std::erase_if(keep_in, [](const auto& f) { return f.first == "tags"; });
    const std::string keep = a.replica->add("customers", keep_in).code;
    const std::string other = a.replica->add("customers", new_customer("明达医疗器械公司")).code;
    settle({&a, &b, &c});
    // A merges O into K; meanwhile B, offline, adds a follow-up to O and edits
    // its need, and C tags it.
    a.replica->merge_customers(keep, other);
    tick();
    b.replica->add("followups", {{"date", "2026-12-01"}, {"person", "qian"}, {"content", "上门演示，客户满意"}}, other);
    b.replica->edit(other, {{"need", "二期扩容 120 套工位"}});
    tick();
    c.replica->edit(other, {{"tags", "华东地区;重点客户;展会线索"}});
    std::vector<Device*> devs = {&a, &b, &c};
    for (std::size_t i : order) devs[i]->sync();
    settle(devs);
    for (Device* d : devs) {
      INFO(d->user);
      CHECK(d->customer(other).deleted);
      const kehu::Record k = d->customer(keep);
      CHECK_FALSE(k.deleted);
      // B's follow-up is on K, and K's last follow-up date counts it.
      kehu::ListQuery fq;
      fq.collection = "followups";
      fq.parent = k.id;
      const auto fus = d->replica->list(fq);
      CHECK(std::any_of(fus.begin(), fus.end(),
                        [](const kehu::Record& f) { return f.fields.value("content", "") == "上门演示，客户满意"; }));
      CHECK(k.fields.value("last_followup_at", "") == "2026-12-01");
      // B's edit of O's need and C's tag are on K.
      CHECK(k.fields.value("need", "") == "二期扩容 120 套工位");
      CHECK(kehu::tag_set(k.fields.value("tags", json())).count("展会线索") == 1);
      // Nothing is left on O in the recycle bin.
      kehu::ListQuery oq;
      oq.collection = "followups";
      oq.parent = d->customer(other).id;
      CHECK(d->replica->list(oq).empty());
      oq.deleted = true;
      CHECK(d->replica->list(oq).empty());
    }
    // O's code finds K: show, history and --search, in both languages.
    auto shown = b.kehu({"customer", "show", other});
    INFO(shown.describe());
    CHECK(shown.exit_code == 0);
    CHECK_THAT(shown.out, Catch::Contains(other + " was merged into " + keep) && Catch::Contains("明达医疗器械有限公司"));
    auto zh = b.kehu({"customer", "show", other}, "zh");
    CHECK_THAT(zh.out, Catch::Contains(other + " 已合并到 " + keep));
    auto hist = b.kehu({"history", other});
    CHECK(hist.exit_code == 0);
    CHECK_THAT(hist.out, Catch::Contains(other + " was merged into " + keep));
    auto found = b.kehu({"--json", "customer", "list", "--search", other});
    INFO(found.describe());
    const json listed = json::parse(found.out);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["code"] == keep);
    auto said = b.kehu({"customer", "list", "--search", other}, "zh");
    CHECK_THAT(said.out, Catch::Contains(keep));
    CHECK_THAT(said.err, Catch::Contains(other + " 已合并到 " + keep));
  }
}

TEST_CASE("gaps: a merge held for approval forwards once approved, whichever comes first", "[sync][gaps][teams]") {
  // wang (sales) merges two of his customers; the merge's delete waits for a
  // manager (the customer has a protected field set). Meanwhile root, offline,
  // adds a follow-up to the merged-away one and edits it, and syncs either
  // before or after zhao approves.
  for (bool root_first : {true, false}) {
    INFO("root syncs before the approval: " << root_first);
    ServerFixture server;
    ScratchDir dir;
    auto protect = kehu::test::run_server_command({"schema", "protect", "customers", "type", "--data", server.data_dir()});
    INFO(protect.output);
    REQUIRE(protect.exit_code == 0);
    Device root(dir, server, "root"), wang(dir, server, "wang"), zhao(dir, server, "zhao");
    auto make = [&](const char* name) {
      kehu::FieldInputs in = new_customer(name);
      in.emplace_back("owner", "wang");  // type set (new_customer): a protected field holds a value
      return root.replica->add("customers", in).code;
    };
    const std::string keep = make("明达医疗器械有限公司"), other = make("明达医疗器械公司");
    settle({&root, &wang, &zhao});
    wang.replica->merge_customers(keep, other);
    const auto held = wang.sync();
    REQUIRE(held.awaiting == 1);
    // Meanwhile wang's device says the waiting delete is a merge's (W22-6).
    auto waiting = wang.kehu({"customer", "show", other});
    INFO(waiting.describe());
    CHECK_THAT(waiting.out, Catch::Contains("(merged into " + keep + ")"));
    tick();
    root.replica->add("followups", {{"date", "2026-12-02"}, {"person", "root"}, {"content", "回访：确认二期"}}, other);
    root.replica->edit(other, {{"need", "二期扩容 80 套"}});
    if (root_first) root.sync();
    zhao.sync();
    auto approved = zhao.kehu({"approve", "1"});
    INFO(approved.describe());
    REQUIRE(approved.exit_code == 0);
    settle({&root, &wang, &zhao});
    for (Device* d : {&root, &wang, &zhao}) {
      INFO(d->user);
      CHECK(d->customer(other).deleted);
      const kehu::Record k = d->customer(keep);
      kehu::ListQuery fq;
      fq.collection = "followups";
      fq.parent = k.id;
      const auto fus = d->replica->list(fq);
      CHECK(std::any_of(fus.begin(), fus.end(),
                        [](const kehu::Record& f) { return f.fields.value("content", "") == "回访：确认二期"; }));
      CHECK(k.fields.value("last_followup_at", "") == "2026-12-02");
      CHECK(k.fields.value("need", "") == "二期扩容 80 套");
    }
    // O's code finds K, and O's delete names both the approval and the survivor.
    auto shown = root.kehu({"customer", "show", other});
    CHECK_THAT(shown.out, Catch::Contains(other + " was merged into " + keep));
    const auto h = root.replica->history(other);
    REQUIRE_FALSE(h.empty());
    CHECK(h.front().revision.cause == "approved change request #1: merged into " + keep);
    CHECK(kehu::cause_text(h.front().revision.cause, kehu::Lang::zh) == "批准修改申请 #1：已合并到 " + keep);
    // history by O's code shows K's, then O's own down to the merge (W22-1).
    auto hist = root.kehu({"history", other}, "zh");
    INFO(hist.describe());
    CHECK_THAT(hist.out, Catch::Contains(other + " 自己的历史") && Catch::Contains("批准修改申请 #1：已合并到 " + keep));
    // A write by O's code goes to K on a device that knows of the merge (W22-4).
    auto added = root.kehu({"followup", "add", other, "--set", "content=电话回访"});
    INFO(added.describe());
    REQUIRE(added.exit_code == 0);
    CHECK_THAT(added.err, Catch::Contains(other + " was merged into " + keep));
    CHECK(root.replica->get(kehu::trim(added.out))->parent == root.customer(keep).id);
  }
}

TEST_CASE("gaps: a rejected merge says it was one, and goes again as one", "[sync][gaps][teams]") {
  ServerFixture server;
  ScratchDir dir;
  auto protect = kehu::test::run_server_command({"schema", "protect", "customers", "type", "--data", server.data_dir()});
  REQUIRE(protect.exit_code == 0);
  Device root(dir, server, "root"), wang(dir, server, "wang"), zhao(dir, server, "zhao");
  auto make = [&](const char* name) {
    kehu::FieldInputs in = new_customer(name);
    in.emplace_back("owner", "wang");
    return root.replica->add("customers", in).code;
  };
  const std::string keep = make("明达医疗器械有限公司"), other = make("明达医疗器械公司");
  settle({&root, &wang, &zhao});
  wang.replica->merge_customers(keep, other);
  REQUIRE(wang.sync().awaiting == 1);
  zhao.sync();
  auto listed = zhao.kehu({"approvals"});
  INFO(listed.describe());
  CHECK_THAT(listed.out, Catch::Contains("cause: merged into " + keep));
  REQUIRE(zhao.kehu({"reject", "1", "--reason", "不是同一家"}).exit_code == 0);
  wang.sync();
  auto refused = wang.kehu({"rejected"}, "zh");
  INFO(refused.describe());
  CHECK_THAT(refused.out, Catch::Contains("已合并到 " + keep));
  const json js = json::parse(wang.kehu({"rejected", "--json"}).out);
  REQUIRE(js.size() == 1);
  CHECK(js[0]["cause"] == "merged into " + keep);
  // Retried, it is a merge's delete again: approved, O forwards to K.
  REQUIRE(wang.kehu({"rejected", "retry", js[0]["seq"].dump()}).exit_code == 0);
  REQUIRE(wang.sync().awaiting == 1);
  zhao.sync();
  auto approved = zhao.kehu({"approve", "2"});
  INFO(approved.describe());
  REQUIRE(approved.exit_code == 0);
  settle({&root, &wang, &zhao});
  CHECK(root.customer(other).deleted);
  CHECK(root.replica->find_customer_forwarded(other)->code == keep);
}

TEST_CASE("gaps: a provisional code is found by --search as by show", "[sync][gaps]") {
  ServerFixture server;
  ScratchDir dir;
  Device wang(dir, server, "wang", /*first_sync=*/false);  // no lease yet: a provisional P… code
  const kehu::Record made = wang.replica->add("customers", new_customer("临时编号公司"));
  REQUIRE(made.code.rfind("P", 0) == 0);
  wang.sync();
  const std::string final_code = wang.replica->find_customer(made.code)->code;
  REQUIRE(final_code != made.code);
  auto shown = wang.kehu({"--json", "customer", "show", made.code});
  CHECK(json::parse(shown.out)["code"] == final_code);
  auto found = wang.kehu({"--json", "customer", "list", "--search", made.code});
  INFO(found.describe());
  const json listed = json::parse(found.out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["code"] == final_code);
}

TEST_CASE("gaps: a held merge into a customer outside the manager's regions waits for one who may write both",
          "[sync][gaps][teams]") {
  // Attacker review 22c, A22c-1: zhao (江苏) approved wang's merge into wang's
  // 浙江 customer, and zhao's region's data went out of his sight.
  ServerFixture server;
  ScratchDir dir;
  REQUIRE(kehu::test::run_server_command({"schema", "protect", "customers", "type", "--data", server.data_dir()})
              .exit_code == 0);
  Device root(dir, server, "root"), wang(dir, server, "wang"), zhao(dir, server, "zhao");
  auto wangs = [&root](const std::string& name, const std::string& province) {
    kehu::FieldInputs fields = new_customer(name, province);
    fields.emplace_back("owner", "wang");
    return root.replica->add("customers", fields).code;
  };
  const std::string keep = wangs("浙江远方公司", "浙江");
  const std::string mid = wangs("江苏中间公司", "江苏");
  const std::string other = wangs("江苏近处公司", "江苏");
  settle({&root, &wang, &zhao});
  auto refused_to_zhao = [&] {
    zhao.sync();
    auto refused = zhao.kehu({"approve", "1"});
    INFO(refused.describe());
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Catch::Contains("outside your regions"));
  };

  SECTION("named in the request") {
    wang.replica->merge_customers(keep, other);
    REQUIRE(wang.sync().awaiting == 1);
    refused_to_zhao();
    root.sync();
    auto approved = root.kehu({"approve", "1"});
    INFO(approved.describe());
    CHECK(approved.exit_code == 0);
    settle({&root, &wang, &zhao});
    CHECK(root.customer(other).deleted);
  }
  SECTION("reached through a merge of the survivor named, made since") {
    // The approval forwards through merges of merges (push_service.h
    // merge_target): the survivor named in the request, since merged into a
    // 浙江 customer, is no longer what decides.
    wang.replica->merge_customers(mid, other);
    REQUIRE(wang.sync().awaiting == 1);
    root.replica->merge_customers(keep, mid);
    root.sync();
    refused_to_zhao();
    CHECK_FALSE(zhao.customer(other).deleted);
  }
}
