#include "schema_service.h"

#include <cstdio>
#include <mutex>

#include "kehu/custom_fields.h"
#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

namespace {

// The last schema built, by the text of the list it was built from. Servers in
// one process (tests) with different stores simply rebuild.
std::mutex g_cache_mutex;
std::string g_cache_key;
std::shared_ptr<const Schema> g_cache;

}  // namespace

json custom_field_list(StoreTxn& txn) {
  auto v = txn.get_setting(kCustomFieldsSetting);
  if (!v || !v->is_object()) return {{"version", 0}, {"fields", json::array()}};
  json out = *v;
  if (!out.contains("version") || !out["version"].is_number_integer()) out["version"] = 0;
  if (!out.contains("fields") || !out["fields"].is_array()) out["fields"] = json::array();
  return out;
}

std::shared_ptr<const Schema> store_schema(StoreTxn& txn) {
  auto v = txn.get_setting(kCustomFieldsSetting);
  if (!v || !v->is_object()) return std::shared_ptr<const Schema>(&Schema::builtin(), [](const Schema*) {});
  std::string key = v->dump();
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  if (!g_cache || key != g_cache_key) {
    g_cache = schema_with_custom_fields(*v);
    g_cache_key = std::move(key);
  }
  return g_cache;
}

json add_custom_field(StoreTxn& txn, const json& definition, const std::string& by) {
  json list = custom_field_list(txn);
  auto schema = store_schema(txn);
  json field = check_custom_field(*schema, definition);
  field["added_by"] = by;
  field["added_at"] = now_iso8601();
  list["fields"].push_back(field);
  const std::int64_t version = list["version"].get<std::int64_t>() + 1;
  list["version"] = version;
  txn.put_setting(kCustomFieldsSetting, list);
  return {{"field", field}, {"version", version}};
}

json SchemaService::get(const Session&) {
  auto txn = store_.begin(TxnMode::read);
  return custom_field_list(*txn);
}

json SchemaService::add_field(const Session& session, const json& body) {
  if (session.role != Role::admin) {
    throw Error(Errc::forbidden, tr(std::string("role ") + role_name(session.role) + " may not add fields to the schema; an admin may",
                                    role_label(session.role) + "不能新增字段；管理员可以"));
  }
  auto txn = store_.begin(TxnMode::write);
  json out = add_custom_field(*txn, body, session.user);
  txn->commit();
  const json& f = out["field"];
  const std::string line = now_iso8601() + " schema: " + session.user + " added field " +
                           f.value("collection", "") + "." + f.value("key", "") + " (" +
                           f.value("label", "") + ", " + f.value("type", "") + "), schema version " +
                           std::to_string(out["version"].get<std::int64_t>()) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  return out;
}

}  // namespace kehu::server
