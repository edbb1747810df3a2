// The admin operations on users behind `kehu-server user ...`.
//
// User names: 1-64 bytes of UTF-8 without whitespace, control characters, ':' or
// '/' (they appear in logs, revision authors and URLs). Changing a password
// revokes the user's tokens. Disabling a user keeps them, but every request with
// them is refused (403) until the user is enabled again.
//
// Thread-safety: each call is one store transaction; calls may run concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "role.h"
#include "store.h"

namespace kehu::server {

class UserAdmin {
 public:
  explicit UserAdmin(Store& store) : store_(store) {}

  // Throws Error(validation) for a bad name or a password breaking the policy
  // (password.h), Error(exists) if the name is taken.
  void add(std::string_view name, Role role, std::string_view password);
  // Each throws Error(not_found) for an unknown user; set_password also
  // Error(validation) for a password breaking the policy.
  void set_password(std::string_view name, std::string_view password);
  // A new role or new regions change what the user's devices may hold: both
  // bump the user's scope version, so each device's next pull starts over.
  void set_role(std::string_view name, Role role);
  // Regions are "省" or "省/市" (江苏省南京市 is read as 江苏/南京); empty entries
  // are dropped. Throws Error(validation), before anything is written, naming a
  // malformed one or one whose province is none of the 34 (known_province(),
  // with the nearest provinces as a hint). Returns the regions stored, canonical.
  std::vector<std::string> set_regions(std::string_view name, const std::vector<std::string>& regions);
  // Disables or enables a user. Enabling a disabled user ends all its earlier
  // sessions (tokens): returns whether it did.
  bool set_disabled(std::string_view name, bool disabled);
  std::vector<User> list();

 private:
  Store& store_;
};

// Throws Error(validation) naming the rule if `name` is not a valid user name.
void check_user_name(std::string_view name);

}  // namespace kehu::server
