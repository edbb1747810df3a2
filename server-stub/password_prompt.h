// Where `kehu-server user add|passwd` gets a new password from, in this order:
//   1. the KEHU_PASSWORD environment variable (scripts and tests);
//   2. a terminal on stdin: asked twice, without echo (termios);
//   3. otherwise the first line of stdin (`... | kehu-server user add`).
#pragma once

#include <string>

namespace kehu::server {

// Throws Error(usage) when the two typed passwords differ or stdin is empty,
// Error(io) when the terminal cannot be switched to no-echo.
std::string read_new_password(const std::string& user);

}  // namespace kehu::server
