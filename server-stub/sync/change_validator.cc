#include "change_validator.h"

#include "access_policy.h"
#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

namespace {

std::string describe(const FieldDef& f) { return f.zh + " (" + f.key + ")"; }

void check_field(const CollectionDef& coll, const std::string& key, const FieldChange& fc,
                 const Session& session) {
  if (key == kDeletedField) {
    if (!fc.new_value.is_boolean() && !fc.new_value.is_null()) {
      throw Error(Errc::validation, tr("deleted: " + fc.new_value.dump() + " is not true or false",
                                      "deleted：" + fc.new_value.dump() + " 不是 true 或 false"));
    }
    return;
  }
  const FieldDef* f = coll.find(key);
  if (f == nullptr || f->key != key) {
    // Only canonical keys travel on the wire; a label here is a client bug.
    throw Error(Errc::validation, tr(coll.zh + " (" + coll.name + ") has no field \"" + key + "\"",
                                     coll.zh + " (" + coll.name + ") 没有“" + key + "”这个字段"));
  }
  // old == new is no write (merge.h), e.g. a create listing every field as null:
  // it needs no write permission and clears nothing.
  const bool writes = fc.old_value != fc.new_value;
  if (writes && !AccessPolicy::may_write_field(session.role, *f)) {
    throw Error(Errc::forbidden, tr(describe(*f) + " is a restricted field; role " + role_name(session.role) +
                                        " may not change it",
                                    describe(*f) + " 是受限字段；" + role_label(session.role) + "不能修改"));
  }
  if (writes && AccessPolicy::looks_masked(coll, key, fc.new_value)) {
    throw Error(Errc::validation,
                tr(describe(*f) + ": \"" + fc.new_value.get<std::string>() +
                       "\" is a masked value (as a pool customer's number shows); give the whole value",
                   describe(*f) + "：“" + fc.new_value.get<std::string>() + "”是遮盖后的值（公海客户的号码显示成这样）；请填写完整的值"));
  }
  if (fc.new_value.is_null()) {
    if (writes && f->required) {
      throw Error(Errc::validation, tr(describe(*f) + " is required and cannot be cleared", describe(*f) + " 是必填字段，不能清空"));
    }
    return;
  }
  check_stored_value(*f, fc.new_value);
}

}  // namespace

const CollectionDef& ChangeValidator::check(const Change& change, const Session& session,
                                            const Schema& schema) {
  if (!AccessPolicy::may_write(session.role)) {
    throw Error(Errc::forbidden, tr(std::string("role ") + role_name(session.role) + " may not change records",
                                    role_label(session.role) + "不能修改记录"));
  }
  const CollectionDef* coll = schema.find(change.collection);
  if (coll == nullptr) throw Error(Errc::validation, tr("unknown collection \"" + change.collection + "\"",
                                                     "未知的表“" + change.collection + "”"));
  if (change.hlc <= 0) {
    throw Error(Errc::validation, tr("change " + change.change_id + " has no hybrid clock time (hlc)",
                                  "修改 " + change.change_id + " 缺少混合时钟时间（hlc）"));
  }
  for (const auto& [key, fc] : change.fields) check_field(*coll, key, fc, session);
  // The op says what the change does, and the log keeps the op: a delete that
  // deletes nothing, or an update that deletes, would make history say what
  // did not happen (attacker review 5, A5-4, A5-7). Kehu's own clients write
  // `deleted` with delete and restore only.
  const auto deleted = change.fields.find(kDeletedField);
  const bool sets = deleted != change.fields.end();
  const bool ok = change.op == Op::remove   ? sets && deleted->second.new_value == true
                  : change.op == Op::restore ? sets && deleted->second.new_value == false
                                             : !sets;
  if (!ok) {
    throw Error(Errc::validation,
                tr("change " + change.change_id + ": a " + op_name(change.op) +
                       (change.op == Op::remove || change.op == Op::restore
                            ? std::string(" must set \"deleted\" to ") + (change.op == Op::remove ? "true" : "false")
                            : std::string(" must not set \"deleted\" (delete and restore do)")),
                   "修改 " + change.change_id + "：" + op_name(change.op) +
                       (change.op == Op::remove || change.op == Op::restore
                            ? std::string(" 必须把 \"deleted\" 设为 ") + (change.op == Op::remove ? "true" : "false")
                            : std::string(" 不能修改 \"deleted\"（删除和恢复才能）"))));
  }
  return *coll;
}

}  // namespace kehu::server
