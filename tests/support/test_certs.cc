#include "tests/support/test_certs.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <memory>

#include "gtest/gtest.h"

namespace citekb::testing {
namespace {

struct Free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

void Check(bool ok, const char* what) {
  if (!ok) {
    ADD_FAILURE() << "making a test certificate: " << what << " failed";
    std::abort();
  }
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string CertificatePem(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return BioContents(bio.get());
}

std::string KeyPem(EVP_PKEY* key) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                 nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return BioContents(bio.get());
}

Owned<X509> ParseCertificate(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Owned<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  Check(cert != nullptr, "PEM_read_bio_X509");
  return cert;
}

Owned<EVP_PKEY> ParseKey(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Owned<EVP_PKEY> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Check(key != nullptr, "PEM_read_bio_PrivateKey");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> extension(
      X509V3_EXT_conf_nid(nullptr, &context, nid, value));
  Check(extension != nullptr, value);
  Check(X509_add_ext(cert, extension.get(), -1) == 1, "X509_add_ext");
}

// An unsigned certificate for `key` named `common_name`, valid from an hour
// ago for a day, with a random serial, issued by `issuer` (itself when null).
Owned<X509> NewCertificate(EVP_PKEY* key, const std::string& common_name,
                           X509* issuer) {
  Owned<X509> cert(X509_new());
  Check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  unsigned char serial[16];
  Check(RAND_bytes(serial, sizeof(serial)) == 1, "RAND_bytes");
  serial[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof(serial), nullptr);
  Check(
      BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get())) != nullptr,
      "serial");
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  Check(X509_NAME_add_entry_by_txt(
            name, "CN", MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
            0) == 1,
        "subject");
  Check(X509_set_issuer_name(cert.get(), issuer != nullptr
                                             ? X509_get_subject_name(issuer)
                                             : name) == 1,
        "issuer");
  Check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  return cert;
}

}  // namespace

KeyPair MakeCa(const std::string& common_name) {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "EVP_EC_gen");
  Owned<X509> cert = NewCertificate(key.get(), common_name, nullptr);
  AddExtension(cert.get(), cert.get(), NID_basic_constraints,
               "critical,CA:TRUE");
  AddExtension(cert.get(), cert.get(), NID_key_usage,
               "critical,keyCertSign,cRLSign");
  AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  Check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
  return {CertificatePem(cert.get()), KeyPem(key.get())};
}

KeyPair MakeCertificate(const KeyPair& ca, const std::string& common_name,
                        Use use) {
  Owned<X509> ca_cert = ParseCertificate(ca.cert_pem);
  Owned<EVP_PKEY> ca_key = ParseKey(ca.key_pem);
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "EVP_EC_gen");
  Owned<X509> cert = NewCertificate(key.get(), common_name, ca_cert.get());
  AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints,
               "critical,CA:FALSE");
  AddExtension(cert.get(), ca_cert.get(), NID_key_usage,
               "critical,digitalSignature,keyEncipherment");
  AddExtension(cert.get(), ca_cert.get(), NID_authority_key_identifier,
               "keyid:always");
  if (use == Use::kServer) {
    AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth");
    AddExtension(cert.get(), ca_cert.get(), NID_subject_alt_name,
                 "DNS:localhost,IP:127.0.0.1");
  } else {
    AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, "clientAuth");
  }
  Check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign");
  return {CertificatePem(cert.get()), KeyPem(key.get())};
}

}  // namespace citekb::testing
