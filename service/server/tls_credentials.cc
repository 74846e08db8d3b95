#include "service/server/tls_credentials.h"

#include <arpa/inet.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace citekb {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Certificate = std::unique_ptr<X509, X509Free>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyFree>;

absl::StatusOr<std::string> ReadPem(absl::string_view flag,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    return absl::NotFoundError(absl::StrCat(flag, ": cannot read ", path));
  }
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

Certificate FirstCertificate(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  return Certificate(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

PrivateKey ReadPrivateKey(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  // A null password callback with no password: an encrypted key fails
  // instead of prompting on the terminal.
  static const auto kNoPassword = [](char*, int, int, void*) { return 0; };
  return PrivateKey(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, kNoPassword, nullptr)
          : nullptr);
}

absl::Status Invalid(absl::string_view flag, const std::string& path,
                     absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": ", path, " ", reason));
}

}  // namespace

bool IsLoopbackAddress(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") ||
      absl::StartsWith(listen, "unix-abstract:")) {
    return true;
  }
  const size_t colon = listen.rfind(':');
  absl::string_view host =
      colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  const std::string name = absl::AsciiStrToLower(host);
  if (name == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, name.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) ||
           (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
  }
  // Empty (all interfaces), 0.0.0.0, [::], other addresses and host names.
  return false;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsFiles& tls, const std::string& listen) {
  const bool has_cert = !tls.cert_path.empty();
  const bool has_key = !tls.key_path.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        has_cert ? "--tls-cert: given without --tls-key; TLS needs both"
                 : "--tls-key: given without --tls-cert; TLS needs both");
  }
  if (!has_cert) {
    if (!tls.client_ca_path.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca: needs --tls-cert and --tls-key (mutual TLS is "
          "TLS with client certificates)");
    }
    if (!tls.insecure && !IsLoopbackAddress(listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen address ", listen,
          " is reachable from other machines, and without TLS anyone on the "
          "way could read the questions (health information) and answers; "
          "give --tls-cert and --tls-key, or --insecure to serve plaintext "
          "anyway (for example behind a TLS-terminating proxy)"));
    }
    return grpc::InsecureServerCredentials();
  }

  absl::StatusOr<std::string> cert = ReadPem("--tls-cert", tls.cert_path);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("--tls-key", tls.key_path);
  if (!key.ok()) return key.status();
  Certificate parsed_cert = FirstCertificate(*cert);
  if (parsed_cert == nullptr) {
    return Invalid("--tls-cert", tls.cert_path,
                   "holds no PEM certificate (BEGIN CERTIFICATE)");
  }
  PrivateKey parsed_key = ReadPrivateKey(*key);
  if (parsed_key == nullptr) {
    return Invalid("--tls-key", tls.key_path,
                   "holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(parsed_cert.get(), parsed_key.get()) != 1) {
    return Invalid(
        "--tls-key", tls.key_path,
        absl::StrCat("is not the key of the certificate in ", tls.cert_path));
  }

  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back(
      {.private_key = *std::move(key), .cert_chain = *std::move(cert)});
  if (!tls.client_ca_path.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPem("--tls-client-ca", tls.client_ca_path);
    if (!ca.ok()) return ca.status();
    if (FirstCertificate(*ca) == nullptr) {
      return Invalid("--tls-client-ca", tls.client_ca_path,
                     "holds no PEM CA certificate (BEGIN CERTIFICATE)");
    }
    options.pem_root_certs = *std::move(ca);
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace citekb
