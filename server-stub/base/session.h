// Who is asking: the result of authenticating a request's bearer token. Services
// take a Session and never trust names in payloads (DESIGN.md: the author of a
// revision is the session user).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "role.h"

namespace kehu::server {

struct Session {
  std::string user;
  Role role = Role::auditor;
  std::string device;  // the device named at login
  std::vector<std::string> regions;  // territory / regions (User::regions)
  std::int64_t scope_version = 0;    // User::scope_version
};

}  // namespace kehu::server
