#include "tls_peer.h"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>

#include "kehu/lang.h"

namespace kehu::sync {
namespace {

// Where a TlsPeer hangs on libcurl's SSL_CTX.
int ctx_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Bytes from a certificate, safe to print: no control characters, bounded.
std::string printable(const unsigned char* data, int length) {
  std::string out;
  for (int i = 0; i < length && i < 256; ++i) {
    const unsigned char c = data[i];
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  return out;
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  const int len = ASN1_STRING_length(ip);
  const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (!family || !inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf)) return "?";
  return buf;
}

std::string common_name(const X509_NAME* name) {
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return "";
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return printable(ASN1_STRING_get0_data(data), ASN1_STRING_length(data));
}

struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};

std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> names;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans.get(), i);
    if (g->type == GEN_DNS) {
      names.push_back(
          printable(ASN1_STRING_get0_data(g->d.dNSName), ASN1_STRING_length(g->d.dNSName)));
    } else if (g->type == GEN_IPADD) {
      names.push_back(ip_text(g->d.iPAddress));
    }
  }
  // Without subject alt names, clients fall back to the common name (RFC 6125).
  if (names.empty()) {
    if (std::string cn = common_name(X509_get_subject_name(cert)); !cn.empty()) names.push_back(cn);
  }
  return names;
}

int watch_verify(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* peer =
      ssl ? static_cast<TlsPeer*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index())) : nullptr;
  if (!peer) return preverify_ok;
  if (!preverify_ok) {
    const int err = X509_STORE_CTX_get_error(store);
    if (err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      peer->seen.host_mismatch = true;
    } else if (peer->seen.untrusted.empty()) {
      peer->seen.untrusted = X509_verify_cert_error_string(err);
    }
  }
  if (X509_STORE_CTX_get_error_depth(store) == 0 && !peer->seen.leaf) {
    if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
      peer->seen.leaf = true;
      peer->seen.names = certificate_names(cert);
      const X509_NAME* issuer = X509_get_issuer_name(cert);
      peer->seen.issuer = common_name(issuer);
      if (peer->seen.issuer.empty()) {
        char buf[256] = {};
        X509_NAME_oneline(issuer, buf, sizeof buf);
        peer->seen.issuer = printable(reinterpret_cast<const unsigned char*>(buf),
                                      static_cast<int>(std::strlen(buf)));
      }
    }
  }
  return peer->previous_verify ? peer->previous_verify(preverify_ok, store) : preverify_ok;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* userptr) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  auto* peer = static_cast<TlsPeer*>(userptr);
  peer->previous_verify = SSL_CTX_get_verify_callback(ctx);
  if (peer->previous_verify == watch_verify) peer->previous_verify = nullptr;
  SSL_CTX_set_ex_data(ctx, ctx_index(), peer);
  // The mode libcurl chose (verify or not) stays; only the callback is added.
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), watch_verify);
  return CURLE_OK;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? tr("no host name", "没有主机名") : out;
}

}  // namespace

bool TlsPeer::install(CURL* handle) {
  return curl_easy_setopt(handle, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) == CURLE_OK &&
         curl_easy_setopt(handle, CURLOPT_SSL_CTX_DATA, this) == CURLE_OK;
}

void TlsPeer::reset() { seen = Seen{}; }

std::string TlsPeer::describe(CURLcode code, const std::string& curl_error, const std::string& host,
                              const std::string& ca_file) const {
  const std::string detail = curl_error.empty() ? curl_easy_strerror(code) : curl_error;
  if (code == CURLE_SSL_CACERT_BADFILE) {
    const std::string file = ca_file.empty() ? tr("(system bundle)", "（系统证书库）") : ca_file;
    return tr("cannot use the CA file " + file + " (" + detail +
                  "); pass --ca-file with your team's CA certificate in PEM form",
              "无法使用 CA 文件 " + file + "（" + detail + "）；请用 --ca-file 指定团队的 PEM 格式 CA 证书");
  }
  if (!seen.untrusted.empty()) {
    if (message_lang() == Lang::zh) {
      std::string about =
          seen.leaf ? "；证书颁发给 " + joined(seen.names) + "，签发者 " + seen.issuer : "";
      return "服务器证书不受信任（" + seen.untrusted + about + "）；" +
             (ca_file.empty() ? std::string("请用 --ca-file 指定团队的 CA 证书")
                              : ca_file + " 中的 CA 没有签发它：请用 --ca-file 指定签发它的 CA") +
             "（或向管理员索取）";
    }
    std::string about =
        seen.leaf ? "; certificate for " + joined(seen.names) + ", issued by " + seen.issuer : "";
    return "the server's certificate is not trusted (" + seen.untrusted + about + "); " +
           (ca_file.empty() ? "pass --ca-file with your team's CA certificate"
                            : "the CA in " + ca_file +
                                  " did not sign it: pass --ca-file with the CA that did") +
           " (or ask your admin for it)";
  }
  if (code == CURLE_PEER_FAILED_VERIFICATION && (seen.leaf || seen.host_mismatch)) {
    return tr("the server's certificate is for host " + joined(seen.names) + ", not " + host +
                  "; connect with a name the certificate holds, or ask your admin for a certificate that "
                  "names " +
                  host,
              "服务器证书颁发给主机 " + joined(seen.names) + "，而不是 " + host +
                  "；请用证书中的名称连接，或向管理员索取包含 " + host + " 的证书");
  }
  if (code == CURLE_PEER_FAILED_VERIFICATION) {
    return tr("the server's certificate was refused (" + detail +
                  "); pass --ca-file with your team's CA certificate",
              "服务器证书被拒绝（" + detail + "）；请用 --ca-file 指定团队的 CA 证书");
  }
  return tr("the TLS handshake failed (" + detail + "); is the server serving HTTPS at this address?",
            "TLS 握手失败（" + detail + "）；该地址上的服务器是否提供 HTTPS？");
}

}  // namespace kehu::sync
