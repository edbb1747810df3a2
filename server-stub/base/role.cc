#include "role.h"

#include "kehu/lang.h"

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

std::string role_label(Role role) {
  if (message_lang() != Lang::zh) return role_name(role);
  switch (role) {
    case Role::admin: return "管理员";
    case Role::manager: return "经理";
    case Role::sales: return "销售";
    case Role::auditor: return "审计员";
  }
  return "审计员";
}

std::optional<Role> parse_role(std::string_view name) noexcept {
  for (Role r : {Role::admin, Role::manager, Role::sales, Role::auditor}) {
    if (name == role_name(r)) return r;
  }
  return std::nullopt;
}

}  // namespace kehu::server
