// Checks `serve --tls-cert PEM --tls-key PEM` before cpp-httplib loads them, so a
// bad file stops the server with a message that says which file and what is
// wrong (cpp-httplib only reports "not valid"), and an encrypted key fails at once
// instead of waiting for a passphrase on a terminal nobody watches.
#pragma once

#include <string>

namespace kehu::server {

// Throws Error(io) naming the file and the problem when the certificate or the
// key cannot be read, is not PEM, the key is encrypted, or the key is not the
// certificate's. Returns a warning ("" if none), e.g. for an expired certificate.
std::string check_tls_files(const std::string& cert_path, const std::string& key_path);

}  // namespace kehu::server
