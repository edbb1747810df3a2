// A file written next to its destination, then renamed onto it: made inside a
// folder of its own (mkdtemp, mode 0700) beside the destination, so nobody else
// can put a link where it is written. FILE.tmp could be raced: checked, closed
// and opened again by name, a symlink swapped in between took the write to the
// store (attacker review 14, A14-6).
#pragma once

#include <string>

namespace kehu::server {

class PrivateTemp {
 public:
  // Throws Error(io) naming `dest` if the folder cannot be made.
  explicit PrivateTemp(const std::string& dest);
  // Removes the folder and what is still in it (a copy cut short).
  ~PrivateTemp();
  PrivateTemp(const PrivateTemp&) = delete;
  PrivateTemp& operator=(const PrivateTemp&) = delete;

  // The file to write.
  const std::string& path() const { return path_; }
  // Renames path() onto the destination. Throws Error(io).
  void commit();

 private:
  std::string dest_, dir_, path_;
};

}  // namespace kehu::server
