#include "workspace.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "kehu/error.h"

namespace kehu::bench {

Workspace::Workspace(double scale) : scale_(scale) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/kehu-bench-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw Error(Errc::io, "cannot create a directory under " + tmpl);
  root_ = tmpl;
}

Workspace::~Workspace() {
  server_.reset();  // stop the server before its data directory goes
  big.reset();
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

std::int64_t Workspace::scaled(std::int64_t n, std::int64_t min) const {
  auto v = static_cast<std::int64_t>(std::llround(static_cast<double>(n) * scale_));
  return v < min ? min : v;
}

ServerProcess& Workspace::main_server() {
  if (!server_) {
    server_ = std::make_unique<ServerProcess>(path("server"));
    server_->add_user(kWriterUser, "admin");
    server_->add_user(kReaderUser, "admin");
    server_->start();
  }
  return *server_;
}

}  // namespace kehu::bench
