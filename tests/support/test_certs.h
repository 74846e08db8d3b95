// Certificates made on the fly for the TLS tests, with OpenSSL's C API (no
// `openssl` command, no files checked in, nothing that expires in the repo):
// a CA, a server certificate for localhost and 127.0.0.1, and client
// certificates, all ECDSA P-256 valid from an hour ago for a day.
//
//   const KeyPair ca = MakeCa("citekb test CA");
//   const KeyPair server = MakeCertificate(ca, "localhost", Use::kServer);
//   // server.cert_pem, server.key_pem, ca.cert_pem ...

#ifndef CITEKB_TESTS_SUPPORT_TEST_CERTS_H_
#define CITEKB_TESTS_SUPPORT_TEST_CERTS_H_

#include <string>

namespace citekb::testing {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed CA certificate and its key. Aborts the test on failure.
KeyPair MakeCa(const std::string& common_name);

enum class Use { kServer, kClient };

// A certificate for `common_name` signed by `ca`. Server certificates carry
// the subject alternative names DNS:localhost and IP:127.0.0.1, which is
// what gRPC checks the target against.
KeyPair MakeCertificate(const KeyPair& ca, const std::string& common_name,
                        Use use);

}  // namespace citekb::testing

#endif  // CITEKB_TESTS_SUPPORT_TEST_CERTS_H_
