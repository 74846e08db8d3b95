// TLS and mutual TLS end to end, with certificates the test makes
// (test_certs.h): who gets served, who is refused, how bad TLS files and
// plaintext on a public address are reported, and the CLI's TLS flags.

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <sys/wait.h>

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "clients/cli/cli.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "service/server/server.h"
#include "service/server/tls_credentials.h"
#include "tests/support/server_test_support.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::AllOf;
using testing::CheckHealth;
using testing::Child;
using ::testing::HasSubstr;
using testing::KeyPair;
using testing::kServing;
using testing::MakeCa;
using testing::MakeCertificate;
using testing::ServingPort;
using testing::Use;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = new testing::TempDir();
    ASSERT_TRUE(BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                            .out_path = files_->File("kb.sqlite"),
                            .on_progress = nullptr})
                    .ok());
    ca_ = new KeyPair(MakeCa("citekb test CA"));
    other_ca_ = new KeyPair(MakeCa("someone else's CA"));
    Write("ca.crt", ca_->cert_pem);
    Write("other-ca.crt", other_ca_->cert_pem);
    const KeyPair server = MakeCertificate(*ca_, "localhost", Use::kServer);
    Write("server.crt", server.cert_pem);
    Write("server.key", server.key_pem);
    client_ = new KeyPair(MakeCertificate(*ca_, "a client", Use::kClient));
    Write("client.crt", client_->cert_pem);
    Write("client.key", client_->key_pem);
    stranger_ =
        new KeyPair(MakeCertificate(*other_ca_, "a stranger", Use::kClient));
    Write("stranger.crt", stranger_->cert_pem);
    Write("stranger.key", stranger_->key_pem);
  }
  static void TearDownTestSuite() {
    delete stranger_;
    delete client_;
    delete other_ca_;
    delete ca_;
    delete files_;
  }

  static void Write(const std::string& name, const std::string& contents) {
    testing::WriteFileOrDie(files_->File(name), contents);
  }
  static std::string File(const std::string& name) {
    return files_->File(name);
  }

  ServerOptions TlsOptions() {
    ServerOptions options;
    options.index_path = File("kb.sqlite");
    options.listen = "127.0.0.1:0";
    options.log = &log_;
    options.event_log = nullptr;
    options.reload_poll_interval = absl::ZeroDuration();
    options.tls_cert_path = File("server.crt");
    options.tls_key_path = File("server.key");
    return options;
  }

  void StartServer(const ServerOptions& options) {
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::string Target() const {
    return absl::StrCat("127.0.0.1:", server_->port());
  }

  // An Ask through `credentials`; the call's status.
  grpc::Status AskWith(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto stub = v1::KnowledgeBase::NewStub(
        grpc::CreateChannel(Target(), std::move(credentials)));
    v1::AskRequest request;
    request.set_question("why K2 with D3?");
    v1::AskResponse response;
    auto context = testing::ContextWithDeadline();
    return stub->Ask(context.get(), request, &response);
  }

  static std::shared_ptr<grpc::ChannelCredentials> Trusting(
      const KeyPair& ca, const KeyPair* client = nullptr) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca.cert_pem;
    if (client != nullptr) {
      ssl.pem_cert_chain = client->cert_pem;
      ssl.pem_private_key = client->key_pem;
    }
    return grpc::SslCredentials(ssl);
  }

  static testing::TempDir* files_;
  static KeyPair* ca_;
  static KeyPair* other_ca_;
  static KeyPair* client_;
  static KeyPair* stranger_;

  std::ostringstream log_;
  std::unique_ptr<Server> server_;
};

testing::TempDir* TlsTest::files_ = nullptr;
KeyPair* TlsTest::ca_ = nullptr;
KeyPair* TlsTest::other_ca_ = nullptr;
KeyPair* TlsTest::client_ = nullptr;
KeyPair* TlsTest::stranger_ = nullptr;

TEST_F(TlsTest, ClientTrustingTheCaIsServed) {
  StartServer(TlsOptions());
  const grpc::Status status = AskWith(Trusting(*ca_));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(CheckHealth(grpc::CreateChannel(Target(), Trusting(*ca_)),
                        "citekb.v1.KnowledgeBase")
                .serving_status,
            kServing);
}

TEST_F(TlsTest, PlaintextAndUntrustingClientsAreRefused) {
  StartServer(TlsOptions());
  EXPECT_EQ(AskWith(grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(AskWith(Trusting(*other_ca_)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // Nothing reached the service.
  server_->Shutdown();
  EXPECT_EQ(log_.str(), "");
}

TEST_F(TlsTest, MutualTlsServesOnlyClientsWithACertificateFromTheCa) {
  ServerOptions options = TlsOptions();
  options.tls_client_ca_path = File("ca.crt");
  StartServer(options);
  const grpc::Status with_certificate = AskWith(Trusting(*ca_, client_));
  EXPECT_TRUE(with_certificate.ok()) << with_certificate.error_message();
  EXPECT_EQ(AskWith(Trusting(*ca_)).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "no client certificate";
  EXPECT_EQ(AskWith(Trusting(*ca_, stranger_)).error_code(),
            grpc::StatusCode::UNAVAILABLE)
      << "client certificate from another CA";
  EXPECT_EQ(AskWith(grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, BadTlsSettingsAreClearErrorsAtStart) {
  testing::WriteFileOrDie(File("not-pem.txt"), "hello");
  const struct {
    const char* name;
    std::string cert, key, client_ca;
    absl::StatusCode code;
    std::string message;
  } kCases[] = {
      {"cert without key", File("server.crt"), "", "",
       absl::StatusCode::kInvalidArgument,
       "--tls-cert: given without --tls-key"},
      {"key without cert", "", File("server.key"), "",
       absl::StatusCode::kInvalidArgument,
       "--tls-key: given without --tls-cert"},
      {"client CA without TLS", "", "", File("ca.crt"),
       absl::StatusCode::kInvalidArgument, "--tls-client-ca: needs --tls-cert"},
      {"missing cert file", File("missing.crt"), File("server.key"), "",
       absl::StatusCode::kNotFound, File("missing.crt")},
      {"missing key file", File("server.crt"), File("missing.key"), "",
       absl::StatusCode::kNotFound, File("missing.key")},
      {"cert that is not PEM", File("not-pem.txt"), File("server.key"), "",
       absl::StatusCode::kInvalidArgument, "holds no PEM certificate"},
      {"key that is not PEM", File("server.crt"), File("not-pem.txt"), "",
       absl::StatusCode::kInvalidArgument,
       "holds no unencrypted PEM private key"},
      {"key of another certificate", File("server.crt"), File("client.key"), "",
       absl::StatusCode::kInvalidArgument, "is not the key of the certificate"},
      {"client CA that is not PEM", File("server.crt"), File("server.key"),
       File("not-pem.txt"), absl::StatusCode::kInvalidArgument,
       "holds no PEM CA certificate"},
      {"missing client CA", File("server.crt"), File("server.key"),
       File("missing-ca.crt"), absl::StatusCode::kNotFound,
       File("missing-ca.crt")},
  };
  for (const auto& c : kCases) {
    ServerOptions options = TlsOptions();
    options.tls_cert_path = c.cert;
    options.tls_key_path = c.key;
    options.tls_client_ca_path = c.client_ca;
    const absl::Status status = Server::Start(options).status();
    EXPECT_EQ(status.code(), c.code) << c.name << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.name;
  }
}

TEST_F(TlsTest, PlaintextIsOnlyForLoopbackUnlessInsecure) {
  ServerOptions options = TlsOptions();
  options.tls_cert_path.clear();
  options.tls_key_path.clear();
  for (const char* listen : {"0.0.0.0:0", "[::]:0"}) {
    options.listen = listen;
    const absl::Status refused = Server::Start(options).status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << listen;
    EXPECT_THAT(refused.message(),
                AllOf(HasSubstr(listen), HasSubstr("--tls-cert"),
                      HasSubstr("--insecure")));
  }
  options.listen = "0.0.0.0:0";
  options.insecure = true;
  EXPECT_TRUE(Server::Start(options).ok()) << "--insecure allows it";
  options = TlsOptions();
  options.listen = "0.0.0.0:0";
  EXPECT_TRUE(Server::Start(options).ok()) << "TLS allows it";
}

TEST(IsLoopbackAddressTest, OnlyAddressesOfThisMachine) {
  const struct {
    const char* listen;
    bool loopback;
  } kCases[] = {
      {"127.0.0.1:50051", true},
      {"127.1.2.3:1", true},
      {"localhost:50051", true},
      {"LOCALHOST:1", true},
      {"[::1]:50051", true},
      {"[::ffff:127.0.0.1]:1", true},
      {"unix:/tmp/citekb.sock", true},
      {"unix-abstract:citekb", true},
      {"0.0.0.0:50051", false},
      {"[::]:50051", false},
      {":50051", false},
      {"10.0.0.5:50051", false},
      {"192.168.1.2:1", false},
      {"kb.example.com:50051", false},
      {"[2001:db8::1]:1", false},
      {"128.0.0.1:1", false},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(IsLoopbackAddress(c.listen), c.loopback) << c.listen;
  }
}

TEST_F(TlsTest, BinaryServesTlsOnAPublicAddressAndRefusesPlaintextThere) {
  // Dashed flag names, as the documentation spells them.
  Child tls({CITEKB_SERVER_BINARY, "--index", File("kb.sqlite"), "--listen",
             "0.0.0.0:0", "--tls-cert", File("server.crt"),
             "--tls-key=" + File("server.key"), "--reload-poll-interval=0"},
            File("tls-server.txt"));
  const std::string output = tls.WaitForLine("citekb-server: TLS with");
  ASSERT_THAT(output, HasSubstr(" on 0.0.0.0:")) << tls.Output();
  const size_t at = output.find(" on 0.0.0.0:");
  const int port = std::stoi(output.substr(at + 12));
  EXPECT_EQ(CheckHealth(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                            Trusting(*ca_)),
                        "")
                .serving_status,
            kServing);
  ASSERT_TRUE(tls.Signal(SIGTERM));
  EXPECT_NE(tls.WaitForExit(), -1);

  Child plaintext({CITEKB_SERVER_BINARY, "--index", File("kb.sqlite"),
                   "--listen", "0.0.0.0:0"},
                  File("plain-server.txt"));
  const int status = plaintext.WaitForExit();
  ASSERT_TRUE(WIFEXITED(status)) << plaintext.Output();
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(plaintext.Output(),
              AllOf(HasSubstr("0.0.0.0:0 is reachable from other machines"),
                    HasSubstr("--insecure")));
}

// The CLI's --tls* flags against a mutual-TLS server.
TEST_F(TlsTest, CliReachesAMutualTlsServerWithItsFlags) {
  ServerOptions options = TlsOptions();
  options.tls_client_ca_path = File("ca.crt");
  StartServer(options);
  const auto run = [&](std::vector<std::string> args) {
    std::ostringstream out, err;
    CliOptions defaults;
    defaults.server = Target();
    defaults.timeout = absl::Seconds(10);
    const int code = RunCli(args, defaults, out, err);
    return std::make_pair(code, err.str());
  };
  EXPECT_EQ(run({"--tls-ca", File("ca.crt"), "--tls-cert", File("client.crt"),
                 "--tls-key", File("client.key"), "sections"})
                .first,
            kExitOk);
  EXPECT_EQ(run({"sections"}).first, kExitFailure) << "plaintext";
  EXPECT_EQ(run({"--tls-ca", File("ca.crt"), "sections"}).first, kExitFailure)
      << "no client certificate";
  const auto [code, err] = run({"--tls-ca", File("ca.crt"), "--tls-cert",
                                File("client.crt"), "sections"});
  EXPECT_EQ(code, kExitUsage);
  EXPECT_THAT(err, HasSubstr("--tls-cert and --tls-key"));
  const auto [missing_code, missing_err] =
      run({"--tls-ca", File("missing.crt"), "sections"});
  EXPECT_EQ(missing_code, kExitUsage);
  EXPECT_THAT(missing_err, HasSubstr("missing.crt"));
}

}  // namespace
}  // namespace citekb
