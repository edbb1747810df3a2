#include "settings.h"

#include <algorithm>

#include "kehu/error.h"
#include "kehu/lang.h"
#include "kehu/schema.h"
#include "schema_service.h"
#include "server_config.h"
#include "store_version.h"

namespace kehu::server::settings {

std::int64_t claim_cap(StoreTxn& txn) {
  auto v = txn.get_setting("claim_cap");
  return v && v->is_number_integer() ? v->get<std::int64_t>() : config::kDefaultClaimCap;
}

void set_claim_cap(StoreTxn& txn, std::int64_t cap) {
  if (cap < 0) throw Error(Errc::validation, tr("claim cap " + std::to_string(cap) + " must be 0 or more",
                                            "认领上限 " + std::to_string(cap) + " 必须大于等于 0"));
  txn.put_setting("claim_cap", cap);
}

std::vector<std::string> protected_fields(StoreTxn& txn, const std::string& collection) {
  auto v = txn.get_setting("protected_fields");
  if (!v || !v->is_object()) return {};
  auto it = v->find(collection);
  if (it == v->end() || !it->is_array()) return {};
  return it->get<std::vector<std::string>>();
}

std::string cursor_tag_key(StoreTxn& txn) {
  auto v = txn.get_setting(kCursorTagKeySetting);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

json all_protected_fields(StoreTxn& txn) {
  json out = json::object();
  auto v = txn.get_setting("protected_fields");
  if (!v || !v->is_object()) return out;
  for (const auto& [collection, keys] : v->items()) {
    if (!keys.is_array() || keys.empty()) continue;
    if (std::all_of(keys.begin(), keys.end(), [](const json& k) { return k.is_string(); })) out[collection] = keys;
  }
  return out;
}

std::vector<std::string> set_protected_fields(StoreTxn& txn, const std::string& collection,
                                              const std::vector<std::string>& fields) {
  const auto schema = store_schema(txn);
  const CollectionDef& coll = schema->collection(collection);
  std::vector<std::string> keys;
  for (const auto& f : fields) {
    const FieldDef& def = coll.field(f);  // throws naming the unknown field
    if (def.derived) {
      throw Error(Errc::validation, tr(def.zh + " (" + def.key + ") is derived by Kehu and cannot be protected",
                                      def.zh + " (" + def.key + ") 由 Kehu 自动生成，不能设为受保护字段"));
    }
    keys.push_back(def.key);
  }
  json all = txn.get_setting("protected_fields").value_or(json::object());
  if (!all.is_object()) all = json::object();
  all[collection] = keys;
  txn.put_setting("protected_fields", all);
  return keys;
}

}  // namespace kehu::server::settings
