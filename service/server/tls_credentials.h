// Server transport security: TLS from PEM files, optionally requiring client
// certificates (mutual TLS), and the rule that plaintext is only for
// loopback unless the operator says otherwise.
//
//   CITEKB_ASSIGN_OR_RETURN(
//       std::shared_ptr<grpc::ServerCredentials> credentials,
//       ServerCredentialsFor({.cert_path = "tls/server.crt",
//                             .key_path = "tls/server.key"},
//                            "0.0.0.0:50051"));
//
// The files are read and checked here (each parses as PEM, the key belongs
// to the certificate), so a wrong file is reported by name at start-up
// instead of surfacing as an opaque handshake failure later.

#ifndef CITEKB_SERVICE_SERVER_TLS_CREDENTIALS_H_
#define CITEKB_SERVICE_SERVER_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "indexer/base/status_macros.h"

namespace citekb {

struct TlsFiles {
  // PEM certificate chain the server presents, and its private key. Both or
  // neither; neither means plaintext.
  std::string cert_path;
  std::string key_path;
  // PEM CA certificates; when set, clients must present a certificate signed
  // by one of them (mutual TLS). Needs cert_path and key_path.
  std::string client_ca_path;
  // Allow plaintext on a non-loopback address.
  bool insecure = false;
};

// Credentials for listening on `listen` ("host:port", "[v6]:port",
// "unix:path"). Errors: INVALID_ARGUMENT for a lone cert or key, a client CA
// without them, or plaintext on a non-loopback address without `insecure`;
// NOT_FOUND for a file that cannot be read; INVALID_ARGUMENT for a file that
// is not the PEM it should be or a key that does not match the certificate.
// Every message names the flag or file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsFiles& tls, const std::string& listen);

// True for addresses only this machine can reach: 127.0.0.0/8, ::1,
// "localhost" and unix-domain sockets.
bool IsLoopbackAddress(absl::string_view listen);

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_TLS_CREDENTIALS_H_
