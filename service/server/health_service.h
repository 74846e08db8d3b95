// grpc.health.v1.Health (proto/grpc/health/v1/health.proto), served by
// citekb itself rather than by gRPC's built-in service, for one reason:
// gRPC's own service keeps Watch streams open through Server::Shutdown, so
// any client using client-side health checking (which holds a Watch stream
// per connection) would hold every graceful shutdown for the whole drain
// timeout. This one ends its Watch streams when told to (EndWatches()), and
// otherwise behaves like the built-in one:
//
//   Check  the status now; NOT_FOUND for an unknown service.
//   Watch  the status now (SERVICE_UNKNOWN for an unknown service), then
//          each change, until the client cancels or EndWatches().
//
// The server hands it to gRPC as its HealthCheckServiceInterface (so
// grpc::Server::GetHealthCheckService() returns it) and registers it as a
// service:
//
//   auto health = std::make_unique<HealthService>();
//   HealthService* raw = health.get();
//   builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(
//       std::move(health)));
//   builder.RegisterService(raw);
//   ...
//   raw->SetServingStatus("citekb.v1.KnowledgeBase", true);
//   raw->Shutdown();    // NOT_SERVING everywhere, frozen
//   raw->EndWatches();  // then end the streams
//
// Thread-safe.

#ifndef CITEKB_SERVICE_SERVER_HEALTH_SERVICE_H_
#define CITEKB_SERVICE_SERVER_HEALTH_SERVICE_H_

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace citekb {

class HealthService final : public grpc::HealthCheckServiceInterface,
                            public grpc::health::v1::Health::CallbackService {
 public:
  // Starts with "" (the whole server) SERVING, like gRPC's own service.
  HealthService();
  ~HealthService() override;

  // HealthCheckServiceInterface. After Shutdown() changes are ignored.
  void SetServingStatus(const std::string& service, bool serving) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetServingStatus(bool serving) override ABSL_LOCKS_EXCLUDED(mu_);
  // Every service NOT_SERVING (watchers are told), and no more changes.
  void Shutdown() override ABSL_LOCKS_EXCLUDED(mu_);

  // Ends every Watch stream (status UNAVAILABLE, "server shutting down"),
  // and any opened later right after its first message. Call after
  // Shutdown(), before stopping the gRPC server.
  void EndWatches() ABSL_LOCKS_EXCLUDED(mu_);

  // grpc.health.v1.Health.
  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request,
      grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context,
      const grpc::health::v1::HealthCheckRequest* request) override;

  class Watcher;  // One Watch stream; in health_service.cc.

 private:
  using Status = grpc::health::v1::HealthCheckResponse::ServingStatus;
  Status StatusOfLocked(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NotifyLocked(const std::string& service)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(Watcher* watcher) ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, bool> serving_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  bool watches_ended_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_HEALTH_SERVICE_H_
