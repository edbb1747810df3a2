#include "private_temp.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

PrivateTemp::PrivateTemp(const std::string& dest) : dest_(dest) {
  const std::filesystem::path to(dest);
  const std::filesystem::path folder = to.has_parent_path() ? to.parent_path() : std::filesystem::path(".");
  std::string pattern = (folder / ("." + to.filename().string() + ".XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw Error(Errc::io, tr("cannot write next to " + dest + ": " + std::strerror(errno),
                             "无法在 " + dest + " 旁写入：" + std::strerror(errno)));
  }
  dir_ = buf.data();
  path_ = (std::filesystem::path(dir_) / to.filename()).string();
}

PrivateTemp::~PrivateTemp() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void PrivateTemp::commit() {
  std::error_code ec;
  std::filesystem::rename(path_, dest_, ec);
  if (ec) {
    throw Error(Errc::io, tr("cannot move " + path_ + " to " + dest_ + ": " + ec.message(),
                             "无法把 " + path_ + " 移动到 " + dest_ + "：" + ec.message()));
  }
}

}  // namespace kehu::server
