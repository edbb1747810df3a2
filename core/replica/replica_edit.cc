// Local edits: validation, the record's new state and its change-log entry, in
// one transaction.
#include <cstdio>
#include <map>
#include <set>

#include "kehu/customer_code.h"
#include "kehu/error.h"
#include "kehu/record_name.h"
#include "replica_impl.h"

namespace kehu {
namespace {

constexpr const char* kCustomers = "customers";

// `r` as messages name it: a child record with its customer's code.
std::string name_of(const Replica& rep, const Record& r) {
  std::optional<Record> customer = r.parent.empty() ? std::nullopt : rep.get(r.parent);
  return record_name(r.collection, r.id, customer ? customer->code : r.code);
}

// Fields the replica computes; nobody sets them, and they never sync.
bool is_computed(const FieldDef& f) { return f.key == "last_followup_at"; }

// Fields that may be given when a record is created (import keeps them) but are
// never edited afterwards.
bool is_set_once(const FieldDef& f) { return f.key == "code" || f.key == "created_at"; }

// Validates typed inputs into stored values {key: value-or-null}.
json parse_inputs(const CollectionDef& coll, const FieldInputs& inputs, bool creating) {
  json values = json::object();
  std::map<std::string, std::string> typed;  // key -> the value given for it
  for (const auto& [name, text] : inputs) {
    const FieldDef& f = coll.field(name);
    // One value per field: the second would drop the first without a word.
    if (auto [it, fresh] = typed.emplace(f.key, text); !fresh) {
      throw Error(Errc::validation,
                  tr(f.zh + " (" + f.key + ") is given twice (\"" + it->second + "\", \"" + text +
                         "\"): give each field once",
                     f.zh + " (" + f.key + ") 给了两次（“" + it->second + "”、“" + text + "”）：每个字段只能给一次"));
    }
    if (is_computed(f) || f.key == coll.parent_field || (is_set_once(f) && !creating) ||
        (f.derived && !is_set_once(f))) {
      throw Error(Errc::validation, f.zh + " (" + f.key + ")" +
                                        (is_set_once(f) ? tr(" cannot be set: it is fixed when the record is created",
                                                             " 不能修改：记录创建时就已固定")
                                                        : tr(" cannot be set: it is derived by Kehu",
                                                             " 不能修改：它由 Kehu 自动计算")));
    }
    values[f.key] = normalize_value(f, text);
  }
  return values;
}

// Checks values that arrive already normalised (import, revert, conflict resolution).
void check_values(const CollectionDef& coll, const json& values) {
  for (const auto& [key, v] : values.items()) {
    const FieldDef& f = coll.field(key);
    if (!v.is_null()) check_stored_value(f, v);
  }
}

void apply_values(json& fields, const json& values) {
  for (const auto& [key, v] : values.items()) {
    if (v.is_null()) {
      fields.erase(key);
    } else {
      fields[key] = v;
    }
  }
}

// check_required for an edit: a required custom field added after the record
// was made is required from its first value on, so older records stay editable.
void check_required_after_edit(const CollectionDef& coll, const json& before, const json& after) {
  json checked = after;
  for (const FieldDef& f : coll.fields) {
    if (f.custom && f.required && !before.contains(f.key) && !checked.contains(f.key)) checked[f.key] = true;
  }
  check_required(coll, checked);
}

}  // namespace

std::string Replica::Impl::allocate_code() {
  const std::string month = this_month_local();
  // Every path loops past a code some record or alias still holds: an imported
  // code may already hold the next serial, and take_code() allocates while the
  // code being taken is still held, so that code is never handed out again.
  if (meta("server").empty()) {
    // Standalone replica: nobody else hands out codes, so the next serial is ours.
    auto& st = db.cached(
        "SELECT max(CAST(substr(code, 8) AS INTEGER)) FROM records "
        "WHERE code LIKE ? AND length(code) >= 10");
    st.bind(1, "C" + month + "%");
    std::int64_t serial = st.step() ? st.int64(0) : 0;
    st.reset();
    for (;;) {
      std::string code = format_customer_code(month, ++serial);
      if (!resolve(code)) return code;
    }
  }
  for (;;) {
    std::string code;
    auto& st = db.cached(
        "SELECT rowid, next FROM code_leases WHERE month = ? AND next <= last ORDER BY next "
        "LIMIT 1");
    st.bind(1, month);
    if (st.step()) {
      std::int64_t rowid = st.int64(0), next = st.int64(1);
      st.reset();
      db.cached("UPDATE code_leases SET next = next + 1 WHERE rowid = ?").bind(1, rowid).run();
      code = format_customer_code(month, next);
    } else {
      st.reset();
      // Offline with no lease left: a provisional code that the server replaces at
      // first push. The device prefix keeps two devices' provisional codes apart.
      std::string n = meta("provisional_seq");
      std::int64_t seq = (n.empty() ? 0 : std::stoll(n)) + 1;
      set_meta("provisional_seq", std::to_string(seq));
      char buf[48];
      std::snprintf(buf, sizeof buf, "P%s-%s-%03lld", month.c_str(),
                    device_id.substr(0, 4).c_str(), static_cast<long long>(seq));
      code = buf;
    }
    if (!resolve(code)) return code;
  }
}

std::string Replica::Impl::change_log_body(const Change& c) {
  json body = to_json(c);
  body.erase("device_seq");
  return body.dump();
}

Record Replica::Impl::write_change(const std::optional<Record>& before, Record after, Op op,
                                   std::string_view cause, std::vector<ConflictRef> resolves,
                                   const std::map<std::string, json>& restated) {
  Change c;
  c.record_id = after.id;
  c.collection = after.collection;
  c.parent = after.parent;
  c.code = after.code;
  c.op = op;
  c.base_rev = before ? before->rev : 0;
  const json empty = json::object();
  const json& old_fields = before ? before->fields : empty;
  std::set<std::string> keys;
  for (const auto& [k, v] : old_fields.items()) keys.insert(k);
  for (const auto& [k, v] : after.fields.items()) keys.insert(k);
  for (const auto& k : keys) {
    json o = old_fields.value(k, json()), n = after.fields.value(k, json());
    if (o != n) c.fields[k] = FieldChange{o, n};
  }
  for (const auto& [k, asked] : restated) {
    if (!c.fields.count(k)) c.fields[k] = FieldChange{asked, old_fields.value(k, json())};
  }
  // A child moved to another customer (merge): the parent travels as the parent
  // field's change, so the server moves it too and history shows it.
  if (before && before->parent != after.parent) {
    c.fields[Schema::builtin().collection(after.collection).parent_field] =
        FieldChange{before->parent, after.parent};
  }
  bool was_deleted = before && before->deleted;
  if (was_deleted != after.deleted) c.fields[kDeletedField] = FieldChange{was_deleted, after.deleted};
  if (c.fields.empty() && op == Op::update && resolves.empty()) return *before;
  check_local_policy(before, after, c);
  c.resolves = std::move(resolves);

  c.change_id = new_uuid();
  c.hlc = clock.now();
  c.device = device_id;
  std::string user = meta("user");
  c.author = user.empty() ? meta("author") : user;
  c.cause = std::string(cause);

  after.pending = true;
  store(after);
  const std::string body = change_log_body(c);
  db.cached("INSERT INTO changes(change_id, record_id, body, state, at) VALUES (?, ?, ?, 'pending', ?)")
      .bind(1, c.change_id)
      .bind(2, c.record_id)
      .bind(3, body)
      .bind(4, now_iso8601())
      .run();
  clock_dirty = true;
  if (after.collection == "followups" && !after.parent.empty()) refresh_derived(after.parent);
  return after;
}

void Replica::Impl::carry_next_followup(const Record& followup) {
  const std::string next = followup.fields.value("next_date", "");
  if (next.empty()) return;
  // write_change() has just recomputed the customer's last_followup_at from
  // every follow-up: this one is the latest when that is its date. A
  // back-dated follow-up does not replace a later plan.
  std::optional<Record> customer = load(followup.parent);
  if (!customer || customer->deleted) return;
  if (customer->fields.value(kLastFollowupField, "") != followup.fields.value("date", "")) return;
  Record after = *customer;
  after.fields["next_date"] = next;
  if (auto plan = followup.fields.find("next_plan"); plan != followup.fields.end()) {
    after.fields["next_plan"] = *plan;
  } else {
    after.fields.erase("next_plan");  // the old plan was for the old date
  }
  if (after.fields != customer->fields) write_change(customer, std::move(after), Op::update);
}

void Replica::Impl::withdraw_next_followup(const Record& removed) {
  const std::string next = removed.fields.value("next_date", "");
  if (next.empty() || removed.parent.empty()) return;
  std::optional<Record> customer = load(removed.parent);
  if (!customer || customer->deleted || customer->fields.value("next_date", "") != next) return;
  // The latest follow-up left (write_change() has just recomputed the dates).
  json latest;
  auto& st = db.cached(
      "SELECT fields FROM records WHERE parent = ? AND collection = 'followups' AND deleted = 0");
  st.bind(1, removed.parent);
  while (st.step()) {
    json f = json::parse(st.text(0));
    const std::string d = f.value("date", "");
    if (latest.is_null() || d > latest.value("date", "") ||
        (d == latest.value("date", "") && !f.value("next_date", "").empty())) {
      latest = std::move(f);
    }
  }
  st.reset();
  Record after = *customer;
  after.fields.erase("next_date");
  after.fields.erase("next_plan");
  if (latest.is_object() && !latest.value("next_date", "").empty()) {
    after.fields["next_date"] = latest["next_date"];
    if (latest.contains("next_plan")) after.fields["next_plan"] = latest["next_plan"];
  }
  if (after.fields != customer->fields) write_change(customer, std::move(after), Op::update);
}

void Replica::Impl::refresh_derived(const std::string& customer_id, bool unset) {
  auto& st = db.cached(
      "SELECT fields FROM records WHERE parent = ? AND collection = 'followups' AND deleted = 0");
  st.bind(1, customer_id);
  std::string latest;
  while (st.step()) {
    json f = json::parse(st.text(0));
    std::string d = f.value("date", "");
    if (d > latest) latest = d;
  }
  st.reset();
  if (unset && latest.empty()) return;
  db.cached("UPDATE records SET last_followup_at = ? WHERE id = ?")
      .bind_text_or_null(1, latest)
      .bind(2, customer_id)
      .run();
  if (std::int64_t docid = rowid_of(customer_id)) index.set_last_followup(docid, latest);
}

Record Replica::add(std::string_view collection, const FieldInputs& inputs,
                    std::string_view parent_code) {
  const CollectionDef& coll = impl_->schema().collection(collection);
  return add_values(collection, parse_inputs(coll, inputs, /*creating=*/true), parent_code);
}

Record Replica::add_values(std::string_view collection, json values, std::string_view parent_code) {
  const CollectionDef& coll = impl_->schema().collection(collection);
  check_values(coll, values);
  return impl_->in_tx([&] {
    Record r;
    r.id = new_uuid();
    r.collection = coll.name;
    if (!coll.parent_field.empty()) {
      if (parent_code.empty()) {
        throw Error(Errc::usage, tr(coll.name + " belong to a customer: name its code",
                                    coll.zh + "属于某个客户：请给出客户编号"));
      }
      Record parent = require(parent_code);
      if (parent.collection != kCustomers) {
        throw Error(Errc::usage, std::string(parent_code) + tr(" is not a customer", " 不是客户"));
      }
      r.parent = parent.id;
    }
    if (coll.name == kCustomers) {
      std::string code = values.value("code", "");
      values.erase("code");
      if (code.empty()) {
        code = impl_->allocate_code();
      } else if (auto other = impl_->resolve(code)) {
        const std::string by = other->fields.value("name", other->id);
        throw Error(Errc::validation, tr("客户编号 (code): \"" + code + "\" is already used by " + by,
                                         "客户编号 (code)：“" + code + "”已被 " + by + " 使用"));
      }
      r.code = code;
      if (!values.contains("created_at") || values["created_at"].is_null()) {
        values["created_at"] = today_local();
      }
      // A salesperson's new customer is theirs (the server makes it so at
      // push): theirs at once, so that `due`, `--owner` and reports count it
      // on the offline days before the sync (walkthrough 10, R10-14).
      if (const auto o = values.find("owner");
          (o == values.end() || o->is_null() || (o->is_string() && o->get_ref<const std::string&>().empty())) &&
          impl_->meta("role") == "sales" && !impl_->meta("user").empty()) {
        values["owner"] = impl_->meta("user");
      }
    }
    apply_values(r.fields, values);
    check_required(coll, r.fields);
    Record written = impl_->write_change(std::nullopt, std::move(r), Op::create);
    if (written.collection == "followups") impl_->carry_next_followup(written);
    return written;
  });
}

Record Replica::edit(std::string_view id_or_code, const FieldInputs& inputs) {
  Record before = require(id_or_code);
  const CollectionDef& coll = impl_->schema().collection(before.collection);
  json values = parse_inputs(coll, inputs, /*creating=*/false);
  // A typed restricted field is refused even when it changes nothing: a
  // salesperson's "clear 年消费额" (which they never see) would pass as a no-op.
  impl_->check_typed_restricted(coll, values);
  return edit_values(before.id, values);
}

Record Replica::edit_values(std::string_view id_or_code, const json& values, std::string_view cause) {
  return impl_->in_tx([&] {
    Record before = require(id_or_code);
    const CollectionDef& coll = impl_->schema().collection(before.collection);
    check_values(coll, values);
    Record after = before;
    apply_values(after.fields, values);
    check_required_after_edit(coll, before.fields, after.fields);
    // A field typed back to the value it holds while the user's request to
    // change it waits for a manager: the edit is the user's latest word, and
    // takes the field out of the request (the server's supersede_requests).
    // Dropped as "no change", the request was approved later with the value
    // the user had undone (walkthrough 11, R11-1).
    std::map<std::string, json> restated;
    for (auto& [key, asked] : impl_->awaiting_fields(before.id)) {
      const json now = after.fields.value(key, json());
      if (values.contains(key) && before.fields.value(key, json()) == now && asked != now) {
        restated.emplace(key, std::move(asked));
      }
    }
    const bool replans = coll.name == "followups" && !before.deleted &&
                         (values.contains("next_date") || values.contains("next_plan") ||
                          values.contains("date"));
    Record written = impl_->write_change(before, std::move(after), Op::update, cause, {}, restated);
    // A corrected plan on the customer's latest follow-up is the customer's plan,
    // as it is when the follow-up is added.
    if (replans) impl_->carry_next_followup(written);
    // A plan cleared on the follow-up that gave it is cleared on the customer too.
    if (replans && !before.fields.value("next_date", "").empty() && written.fields.value("next_date", "").empty()) {
      impl_->withdraw_next_followup(before);
    }
    return written;
  });
}

Record Replica::remove(std::string_view id_or_code) {
  return impl_->in_tx([&] {
    Record before = require(id_or_code);
    if (before.deleted) {
      throw Error(Errc::validation, name_with(name_of(*this, before), "is already in the recycle bin", "已经在回收站里"));
    }
    Record after = before;
    after.deleted = true;
    Record written = impl_->write_change(before, std::move(after), Op::remove);
    if (before.collection == "followups") impl_->withdraw_next_followup(before);
    return written;
  });
}

Record Replica::restore(std::string_view id_or_code) {
  return impl_->in_tx([&] {
    Record before = require(id_or_code);
    if (!before.deleted) {
      throw Error(Errc::validation, name_with(name_of(*this, before), "is not in the recycle bin", "不在回收站里"));
    }
    Record after = before;
    after.deleted = false;
    Record written = impl_->write_change(before, std::move(after), Op::restore);
    if (written.collection == "followups") impl_->carry_next_followup(written);
    return written;
  });
}

}  // namespace kehu
