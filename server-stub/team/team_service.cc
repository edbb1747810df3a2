#include "team_service.h"

#include "server_config.h"

#include <algorithm>
#include <ctime>
#include <limits>

#include "access_policy.h"
#include "kehu/cause_text.h"
#include "kehu/calendar.h"
#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/place.h"
#include "kehu/schema.h"
#include "record_state_codec.h"
#include "schema_service.h"
#include "settings.h"

namespace kehu::server {

namespace {

// A free-text reason (release, reassign, reject) follows the rules of a text
// field: valid UTF-8, no control characters, not too long, trimmed; one line
// (a tab or line break becomes a space). It goes into revisions and onto other
// people's screens.
std::string checked_reason(const std::string& reason) {
  static const FieldDef field = [] {
    FieldDef f;
    f.key = "reason";
    f.zh = "原因";
    f.en = "Reason";
    return f;
  }();
  json v = normalize_value(field, reason);
  std::string out = v.is_string() ? v.get<std::string>() : std::string();
  std::replace_if(out.begin(), out.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
  return out;
}

std::string owner_of(const sync::RecordState& customer) {
  json values = customer.values();
  auto it = values.find("owner");
  return it != values.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The customer with `code` (or an old code) the session may see; the same
// not_found for an invisible one as for one that does not exist.
sync::RecordState visible_customer(StoreTxn& txn, const Session& session, const std::string& typed,
                                   Access& access) {
  const std::string code = canonical_code(typed);  // c202612001 is C202612001, as in the CLI
  auto id = txn.code_holder(code);
  sync::RecordState c = id ? txn.load_record(*id) : sync::RecordState{};
  // A customer merged away is found as the one it was merged into (issue 22):
  // a claim, release or reassignment by its old code lands there.
  if (c.exists() && c.deleted()) {
    if (auto survivor = survivor_of(txn, c)) c = std::move(*survivor);
  }
  access = c.exists() && c.collection == "customers" ? AccessPolicy::customer_access(session, c.values())
                                                     : Access::none;
  // The same words either way, but they say both (walkthrough 9, R9-4: a
  // manager was told a customer of another region did not exist).
  if (access == Access::none || c.deleted()) {
    throw Error(Errc::not_found, tr("no customer " + code + " within your reach (none has the code, or it is outside "
                                        "your regions or in the recycle bin)",
                                    "你的范围内没有客户 " + code + "（没有这个编号，或它不在你的区域内、在回收站里）"));
  }
  return c;
}

Change owner_change(const sync::RecordState& customer, const json& old_owner, const json& new_owner,
                    std::string cause) {
  Change c;
  c.record_id = customer.id;
  c.collection = "customers";
  c.code = customer.code;
  c.op = Op::update;
  c.base_rev = customer.rev;
  c.fields["owner"] = FieldChange{old_owner, new_owner};
  c.cause = std::move(cause);
  return c;
}

void require_manager(const Session& session, const char* what, const char* what_zh) {
  if (!AccessPolicy::may_reassign(session.role)) {
    throw Error(Errc::forbidden, tr(std::string("role ") + role_name(session.role) + " may not " + what +
                                        "; a manager or an admin may",
                                    role_label(session.role) + "不能" + what_zh + "；经理或管理员可以"));
  }
}

std::string customer_code_of(StoreTxn& txn, const ChangeRequest& r) {
  auto rec = txn.find_record_view(r.record_id);
  if (!rec) return {};
  if (rec->collection == "customers") return rec->code;
  auto parent = txn.find_record_view(rec->parent);
  return parent ? parent->code : std::string();
}

json value_or_null(const json& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? json() : *it;
}

// The fields a pending request asks for whose value changed after it was made,
// with today's value: the decider sees what approving would replace.
json changed_since(StoreTxn& txn, const ChangeRequest& r) {
  json out = json::object();
  auto rec = txn.find_record_view(r.record_id);
  if (r.status != "pending" || !rec) return out;
  for (const auto& [key, fc] : r.fields.items()) {
    // "deleted" is not among a view's fields: the view says it.
    json now = key == kDeletedField ? json(rec->deleted) : value_or_null(rec->fields, key);
    if (fc.is_object() && now != fc.value("old", json())) out[key] = std::move(now);
  }
  return out;
}

// The session's access to the customer a request is about.
Access request_access(StoreTxn& txn, const Session& session, const ChangeRequest& r) {
  // An admin decides any request; an auditor reads them all.
  if (AccessPolicy::sees_everything(session.role)) return session.role == Role::admin ? Access::write : Access::read;
  sync::RecordState rec = txn.load_record(r.record_id);
  if (!rec.exists()) return Access::none;
  sync::RecordState customer = rec.collection == "customers" ? rec : txn.load_record(rec.parent);
  return AccessPolicy::customer_access(session, customer.values());
}

bool may_see_request(StoreTxn& txn, const Session& session, const ChangeRequest& r) {
  if (session.role == Role::sales) return r.requester == session.user;
  return request_access(txn, session, r) != Access::none;
}

ChangeRequest pending_request(StoreTxn& txn, const Session& session, std::int64_t id) {
  auto r = txn.find_request(id);
  if (!r || !may_see_request(txn, session, *r)) {
    throw Error(Errc::not_found, tr("no change request #" + std::to_string(id), "没有修改申请 #" + std::to_string(id)));
  }
  if (r->status != "pending") {
    const std::string done_zh = r->status == "approved"    ? "批准"
                                : r->status == "rejected"  ? "驳回"
                                : r->status == "withdrawn" ? "撤回"
                                                           : r->status;
    throw Error(Errc::validation,
                tr("change request #" + std::to_string(id) + " is already " + r->status +
                       (r->decided_by.empty() ? "" : " by " + r->decided_by),
                   "修改申请 #" + std::to_string(id) + " 已经" + (r->decided_by.empty() ? "" : "由 " + r->decided_by + " ") +
                       done_zh));
  }
  return *r;
}

// "YYYY-MM-DD" `days` days before `date` (--as-of). Throws Error(usage) for a
// day that does not exist, in the user's language: strptime took 2027-02-30
// as 2 March (walkthrough 13, R13-16).
std::string date_minus_days(const std::string& date, int days) {
  return add_days(checked_today(date, "--as-of"), -days);
}

}  // namespace

json request_json(const ChangeRequest& r, const std::string& customer_code) {
  return {{"id", r.id},           {"change_id", r.change_id},   {"record_id", r.record_id},
          {"collection", r.collection}, {"customer", customer_code}, {"requester", r.requester},
          {"device", r.device},   {"base_rev", r.base_rev},
          {"fields", r.fields},   {"status", r.status},         {"created_at", r.created_at},
          {"decided_by", r.decided_by}, {"decided_at", r.decided_at}, {"reason", r.reason},
          {"seq", r.seq}, {"resolves", resolves_to_json(r.resolves)}, {"cause", r.cause}};
}

json TeamService::claim(const Session& session, const std::string& code) {
  if (!AccessPolicy::may_write(session.role)) {
    throw Error(Errc::forbidden, tr(std::string("role ") + role_name(session.role) + " may not claim customers",
                                    role_label(session.role) + "不能认领客户"));
  }
  auto txn = store_.begin(TxnMode::write);
  Access access = Access::none;
  sync::RecordState customer;
  try {
    customer = visible_customer(*txn, session, code, access);
  } catch (const Error& e) {
    // Claimed by someone else since this user saw it in the pool: out of reach
    // now, and "no customer" would be wrong (issue 22). Only a pool customer
    // claimed by its owner (who wrote themselves in, after its creation) says
    // so, and not who: any salesperson could see it while it was in the pool.
    if (e.code() == Errc::not_found) {
      const std::string canonical = canonical_code(code);
      const auto id = txn->code_holder(canonical);
      const sync::RecordState held = id ? txn->load_record(*id) : sync::RecordState{};
      const auto o = held.fields.find("owner");
      // Its owner came by a claim (the revision that set it says so): nothing
      // about a customer that was never in the pool (attacker review 22, A22-5).
      const auto claimed = [&] {
        if (o == held.fields.end() || o->second.value == json(session.user)) return false;
        const auto r = txn->revision_at(held.id, o->second.rev);
        const json body = r ? json::parse(r->body, nullptr, /*allow_exceptions=*/false) : json();
        return body.is_object() && body.value("cause", std::string()) == "claim from the public pool (公海)";
      };
      if (held.exists() && held.collection == "customers" && !held.deleted() && claimed()) {
        throw Error(Errc::validation, tr("customer " + canonical + " is no longer in the public pool (公海): someone else "
                                           "claimed it first",
                                       "客户 " + canonical + " 已不在公海里：已被别人先认领了"));
      }
    }
    throw;
  }
  const std::string owner = owner_of(customer);
  if (!owner.empty()) {
    const auto o = customer.fields.find("owner");
    const auto r = o != customer.fields.end() ? txn->revision_at(customer.id, o->second.rev) : std::nullopt;
    const json body = r ? json::parse(r->body, nullptr, /*allow_exceptions=*/false) : json();
    if (owner != session.user && body.is_object() &&
        body.value("cause", std::string()) == "claim from the public pool (公海)") {
      throw Error(Errc::validation, tr("customer " + code + " is no longer in the public pool (公海): " + owner +
                                           " claimed it first",
                                       "客户 " + code + " 已不在公海里：" + owner + " 先认领了"));
    }
    throw Error(Errc::validation, tr("customer " + code + " is not in the public pool (公海): its owner is " + owner,
                                     "客户 " + code + " 不在公海里：负责人是 " + owner));
  }
  const std::string day = today_local();
  const std::int64_t cap = settings::claim_cap(*txn);
  const std::int64_t claimed = txn->count_claims(session.user, day);
  if (claimed >= cap) {
    const std::string n = std::to_string(claimed), max = std::to_string(cap);
    throw Error(Errc::forbidden, tr("claim cap reached: " + session.user + " has claimed " + n + " of " + max +
                                        " customers allowed per day; an admin can raise it with "
                                        "`kehu-server pool set-cap N`",
                                    "已达认领上限：" + session.user + " 今天已认领 " + n + " 个，每天最多 " + max +
                                        " 个；管理员可以用 `kehu-server pool set-cap N` 调高"));
  }
  json result = push_.apply_server_change(
      *txn, session, owner_change(customer, json(), session.user, "claim from the public pool (公海)"));
  txn->add_claim(session.user, day, customer.id);
  txn->commit();
  return result;
}

json TeamService::release(const Session& session, const std::string& code, const std::string& typed_reason) {
  const std::string reason = checked_reason(typed_reason);
  if (reason.empty()) {
    throw Error(Errc::validation, tr("release of " + code + " needs a reason (--reason)", "退回 " + code + " 需要写明原因（--reason）"));
  }
  auto txn = store_.begin(TxnMode::write);
  Access access = Access::none;
  sync::RecordState customer = visible_customer(*txn, session, code, access);
  const std::string owner = owner_of(customer);
  if (owner.empty()) {
    throw Error(Errc::validation, tr("customer " + code + " is already in the public pool (公海)", "客户 " + code + " 已经在公海里"));
  }
  if (access != Access::write || (owner != session.user && !AccessPolicy::may_reassign(session.role))) {
    throw Error(Errc::forbidden, tr("customer " + code + " belongs to " + owner + "; only its owner or a manager may release it",
                                    "客户 " + code + " 的负责人是 " + owner + "；只有负责人或经理能把它退回公海"));
  }
  // Every sales device pulls the pool: a salesperson's releases are capped per
  // day, or one could create and release junk into every colleague's replica.
  const std::string day = today_local();
  if (session.role == Role::sales) {
    const std::int64_t released = txn->count_releases(session.user, day);
    if (released >= config::kMaxReleasesPerSalesDay) {
      const std::string n = std::to_string(released), max = std::to_string(config::kMaxReleasesPerSalesDay);
      throw Error(Errc::forbidden, tr("release cap reached: " + session.user + " has released " + n + " of " + max +
                                          " customers a salesperson may release to the pool (公海) per day; a "
                                          "manager may release more",
                                      "已达退回上限：" + session.user + " 今天已退回 " + n + " 个客户，业务员每天最多退回 " +
                                          max + " 个到公海；经理可以退回更多"));
    }
  }
  json result = push_.apply_server_change(
      *txn, session, owner_change(customer, owner, json(), "release to the public pool (公海): " + reason));
  txn->add_release(session.user, day, customer.id);
  result["withdrawn"] = withdraw_owners_requests(*txn, customer.id, owner, session.user, "released to the public pool");
  txn->commit();
  return result;
}

json TeamService::reassign(const Session& session, const std::string& code, const std::string& new_owner,
                           const std::string& typed_reason) {
  const std::string reason = checked_reason(typed_reason);
  require_manager(session, "reassign customers", "转交客户");
  auto txn = store_.begin(TxnMode::write);
  Access access = Access::none;
  sync::RecordState customer = visible_customer(*txn, session, code, access);
  if (access != Access::write) {
    throw Error(Errc::forbidden, tr("customer " + code + " is not in your regions", "客户 " + code + " 不在你负责的区域内"));
  }
  require_assignable_owner(*txn, new_owner);
  const std::string owner = owner_of(customer);
  if (owner == new_owner) {
    throw Error(Errc::validation, tr("customer " + code + " already belongs to " + new_owner, "客户 " + code + " 的负责人已经是 " + new_owner));
  }
  std::string cause = "reassign from " + (owner.empty() ? std::string("the public pool") : owner) + " to " + new_owner;
  if (!reason.empty()) cause += ": " + reason;
  json result = push_.apply_server_change(
      *txn, session, owner_change(customer, owner.empty() ? json() : json(owner), new_owner, cause));
  if (!owner.empty()) {
    result["withdrawn"] = withdraw_owners_requests(*txn, customer.id, owner, session.user, "reassigned to " + new_owner);
  }
  txn->commit();
  return result;
}

json TeamService::recycle(const Session& session, int days, const std::string& today, bool dry_run) {
  if (days < 1) {
    throw Error(Errc::validation, tr("--days " + std::to_string(days) + " must be 1 or more",
                                     "--days " + std::to_string(days) + " 应为 1 或更大的天数"));
  }
  const std::string cutoff = date_minus_days(today, days);
  auto txn = store_.begin(TxnMode::write);
  json out = json::array();
  for (const auto& id : txn->record_ids("customers")) {
    const sync::RecordState customer = txn->load_record(id);
    const std::string owner = owner_of(customer);
    if (owner.empty() || customer.deleted()) continue;
    const json values = customer.values();
    // Since when the customer has been neglected: its creation date (a customer
    // created without one, by an older client or a raw push, dates from its first
    // revision), or its latest follow-up up to `today`: one dated later is a plan,
    // not a contact (and one dated 2099 would keep it out of the pool forever).
    std::string last = values.value("created_at", std::string());
    bool followed_up = false;
    if (last.empty()) {
      const auto revs = txn->revisions_of(id);
      if (!revs.empty()) {
        const json first = json::parse(revs.back().body, nullptr, /*allow_exceptions=*/false);
        if (first.is_object()) last = first.value("at", std::string()).substr(0, 10);
      }
    }
    for (const auto& child : txn->child_ids(id)) {
      auto f = txn->find_record_view(child);
      if (!f || f->deleted || f->collection != "followups") continue;
      const std::string date = f->fields.value("date", std::string());
      if (date <= today && date >= last) {
        last = date;
        followed_up = true;
      }
    }
    if (last.empty() || last >= cutoff) continue;
    // "followed_up": `last` is a follow-up's date, else the day the customer was added.
    out.push_back({{"code", customer.code}, {"owner", owner}, {"last", last}, {"followed_up", followed_up}});
    if (dry_run) continue;
    push_.apply_server_change(*txn, session,
                              owner_change(customer, owner, json(),
                                           "pool recycle: no follow-up for " + std::to_string(days) +
                                               " days (last " + last + ")"));
    withdraw_owners_requests(*txn, customer.id, owner, session.user, "released to the public pool");
  }
  if (!dry_run) txn->commit();
  return out;
}

namespace {

// What approving request `r` writes, and in whose name.
struct Approval {
  Change change;
  Session requester;
};

// The change approving `r` would apply, checked as approve() checks it: throws
// Error(validation) saying why `r` can no longer be approved (the list shows
// the same words beside the request; walkthrough 16, R16-10). REQUIRES: `r` is
// pending and `session` may decide it; `schema` is the store's.
Approval plan_approval(StoreTxn& txn, const Schema& schema, const Session& session, const ChangeRequest& r) {
  const std::int64_t id = r.id;
  const sync::RecordState current = txn.load_record(r.record_id);
  const json values = current.values();
  Change c;
  c.record_id = r.record_id;
  c.collection = r.collection;
  c.parent = current.parent;
  c.code = current.code;
  c.op = Op::update;
  // Never a derived field or the owner, whatever an older request holds: those
  // are not a salesperson's to ask for (push_service.cc checks them at push).
  const CollectionDef& coll = schema.collection(r.collection);
  bool stale = false;  // a field asked for changed after the request was made
  for (const auto& [key, fc] : field_changes_from_json(r.fields)) {
    const FieldDef* def = coll.find(key);
    if (key == "owner" || (def && def->derived)) continue;
    const json now = key == kDeletedField ? json(current.deleted()) : value_or_null(values, key);
    stale = stale || now != fc.old_value;
    c.fields[key] = fc;
  }
  // The place rules hold for what is approved as for what is pushed, on the
  // customer as it is now: a request held while it had no province cleared
  // the one it got since (attacker review 9, A9-4).
  if (r.collection == "customers") {
    if (auto p = c.fields.find("province"); p != c.fields.end()) {
      check_province_change(value_or_null(values, "province"), p->second.new_value);
    }
    if (auto city = c.fields.find("city"); city != c.fields.end()) {
      check_city_change(value_or_null(values, "city"), city->second.new_value);
    }
  }
  // A held delete or restore applies as one: an update may not set "deleted"
  // (ChangeValidator), and approving a salesperson's delete failed on that
  // (walkthrough 7, R7-1).
  if (auto d = c.fields.find(kDeletedField); d != c.fields.end()) {
    c.op = d->second.new_value == json(true) ? Op::remove : Op::restore;
    // A delete its requester undid since (a slip, restored at once) is not
    // theirs to approve any more (walkthrough 8, R8-4).
    for (const auto& rev : txn.revisions_before(r.record_id, std::numeric_limits<std::int64_t>::max(), 100)) {
      if (rev.rev <= r.base_rev) break;
      const json body = parse_stored(rev.body, "revision");
      if (body.value("op", std::string()) == "restore" && body.value("author", std::string()) == r.requester) {
        throw Error(Errc::validation,
                    tr("change request #" + std::to_string(id) + " asks to delete a record " + r.requester +
                           " restored since: nothing is left to approve; reject it",
                       "修改申请 #" + std::to_string(id) + " 要删除的记录之后已被 " + r.requester +
                           " 恢复：没有可批准的内容；请驳回"));
      }
    }
  }
  // The decision is an edit made now on what the requester saw. When the asked
  // fields still hold what they saw, it applies on the record as it is. When one
  // was changed since (a manager's newer edit), it merges like any concurrent
  // edit from the request's base: the later decision wins, and the value it
  // replaces is kept as a conflict for review, never overwritten unseen.
  // A merge's delete is the merging device's, whatever the decision: what was
  // written on the customer after it merged goes on to the survivor
  // (PushService::carry_unseen_edits), as it would have without the wait.
  c.base_rev = stale || !merge_target_of(r.cause).empty() ? r.base_rev : current.rev;
  c.resolves = r.resolves;
  c.cause = approval_cause(id, r.cause);
  c.approved_by = session.user;
  // The requester must still be one who could make the change: a customer
  // moved out of their territory or reassigned since (or a user disabled) is
  // no longer theirs to change, and approving would write an edit in their
  // name to a customer they cannot see (attacker review 7, A7-10).
  const auto user = txn.find_user(r.requester);
  const Session requester{r.requester, user ? user->role : Role::sales, r.device,
                          user ? user->regions : std::vector<std::string>{}, 0};
  if (!user || user->disabled || request_access(txn, requester, r) != Access::write) {
    throw Error(Errc::validation,
                tr("change request #" + std::to_string(id) + " can no longer be approved: the record is not " +
                       r.requester + "'s to change any more (moved, reassigned or the user disabled); reject it "
                                     "with a reason",
                   "修改申请 #" + std::to_string(id) + " 已不能批准：这条记录已不归 " + r.requester +
                       " 修改（客户已转移、转交，或该用户已停用）；请驳回并写明原因"));
  }
  // Nor may it move the customer out of the requester's regions, or the
  // manager's: the push checked the requester's regions when the request was
  // made, and those may have shrunk since (defence in depth, attacker review 12).
  if (r.collection == "customers" && (c.fields.count("province") || c.fields.count("city"))) {
    json after = values;
    for (const auto& [key, f] : c.fields) {
      if (key == "province" || key == "city") after[key] = f.new_value;
    }
    // A city asked for under the province the customer had then: moved to
    // another province since, it would land under that one (苏州 under 浙江;
    // attacker review 14 and 15, A14-4, A15-6), as would a province asked for
    // under the city kept.
    try {
      check_city_in_province(after.value("province", json()), after.value("city", json()));
    } catch (const Error& e) {
      if (e.code() != Errc::validation) throw;
      throw Error(Errc::validation,
                  tr("change request #" + std::to_string(id) + " can no longer be approved: " + e.what() +
                         "; reject it with a reason",
                     "修改申请 #" + std::to_string(id) + " 已不能批准：" + e.what() + "；请驳回并写明原因"));
    }
    for (const Session* who : {&requester, &session}) {
      try {
        check_stays_in_regions(who->regions, &values, after, current.code.empty() ? current.id : current.code);
      } catch (const Error& e) {
        if (e.code() != Errc::validation) throw;
        throw Error(Errc::validation,
                    tr("change request #" + std::to_string(id) + " can no longer be approved (" + who->user +
                           "'s regions): " + e.what() + "; reject it with a reason",
                       "修改申请 #" + std::to_string(id) + " 已不能批准（" + who->user + " 的区域）：" + e.what() +
                           "；请驳回并写明原因"));
      }
    }
  }
  // A merge's delete forwards to its survivor once approved (its children and
  // later writes go there): the decider must be able to write that customer
  // too, or a manager's approval sends their region's data out of their sight
  // (attacker review 22c, A22c-1).
  // Followed as the forwarding will be: through merges of merges.
  if (const auto keep = merge_target(txn, current, r.cause);
      keep && AccessPolicy::customer_access(session, keep->values()) != Access::write) {
    throw Error(Errc::validation,
                tr("change request #" + std::to_string(id) + " merges the customer into one outside your "
                       "regions: an admin, or a manager of both, may approve it; or reject it with a reason",
                   "修改申请 #" + std::to_string(id) + " 会把客户合并到你负责区域以外的客户：请管理员或同时负责两边的经理审批，"
                                                       "或驳回并写明原因"));
  }
  return {std::move(c), requester};
}

}  // namespace

json TeamService::list_requests(const Session& session, const std::vector<std::int64_t>& ids, std::int64_t after,
                                std::int64_t limit, const std::string& status) {
  auto txn = store_.begin(TxnMode::read);
  const auto schema = store_schema(*txn);  // read once a page, not once a request
  json out = json::array();
  auto add = [&](const ChangeRequest& r) {
    if (!may_see_request(*txn, session, r)) return;
    json j = request_json(r, customer_code_of(*txn, r));
    // For those who decide (a salesperson's own request needs no warning, and
    // a field may have become one they cannot read since).
    if (session.role != Role::sales) {
      if (json now = changed_since(*txn, r); !now.empty()) j["changed_since"] = std::move(now);
      // One that can no longer be approved says why, before anyone tries
      // (walkthrough 16, R16-10: it was listed as waiting like any other).
      if (r.status == "pending" && request_access(*txn, session, r) == Access::write) {
        try {
          plan_approval(*txn, *schema, session, r);
        } catch (const Error& e) {
          if (e.code() != Errc::validation) throw;
          j["blocked"] = e.what();
        }
      }
    }
    out.push_back(std::move(j));
  };
  if (!ids.empty()) {
    for (std::int64_t id : ids) {
      if (auto r = txn->find_request(id)) add(*r);
    }
    return {{"requests", std::move(out)}, {"more", false}};
  }
  // Read in chunks until the page holds one more than asked for (which says
  // another page follows): the list was read and answered whole (70 MB for
  // 200,000 requests).
  // At most kMaxRequestsExamined rows a page, however few the caller may see:
  // a manager's listing read a salesperson's 100,000 withdrawn requests of
  // another region at every call (attacker review 13, A13-1).
  constexpr std::int64_t kChunk = 200;
  std::int64_t examined = 0, scanned_to = after;
  bool budget_spent = false;
  for (std::int64_t cursor = after;;) {
    const std::vector<ChangeRequest> chunk = txn->list_requests(status, cursor, kChunk);
    for (const auto& r : chunk) {
      add(r);
      ++examined;
      if (static_cast<std::int64_t>(out.size()) > limit) break;
      scanned_to = r.id;
    }
    if (static_cast<std::int64_t>(out.size()) > limit || static_cast<std::int64_t>(chunk.size()) < kChunk) break;
    if (examined >= config::kMaxRequestsExamined) {
      budget_spent = true;
      break;
    }
    cursor = chunk.back().id;
  }
  const bool more = budget_spent || static_cast<std::int64_t>(out.size()) > limit;
  if (static_cast<std::int64_t>(out.size()) > limit) out.erase(out.size() - 1);
  const std::int64_t next = budget_spent ? scanned_to : out.empty() ? after : out.back()["id"].get<std::int64_t>();
  return {{"requests", std::move(out)}, {"more", more}, {"next_after", next}};
}

json TeamService::approve(const Session& session, std::int64_t id) {
  require_manager(session, "decide change requests", "审批修改申请");
  auto txn = store_.begin(TxnMode::write);
  ChangeRequest r = pending_request(*txn, session, id);
  if (request_access(*txn, session, r) != Access::write) {
    throw Error(Errc::forbidden, tr("change request #" + std::to_string(id) + " is about a customer outside your regions",
                                    "修改申请 #" + std::to_string(id) + " 涉及的客户不在你负责的区域内"));
  }
  const Approval a = plan_approval(*txn, *store_schema(*txn), session, r);
  json result = push_.apply_server_change(*txn, a.requester, a.change);
  r.status = "approved";
  r.decided_by = session.user;
  r.decided_at = now_iso8601();
  r.seq = result.value("seq", std::int64_t{0});
  txn->update_request(r);
  txn->commit();
  return {{"request", request_json(r, a.change.collection == "customers" ? a.change.code : std::string())},
          {"result", result}};
}

json TeamService::reject(const Session& session, std::int64_t id, const std::string& typed_reason) {
  const std::string reason = checked_reason(typed_reason);
  require_manager(session, "decide change requests", "审批修改申请");
  if (reason.empty()) {
    throw Error(Errc::validation, tr("rejecting request #" + std::to_string(id) + " needs a reason (--reason)",
                                     "驳回申请 #" + std::to_string(id) + " 需要写明原因（--reason）"));
  }
  auto txn = store_.begin(TxnMode::write);
  ChangeRequest r = pending_request(*txn, session, id);
  if (request_access(*txn, session, r) != Access::write) {
    throw Error(Errc::forbidden, tr("change request #" + std::to_string(id) + " is about a customer outside your regions",
                                    "修改申请 #" + std::to_string(id) + " 涉及的客户不在你负责的区域内"));
  }
  r.status = "rejected";
  r.decided_by = session.user;
  r.decided_at = now_iso8601();
  r.reason = reason;
  txn->update_request(r);
  json out = request_json(r, customer_code_of(*txn, r));
  txn->commit();
  return {{"request", std::move(out)}};
}

}  // namespace kehu::server
