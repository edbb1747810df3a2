#include "team_ops.h"

#include <catch2/catch.hpp>
#include <set>

#include "kehu/error.h"
#include "server_fixture.h"
#include "sync_test_util.h"

namespace kehu::test {
namespace {

std::size_t pick(std::mt19937& rng, std::size_t n) {
  return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
}

std::set<std::string> pending_ids(const kehu::Replica& r) {
  std::set<std::string> out;
  for (const auto& lc : r.pending_changes(0, 1000000)) out.insert(lc.change.change_id);
  return out;
}

// Runs a local write `fn`; records the change ids it logged, or the refusal
// (kehu::Error) that kept it from writing anything.
template <class Fn>
void local_write(Device& d, TeamOpResult& res, Fn&& fn) {
  const auto before = pending_ids(*d.replica);
  try {
    fn();
  } catch (const kehu::Error& e) {
    res.refused = e.what();
  }
  for (const auto& id : pending_ids(*d.replica)) {
    if (!before.count(id)) res.new_changes.push_back(id);
  }
  res.done = !res.new_changes.empty();
}

// One online team action as cli/commands_team.cc act() does it: the request,
// then a sync on success. A network error is the test's failure, not a refusal.
void online(Device& d, TeamOpResult& res, const std::string& path, const json& body) {
  try {
    kehu::sync::request(*d.replica, Device::options(), path, body, res.op);
  } catch (const kehu::Error& e) {
    if (e.code() == kehu::Errc::network || e.code() == kehu::Errc::server) throw;
    res.refused = e.what();
    return;
  }
  res.done = true;
  res.syncs.push_back(d.sync());
}

std::vector<kehu::Record> live_customers(const kehu::Replica& r) { return r.list(kehu::ListQuery{}); }

// The customers the server knows (rev > 0) most of the time; now and then any
// live one, so that a code still unknown to the server is tried too.
std::vector<kehu::Record> server_customers(const kehu::Replica& r, std::mt19937& rng) {
  auto list = live_customers(r);
  if (pick(rng, 5) == 0) return list;
  std::vector<kehu::Record> out;
  for (auto& c : list) {
    if (c.rev > 0 && !c.code.empty()) out.push_back(std::move(c));
  }
  return out;
}

const std::vector<std::string> kAssignable = {"wang", "li"};  // the fixture's sales users

void op_create(Device& d, std::mt19937& rng, int op, TeamOpResult& res) {
  static const std::vector<std::string> provinces = {"江苏", "江苏", "江苏", "浙江"};
  kehu::FieldInputs in = new_customer("团队客户" + std::to_string(op), provinces[pick(rng, provinces.size())]);
  const std::string role = role_of(d.user);
  if (role == "admin" || role == "manager") {
    const std::size_t k = pick(rng, kAssignable.size() + 1);
    if (k < kAssignable.size()) in.emplace_back("owner", kAssignable[k]);
  }
  local_write(d, res, [&] { d.replica->add("customers", in); });
}

// type (and status) are protected in the property test's server: a sales
// user's edit becomes a change request, split from the unprotected rest.
void op_protected(Device& d, std::mt19937& rng, int op, TeamOpResult& res) {
  static const std::vector<std::string> types = {"potential", "intention", "deal", "lost"};
  // Mostly a customer of 江苏 the server knows, where the manager may decide.
  auto list = live_customers(*d.replica);
  std::vector<kehu::Record> jiangsu;
  for (const auto& c : list) {
    if (c.rev > 0 && c.fields.value("province", "") == "江苏") jiangsu.push_back(c);
  }
  if (!jiangsu.empty() && pick(rng, 4) != 0) list = std::move(jiangsu);
  if (list.empty()) return;
  const kehu::Record& c = list[pick(rng, list.size())];
  kehu::FieldInputs in = {{"type", types[pick(rng, types.size())]}};
  if (pick(rng, 2)) in.emplace_back("need", "需求 " + std::to_string(op));
  local_write(d, res, [&] { d.replica->edit(c.id, in); });
  // Often synced at once, so that managers find requests to decide.
  if (res.done && pick(rng, 2)) res.syncs.push_back(d.sync());
}

void op_resolve(Device& d, std::mt19937& rng, TeamOpResult& res) {
  auto open = d.replica->open_conflicts();
  if (open.empty()) return;
  const kehu::OpenConflict& oc = open[pick(rng, open.size())];
  std::string keep = pick(rng, 2) ? "mine" : "theirs";
  const std::string code = oc.code.empty() ? oc.record_id : oc.code;
  local_write(d, res, [&] { d.replica->resolve_conflict(code, oc.conflict.field, keep); });
  // Settling a conflict whose values are the record's already writes a change
  // all the same (it is a revision); a refusal names why.
}

void op_revert(Device& d, std::mt19937& rng, TeamOpResult& res) {
  // A customer with more than one server revision, back to an earlier one.
  std::vector<kehu::Record> list;
  for (auto& c : live_customers(*d.replica)) {
    if (c.rev >= 2) list.push_back(std::move(c));
  }
  if (list.empty()) return;
  const kehu::Record& c = list[pick(rng, list.size())];
  const std::int64_t to = 1 + static_cast<std::int64_t>(pick(rng, static_cast<std::size_t>(c.rev - 1)));
  std::vector<std::string> args = {"revert", c.code.empty() ? c.id : c.code, "--to-rev", std::to_string(to)};
  if (pick(rng, 3) == 0) args.insert(args.end(), {"--field", "stage"});
  const auto before = pending_ids(*d.replica);
  auto r = d.kehu(args);
  INFO(r.describe());
  // 1: refused (role, pool, missing revisions); 2: a value refused by
  // validation. Either way nothing may be logged (checked below by the caller
  // through new_changes). Exit 2 happens when the revisions of rev N were
  // pulled masked (a pool customer seen by sales): see
  // /work/findings/property.md, "revert writes masked values back".
  REQUIRE((r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 2));
  if (r.exit_code != 0) res.refused = "exit " + std::to_string(r.exit_code) + ": " + r.err;
  for (const auto& id : pending_ids(*d.replica)) {
    if (!before.count(id)) res.new_changes.push_back(id);
  }
  res.done = !res.new_changes.empty();
  if (r.exit_code != 0) CHECK(res.new_changes.empty());
}

void op_merge(Device& d, std::mt19937& rng, TeamOpResult& res) {
  auto list = live_customers(*d.replica);
  if (list.size() < 2) return;
  const std::size_t a = pick(rng, list.size());
  std::size_t b = pick(rng, list.size() - 1);
  if (b >= a) ++b;
  local_write(d, res, [&] { d.replica->merge_customers(list[a].id, list[b].id); });
}

void op_claim(Device& d, std::mt19937& rng, TeamOpResult& res) {
  auto list = server_customers(*d.replica, rng);
  std::vector<kehu::Record> pool;
  for (const auto& c : list) {
    if (c.fields.value("owner", "").empty()) pool.push_back(c);
  }
  // Mostly a pool customer; now and then one that is not (the server refuses).
  const std::vector<kehu::Record>& from = pool.empty() || pick(rng, 4) == 0 ? list : pool;
  if (from.empty() || from[0].code.empty()) return;
  const kehu::Record& c = from[pick(rng, from.size())];
  if (c.code.empty()) return;
  online(d, res, "/v1/customers/" + c.code + "/claim", json::object());
}

void op_release(Device& d, std::mt19937& rng, int op, TeamOpResult& res) {
  auto list = server_customers(*d.replica, rng);
  std::vector<kehu::Record> owned;
  for (const auto& c : list) {
    if (!c.fields.value("owner", "").empty()) owned.push_back(c);
  }
  if (owned.empty()) return;
  const kehu::Record& c = owned[pick(rng, owned.size())];
  if (c.code.empty()) return;
  online(d, res, "/v1/customers/" + c.code + "/release", {{"reason", "客户无预算 " + std::to_string(op)}});
}

void op_reassign(Device& d, std::mt19937& rng, int op, TeamOpResult& res) {
  auto list = server_customers(*d.replica, rng);
  if (list.empty()) return;
  const kehu::Record& c = list[pick(rng, list.size())];
  if (c.code.empty()) return;
  const std::string owner = kAssignable[pick(rng, kAssignable.size())];
  online(d, res, "/v1/customers/" + c.code + "/reassign",
         {{"owner", owner}, {"reason", "调岗 " + std::to_string(op)}});
}

void op_decide(Device& d, std::mt19937& rng, int op, bool approve, TeamOpResult& res) {
  std::int64_t id = 0;
  try {
    json answer = kehu::sync::request(*d.replica, Device::options(), "/v1/approvals", {{"status", "pending"}},
                                      "list change requests");
    const json& reqs = answer["requests"];
    if (!reqs.empty()) id = reqs[pick(rng, reqs.size())].value("id", std::int64_t{0});
  } catch (const kehu::Error& e) {
    if (e.code() == kehu::Errc::network || e.code() == kehu::Errc::server) throw;
  }
  // A user who may not decide (sales, auditor) lists only their own requests,
  // or none: they try request #1, which the server must refuse.
  if (id == 0) {
    const std::string role = role_of(d.user);
    if (role == "admin" || role == "manager") return;
    id = 1;
  }
  const std::string path = "/v1/approvals/" + std::to_string(id) + (approve ? "/approve" : "/reject");
  online(d, res, path, approve ? json::object() : json{{"reason", "不符合报价规定 " + std::to_string(op)}});
}

// One tag added to or removed from a customer the device holds: a small pool of
// tags, so that devices add and remove the same one concurrently (issue 22).
void op_tag(Device& d, std::mt19937& rng, TeamOpResult& res) {
  static const std::vector<std::string> pool = {"重点客户", "高预算", "需要演示"};
  auto list = live_customers(*d.replica);
  if (list.empty()) {
    res.op = "tag(none)";
    return;
  }
  const kehu::Record c = list[pick(rng, list.size())];
  std::set<std::string> tags = kehu::tag_set(c.fields.value("tags", json()));
  const std::string t = pool[pick(rng, pool.size())];
  if (tags.count(t)) tags.erase(t); else tags.insert(t);
  std::string joined;
  for (const auto& x : tags) joined += (joined.empty() ? "" : ";") + x;
  local_write(d, res, [&] { d.replica->edit(c.id, {{"tags", joined}}); });
}

}  // namespace

const std::string& role_of(const std::string& user) {
  static const std::string none;
  auto it = ServerFixture::users().find(user);
  return it == ServerFixture::users().end() ? none : it->second;
}

const std::vector<std::string>& team_op_names() {
  static const std::vector<std::string> names = {"edit",    "create",   "protected", "resolve", "revert",
                                                 "merge",   "claim",    "release",   "reassign", "approve",
                                                 "reject",  "tag",      "sync"};
  return names;
}

TeamOpResult team_op(const std::string& name, Device& d, std::mt19937& rng, int op) {
  TeamOpResult res;
  res.op = name;
  if (name == "edit") {
    // random_edit: create (no region), edit city and stage, tags, delete,
    // restore, follow-up, settle a conflict; false: nothing drawn.
    bool drawn = true;
    local_write(d, res, [&] { drawn = kehu::test::random_edit(*d.replica, rng, d.user, op); });
    if (!drawn) res.op = "edit(none)";
  } else if (name == "create") {
    op_create(d, rng, op, res);
  } else if (name == "protected") {
    op_protected(d, rng, op, res);
  } else if (name == "resolve") {
    op_resolve(d, rng, res);
  } else if (name == "revert") {
    op_revert(d, rng, res);
  } else if (name == "merge") {
    op_merge(d, rng, res);
  } else if (name == "claim") {
    op_claim(d, rng, res);
  } else if (name == "release") {
    op_release(d, rng, op, res);
  } else if (name == "reassign") {
    op_reassign(d, rng, op, res);
  } else if (name == "approve" || name == "reject") {
    op_decide(d, rng, op, name == "approve", res);
  } else if (name == "tag") {
    op_tag(d, rng, res);
  } else if (name == "sync") {
    res.syncs.push_back(d.sync());
  } else {
    FAIL("unknown team op " << name);
  }
  return res;
}

TeamOpResult random_team_op(Device& d, std::mt19937& rng, int op) {
  // Weights: plain edits most often, every other op regularly.
  static const std::vector<std::pair<std::string, int>> weights = {
      {"edit", 8},    {"create", 3}, {"protected", 3}, {"resolve", 3}, {"revert", 2},  {"merge", 1},
      {"claim", 3},   {"release", 2}, {"reassign", 2}, {"approve", 3}, {"reject", 2}, {"tag", 3},      {"sync", 3}};
  int total = 0;
  for (const auto& [n, w] : weights) total += w;
  int x = static_cast<int>(pick(rng, static_cast<std::size_t>(total)));
  for (const auto& [n, w] : weights) {
    if (x < w) return team_op(n, d, rng, op);
    x -= w;
  }
  return team_op("sync", d, rng, op);
}

}  // namespace kehu::test
