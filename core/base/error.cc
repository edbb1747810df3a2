#include "kehu/error.h"

namespace kehu {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::usage: return "usage";
    case Errc::validation: return "validation";
    case Errc::not_found: return "not_found";
    case Errc::wrong_passphrase: return "wrong_passphrase";
    case Errc::exists: return "exists";
    case Errc::storage: return "storage";
    case Errc::io: return "io";
    case Errc::network: return "network";
    case Errc::unauthorized: return "unauthorized";
    case Errc::forbidden: return "forbidden";
    case Errc::protocol: return "protocol";
    case Errc::server: return "server";
    case Errc::internal: return "internal";
  }
  return "internal";
}

}  // namespace kehu
