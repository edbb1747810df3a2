#include "scope_index.h"

#include <map>

#include "access_policy.h"
#include "kehu/error.h"
#include "kehu/place.h"
#include "record_state_codec.h"

namespace kehu::server {

namespace {
constexpr const char* kPending = "scope_index_pending";
}  // namespace

std::string scope_values(const json& fields) {
  auto text = [&](const char* key) {
    auto f = fields.find(key);
    return f != fields.end() && f->is_string() ? f->get<std::string>() : std::string();
  };
  // As scope reads them (AccessPolicy::customer_access): 江苏省/南京市 is
  // 江苏/南京, so that moves between spellings of one place are one value. No
  // user, province or city name is longer than kLongest; a longer value is kept
  // as a mark that matches nothing, so that a row stays small (attacker review
  // 7, A7-2: 4 KB cities made each scope decision a parse of megabytes).
  constexpr std::size_t kLongest = 64;
  const auto shorten = [](std::string s) { return s.size() > kLongest ? std::string("\x01") : s; };
  const auto [province, city] = canonical_place(text("province"), text("city"));
  json out = json::object();
  if (const std::string owner = text("owner"); !owner.empty()) out["owner"] = shorten(owner);
  if (!province.empty()) out["province"] = shorten(province);
  if (!city.empty()) out["city"] = shorten(city);
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
  std::map<std::string, std::pair<json, std::string>> state;  // values, and their last row's text
  txn->for_each_revision([&](const StoredRevision& r) {
    json rev;
    try {
      rev = parse_stored(r.body, "revision");
    } catch (const Error&) {
      // A damaged revision (`audit verify` names it) moves nothing here: the
      // store must stay usable to find it (attacker review 7, A7-5).
      return true;
    }
    if (rev.value("collection", std::string()) != "customers") return true;
    json changes = rev.value("changes", json::object());
    if (!changes.is_object()) changes = json::object();  // damaged, but parseable
    const bool create = rev.value("op", std::string()) == "create";
    if (!create && !changes_scope(changes)) return true;
    auto& [s, last] = state[r.record_id];
    if (create) s = json::object();
    for (auto f = changes.begin(); f != changes.end(); ++f) {
      if (AccessPolicy::is_scope_field(f.key()) && f->is_object()) s[f.key()] = f->value("new", json());
    }
    // As at push: a move between spellings of one place is no row.
    std::string values = scope_values(s);
    if (create || values != last) txn->add_scope_move(r.record_id, r.seq, values);  // fn may use the transaction
    last = std::move(values);
    return true;
  });
  txn->put_setting(kPending, json());
  txn->commit();
  return true;
}

}  // namespace kehu::server
