#include "test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>

namespace kehu::test {

namespace {

void check(int ok, const char* what) {
  if (ok != 1) FAIL("OpenSSL: " << what << " failed");
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) FAIL("OpenSSL: extension " << value);
  check(X509_add_ext(cert, ext, -1), "X509_add_ext");
  X509_EXTENSION_free(ext);
}

}  // namespace

struct TestCert::Impl {
  std::unique_ptr<X509, X509Free> cert;
  std::unique_ptr<EVP_PKEY, PkeyFree> key;

  // A certificate for `common_name` valid from an hour ago for a day, signed
  // by `issuer` (itself when null).
  Impl(const std::string& common_name, const Impl* issuer, bool ca,
       const std::vector<std::string>& names) {
    key.reset(EVP_EC_gen("P-256"));
    if (!key) FAIL("OpenSSL: EVP_EC_gen failed");
    cert.reset(X509_new());
    X509* c = cert.get();
    check(X509_set_version(c, 2), "X509_set_version");
    unsigned char serial[16];
    check(RAND_bytes(serial, sizeof serial), "RAND_bytes");
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600);
    X509_NAME* name = X509_get_subject_name(c);
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                     -1, -1, 0),
          "X509_NAME_add_entry_by_txt");
    X509* signer = issuer ? issuer->cert.get() : c;
    check(X509_set_issuer_name(c, X509_get_subject_name(signer)), "X509_set_issuer_name");
    check(X509_set_pubkey(c, key.get()), "X509_set_pubkey");
    if (ca) {
      add_extension(c, signer, NID_basic_constraints, "critical,CA:TRUE");
      add_extension(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      add_extension(c, signer, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(c, signer, NID_ext_key_usage, "serverAuth");
    }
    add_extension(c, signer, NID_subject_key_identifier, "hash");
    if (!names.empty()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
      add_extension(c, signer, NID_subject_alt_name, list);
    }
    EVP_PKEY* signing_key = issuer ? issuer->key.get() : key.get();
    if (X509_sign(c, signing_key, EVP_sha256()) <= 0) FAIL("OpenSSL: X509_sign failed");
  }
};

TestCert::TestCert(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TestCert::TestCert(TestCert&&) noexcept = default;
TestCert& TestCert::operator=(TestCert&&) noexcept = default;
TestCert::~TestCert() = default;

TestCert TestCert::authority(const std::string& common_name) {
  return TestCert(std::make_unique<Impl>(common_name, nullptr, true, std::vector<std::string>{}));
}

TestCert TestCert::self_signed(const std::string& common_name,
                               const std::vector<std::string>& names) {
  return TestCert(std::make_unique<Impl>(common_name, nullptr, false, names));
}

TestCert TestCert::issued_by(const TestCert& ca, const std::string& common_name,
                             const std::vector<std::string>& names) {
  return TestCert(std::make_unique<Impl>(common_name, ca.impl_.get(), false, names));
}

void TestCert::write(const std::string& cert_path, const std::string& key_path) const {
  std::FILE* f = std::fopen(cert_path.c_str(), "wb");
  REQUIRE(f != nullptr);
  check(PEM_write_X509(f, impl_->cert.get()), "PEM_write_X509");
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "wb");
  REQUIRE(f != nullptr);
  ::chmod(key_path.c_str(), 0600);
  check(PEM_write_PrivateKey(f, impl_->key.get(), nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_PrivateKey");
  std::fclose(f);
}

}  // namespace kehu::test
