#include "push_service.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>
#include <optional>

#include "access_policy.h"
#include "kehu/cause_text.h"
#include "kehu/calendar.h"
#include "kehu/schema.h"
#include "change_validator.h"
#include "code_assigner.h"
#include "hash_chain.h"
#include "http_errors.h"
#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/sync/merge.h"
#include "kehu/place.h"
#include "kehu/text.h"
#include "schema_service.h"
#include "scope_index.h"
#include "env_setting.h"
#include "server_config.h"
#include "settings.h"

namespace kehu::server {

namespace {

// Refusals that are final: the client keeps the change with the reason and does
// not retry, so the answer is remembered.
bool is_refusal(Errc code) {
  return code == Errc::validation || code == Errc::forbidden || code == Errc::not_found ||
         code == Errc::protocol;
}

// A refusal's message names what was sent, which may be huge (an unknown field
// name of megabytes), and it is kept 30 days: cut to kMaxRefusalBytes at a
// character's start (attacker review 14, A14-3: 30 MB a refusal).
constexpr std::size_t kMaxRefusalBytes = 2000;

json rejected(const std::string& change_id, const Error& e) {
  std::string message = e.what();
  if (message.size() > kMaxRefusalBytes) {
    std::size_t end = kMaxRefusalBytes;
    while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
    message = message.substr(0, end) + "…";
  }
  return {{"change_id", change_id},
          {"status", "rejected"},
          {"error", {{"code", errc_name(e.code())}, {"message", std::move(message)}}}};
}

json conflicts_json(const std::vector<Conflict>& conflicts) {
  json out = json::array();
  for (const auto& c : conflicts) out.push_back(to_json(c));
  return out;
}

// 1 to kMaxIdBytes of [A-Za-z0-9._:-]: what replicas make (UUIDs), and nothing
// that could break a line, a terminal or a URL.
bool is_plain_id(std::string_view id) {
  return !id.empty() && id.size() <= config::kMaxIdBytes &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                  c == '_' || c == ':' || c == '-';
         });
}

// At most 64 bytes of `s`, cut between characters, control characters and
// invalid UTF-8 as '?', for a message (an answer must stay valid JSON).
std::string printable_prefix(std::string_view s) {
  std::size_t end = std::min<std::size_t>(s.size(), 64);
  while (end < s.size() && end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  std::string out(s.substr(0, end));
  const bool utf8 = is_valid_utf8(out);
  for (char& c : out) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f || (!utf8 && b >= 0x80)) c = '?';
  }
  return end < s.size() ? out + "…" : out;
}

// Whether `record` (a customer, or a child of one) is outside everything
// `session` may see. What a session may not see must look as if it did not exist
// (docs/security.md): a change to it gets the answer an unknown id gets, with no
// code, name or owner in it. Trusted changes (the server's own) pass nullptr.
// A record that is neither a customer nor a child of one (the targets
// collection) belongs to no customer's scope: only the roles that see
// everything see it, as pull sends it (pull_service.cc).
bool hidden_from(StoreTxn& txn, const Session* session, const sync::RecordState& record) {
  if (!session || !record.exists() || AccessPolicy::sees_everything(session->role)) return false;
  if (record.collection == "customers") {
    return AccessPolicy::customer_access(*session, record.values()) == Access::none;
  }
  const sync::RecordState customer = txn.load_record(record.parent);
  return !customer.exists() || AccessPolicy::customer_access(*session, customer.values()) == Access::none;
}

// A child record (follow-up, order, ...) must name an existing parent customer,
// one the session (nullptr: the server itself) may see. A record of any other
// collection names none: pull sends a customer's children along with it, so a
// customer with a parent would reach everyone who sees that parent.
void check_parent(StoreTxn& txn, const CollectionDef& coll, const Change& c, const Session* session) {
  if (coll.parent_field.empty()) {
    if (c.parent.empty()) return;
    throw Error(Errc::validation, tr(coll.zh + " (" + coll.name + ") record " + c.record_id +
                                      " has no parent record, not " + printable_prefix(c.parent),
                                  coll.zh + " (" + coll.name + ") 记录 " + c.record_id + " 没有所属记录，不能是 " +
                                      printable_prefix(c.parent)));
  }
  if (c.parent.empty()) {
    throw Error(Errc::validation, tr(coll.zh + " (" + coll.name + ") record " + c.record_id +
                                      " needs a parent customer",
                                  coll.zh + " (" + coll.name + ") 记录 " + c.record_id + " 需要所属客户"));
  }
  sync::RecordState parent = txn.load_record(c.parent);
  if (!parent.exists() || parent.collection != "customers" || hidden_from(txn, session, parent)) {
    throw Error(Errc::not_found, tr("parent customer " + c.parent + " of " + c.record_id +
                                     " does not exist or is not in your scope",
                                 c.record_id + " 的所属客户 " + c.parent + " 不存在，或不在你的权限范围内"));
  }
}

// Who sent the change a stored result answers. Results stored before layout v3
// carry no sender: an applied one names its revision, whose author sent it; any
// other is nobody's (a replay is refused, which only costs a stray retry).
std::string sender_of(StoreTxn& txn, const StoredResult& stored) {
  if (!stored.sender.empty()) return stored.sender;
  const std::int64_t seq = stored.result.value("seq", std::int64_t{0});
  if (seq <= 0) return {};
  for (const StoredRevision& rev : txn.revisions_since(seq - 1, 1)) {
    if (rev.seq != seq) break;
    const json body = json::parse(rev.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_object()) return body.value("author", std::string());
  }
  return {};
}

// A customer code or record id, as a cause names it.
bool is_code_token(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '-';
  });
}

// A device may give a cause only to the automatic changes it makes itself, in
// the words the replica and the CLI use (core/replica/replica_due.cc,
// replica_dups.cc, cli/commands_audit.cc): the churn rule, a customer merge
// ("merged OTHER into KEEP", "merged into KEEP") and a revert. Every other
// cause (an approval, a claim, a reassignment, the pool recycle) is the
// server's, and free text is nobody's: an audit trail that a device could write
// "approved change request #1" into would prove nothing.
//
// The codes of a merge cause and the rev of a revert must be real: each code or
// id of "merged OTHER into KEEP" names a customer the sender sees (a hidden one
// is refused like an unknown one), and a revert names a rev the record had, so
// the cause carries no free text into the hashed audit trail.
void check_device_cause(StoreTxn& txn, const Session& session, const Change& change) {
  const std::string_view cause = change.cause;
  if (cause.empty()) return;
  auto refuse = [&](const std::string& why_en, const std::string& why_zh) {
    throw Error(Errc::validation, tr("cause \"" + printable_prefix(cause) + "\": " + why_en,
                                     "原因“" + printable_prefix(cause) + "”：" + why_zh));
  };
  // A customer the session sees, by code, alias or id.
  auto names_customer = [&](std::string_view token) {
    std::string id(token);
    if (auto holder = txn.code_holder(token)) id = *holder;
    const sync::RecordState r = txn.load_record(id);
    return r.exists() && r.collection == "customers" && !hidden_from(txn, &session, r);
  };
  constexpr std::string_view churn = "churn rule: no order or follow-up for ", merged = "merged ",
                             into = " into ", revert = "revert to rev ";
  // A number of 1 to `most` digits, then exactly `tail`.
  auto number_then = [](std::string_view s, std::size_t most, std::string_view tail) {
    const std::size_t digits = std::min(s.find_first_not_of("0123456789"), s.size());
    return digits >= 1 && digits <= most && s.substr(digits) == tail;
  };
  if (cause.substr(0, churn.size()) == churn) {
    if (number_then(cause.substr(churn.size()), 4, " days")) return;
  } else if (cause.substr(0, revert.size()) == revert) {
    if (number_then(cause.substr(revert.size()), 18, "")) {
      const std::int64_t rev = std::stoll(std::string(cause.substr(revert.size())));
      const sync::RecordState current = txn.load_record(change.record_id);
      // A record unknown or out of scope is answered as any change to it, by
      // apply_new: the rev told whether it existed, and bisection its rev
      // (attacker review 13, A13-4).
      if (current.exists() ? hidden_from(txn, &session, current) : change.op != Op::create) return;
      if (rev >= 1 && current.exists() && rev <= current.rev) return;
      refuse("record " + change.record_id + " has no rev " + std::to_string(rev) + " to revert to",
             "记录 " + change.record_id + " 没有可以恢复的修订 " + std::to_string(rev));
    }
  } else if (cause.substr(0, merged.size()) == merged) {
    // "merged OTHER into KEEP" on what moves and on KEEP, "merged into KEEP" on OTHER.
    std::string_view rest = cause.substr(merged.size() - 1);
    const std::size_t at = rest.find(into);
    if (at != std::string_view::npos && (at == 0 || is_code_token(rest.substr(1, at - 1))) &&
        is_code_token(rest.substr(at + into.size()))) {
      std::vector<std::string_view> tokens{rest.substr(at + into.size())};
      if (at != 0) tokens.push_back(rest.substr(1, at - 1));
      for (std::string_view token : tokens) {
        if (!names_customer(token)) {
          refuse("\"" + std::string(token) + "\" is not the code or id of a customer you can see; a merge cause "
                 "names the two customers merged",
                 "“" + std::string(token) + "”不是你能看到的客户的编号或 ID；合并原因只能写被合并的两个客户");
        }
      }
      return;
    }
  }
  refuse("a device may only give the churn rule, a customer merge or a revert as cause; the other causes are the "
         "server's",
         "设备只能以流失规则、客户合并或恢复作为原因；其他原因只能由服务器给出");
}

// Derived fields are the server's or the replica's to set (schema.h): the
// follow-up date is computed and never synced; the code and the creation date
// are set once, when the record is created, and the creation date cannot lie
// ahead (a date in 2099 would keep a customer out of the pool recycle forever):
// one after tomorrow becomes today, so the customer itself is not refused.
void check_derived(const CollectionDef& coll, Change& c, bool creating) {
  for (auto& [key, fc] : c.fields) {
    const FieldDef* f = coll.find(key);
    if (!f || !f->derived || fc.old_value == fc.new_value) continue;
    const std::string what = f->zh + " (" + f->key + ")";
    // The parent field carries a move (moved_parent checks it); a new child
    // names no other customer than its parent.
    if (key == coll.parent_field) {
      if (creating && fc.new_value != json(c.parent)) {
        throw Error(Errc::validation, tr(what + " of a new record must be its parent " + c.parent,
                                        "新记录的" + what + "必须是其所属客户 " + c.parent));
      }
      continue;
    }
    if (key == "code" && creating) continue;  // the record's own: CodeAssigner decides
    if (key != "created_at" || !creating) {
      throw Error(Errc::validation, tr(what + " is derived by Kehu and cannot be changed", what + " 由 Kehu 自动生成，不能修改"));
    }
    const std::string latest = add_days(today_local(), 1);  // a device's calendar may be a day ahead
    if (fc.new_value.is_string() && fc.new_value.get<std::string>() > latest) fc.new_value = today_local();
  }
}

std::string customer_label(const sync::RecordState& customer) {
  return "customer " + (customer.code.empty() ? customer.id : customer.code);
}

// What the merge writes of `key`: a field sent with old == new writes nothing,
// so it must not pass a check either (attacker review 11, A11-6: a create whose
// province was sent so was stored without one; A11-1: a no-op province made a
// city move look like one within the user's region).
const FieldChange* written_field(const Change& c, const char* key) {
  const auto f = c.fields.find(key);
  return f != c.fields.end() && f->second.old_value != f->second.new_value ? &f->second : nullptr;
}

// The customer's place as the change leaves it.
json place_after(const sync::RecordState& current, const Change& c) {
  json after = current.exists() ? current.values() : json::object();
  for (const auto& [key, f] : c.fields) {
    if (f.old_value != f.new_value) after[key] = f.new_value;
  }
  return after;
}

// An admin places a customer in any region, or in none, but in a real place: a
// province given is one of the 34, and a city is one of that province
// (walkthrough 19, R19-4: 江酥, and 江苏/杭州, filed customers where no manager
// of either province saw them).
void check_real_place(const sync::RecordState& current, const Change& c) {
  const FieldChange* province = written_field(c, "province");
  const FieldChange* city = written_field(c, "city");
  if (province == nullptr && city == nullptr) return;
  if (province != nullptr && province->new_value.is_string() && !trim(province->new_value.get<std::string>()).empty()) {
    check_new_customer_province(province->new_value);
  }
  if (city != nullptr) {
    check_city_change(current.exists() ? current.values().value("city", json()) : json(), city->new_value);
  }
  const json after = place_after(current, c);
  check_city_in_province(after.value("province", json()), after.value("city", json()));
}

// Refuses a change the session may not make to a customer it sees with `access`.
void require_write_access(Access access, const sync::RecordState& customer, const Session& session) {
  if (access == Access::write) return;
  if (access == Access::masked) {
    throw Error(Errc::forbidden, tr(customer_label(customer) +
                                        " is in the public pool (公海): claim it first with `kehu customer claim " +
                                        customer.code + "`",
                                    customer_label(customer) + " 在公海里：请先用 `kehu customer claim " + customer.code +
                                        "` 认领"));
  }
  throw Error(Errc::forbidden,
              tr(customer_label(customer) + " is not in the scope of " + session.user + " (" + role_name(session.role) +
                     (session.role == Role::sales ? ": customers you own or in your territory)"
                                                  : ": customers in your regions)"),
                 customer_label(customer) + " 不在 " + session.user + " 的范围内（" + role_label(session.role) +
                     (session.role == Role::sales ? "：自己负责或所辖区域内的客户）" : "：所辖区域内的客户）")));
}

// Scope rules of access_policy.h for one change, before the merge. A sales
// user's new customer without an owner is theirs: the owner is added to the change.
void check_scope(StoreTxn& txn, const Session& session, const CollectionDef& coll, const sync::RecordState& current,
                 Change& c) {
  if (AccessPolicy::sees_everything(session.role)) {
    if (c.collection == "customers") check_real_place(current, c);
    return;
  }
  if (c.collection != "customers") {
    if (coll.parent_field.empty()) {
      // Not a customer's record (targets): the admin's, set with `kehu rules`.
      throw Error(Errc::forbidden, tr(coll.zh + " (" + coll.name + ") records are the admin's to change",
                                      coll.zh + " (" + coll.name + ") 记录只有管理员能修改"));
    }
    const std::string parent_id = current.exists() ? current.parent : c.parent;
    const sync::RecordState parent = txn.load_record(parent_id);
    if (!parent.exists()) return;  // check_parent names the problem
    require_write_access(AccessPolicy::customer_access(session, parent.values()), parent, session);
    return;
  }
  const auto written = [&](const char* key) { return written_field(c, key); };
  if (const FieldChange* p = written("province"); !current.exists()) {
    check_new_customer_province(p == nullptr ? json() : p->new_value);
  } else if (p != nullptr) {
    // Against what the record holds, not what the change claims it held.
    check_province_change(current.values().value("province", json()), p->new_value);
  }
  if (const FieldChange* city = written("city"); city != nullptr) {
    check_city_change(current.exists() ? current.values().value("city", json()) : json(), city->new_value);
  }
  // Nor out of the user's regions: the device refuses it at once (R8-11), a
  // raw client or an old kehu met no rule here (attacker review 10, A10-8).
  // Nor a well-known city under another province (南京 under 浙江): it would
  // leave its city's regions and enter the province's (attacker review 15,
  // A15-6), checked on the pair as the change leaves it. (An admin places
  // customers anywhere, as with regions.)
  if (!current.exists() || written("province") || written("city")) {
    const json before = current.exists() ? current.values() : json();
    const json after = place_after(current, c);
    std::string label = current.exists() ? customer_label(current) : c.code;
    if (!current.exists() && after.value("name", json()).is_string()) label = after["name"].get<std::string>();
    check_stays_in_regions(session.regions, current.exists() ? &before : nullptr, after, label);
    check_city_in_province(after.value("province", json()), after.value("city", json()));
  }
  auto owner = c.fields.find("owner");
  const bool changes_owner = owner != c.fields.end() && owner->second.old_value != owner->second.new_value;
  if (!current.exists()) {
    if (!changes_owner || owner->second.new_value.is_null()) {
      c.fields["owner"] = FieldChange{json(), session.user};
    } else if (owner->second.new_value != session.user && !AccessPolicy::may_reassign(session.role)) {
      throw Error(Errc::forbidden,
                  tr(std::string("负责人 (owner): ") + role_name(session.role) + " " + session.user +
                         " may only create customers they own, not " + owner->second.new_value.dump(),
                     "负责人 (owner)：" + role_label(session.role) + " " + session.user + " 只能新建自己负责的客户，不能是 " +
                         owner->second.new_value.dump()));
    }
    return;  // the new state's scope is checked after the merge
  }
  require_write_access(AccessPolicy::customer_access(session, current.values()), current, session);
  if (changes_owner && !AccessPolicy::may_reassign(session.role)) {
    throw Error(Errc::forbidden, tr("负责人 (owner) of " + customer_label(current) +
                                        ": only a manager reassigns customers; release it to the pool with "
                                        "`kehu customer release " + current.code + "`",
                                    customer_label(current) + " 的负责人 (owner)：只有经理能转交客户；可以用 `kehu customer release " +
                                        current.code + "` 退回公海"));
  }
}

}  // namespace

void require_assignable_owner(StoreTxn& txn, const std::string& owner) {
  auto user = txn.find_user(owner);
  if (!user || user->disabled) {
    throw Error(Errc::validation, tr("负责人 (owner): \"" + owner + "\" is not an active user of this server",
                                     "负责人 (owner)：“" + owner + "”不是这台服务器上的在用用户"));
  }
  if (!AccessPolicy::may_write(user->role)) {
    throw Error(Errc::validation, tr("负责人 (owner): \"" + owner + "\" is " + role_name(user->role) +
                                         ", a role that may not change customers",
                                     "负责人 (owner)：“" + owner + "”是" + role_label(user->role) + "，这个角色不能修改客户"));
  }
}

namespace {

// A child record moved to another customer (kehu customer merge) changes its
// parent field from the old customer's id to the new one's. The new customer
// must exist and, for a user who does not see everything, be writable by them
// (check_scope already checked the old one). Returns the new parent's id, or ""
// when the change moves nothing.
// The rev an edit of a merged-away customer meets the survivor at: the
// survivor's rev at the merge (what the merge wrote there, from the customer
// the edit was made on, counts as seen), but below the last write of any field
// where the survivor held a value of its own, other than the one the edit
// replaced, so that the two meet as concurrent edits (later clock wins, the
// other kept as a conflict) rather than the edit overwriting it unseen
// (walkthrough 22, W22-4).
std::int64_t survivor_base(const sync::RecordState& keep, std::int64_t merged_rev, const Change& c) {
  std::int64_t base = merged_rev;
  for (const auto& [key, fc] : c.fields) {
    const auto it = keep.fields.find(key);
    if (it == keep.fields.end() || !it->second.members.empty() || it->second.value == fc.old_value ||
        it->second.value.is_null()) {
      continue;
    }
    std::int64_t first = it->second.rev;
    for (const auto& w : it->second.also) first = std::min(first, w.rev);
    base = std::min(base, first - 1);
  }
  return std::max<std::int64_t>(base, 0);
}

// What arrives for a customer merged away lands on the customer it was merged
// into (issue 22): an edit of its fields (on the survivor's rev at the merge,
// so a value written there since is met as a concurrent edit), a new child, a
// child moved to it. The revision names the cause. Returns the two customers'
// codes when the change was forwarded (both empty when not).
struct Forwarded {
  std::string from, to;
};

// `record`: the change's record as stored (loaded once by the caller: this runs
// for every pushed change).
Forwarded forward_from_merged(StoreTxn& txn, const CollectionDef& coll, const Session* viewer,
                              const sync::RecordState& record, Change& c) {
  // A settling names conflicts of the record it was made on: it stays there.
  if (!c.resolves.empty()) return {};
  std::optional<sync::RecordState> survivor;
  const auto forward = [&](const sync::RecordState& gone, std::string& survivor_id) -> Forwarded {
    if (!gone.exists() || gone.collection != "customers" || gone.merged_into.empty()) return {};
    survivor = survivor_of(txn, gone);
    // Not into a customer the sender may not see: the change is answered as
    // one to the merged-away customer, naming nothing else (attacker review 22, A22-6).
    if (!survivor || hidden_from(txn, viewer, *survivor)) return {};
    if (c.cause.empty()) c.cause = "merged " + gone.code + " into " + survivor->code;
    survivor_id = survivor->id;
    return {gone.code, survivor->code};
  };
  std::string to_id;
  if (coll.name == "customers") {
    if (c.op != Op::update) return {};  // a delete or restore is the merged-away customer's own
    Forwarded f = forward(record, to_id);
    if (f.to.empty()) return {};
    c.record_id = to_id;
    c.code = f.to;
    c.base_rev = survivor_base(*survivor, record.merged_rev, c);
    return f;
  }
  if (coll.parent_field.empty()) return {};
  const auto pf = c.fields.find(coll.parent_field);
  if (c.op == Op::create && !c.parent.empty()) {
    Forwarded f = forward(txn.load_record(c.parent), to_id);
    if (f.to.empty()) return {};
    c.parent = to_id;
    if (pf != c.fields.end()) pf->second.new_value = to_id;
    return f;
  }
  if (c.op == Op::update && pf != c.fields.end() && pf->second.new_value.is_string() &&
      pf->second.new_value != pf->second.old_value) {
    Forwarded f = forward(txn.load_record(pf->second.new_value.get<std::string>()), to_id);
    if (!f.to.empty()) pf->second.new_value = to_id;
    return f;
  }
  return {};
}

std::string moved_parent(StoreTxn& txn, const Session& session, const CollectionDef& coll,
                         const sync::RecordState& current, const Change& c, bool trusted) {
  if (coll.parent_field.empty() || !current.exists()) return {};
  auto f = c.fields.find(coll.parent_field);
  if (f == c.fields.end() || f->second.new_value == f->second.old_value) return {};
  if (!f->second.new_value.is_string() || f->second.new_value.get<std::string>().empty()) {
    throw Error(Errc::validation, tr(coll.zh + " (" + coll.name + ") record " + c.record_id +
                                      " cannot leave its customer without a new one",
                                  coll.zh + " (" + coll.name + ") 记录 " + c.record_id + " 不能脱离所属客户，除非指定新的客户"));
  }
  Change probe = c;
  probe.parent = f->second.new_value.get<std::string>();
  check_parent(txn, coll, probe, trusted ? nullptr : &session);
  if (!trusted && !AccessPolicy::sees_everything(session.role)) {
    const sync::RecordState target = txn.load_record(probe.parent);
    require_write_access(AccessPolicy::customer_access(session, target.values()), target, session);
  }
  return probe.parent;
}

// A change that settles conflicts (kehu conflicts resolve) names them by the
// rev whose revision recorded each one and the field: every one must be a
// conflict of this record on a field the user may read. A conflict settled
// twice (two devices at once) is no error: each settling is kept as a revision.
void check_resolves(StoreTxn& txn, const Session& session, const CollectionDef& coll,
                    const sync::RecordState& current, const Change& c) {
  if (c.resolves.empty()) return;
  if (c.resolves.size() > config::kMaxResolvesPerChange) {
    throw Error(Errc::validation, tr("a change settles at most " + std::to_string(config::kMaxResolvesPerChange) +
                                      " conflicts, not " + std::to_string(c.resolves.size()),
                                  "一次修改最多解决 " + std::to_string(config::kMaxResolvesPerChange) + " 个冲突，而不是 " +
                                      std::to_string(c.resolves.size()) + " 个"));
  }
  // rev -> that revision's conflicts, for the revs named: one index read each,
  // however long the record's history (a change settles at most a few).
  std::map<std::int64_t, json> conflicts_at;
  for (const ConflictRef& ref : c.resolves) {
    if (ref.rev > current.rev || conflicts_at.count(ref.rev)) continue;
    json& at = conflicts_at[ref.rev];
    if (auto r = txn.revision_at(c.record_id, ref.rev)) {
      json body = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object() && body.contains("conflicts")) at = std::move(body["conflicts"]);
    }
  }
  for (const ConflictRef& ref : c.resolves) {
    const FieldDef* f = ref.field == kDeletedField ? nullptr : coll.find(ref.field);
    if (ref.field != kDeletedField && (f == nullptr || f->key != ref.field || !AccessPolicy::may_read_field(session.role, *f))) {
      throw Error(Errc::validation, tr("resolves: " + coll.name + " has no field \"" + printable_prefix(ref.field) +
                                        "\" that " + session.user + " may read",
                                    "resolves：" + coll.name + " 没有 " + session.user + " 可读的字段“" +
                                        printable_prefix(ref.field) + "”"));
    }
    bool found = false;
    if (ref.rev <= current.rev) {
      auto it = conflicts_at.find(ref.rev);
      if (it != conflicts_at.end() && it->second.is_array()) {
        for (const auto& k : it->second) found = found || k.value("field", std::string()) == ref.field;
      }
    }
    if (!found) {
      throw Error(Errc::validation, tr("resolves: rev " + std::to_string(ref.rev) + " of record " + c.record_id +
                                        " recorded no conflict on \"" + ref.field + "\"",
                                    "resolves：记录 " + c.record_id + " 的修订 " + std::to_string(ref.rev) +
                                        " 在“" + ref.field + "”上没有冲突"));
    }
  }
}

// A change by a sales user whose merge writes a protected field of an existing
// record asks a manager (team_service.h). `applied` is what the merge would
// write, so every op (update, create of an id that exists, delete, restore, a
// move by merge, a revert) meets the same rule, whatever old values the change
// claims. A new record's first values are its creator's.
// An update that also sets unprotected fields is split: the protected ones go
// into the request and leave `c`, the rest applies now (`held` names them).
// Anything else waits as a whole (`held` empty). The conflicts the change
// settles go with the values that settle them: those of held fields (all of
// them when the whole change waits) are settled when the request is approved.
struct HeldForApproval {
  std::int64_t request = 0;
  std::vector<std::string> held;
};

std::optional<HeldForApproval> protected_request(StoreTxn& txn, const Session& session, const CollectionDef& coll,
                                                 const sync::RecordState& current, Change& c,
                                                 const std::map<std::string, FieldChange>& applied) {
  if (session.role != Role::sales || !current.exists()) return std::nullopt;
  const auto guarded = settings::protected_fields(txn, c.collection);
  auto is_guarded = [&](const std::string& key) {
    return std::find(guarded.begin(), guarded.end(), key) != guarded.end();
  };
  // Deleting a customer whose protected fields hold values asks a manager too:
  // a delete, a new record with the values wanted and its children moved over
  // would change them without anyone's approval. A protected field the user
  // may not read counts as holding one: whether the delete waits must not say
  // whether it is set (attacker review 19, A19-2: a restricted credit_rating).
  const json values = current.values();
  const bool deletes_guarded =
      applied.count(kDeletedField) && !current.deleted() &&
      std::any_of(guarded.begin(), guarded.end(), [&](const std::string& key) {
        const FieldDef* f = coll.find(key);
        if (f != nullptr && f->restricted) return true;  // never the sales role's to read
        auto v = values.find(key);
        return v != values.end() && !v->is_null();
      });
  if (!deletes_guarded &&
      std::none_of(applied.begin(), applied.end(), [&](const auto& f) { return is_guarded(f.first); })) {
    return std::nullopt;
  }
  // Only what the user changed: a field sent with old == new wrote nothing and
  // passed no check, so it must not be written when the request is approved.
  std::map<std::string, FieldChange> asked, rest;
  // A place moves as a whole: a city applied at once while its province
  // waits made a place neither the user's regions nor anyone's covered
  // (attacker review 11, A11-1: 江苏/杭州 from a 浙江/杭州 move).
  const auto p = c.fields.find("province");
  const bool province_held = is_guarded("province") && p != c.fields.end() && p->second.old_value != p->second.new_value;
  // And the other way: a city held with its province applied moved the
  // customer to 江苏/杭州 (attacker review 13, A13-9).
  const auto city = c.fields.find("city");
  const bool city_held = is_guarded("city") && city != c.fields.end() && city->second.old_value != city->second.new_value;
  for (const auto& [key, fc] : c.fields) {
    if (fc.old_value == fc.new_value) continue;
    const bool waits = is_guarded(key) || (province_held && key == "city") || (city_held && key == "province");
    (c.op == Op::update && !waits ? rest : asked).emplace(key, fc);
  }
  // A request that replaces older ones of the user (supersede_requests) adds
  // none to the count: the cap refused the very edit that would have tidied
  // it (attacker review 11, A11-5).
  std::vector<std::string> named;
  for (const auto& [key, fc] : c.fields) named.push_back(key);
  const std::vector<std::string> gone = superseded_fields(named);
  std::int64_t replaced = 0;
  for (const ChangeRequest& old : txn.pending_requests(session.user, c.record_id)) {
    bool covered = true;
    for (const auto& [key, v] : old.fields.items()) covered = covered && std::count(gone.begin(), gone.end(), key) > 0;
    replaced += covered ? 1 : 0;
  }
  if (txn.count_pending_requests(session.user) - replaced >= config::kMaxPendingRequestsPerUser) {
    throw Error(Errc::validation,
                tr(session.user + " already has " + std::to_string(config::kMaxPendingRequestsPerUser) +
                       " changes waiting for a manager's approval; this one can be sent again once some are decided",
                   session.user + " 已有 " + std::to_string(config::kMaxPendingRequestsPerUser) +
                       " 条修改在等待经理审批；等其中一些审批后再重新提交这一条"));
  }
  const std::string day_ago = iso8601_utc(std::time(nullptr) - 24 * 3600);
  if (txn.count_requests_since(session.user, day_ago) >= config::kMaxRequestsPerUserPerDay) {
    throw Error(Errc::validation,
                tr(session.user + " has filed " + std::to_string(config::kMaxRequestsPerUserPerDay) +
                       " change requests in the last 24 hours; this one can be sent again tomorrow, or a manager "
                       "can make the change",
                   session.user + " 在 24 小时内已提交 " + std::to_string(config::kMaxRequestsPerUserPerDay) +
                       " 条修改申请；这一条请明天再提交，或请经理来改"));
  }
  ChangeRequest r;
  r.change_id = c.change_id;
  r.record_id = c.record_id;
  r.collection = c.collection;
  r.requester = session.user;
  r.device = c.device;
  r.base_rev = c.base_rev;
  r.fields = field_changes_to_json(asked);
  r.created_at = now_iso8601();
  // A merge's delete held for approval still names the survivor when approved.
  r.cause = c.cause;
  std::vector<ConflictRef> settled_now;
  for (ConflictRef& ref : c.resolves) {
    (rest.empty() || asked.count(ref.field) ? r.resolves : settled_now).push_back(std::move(ref));
  }
  c.resolves = std::move(settled_now);
  HeldForApproval out{txn.add_request(r), {}};
  if (!rest.empty()) {
    for (const auto& [key, fc] : asked) out.held.push_back(key);
    c.fields = std::move(rest);
  }
  return out;
}

// A later edit of a field that the same user's pending request asks for
// replaces that part of the request: approving it undid the later choice (a
// newer request, walkthrough 10, R10-5; a field typed back to the value it
// holds while the request waited, walkthrough 11, R11-1). `typed` is every
// field the edit names, those it leaves as they are included. The request
// keeps its other fields; one left with none is withdrawn. `newer` is the
// request this edit filed, if any.
void supersede_requests(StoreTxn& txn, const std::string& user, const std::string& record_id,
                        const std::set<std::string>& typed, std::int64_t newer) {
  const std::vector<std::string> gone = superseded_fields(typed);
  for (ChangeRequest& r : txn.pending_requests(user, record_id)) {
    if (r.id == newer) continue;
    json left = r.fields;
    for (const auto& key : gone) left.erase(key);
    if (left.size() == r.fields.size()) continue;
    if (left.empty()) {
      // Withdrawn with what it asked for, which the list of decided requests shows.
      r.status = "withdrawn";
      r.decided_by = user;
      r.decided_at = now_iso8601();
      r.reason = newer ? "superseded by #" + std::to_string(newer) : std::string(kSupersededByEdit);
    } else {
      // Said where the manager reads it: what was taken out, and when (attacker
      // reviews 12 and 13, A13-3: the narrowing left no trace).
      std::string taken;
      for (const auto& [key, v] : r.fields.items()) {
        if (!left.contains(key)) taken += (taken.empty() ? "" : ", ") + key;
      }
      r.reason = "narrowed " + now_iso8601() + ": " + taken + " taken out by a later edit";
      r.fields = std::move(left);
      r.resolves.erase(std::remove_if(r.resolves.begin(), r.resolves.end(),
                                      [&](const ConflictRef& ref) { return !r.fields.contains(ref.field); }),
                       r.resolves.end());
    }
    txn.update_request(r);
  }
}

// A user who restores a record whose delete of theirs waits for a manager has
// undone it: the request is withdrawn, not left for a manager to reject and
// its requester to be told of the rejection (walkthrough 9, R9-1).
void withdraw_held_deletes(StoreTxn& txn, const Session& session, const std::string& record_id) {
  withdraw_requests(txn, session.user, record_id, session.user, "restored", [](const ChangeRequest& r) {
    const auto d = r.fields.find(kDeletedField);
    return d != r.fields.end() && d->is_object() && d->value("new", json()) == json(true);
  });
}

}  // namespace

json withdraw_owners_requests(StoreTxn& txn, const std::string& customer_id, const std::string& owner,
                              const std::string& by, const std::string& reason) {
  json ids = json::array();
  std::vector<std::string> records = txn.child_ids(customer_id);
  records.insert(records.begin(), customer_id);
  for (const auto& id : records) {
    for (std::int64_t n : withdraw_requests(txn, owner, id, by, reason)) ids.push_back(n);
  }
  return ids;
}

std::vector<std::int64_t> withdraw_requests(StoreTxn& txn, const std::string& requester, const std::string& record_id,
                                            const std::string& by, const std::string& reason,
                                            const std::function<bool(const ChangeRequest&)>& which) {
  std::vector<std::int64_t> out;
  for (ChangeRequest& r : txn.pending_requests(requester, record_id)) {
    if (which && !which(r)) continue;
    r.status = "withdrawn";
    r.decided_by = by;
    r.decided_at = now_iso8601();
    r.reason = reason;
    txn.update_request(r);
    out.push_back(r.id);
  }
  return out;
}

namespace {

WriteLimits write_limits_from_env() {
  WriteLimits l{config::kWriteBurstChanges, config::kWritesPerHour, config::kWriteBurstBytes,
                config::kWriteBytesPerHour};
  read_positive<std::int64_t>("KEHU_WRITE_BURST", l.burst_changes, 100000000);
  read_positive<std::int64_t>("KEHU_WRITES_PER_HOUR", l.changes_per_hour, 100000000);
  read_positive<std::int64_t>("KEHU_WRITE_BURST_BYTES", l.burst_bytes, std::int64_t{1} << 40);
  read_positive<std::int64_t>("KEHU_WRITE_BYTES_PER_HOUR", l.bytes_per_hour, std::int64_t{1} << 40);
  return l;
}

// The bytes a change written by the server itself costs of its author's budget:
// what it sets, as JSON.
std::int64_t change_bytes(const Change& c) {
  std::int64_t n = 256;  // ids, clocks, author
  for (const auto& [key, fc] : c.fields) {
    n += static_cast<std::int64_t>(key.size() + fc.old_value.dump().size() + fc.new_value.dump().size());
  }
  return n;
}

std::string size_text(std::int64_t bytes) {
  if (bytes >= (1 << 20)) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1 << 10)) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

PushService::PushService(Store& store, ServerClock& clock, bool limit_writes)
    : store_(store),
      clock_(clock),
      batch_budget_ms_(config::kPushBatchBudgetMs),
      writes_(write_limits_from_env()),
      limit_writes_(limit_writes) {
  read_positive("KEHU_PUSH_BATCH_BUDGET_MS", batch_budget_ms_, 3600L * 1000);
}

json PushService::push(const Session& session, const json& body) {
  auto it = body.find("changes");
  if (it == body.end() || !it->is_array()) {
    throw Error(Errc::protocol, tr("push needs a \"changes\" array", "推送需要一个 \"changes\" 数组"));
  }
  {
    std::lock_guard<std::mutex> lock(in_flight_mu_);
    if (!in_flight_.insert(session.user).second) {
      throw HttpError(429, "too_many_pushes",
                      tr("one push at a time per user: a push of " + session.user +
                             " is still being applied; send this one again when it is answered",
                         "每个用户同时只能有一个推送：" + session.user + " 的上一个推送仍在处理；请在它完成后重新发送"),
                      /*retry_after_seconds=*/1);
    }
  }
  struct Done {
    PushService& self;
    const std::string& user;
    ~Done() {
      std::lock_guard<std::mutex> lock(self.in_flight_mu_);
      self.in_flight_.erase(user);
    }
  } done{*this, session.user};
  constexpr std::int64_t kUnlimited = std::numeric_limits<std::int64_t>::max();
  const WriteBudget::Allowance may =
      limit_writes_ ? writes_.available(session.user) : WriteBudget::Allowance{kUnlimited, kUnlimited};
  if (!may.any()) throw write_limit_reached(session.user, /*pushed=*/true);
  std::int64_t written = 0, written_bytes = 0;
  // One write transaction for the whole batch: a commit per change cost more than
  // the changes themselves (bench B5). Refusals are found before a change writes
  // anything (apply_new), so a refused change leaves nothing behind in it.
  // The batch holds the write lock: past its time budget it stops, commits what
  // it answered and leaves the rest unanswered ("deferred"), so one user's push
  // cannot keep every other writer (and every login) waiting for minutes. At
  // least one change is answered, so a client that sends the rest again always
  // gets on.
  auto txn = store_.begin(TxnMode::batch_write);
  const auto start = std::chrono::steady_clock::now();
  const auto budget = std::chrono::milliseconds(batch_budget_ms_);
  std::int64_t latest = 0;
  std::int64_t may_keep = config::kMaxExpiringResultsPerUser - txn->count_expiring_results(session.user);
  json results = json::array();
  std::size_t deferred = 0;
  for (const auto& change : *it) {
    if (!results.empty() && (std::chrono::steady_clock::now() - start >= budget || written >= may.changes ||
                             written_bytes >= may.bytes)) {
      deferred = it->size() - results.size();
      break;
    }
    results.push_back(apply(*txn, session, change, latest, may_keep));
    const json& r = results.back();
    if (r.value("status", "") == "applied" && !r.value("duplicate", false) && !r.value("noop", false)) {
      ++written;
      written_bytes += static_cast<std::int64_t>(change.dump().size());
    }
  }
  txn->commit();
  if (limit_writes_) writes_.spend(session.user, written, written_bytes);
  if (latest != 0) clock_.observe(latest);
  json out = {{"results", std::move(results)}};
  if (deferred > 0) out["deferred"] = deferred;
  return out;
}

json PushService::apply(StoreTxn& txn, const Session& session, const json& raw, std::int64_t& latest_hlc,
                        std::int64_t& may_keep) {
  Change change;
  try {
    change = change_from_json(raw);
  } catch (const Error& e) {
    // Without a well-formed change there may be no id to remember the answer by.
    std::string id = raw.is_object() && raw.value("change_id", json()).is_string()
                         ? raw["change_id"].get<std::string>()
                         : std::string();
    return rejected(id, e);
  }
  // A plain id too: it is hashed into the revision for good and shown to every
  // reader (attacker review 17, A17-4: NUL, ESC, newlines and bidi controls).
  if (!is_plain_id(change.change_id)) {
    const std::string shown = printable_prefix(change.change_id);
    return rejected(shown, Error(Errc::validation,
                                 tr("change_id \"" + shown + "\" is not an id: 1 to " +
                                        std::to_string(config::kMaxIdBytes) + " of A-Z a-z 0-9 . _ : - (a UUID is 36)",
                                    "change_id“" + shown + "”不是 ID：应为 1 到 " + std::to_string(config::kMaxIdBytes) +
                                        " 个 A-Z a-z 0-9 . _ : - 字符（UUID 为 36 个）")));
  }
  // Record ids end up in every pull, history, audit and URL: a plain id only.
  auto not_an_id = [&](const char* what, const std::string& id) {
    return rejected(change.change_id,
                    Error(Errc::validation, tr(std::string(what) + " \"" + printable_prefix(id) +
                                                "\" is not a record id: 1 to " + std::to_string(config::kMaxIdBytes) +
                                                " of A-Z a-z 0-9 . _ : - (a UUID is 36)",
                                            std::string(what) + "“" + printable_prefix(id) +
                                                "”不是记录 ID：应为 1 到 " + std::to_string(config::kMaxIdBytes) +
                                                " 个 A-Z a-z 0-9 . _ : - 字符（UUID 为 36 个）")));
  };
  if (!is_plain_id(change.record_id)) return not_an_id("record_id", change.record_id);
  if (!change.parent.empty() && !is_plain_id(change.parent)) return not_an_id("parent", change.parent);
  // Who, on which device and why are the server's to say, never the payload's
  // (DESIGN.md): the device is the one the token was issued to at login.
  change.author = session.user;
  change.device = session.device;
  change.approved_by.clear();  // only the server approves
  const std::int64_t client_hlc = change.hlc;
  change.hlc = clock_.clamp(change.hlc);

  if (auto earlier = txn.find_result(change.change_id)) {
    // A change id belongs to the user who sent it first: anyone else's replay
    // (ids are visible in pulled revisions) learns nothing of the stored answer,
    // which may hold values their role may not see. Not stored: the id is taken.
    if (sender_of(txn, *earlier) != session.user) {
      return rejected(change.change_id,
                      Error(Errc::forbidden, tr("change id " + change.change_id +
                                                 " is already used; every change needs a new id",
                                             "修改 ID " + change.change_id + " 已被使用；每次修改都需要新的 ID")));
    }
    earlier->result["duplicate"] = true;
    return std::move(earlier->result);
  }
  json result;
  std::int64_t expires_at = 0;  // an applied change is answered the same for good
  try {
    check_device_cause(txn, session, change);
    result = apply_new(txn, session, change, client_hlc, /*trusted=*/false);
    latest_hlc = std::max(latest_hlc, change.hlc);
    // Written nothing, as a refusal: a no-op, and a "rebase" (the device sends
    // the change again under a new id once it holds the restored store).
    if (result.value("status", "") == "rebase" || result.value("noop", false)) {
      expires_at = std::time(nullptr) + config::kRefusalMemorySeconds;
    }
  } catch (const Error& e) {
    if (!is_refusal(e.code())) throw;
    result = rejected(change.change_id, e);
    // A role that may not write at all gets the same refusal again without a
    // record of it; any other refusal is remembered as long as a retry may come.
    if (!AccessPolicy::may_write(session.role)) return result;
    expires_at = std::time(nullptr) + config::kRefusalMemorySeconds;
  }
  if (expires_at > 0) {
    if (may_keep <= 0) return result;  // see kMaxExpiringResultsPerUser
    --may_keep;
  }
  txn.put_result(change.change_id, session.user, expires_at, result);
  return result;
}

HttpError PushService::write_limit_reached(const std::string& user, bool pushed) {
  // Said as the limit and its rate, not as "come back in a minute": at 100 an
  // hour, a minute brings one change (walkthrough 15, R15-4). What the server
  // was asked to write itself (a reassignment) waits nowhere: it says so, and
  // when to ask again (walkthrough 16, R16-4).
  const WriteLimits& l = writes_.limits();
  const std::string at_once = std::to_string(l.burst_changes), per_hour = std::to_string(l.changes_per_hour);
  const std::string bytes_at_once = size_text(l.burst_bytes), bytes_per_hour = size_text(l.bytes_per_hour);
  const long wait = writes_.seconds_until_next(user);
  const std::string minutes = std::to_string((wait + 59) / 60);
  return HttpError(
      429, "too_many_changes",
      tr(user + " has reached this server's write limit (" + at_once + " changes or " + bytes_at_once +
             " at once, then " + per_hour + " changes or " + bytes_per_hour + " an hour): " +
             (pushed ? "the changes not sent wait on the device and go with later syncs"
                     : "nothing was done; ask again in about " + minutes + " min") +
             "; an admin can raise the limit (KEHU_WRITE_BURST, KEHU_WRITES_PER_HOUR, KEHU_WRITE_BURST_BYTES, "
             "KEHU_WRITE_BYTES_PER_HOUR)",
         user + " 已达到服务器的写入上限（一次 " + at_once + " 条或 " + bytes_at_once + "，之后每小时 " + per_hour +
             " 条或 " + bytes_per_hour + "）：" +
             (pushed ? "没有上传的修改留在设备上，之后每次同步继续上传" : "这次什么都没有做；请约 " + minutes + " 分钟后再试") +
             "；管理员可以调高上限（KEHU_WRITE_BURST、KEHU_WRITES_PER_HOUR、KEHU_WRITE_BURST_BYTES、"
             "KEHU_WRITE_BYTES_PER_HOUR）"),
      wait);
}

json PushService::apply_server_change(StoreTxn& txn, const Session& author, Change change) {
  // What the server writes for a user (a claim, a release, a reassignment, an
  // approval) comes out of their write budget as a push does (attacker review
  // 15, A15-4: 200 reassignments a second by a manager's script).
  if (limit_writes_ && !writes_.available(author.user).any()) {
    throw write_limit_reached(author.user, /*pushed=*/false);
  }
  if (change.change_id.empty()) change.change_id = new_uuid();
  change.author = author.user;
  change.device = "server";
  change.hlc = clock_.now();
  json result = apply_new(txn, author, change, change.hlc, /*trusted=*/true);
  txn.put_result(change.change_id, author.user, /*expires_at=*/0, result);
  if (limit_writes_ && !result.value("noop", false)) writes_.spend(author.user, 1, change_bytes(change));
  return result;
}

namespace {

// Whose waiting pulls the revision that took `before` to `after` concerns
// (commit_notice.h): the scopes of its customer before and after, or of a
// child's customers; a record of no customer concerns everyone.
void note_audience(StoreTxn& txn, const sync::RecordState& before, const sync::RecordState& after) {
  if (after.collection == "customers") {
    if (before.exists()) txn.note_scope(before.values());
    txn.note_scope(after.values());
  } else if (!after.parent.empty()) {
    txn.note_customer(after.parent);
    if (before.exists() && !before.parent.empty()) txn.note_customer(before.parent);
  } else {
    txn.note_everyone();
  }
}

}  // namespace

std::optional<sync::RecordState> merge_target(StoreTxn& txn, const sync::RecordState& gone, const std::string& cause) {
  std::string token = merge_target_of(cause);
  if (token.empty()) return std::nullopt;
  if (auto holder = txn.code_holder(token)) token = *holder;
  sync::RecordState keep = txn.load_record(token);
  if (!keep.exists() || keep.collection != "customers" || keep.id == gone.id) return std::nullopt;
  if (keep.deleted()) {
    auto survivor = survivor_of(txn, keep);
    // A merged into B, then B into A: B would forward to itself (A22-7).
    if (!survivor || survivor->id == gone.id) return std::nullopt;
    return survivor;
  }
  return keep;
}

std::optional<sync::RecordState> survivor_of(StoreTxn& txn, const sync::RecordState& customer) {
  sync::RecordState at = customer;
  // A chain of merges is short; a loop (two restored and merged into each
  // other) ends here too.
  for (int hop = 0; hop < 16 && at.exists() && at.deleted() && !at.merged_into.empty(); ++hop) {
    at = txn.load_record(at.merged_into);
  }
  if (!at.exists() || at.collection != "customers" || at.deleted() || at.id == customer.id) return std::nullopt;
  return at;
}

void PushService::move_children(StoreTxn& txn, const Session& session, const sync::RecordState& gone,
                                const sync::RecordState& keep) {
  const auto schema = store_schema(txn);
  for (const std::string& id : txn.child_ids(gone.id)) {
    const sync::RecordState child = txn.load_record(id);
    const CollectionDef* coll = schema->find(child.collection);
    if (!child.exists() || child.parent != gone.id || !coll || coll->parent_field.empty()) continue;
    Change move;
    move.change_id = new_uuid();
    move.record_id = child.id;
    move.collection = child.collection;
    move.parent = keep.id;
    move.op = Op::update;
    move.base_rev = child.rev;
    move.hlc = clock_.now();
    move.device = "server";
    move.author = session.user;
    move.cause = "merged " + gone.code + " into " + keep.code;
    move.fields[coll->parent_field] = FieldChange{gone.id, keep.id};
    apply_new(txn, session, move, move.hlc, /*trusted=*/true);
  }
}

void PushService::carry_unseen_edits(StoreTxn& txn, const Session& merger, const sync::RecordState& gone,
                                     const Change& merge, const sync::RecordState& keep) {
  const auto schema = store_schema(txn);
  const CollectionDef& coll = schema->collection("customers");
  const auto seen = [&](std::int64_t rev, const std::string& device, const std::string& author, std::int64_t seq) {
    return rev <= merge.base_rev || (device == merge.device && author == merge.author && seq < merge.device_seq);
  };
  // One change per write (clock, device, author), at the write's clock. Each is
  // the merger's edit, with the merger's rights: which writes count as unseen
  // rests on the delete's base_rev, the merger's word, so carrying a write in
  // its author's name let a salesperson replay an admin's values (a move out of
  // their regions, a protected field cleared) onto a customer of their choosing
  // (attacker review 22b, A22b-1). A write the merger may not make (a scope move,
  // a field they may not write) is refused and stays on the merged-away
  // customer; a protected one waits for a manager, as theirs.
  std::map<std::tuple<std::int64_t, std::string, std::string>, Change> by_write;
  const auto change_of = [&](std::int64_t hlc, const std::string& device, const std::string& author) -> Change& {
    Change& c = by_write[{hlc, device, author}];
    if (c.change_id.empty()) {
      c.change_id = new_uuid();
      c.record_id = keep.id;
      c.collection = "customers";
      c.code = keep.code;
      c.op = Op::update;
      c.hlc = hlc;
      c.device = "server";
      c.author = merger.user;
      c.cause = "merged " + gone.code + " into " + keep.code;
    }
    return c;
  };
  // The value a write replaced on the merged-away customer, from its revision.
  const auto replaced = [&](std::int64_t rev, const std::string& key) {
    if (auto r = txn.revision_at(gone.id, rev)) {
      const json body = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object() && body.contains("changes") && body["changes"].contains(key)) {
        return body["changes"][key].value("old", json());
      }
    }
    return json();
  };
  for (const auto& [key, fv] : gone.fields) {
    const FieldDef* f = coll.find(key);
    if (key == kDeletedField || !f || f->derived || key == "owner" || key == "code" || key == "created_at") continue;
    if (f->type == FieldType::tags) {
      for (const auto& [tag, mv] : fv.members) {
        if (seen(mv.rev, mv.device, mv.author, mv.device_seq)) continue;
        const json one = json::array({tag});
        change_of(mv.hlc, mv.device, mv.author).fields[key] =
            mv.present ? FieldChange{json(), one} : FieldChange{one, json()};
      }
      continue;
    }
    if (seen(fv.rev, fv.device, fv.author, fv.device_seq)) continue;
    change_of(fv.hlc, fv.device, fv.author).fields[key] = FieldChange{replaced(fv.rev, key), fv.value};
  }
  for (auto& [write, c] : by_write) {
    c.base_rev = survivor_base(txn.load_record(keep.id), keep.rev, c);
    try {
      apply_new(txn, merger, c, c.hlc, /*trusted=*/false);
    } catch (const Error&) {
      // Refused for the merger: it stays on the merged-away customer, in the recycle bin.
    }
  }
}

json PushService::apply_new(StoreTxn& txn, const Session& session, Change& c,
                            std::int64_t client_hlc, bool trusted) {
  const auto schema = store_schema(txn);  // kept alive for `coll`
  const CollectionDef& coll = ChangeValidator::check(c, session, *schema);
  sync::RecordState loaded = txn.load_record(c.record_id);
  const Forwarded forwarded = forward_from_merged(txn, coll, trusted ? nullptr : &session, loaded, c);
  if (!forwarded.to.empty() && coll.name == "customers") loaded = txn.load_record(c.record_id);  // the survivor
  const sync::RecordState& current = loaded;
  const Session* viewer = trusted ? nullptr : &session;
  if (!current.exists() || hidden_from(txn, viewer, current)) {
    if (c.op != Op::create) {
      throw Error(Errc::not_found, tr("record " + c.record_id + " does not exist or is not in the scope of " +
                                          session.user + " (" + op_name(c.op) + ")",
                                      "记录 " + c.record_id + " 不存在，或不在 " + session.user + " 的范围内（" +
                                          op_name(c.op) + "）"));
    }
    if (current.exists()) {
      throw Error(Errc::validation, tr("record id " + c.record_id + " is taken: a new record needs a new id",
                                    "记录 ID " + c.record_id + " 已被占用：新记录需要新的 ID"));
    }
    check_parent(txn, coll, c, viewer);
  } else if (c.op == Op::create) {
    // A create of a record that exists would be stored as a create (attacker
    // review 5, A5-4); a lost answer's resend has the same change id and never
    // gets here.
    throw Error(Errc::validation, tr("record id " + c.record_id + " is taken: a new record needs a new id",
                                  "记录 ID " + c.record_id + " 已被占用：新记录需要新的 ID"));
  } else if (current.collection != c.collection) {
    throw Error(Errc::validation, tr("record " + c.record_id + " is in " + current.collection +
                                      ", not in " + c.collection,
                                  "记录 " + c.record_id + " 属于 " + current.collection + " 表，而不是 " + c.collection));
  } else if (c.op != Op::create && c.base_rev < 0) {
    throw Error(Errc::validation, tr("base_rev " + std::to_string(c.base_rev) + " of record " + c.record_id +
                                      " is negative",
                                  "记录 " + c.record_id + " 的 base_rev " + std::to_string(c.base_rev) + " 是负数"));
  } else if (c.op != Op::create && c.base_rev > current.rev) {
    // A base the record never had would count every concurrent write as seen
    // and overwrite it without a conflict. The device saw revisions this store
    // no longer has: it was restored from a backup. Nothing is written; the
    // device keeps the change, pulls the restored store (its cursor's tag
    // no longer matches) and sends it again on the record's present rev
    // (walkthrough 11, R11-4: it was refused, and kept as refused).
    return {{"change_id", c.change_id},
            {"status", "rebase"},
            {"rev", current.rev},
            {"error",
             {{"code", "validation"},
              {"message", tr("the server holds record " + c.record_id + " at rev " + std::to_string(current.rev) +
                                 ", older than the rev " + std::to_string(c.base_rev) +
                                 " this device saw: the server was restored from a backup; sync again",
                             "服务器上记录 " + c.record_id + " 的修订是 " + std::to_string(current.rev) +
                                 "，比本设备见过的修订 " + std::to_string(c.base_rev) +
                                 " 旧：服务器从备份恢复过；请再同步一次")}}}};
  }

  if (!trusted) {
    check_derived(coll, c, !current.exists());
    // A record that has a creation date gets one, today's, when its create
    // carries none: the pool recycle dates a customer from it.
    if (const FieldDef* f = coll.find("created_at");
        !current.exists() && c.op == Op::create && f && f->key == "created_at" && !c.fields.count("created_at")) {
      c.fields["created_at"] = FieldChange{json(), today_local()};
    }
    check_scope(txn, session, coll, current, c);
    // A follow-up records contact made: one dated after tomorrow (a device a
    // time zone ahead) would be every device's last follow-up and hide the
    // customer from the reminders for years (attacker review 16). kehu refuses
    // it at once; a raw push is refused here.
    if (coll.name == "followups") {
      const auto d = c.fields.find("date");
      const std::string latest = add_days(today_local(), 1);
      if (d != c.fields.end() && d->second.new_value.is_string() && d->second.new_value.get<std::string>() > latest) {
        const std::string date = d->second.new_value.get<std::string>();
        throw Error(Errc::validation,
                    tr("跟进日期 (date): \"" + date + "\" is after today: a follow-up records contact made; plan the "
                           "next one with 下次跟进日期 (next_date)",
                       "跟进日期 (date)：“" + date + "”在今天之后：跟进记录记的是已经做过的跟进；下次跟进请用 下次跟进日期"));
      }
    }
    // Moving an existing customer to someone follows /reassign's rule, and so
    // does a new customer made for someone else (a sheet's 负责人 column naming
    // nobody made a customer of a user that does not exist, walkthrough 8, R8-5).
    if (auto o = c.fields.find("owner"); coll.name == "customers" && o != c.fields.end() &&
                                         o->second.new_value.is_string() && o->second.new_value != o->second.old_value &&
                                         (current.exists() || o->second.new_value != session.user)) {
      require_assignable_owner(txn, o->second.new_value.get<std::string>());
    }
  }
  const std::string moved_to = moved_parent(txn, session, coll, current, c, trusted);
  check_resolves(txn, session, coll, current, c);
  // An update that changes no field (every old value equals its new one) is
  // nobody's edit: it appends no revision, so history holds edits, not attempts.
  // (An edit whose values the record already holds is still one: a user typed
  // it, and every sync order must store the same clocks, merge.cc.)
  // A change that settles a conflict is kept even when it keeps the value as it
  // is: the settling is the edit, and every device closes the conflict by it.
  // Nor is a field whose new value the record holds from a write its author
  // had seen (a value typed back while a request for another waits: kehu sends
  // it from the value asked for, so that an approval it did not see is undone,
  // walkthrough 12, R12-2): the merge would write nothing, and the revision
  // would be empty.
  std::set<std::string> typed;
  for (const auto& [key, fc] : c.fields) typed.insert(key);
  const auto writes_nothing = [&](const auto& f) {
    if (f.second.old_value == f.second.new_value) return true;
    const auto held = current.fields.find(f.first);
    if (held == current.fields.end()) {
      return f.first == kDeletedField ? f.second.new_value == json(false) : f.second.new_value.is_null();
    }
    return held->second.value == f.second.new_value && held->second.rev <= c.base_rev;
  };
  // A delete or restore of what the record already is writes nothing either: it
  // was kept as a revision that audit showed as a delete (attacker review 12, A12-6).
  if (c.op != Op::create && c.resolves.empty() && std::all_of(c.fields.begin(), c.fields.end(), writes_nothing)) {
    if (!trusted && c.op == Op::restore) withdraw_held_deletes(txn, session, c.record_id);
    if (!trusted) supersede_requests(txn, session.user, c.record_id, typed, 0);
    return {{"change_id", c.change_id}, {"status", "applied"}, {"rev", current.rev},
            {"code", current.code},      {"conflicts", json::array()}, {"noop", true}};
  }

  sync::MergeResult merged = sync::apply_change(current, c, coll);
  std::optional<HeldForApproval> held;  // the request holding the protected part
  if (!trusted) {
    held = protected_request(txn, session, coll, current, c, merged.applied);
    if (held && held->held.empty()) {
      supersede_requests(txn, session.user, c.record_id, typed, held->request);
      return {{"change_id", c.change_id}, {"status", "pending_approval"}, {"request", held->request}};
    }
    if (held) merged = sync::apply_change(current, c, coll);  // the unprotected rest
  }
  sync::RecordState& state = merged.state;
  if (!current.exists()) check_required(coll, state.values());
  if (!trusted && !current.exists() && c.collection == "customers" &&
      !AccessPolicy::sees_everything(session.role)) {
    state.code = c.code;
    require_write_access(AccessPolicy::customer_access(session, state.values()), state, session);
  }

  // Identity and code are the server's, whatever the merge copied from the change.
  state.id = c.record_id;
  state.collection = c.collection;
  state.parent = !moved_to.empty() ? moved_to : current.exists() ? current.parent : c.parent;
  // The parent field only carries a move (above); the parent is the record's own.
  // The stored record holds no parent field, so the merge saw none: the move's
  // revision says where the record came from.
  if (!coll.parent_field.empty()) state.fields.erase(coll.parent_field);
  if (auto a = merged.applied.find(coll.parent_field); !moved_to.empty() && a != merged.applied.end()) {
    a->second.old_value = current.parent;
  }
  state.code = current.code;
  std::string alias;
  if (!current.exists() && coll.name == "customers") {
    const CodeSender sender{session.user, c.device, trusted || AccessPolicy::may_reassign(session.role)};
    CodeAssignment a = CodeAssigner(txn).assign(c.record_id, c.code, sender);
    state.code = a.code;
    alias = a.alias;
  }
  // A device may also carry the code as the derived field "code"; it must never
  // disagree with the record's code.
  if (auto f = state.fields.find("code"); f != state.fields.end() && !state.code.empty()) {
    f->second.value = state.code;
    if (auto a = merged.applied.find("code"); a != merged.applied.end()) a->second.new_value = state.code;
  }

  Revision r;
  r.record_id = c.record_id;
  r.collection = c.collection;
  r.rev = state.rev;
  r.seq = txn.next_seq();
  r.change_id = c.change_id;
  r.op = c.op;
  r.author = session.user;
  r.cause = c.cause;
  r.approved_by = c.approved_by;
  r.device = c.device;
  r.at = now_iso8601();
  r.hlc = c.hlc;
  r.client_hlc = client_hlc;
  r.changes = merged.applied;
  r.conflicts = merged.conflicts;
  // What the user settled, and what the change closed by replacing the values
  // those conflicts kept (merge.h): every device closes both when it pulls this.
  r.resolves = c.resolves;
  r.resolves.insert(r.resolves.end(), merged.settled.begin(), merged.settled.end());
  // A customer merged away forwards what arrives for it later; a restore ends that.
  std::optional<sync::RecordState> merged_into;
  if (coll.name == "customers" && merged.applied.count(kDeletedField)) {
    if (state.deleted()) merged_into = merge_target(txn, state, c.cause);
    // Only into a customer the merger may write: what forwards there later is
    // written with their authority (a pool customer a salesperson sees masked,
    // named by a forged cause, would take children nobody may move there). An
    // approved merge is written in its requester's name (TeamService::approve),
    // so the requester's rights count, as they are now.
    if (merged_into && AccessPolicy::customer_access(session, merged_into->values()) != Access::write) {
      merged_into.reset();
    }
    if (merged_into) {
      state.merged_into = merged_into->id;
      state.merged_rev = merged_into->rev;
    } else if (!state.deleted()) {
      state.merged_into.clear();
      state.merged_rev = 0;
    }
  }
  txn.append_revision(seal_revision(r, txn.last_hash()));
  txn.save_record(state, r.seq);
  note_audience(txn, current, state);
  // Children of the merged-away customer its merger's device did not hold (made
  // on another device, not pulled yet) move to the survivor too, as the
  // device's own moves did.
  if (merged_into) {
    move_children(txn, session, state, *merged_into);
    carry_unseen_edits(txn, session, state, c, *merged_into);
  }
  if (coll.name == "customers" &&
      (c.op == Op::create || std::any_of(merged.applied.begin(), merged.applied.end(), [](const auto& a) {
         return AccessPolicy::is_scope_field(a.first);
       }))) {
    // A move between spellings of one place (南京 -> 南京市) moves nothing: no
    // row (attacker review 8, A8-4: such edits filled a page's window of moves).
    const std::string values = scope_values(state.values());
    if (c.op == Op::create || txn.scope_at(c.record_id, r.seq) != values) txn.add_scope_move(c.record_id, r.seq, values);
  }
  if (!alias.empty()) txn.add_code_alias(alias, c.record_id);
  // Once the restore is written: a refused one withdraws nothing (the batch
  // goes on after a refusal, with what it wrote kept).
  if (!trusted && c.op == Op::restore) withdraw_held_deletes(txn, session, c.record_id);
  if (!trusted) supersede_requests(txn, session.user, c.record_id, typed, held ? held->request : 0);
  // A customer whose owner a manager's or admin's edit changed left its former
  // owner's hands, as by /reassign (attacker review 11, A11-2).
  if (const auto o = merged.applied.find("owner"); !trusted && coll.name == "customers" && o != merged.applied.end() &&
                                                   o->second.old_value.is_string() &&
                                                   !o->second.old_value.get<std::string>().empty()) {
    const std::string reason = o->second.new_value.is_string() && !o->second.new_value.get<std::string>().empty()
                                   ? "reassigned to " + o->second.new_value.get<std::string>()
                                   : std::string("released to the public pool");
    withdraw_owners_requests(txn, c.record_id, o->second.old_value.get<std::string>(), session.user, reason);
  }

  json conflicts = conflicts_json(merged.conflicts);
  AccessPolicy::redact_conflicts(session.role, coll, conflicts);
  json result = {{"change_id", c.change_id}, {"status", "applied"}, {"rev", state.rev},
                 {"seq", r.seq},             {"code", state.code},  {"conflicts", std::move(conflicts)}};
  if (held) {
    result["request"] = held->request;
    result["held"] = held->held;
  }
  if (!forwarded.to.empty()) {
    // The device's record keeps its own code; the answer says where it went.
    if (coll.name == "customers") result["code"] = forwarded.from;
    result["forwarded_to"] = forwarded.to;
  }
  return result;
}

}  // namespace kehu::server
