// The four roles of DESIGN.md ("Users and access").
//
//   admin    users, schema, everything
//   manager  customers of their regions, may read and write restricted fields
//   sales    customers they own or in their territory, no restricted fields
//   auditor  reads everything including history, writes nothing
//
// Who sees which customer is access_policy.h's business.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kehu::server {

enum class Role { admin, manager, sales, auditor };

// "admin", "manager", "sales", "auditor".
const char* role_name(Role role) noexcept;
// The role for people, in the thread's message language: "sales" or 销售.
std::string role_label(Role role);
// nullopt for anything else (case-sensitive).
std::optional<Role> parse_role(std::string_view name) noexcept;

}  // namespace kehu::server
