// Who is asking: the result of authenticating a request's bearer token. Services
// take a Session and never trust names in payloads (DESIGN.md: the author of a
// revision is the session user).
#pragma once

#include <string>

#include "role.h"

namespace kehu::server {

struct Session {
  std::string user;
  Role role = Role::auditor;
  std::string device;  // the device named at login
};

}  // namespace kehu::server
