// The layout version of a kehu-server store, one value per migration. SQLite
// (sqlite_store.cc) and PostgreSQL (postgres_store.cc) stores share the numbers:
// a version names the same tables and columns in both, and both record it as
// meta.schema_version.
#pragma once

namespace kehu::server {

enum class StoreVersion : int {
  v1_initial = 1,
  v2_scopes = 2,  // user regions and scope versions, settings, claims, change requests
  current = v2_scopes,
};

}  // namespace kehu::server
