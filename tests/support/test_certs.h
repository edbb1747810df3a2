// Throwaway X.509 certificates for the TLS tests, made with OpenSSL's C API at
// test time (nothing is checked in, nothing expires in the repository): a CA,
// certificates it signs, and self-signed ones. Keys are EC P-256 (fast to make).
//
// Not thread-safe only in the sense that each object is one test's.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kehu::test {

class TestCert {
 public:
  // A CA certificate (basicConstraints CA:TRUE) named `common_name`.
  static TestCert authority(const std::string& common_name);
  // A self-signed server certificate for `names` ("IP:127.0.0.1", "DNS:localhost").
  static TestCert self_signed(const std::string& common_name,
                              const std::vector<std::string>& names);
  // A server certificate for `names` signed by `ca`.
  static TestCert issued_by(const TestCert& ca, const std::string& common_name,
                            const std::vector<std::string>& names);

  TestCert(TestCert&&) noexcept;
  TestCert& operator=(TestCert&&) noexcept;
  ~TestCert();

  // Writes the certificate and its private key as PEM (unencrypted key, 0600).
  void write(const std::string& cert_path, const std::string& key_path) const;

 private:
  struct Impl;
  explicit TestCert(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kehu::test
