#include "role.h"

namespace kehu::server {

const char* role_name(Role role) noexcept {
  switch (role) {
    case Role::admin: return "admin";
    case Role::manager: return "manager";
    case Role::sales: return "sales";
    case Role::auditor: return "auditor";
  }
  return "auditor";
}

std::optional<Role> parse_role(std::string_view name) noexcept {
  for (Role r : {Role::admin, Role::manager, Role::sales, Role::auditor}) {
    if (name == role_name(r)) return r;
  }
  return std::nullopt;
}

}  // namespace kehu::server
