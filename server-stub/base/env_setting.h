// Overrides of kehu-server's limits from its environment (auth_settings.cc,
// http_limits.cc): for tests, and for an operator who knows why.
#pragma once

#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

#include "kehu/error.h"

namespace kehu::server {

// Sets `out` to the variable's value if it is set: a whole number from 1 to
// `max`, else Error(usage) naming the variable, the value and the range.
template <typename T>
void read_positive(const char* name, T& out, T max = std::numeric_limits<T>::max()) {
  const char* v = std::getenv(name);
  if (!v || !*v) return;
  const std::string text = v;
  try {
    std::size_t used = 0;
    const long long n = std::stoll(text, &used);
    if (used != text.size() || n < 1 ||
        static_cast<unsigned long long>(n) > static_cast<unsigned long long>(max)) {
      throw std::out_of_range(name);
    }
    out = static_cast<T>(n);
  } catch (const std::exception&) {
    throw Error(Errc::usage, std::string(name) + "=\"" + text +
                                 "\": expected a whole number from 1 to " + std::to_string(max));
  }
}

}  // namespace kehu::server
