// Builds, starts and stops the citekb gRPC server: the KnowledgeBase service
// (knowledge_base_service.h) over an opened index, plus the standard health
// service (grpc.health.v1.Health) and server reflection
// (grpc.reflection.v1alpha.ServerReflection) so that grpcurl, grpc_cli and
// load balancers work without the .proto files.
//
//   absl::StatusOr<std::unique_ptr<Server>> server =
//       Server::Start({.index_path = "var/citekb.sqlite"});
//   if (!server.ok()) { /* report server.status().message() */ }
//   ... (*server)->port() ...
//   (*server)->Shutdown();   // e.g. from a signal-handling thread
//   (*server)->Wait();
//
// Health: "" and "citekb.v1.KnowledgeBase" report SERVING from the moment
// Start() returns until Shutdown() begins, then NOT_SERVING.
//
// Thread-safe: Shutdown() and Wait() may be called from any thread, and
// Shutdown() more than once.

#ifndef CITEKB_SERVICE_SERVER_H_
#define CITEKB_SERVICE_SERVER_H_

#include <grpcpp/server.h>

#include <iostream>
#include <memory>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/knowledge_base.h"
#include "service/knowledge_base_service.h"
#include "service/request_log.h"

namespace citekb {

struct ServerOptions {
  // The index file written by citekb-index. Required.
  std::string index_path;
  // gRPC listen address. Port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:50051";
  // Largest request message accepted; larger ones fail with
  // RESOURCE_EXHAUSTED before reaching the service. Must be positive.
  int max_receive_message_bytes = 64 * 1024;
  // Write one request_log.h line per RPC to `*log`.
  bool log_requests = true;
  // Include Ask's question text in those lines (off by default: questions
  // are health information).
  bool log_questions = false;
  // Where request-log lines go; must outlive the server. Only used when
  // `log_requests` is true.
  std::ostream* log = &std::cerr;
  // How long Shutdown() lets in-flight calls run before cancelling them.
  absl::Duration drain_timeout = absl::Seconds(10);
};

class Server {
 public:
  // Opens the index and starts serving. Errors, returned rather than
  // crashing: INVALID_ARGUMENT for unusable options; the index's own error
  // (NOT_FOUND for a missing file, DATA_LOSS for a file that is not a citekb
  // index, FAILED_PRECONDITION for another schema version), with a message
  // naming the file; UNAVAILABLE naming the address when it cannot be bound
  // (in use or malformed). The port is bound exclusively (no SO_REUSEPORT),
  // so a second server on the same port fails instead of sharing it.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options);

  // Shuts down (as Shutdown()) if that has not happened yet.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound TCP port: the requested one, or the one picked for port 0.
  int port() const { return port_; }

  // The listen address with the bound port, e.g. "127.0.0.1:43117".
  const std::string& address() const { return address_; }

  // Stops serving gracefully: health turns NOT_SERVING first, new calls are
  // refused, in-flight calls get up to `drain_timeout` to finish and are then
  // cancelled. Returns when all handlers have returned. Later calls return
  // once the first has finished.
  void Shutdown() ABSL_LOCKS_EXCLUDED(shutdown_mu_);

  // Blocks until the server has been shut down (by any thread).
  void Wait();

 private:
  Server(const ServerOptions& options, std::unique_ptr<KnowledgeBase> kb);

  const absl::Duration drain_timeout_;
  // Declared in dependency order so that grpc_server_, which calls into
  // service_, which reads kb_ and writes log_, is destroyed first.
  std::unique_ptr<KnowledgeBase> kb_;
  std::unique_ptr<RequestLog> log_;  // null when request logging is off
  std::unique_ptr<KnowledgeBaseService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  int port_ = 0;
  std::string address_;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_H_
