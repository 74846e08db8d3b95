#include "service/server/server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/sqlite.h"
#include "service/server/health_service.h"
#include "service/server/tls_credentials.h"

namespace citekb {
namespace {

// Threads gRPC may start for its synchronous services, of which reflection
// is the only one (see the ResourceQuota in StartGrpcServer()).
constexpr int kSyncThreads = 8;

int DefaultWorkerThreads() {
  return static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
}

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

// CheckOptions() for the durations and the request log.
absl::Status CheckDurationsAndLog(const ServerOptions& options) {
  for (const auto& [name, duration] :
       {std::pair<absl::string_view, absl::Duration>{
            "reload poll interval", options.reload_poll_interval},
        {"lame duck", options.lame_duck},
        {"drain timeout", options.drain_timeout},
        {"log flush interval", options.log_flush_interval}}) {
    if (duration < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": must not be negative, got ",
                       absl::FormatDuration(duration)));
    }
  }
  // Lines are always written by the log's own thread, in batches.
  if (options.log_flush_interval == absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "log flush interval: must be positive (request-log lines are written "
        "in batches), got 0");
  }
  if (options.log_requests && options.log == nullptr) {
    return absl::InvalidArgumentError(
        "request log: no stream given while request logging is on");
  }
  return absl::OkStatus();
}

// Options that no server can run with, named with their value; OK
// otherwise. Files and addresses are checked when they are used.
absl::Status CheckOptions(const ServerOptions& options) {
  if (options.index_path.empty()) {
    return absl::InvalidArgumentError("index path: must not be empty");
  }
  if (options.listen.empty()) {
    return absl::InvalidArgumentError("listen address: must not be empty");
  }
  for (const auto& [name, value] :
       {std::pair<absl::string_view, int64_t>{
            "max receive message bytes", options.max_receive_message_bytes},
        {"max concurrent streams", options.max_concurrent_streams},
        {"max threads", options.max_threads},
        {"log max pending bytes",
         static_cast<int64_t>(options.log_max_pending_bytes)}}) {
    if (value <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": must be positive, got ", value));
    }
  }
  if (options.worker_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker threads: must not be negative (0 means one "
                     "per core), got ",
                     options.worker_threads));
  }
  if (options.max_query_steps < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max query steps: must not be negative (0 means no "
                     "limit), got ",
                     options.max_query_steps));
  }
  return CheckDurationsAndLog(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options) {
  CITEKB_RETURN_IF_ERROR(CheckOptions(options));
  CITEKB_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      ServerCredentialsFor({.cert_path = options.tls_cert_path,
                            .key_path = options.tls_key_path,
                            .client_ca_path = options.tls_client_ca_path,
                            .insecure = options.insecure},
                           options.listen));
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<ServingIndex> index,
                          ServingIndex::Open(options.index_path));
  std::unique_ptr<Server> server(new Server(options, std::move(index)));
  CITEKB_RETURN_IF_ERROR(server->StartGrpcServer(std::move(credentials)));
  server->StartServing();
  return server;
}

absl::Status Server::StartGrpcServer(
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  // A process-wide switch that only affects builders created after it, so
  // it comes first.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  // Our own health service (health_service.h) instead of gRPC's built-in
  // one; gRPC owns it and returns it from GetHealthCheckService().
  auto health = std::make_unique<HealthService>();
  health_ = health.get();
  builder.SetOption(
      std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(
          std::move(health)));
  builder.RegisterService(health_);
  builder.AddListeningPort(options_.listen, std::move(credentials), &port_);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options_.max_concurrent_streams);
  // Reflection is the only synchronous service, and gRPC gives a
  // synchronous service a thread per running call; it serves tools, not
  // traffic, so a few threads are plenty. (KnowledgeBase calls are bounded by
  // the service's own limit, `max_threads`.)
  grpc::ResourceQuota quota("citekb-server");
  quota.SetMaxThreads(kSyncThreads);
  builder.SetResourceQuota(quota);
  // gRPC sets SO_REUSEPORT by default on Linux, which would let a second
  // server silently share a port already in use; a clash must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(service_.get());
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen,
                     ": the address is malformed or already in use"));
  }
  address_ = WithPort(options_.listen, port_);
  return absl::OkStatus();
}

void Server::StartServing() {
  health_->SetServingStatus("", true);
  health_->SetServingStatus(v1::KnowledgeBase::service_full_name(), true);
  if (options_.reload_poll_interval > absl::ZeroDuration()) {
    poller_ = std::thread([this] { PollIndexFile(); });
  }
}

Server::Server(const ServerOptions& options,
               std::unique_ptr<ServingIndex> index)
    : options_(options),
      index_(std::move(index)),
      log_(options.log_requests
               ? std::make_unique<RequestLog>(
                     options.log,
                     RequestLogOptions{
                         .log_questions = options.log_questions,
                         .flush_interval = options.log_flush_interval,
                         .max_pending_bytes = options.log_max_pending_bytes})
               : nullptr),
      service_(std::make_unique<KnowledgeBaseService>(
          *index_, log_.get(),
          KnowledgeBaseService::Options{
              .max_query_steps = options.max_query_steps,
              .scheduling = {.worker_threads = options.worker_threads > 0
                                                   ? options.worker_threads
                                                   : DefaultWorkerThreads(),
                             .max_calls = options.max_threads}})) {}

Server::~Server() { Shutdown(); }

void Server::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  stop_polling_.Notify();
  if (poller_.joinable()) poller_.join();
  // Start() failed before there was a gRPC server to stop.
  if (grpc_server_ == nullptr) return;
  // Tell health checkers first, so a load balancer stops sending new calls
  // while the in-flight ones drain; keep serving through the lame-duck
  // period, so that those polling health (rather than watching it) notice.
  health_->Shutdown();
  if (options_.lame_duck > absl::ZeroDuration()) {
    absl::SleepFor(options_.lame_duck);
  }
  // Watch streams never end by themselves; left open they would hold the
  // drain below for its whole timeout.
  health_->EndWatches();
  LogEvent(absl::StrCat("citekb-server: not serving; draining ",
                        calls_in_flight(), " calls in flight (at most ",
                        absl::FormatDuration(options_.drain_timeout), ")\n"));
  grpc_server_->Shutdown(std::chrono::system_clock::now() +
                         absl::ToChronoNanoseconds(options_.drain_timeout));
  // Every call has finished, and with it recorded its line.
  if (log_ != nullptr) log_->Flush();
}

void Server::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

absl::Status Server::Reload() { return LogReload(index_->Reload()); }

void Server::PollIndexFile() {
  while (!stop_polling_.WaitForNotificationWithTimeout(
      options_.reload_poll_interval)) {
    absl::StatusOr<bool> reloaded = index_->ReloadIfChanged();
    if (!reloaded.ok() || *reloaded) LogReload(reloaded.status()).IgnoreError();
  }
}

absl::Status Server::LogReload(absl::Status status) {
  const int64_t generation = index_->generation();
  LogEvent(
      status.ok()
          ? absl::StrCat("citekb-server: reloaded index ", options_.index_path,
                         " (generation ", generation, ")\n")
          : absl::StrCat("citekb-server: refused new index: ", status.message(),
                         " (still serving generation ", generation, ")\n"));
  return status;
}

void Server::LogEvent(absl::string_view line) {
  if (options_.event_log == nullptr) return;
  absl::MutexLock lock(&event_mu_);
  // One write per line, so lines never interleave with other writers.
  options_.event_log->write(line.data(),
                            static_cast<std::streamsize>(line.size()));
  options_.event_log->flush();
}

}  // namespace citekb
