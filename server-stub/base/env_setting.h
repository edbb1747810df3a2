// Overrides of kehu-server's limits from its environment (auth_settings.cc,
// http_limits.cc): for tests, and for an operator who knows why.
#pragma once

#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

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

// The settings that differ from their defaults, for the one line the server
// logs at start: "HEADING: what=value, what=value", or "" when none differs.
class OverrideNotes {
 public:
  explicit OverrideNotes(std::string heading) : heading_(std::move(heading)) {}
  template <typename T>
  void add(const char* what, T value, T standard) {
    if (value == standard) return;
    items_ += (items_.empty() ? "" : ", ") + std::string(what) + "=" + std::to_string(value);
  }
  std::string str() const { return items_.empty() ? items_ : heading_ + ": " + items_; }

 private:
  std::string heading_, items_;
};

}  // namespace kehu::server
