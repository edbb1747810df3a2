// A stored UTC time as people read it: the minute, in the local time zone.
// Shared by kehu's tables and kehu-server's admin commands. Thread-safe.
#pragma once

#include <string>

namespace kehu {

// "2026-12-04 19:31" (local time) for "2026-12-04T11:31:26Z"; with `utc`,
// "2026-12-04 11:31 UTC". `iso` is YYYY-MM-DDTHH:MM:SS[.fff]Z, as the server, the
// log and a device's clock keep it; anything else is returned as it is.
std::string display_time(const std::string& iso, bool utc = false);

}  // namespace kehu
