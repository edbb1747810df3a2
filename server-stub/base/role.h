// The four roles of DESIGN.md ("Users and access").
//
//   admin    users, schema, everything
//   manager  customers of their regions, may read and write restricted fields
//   sales    customers they own or in their territory, no restricted fields
//   auditor  reads everything including history, writes nothing
//
// Region and territory scopes are not modelled yet: today a manager or a sales
// user sees every record (minus restricted fields for sales). See access_policy.h.
#pragma once

#include <optional>
#include <string_view>

namespace kehu::server {

enum class Role { admin, manager, sales, auditor };

// "admin", "manager", "sales", "auditor".
const char* role_name(Role role) noexcept;
// nullopt for anything else (case-sensitive).
std::optional<Role> parse_role(std::string_view name) noexcept;

}  // namespace kehu::server
