#include "scope_index.h"

#include <map>

#include "access_policy.h"
#include "record_state_codec.h"

namespace kehu::server {

namespace {
constexpr const char* kPending = "scope_index_pending";
}  // namespace

std::string scope_values(const json& fields) {
  json out = json::object();
  for (const char* key : {"owner", "province", "city"}) {
    if (auto f = fields.find(key); f != fields.end() && !f->is_null()) out[key] = *f;
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool changes_scope(const json& changes) {
  if (!changes.is_object()) return false;
  for (auto f = changes.begin(); f != changes.end(); ++f) {
    if (AccessPolicy::is_scope_field(f.key())) return true;
  }
  return false;
}

bool build_scope_index(Store& store) {
  {
    auto read = store.begin(TxnMode::read);
    const auto pending = read->get_setting(kPending);
    if (!pending || pending->is_null()) return false;
  }
  auto txn = store.begin(TxnMode::write);
  const auto pending = txn->get_setting(kPending);
  if (!pending || pending->is_null()) return false;  // another process built it meanwhile
  // Replayed in seq order from the changes' new values: each customer's scope
  // fields as they stood after each revision. One small object per customer.
  std::map<std::string, json> state;
  txn->for_each_revision([&](const StoredRevision& r) {
    const json rev = parse_stored(r.body, "revision");
    if (rev.value("collection", std::string()) != "customers") return true;
    const json changes = rev.value("changes", json::object());
    const bool create = rev.value("op", std::string()) == "create";
    if (!create && !changes_scope(changes)) return true;
    json& s = state[r.record_id];
    if (create) s = json::object();
    for (auto f = changes.begin(); f != changes.end(); ++f) {
      if (AccessPolicy::is_scope_field(f.key()) && f->is_object()) s[f.key()] = f->value("new", json());
    }
    txn->add_scope_move(r.record_id, r.seq, scope_values(s));  // fn may use the transaction
    return true;
  });
  txn->put_setting(kPending, json());
  txn->commit();
  return true;
}

}  // namespace kehu::server
