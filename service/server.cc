#include "service/server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace citekb {
namespace {

// `listen` with its port replaced by `port` ("127.0.0.1:0" ->
// "127.0.0.1:43117"); unchanged when it has no numeric port (unix sockets).
std::string WithPort(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  int ignored;
  if (port <= 0 || colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(listen).substr(colon + 1),
                        &ignored)) {
    return listen;
  }
  return absl::StrCat(listen.substr(0, colon + 1), port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options) {
  if (options.index_path.empty()) {
    return absl::InvalidArgumentError("index path: must not be empty");
  }
  if (options.listen.empty()) {
    return absl::InvalidArgumentError("listen address: must not be empty");
  }
  if (options.max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max receive message bytes: must be positive, got ",
                     options.max_receive_message_bytes));
  }
  if (options.log_requests && options.log == nullptr) {
    return absl::InvalidArgumentError(
        "request log: no stream given while request logging is on");
  }

  absl::StatusOr<std::unique_ptr<KnowledgeBase>> kb =
      KnowledgeBase::Open(options.index_path);
  if (!kb.ok()) {
    // Keep the code (NOT_FOUND, DATA_LOSS, ...) and make sure the message
    // names the file whatever the store's message says.
    const absl::string_view message = kb.status().message();
    return absl::Status(kb.status().code(),
                        absl::StrContains(message, options.index_path)
                            ? absl::StrCat("cannot open index: ", message)
                            : absl::StrCat("cannot open index ",
                                           options.index_path, ": ", message));
  }

  std::unique_ptr<Server> server(new Server(options, *std::move(kb)));

  // Both are process-wide switches that only affect builders created after
  // them, so they come first.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // gRPC sets SO_REUSEPORT by default on Linux, which would let a second
  // server silently share a port already in use; a clash must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(server->service_.get());
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->port_ == 0) {
    // The server must not be destroyed half-built by ~Server's Shutdown().
    if (server->grpc_server_ == nullptr) {
      absl::MutexLock lock(&server->shutdown_mu_);
      server->shut_down_ = true;
    }
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     ": the address is malformed or already in use"));
  }
  server->address_ = WithPort(options.listen, server->port_);

  grpc::HealthCheckServiceInterface* health =
      server->grpc_server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(v1::KnowledgeBase::service_full_name(), true);
  return server;
}

Server::Server(const ServerOptions& options, std::unique_ptr<KnowledgeBase> kb)
    : drain_timeout_(options.drain_timeout),
      kb_(std::move(kb)),
      log_(options.log_requests ? std::make_unique<RequestLog>(
                                      options.log, options.log_questions)
                                : nullptr),
      service_(std::make_unique<KnowledgeBaseService>(*kb_, log_.get())) {}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  // Tell health checkers first, so a load balancer stops sending new calls
  // while the in-flight ones drain.
  grpc_server_->GetHealthCheckService()->SetServingStatus(false);
  grpc_server_->Shutdown(std::chrono::system_clock::now() +
                         absl::ToChronoNanoseconds(drain_timeout_));
}

void Server::Wait() { grpc_server_->Wait(); }

}  // namespace citekb
