// The team's custom fields (kehu/custom_fields.h) on the server: the authority
// every device copies at sync (docs/protocol.md "POST /v1/schema").
//
// The list lives in the store's settings under "custom_fields" as
// {"version": N, "fields": [definition...]}, so SQLite and PostgreSQL stores
// both keep it. Adding a field bumps the version; each definition records who
// added it and when (added_by, added_at), and the server logs one line.
//
// Thread-safety: stateless over the Store apart from a cache of the last schema
// built, guarded by a mutex; one call per request thread.
#pragma once

#include <memory>

#include "kehu/record.h"
#include "kehu/schema.h"
#include "session.h"
#include "store.h"

namespace kehu::server {

// The settings key of the list.
inline constexpr const char* kCustomFieldsSetting = "custom_fields";

// The list as stored ({"version": 0, "fields": []} when none was added).
json custom_field_list(StoreTxn& txn);
// The schema the server validates and redacts with: built-in plus the custom
// fields in `txn`'s snapshot. Cached: rebuilt only when the list changes.
std::shared_ptr<const Schema> store_schema(StoreTxn& txn);

// Checks a definition (check_custom_field) against the store's schema and adds
// it in `txn` (not committed), stamped with `by` and the current time. Returns
// {"field": the stored definition, "version": the new version}.
json add_custom_field(StoreTxn& txn, const json& definition, const std::string& by);

class SchemaService {
 public:
  explicit SchemaService(Store& store) : store_(store) {}

  // GET/POST /v1/schema: {"version", "fields"} for every role. A sales user gets
  // the restricted fields' definitions too (their values never reach it).
  json get(const Session& session);
  // POST /v1/schema/fields (admin only: Error(forbidden) otherwise). Answers
  // {"field", "version"}; Error(validation) names the value and the rule.
  json add_field(const Session& session, const json& body);

 private:
  Store& store_;
};

}  // namespace kehu::server
