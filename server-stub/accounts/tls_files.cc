#include "tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "kehu/error.h"
#include "kehu/lang.h"

namespace kehu::server {

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// A passphrase callback that has none to give: an encrypted key fails to load.
int no_passphrase(char*, int, int, void*) { return 0; }

std::unique_ptr<BIO, BioDeleter> open_pem(const std::string& path, const char* option) {
  // fopen first, for errno: OpenSSL's own message for a missing file is obscure.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw Error(Errc::io,
                tr(std::string(option) + " " + path + ": cannot read it: " + std::strerror(errno),
                   std::string(option) + " " + path + "：无法读取：" + std::strerror(errno)));
  std::fclose(f);
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "rb"));
  if (!bio) throw Error(Errc::io, tr(std::string(option) + " " + path + ": cannot read it",
                                           std::string(option) + " " + path + "：无法读取"));
  return bio;
}

}  // namespace

std::string check_tls_files(const std::string& cert_path, const std::string& key_path) {
  auto cert_bio = open_pem(cert_path, "--tls-cert");
  std::unique_ptr<X509, X509Deleter> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr));
  if (!cert) {
    ERR_clear_error();
    throw Error(Errc::io,
                tr("--tls-cert " + cert_path +
                       ": no PEM certificate in it (expected \"-----BEGIN CERTIFICATE-----\")",
                   "--tls-cert " + cert_path + "：其中没有 PEM 证书（应有 \"-----BEGIN CERTIFICATE-----\"）"));
  }
  auto key_bio = open_pem(key_path, "--tls-key");
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    throw Error(Errc::io,
                tr("--tls-key " + key_path +
                       ": no unencrypted PEM private key in it (an encrypted key needs its passphrase "
                       "removed: `openssl pkey -in KEY -out KEY.plain`)",
                   "--tls-key " + key_path +
                       "：其中没有未加密的 PEM 私钥（加密的私钥需先去掉口令："
                       "`openssl pkey -in KEY -out KEY.plain`）"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    throw Error(Errc::io,
                tr("--tls-key " + key_path + " does not belong to the certificate in --tls-cert " +
                       cert_path +
                       " (their public keys differ); give the key the certificate was made for",
                   "--tls-key " + key_path + " 与 --tls-cert " + cert_path +
                       " 中的证书不匹配（公钥不同）；请提供与该证书配对的私钥"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    return tr("warning: the certificate in " + cert_path + " has expired; clients will refuse it",
              "警告：" + cert_path + " 中的证书已过期；客户端会拒绝它");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) {
    return tr("warning: the certificate in " + cert_path + " is not valid yet; clients will refuse it",
              "警告：" + cert_path + " 中的证书尚未生效；客户端会拒绝它");
  }
  return "";
}

}  // namespace kehu::server
