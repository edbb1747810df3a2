// A progress line for long work (import, export, sync) on stderr, overwritten
// in place with \r: only when stderr is a terminal (isatty); otherwise nothing
// is ever written, so scripts and logs see only the result.
#pragma once

#include <chrono>
#include <cstddef>

#include "kehu/progress.h"

namespace kehu::cli {

class ProgressLine {
 public:
  ProgressLine(ProgressKind kind, bool zh);
  // Clears the line if anything was shown.
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Shows "done/total" and the rate since construction: at most about ten
  // times a second, and always when done reaches total.
  void update(std::size_t done, std::size_t total);
  // Whether anything is shown at all (stderr is a terminal).
  bool enabled() const { return enabled_; }
  // Wipes the line (before other output on stderr).
  void clear();

 private:
  ProgressKind kind_;
  bool zh_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace kehu::cli
