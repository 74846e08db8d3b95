// Builds, starts and stops the citekb gRPC server: the KnowledgeBase service
// (knowledge_base_service.h) over the serving index (serving_index.h), plus
// the standard health service (grpc.health.v1.Health, health_service.h) and
// server reflection (grpc.reflection.v1alpha.ServerReflection) so that
// grpcurl, grpc_cli and load balancers work without the .proto files.
//
//   absl::StatusOr<std::unique_ptr<Server>> server =
//       Server::Start({.index_path = "var/citekb.sqlite"});
//   if (!server.ok()) { /* report server.status().message() */ }
//   ... (*server)->port() ...
//   (*server)->Reload();     // e.g. on SIGHUP
//   (*server)->Shutdown();   // e.g. from a signal-handling thread
//   (*server)->Wait();
//
// Health: "" and "citekb.v1.KnowledgeBase" report SERVING from the moment
// Start() returns until Shutdown() begins, then NOT_SERVING. A reload,
// successful or refused, never changes health: there is always an index.
//
// Hot reload: the index file is checked for replacement every
// `reload_poll_interval`, and Reload() checks it on demand. A new file that
// passes ServingIndex's checks is swapped in atomically: calls already
// running finish on the old index, calls starting later get the new one, no
// call fails. A file that fails is refused and the old index keeps serving.
// Either outcome writes one line to `event_log`:
//
//   citekb-server: reloaded index var/citekb.sqlite (generation 2)
//   citekb-server: refused new index: cannot open index var/citekb.sqlite:
//       ... (still serving generation 1)
//
// Limits a client cannot exceed: request size (`max_receive_message_bytes`),
// concurrent streams per connection (`max_concurrent_streams`; more wait in
// the client), KnowledgeBase calls in flight at once (`max_threads`: a call
// arriving when that many are being handled gets RESOURCE_EXHAUSTED at once
// rather than a place in an unbounded queue), and the index work of one
// call (`max_query_steps`, RESOURCE_EXHAUSTED). Question length and the like
// are the logic's (knowledge_base.h).
//
// Threads: KnowledgeBase and health are served through gRPC's callback API.
// gRPC's own threads read requests, answer health checks and admit or
// refuse calls. An admitted call runs on the gRPC thread that received it
// when a worker is free, no call is waiting for one, and no other gRPC
// thread is running a call (so at least one gRPC thread stays free for
// health checks and refusals); otherwise on one of `worker_threads` threads
// of the service's own, in order of arrival. call_scheduler.h says why.
//
// Thread-safe: Shutdown(), Wait() and Reload() may be called from any
// thread, and Shutdown() more than once.

#ifndef CITEKB_SERVICE_SERVER_SERVER_H_
#define CITEKB_SERVICE_SERVER_SERVER_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>

#include <iostream>
#include <memory>
#include <ostream>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "service/server/health_service.h"
#include "service/server/knowledge_base_service.h"
#include "service/server/request_log.h"
#include "service/server/serving_index.h"

namespace citekb {

struct ServerOptions {
  // The index file written by citekb-index. Required.
  std::string index_path;
  // gRPC listen address. Port 0 picks a free port (see Server::port()).
  std::string listen = "127.0.0.1:50051";

  // TLS (tls_credentials.h): PEM certificate chain and key; with
  // `tls_client_ca_path`, clients must present a certificate signed by it.
  // Without TLS the server only listens on loopback addresses, unless
  // `insecure` is set.
  std::string tls_cert_path;
  std::string tls_key_path;
  std::string tls_client_ca_path;
  bool insecure = false;

  // How often to check whether the index file was replaced; zero turns
  // polling off (Reload() still works).
  absl::Duration reload_poll_interval = absl::Seconds(1);

  // Largest request message accepted; larger ones fail with
  // RESOURCE_EXHAUSTED before reaching the service. Must be positive.
  int max_receive_message_bytes = 64 * 1024;
  // HTTP/2 streams (calls) one connection may have open at once; the client
  // holds back further calls until one ends. Must be positive.
  int max_concurrent_streams = 100;
  // KnowledgeBase calls handled at once, running (on a worker or on gRPC's
  // thread) or waiting for a worker; a call arriving when that many are in
  // flight gets RESOURCE_EXHAUSTED at once (the --max_threads flag). Must be
  // positive.
  int max_threads = 128;
  // Threads running admitted calls when gRPC's thread may not (see
  // "Threads" above); calls beyond them wait in order of arrival. 0: the
  // number of cores (at least 2). Queries rank in memory and read rows the
  // OS has cached, so they hardly wait on disk: more threads than cores
  // would only time-slice the same cores, and stretch the latency tail under
  // load (measured in bench/RESULTS.md).
  int worker_threads = 0;
  // SQLite steps all index queries of one call may take (QueryLimits);
  // beyond it the call fails with RESOURCE_EXHAUSTED. 0 means no limit. The
  // default is thousands of times what any question of the evaluation set
  // needs (at most 7,000 on the seed index).
  int64_t max_query_steps = 25'000'000;

  // Write one request_log.h line per RPC to `*log`.
  bool log_requests = true;
  // Include Ask's question text in those lines (off by default: questions
  // are health information).
  bool log_questions = false;
  // Where request-log lines go; must outlive the server. Only used when
  // `log_requests` is true.
  std::ostream* log = &std::cerr;
  // Request-log lines are written in batches by a thread of their own, at
  // most this long after they were recorded, so that no call waits for the
  // stream (request_log.h). Shutdown() writes every line before it returns.
  // Must be positive.
  absl::Duration log_flush_interval = RequestLogOptions().flush_interval;
  // Bytes of request-log lines that may wait for a slow or stalled stream;
  // a call whose line finds this many waiting waits for room. Must be
  // positive. Tests set it small, so that a stalled stream holds calls in
  // flight.
  size_t log_max_pending_bytes = RequestLogOptions().max_pending_bytes;
  // Where reload lines go (see above); must outlive the server. Null: none.
  std::ostream* event_log = &std::cerr;

  // On Shutdown(), how long to keep serving after health turns NOT_SERVING,
  // so that load balancers and probes stop sending calls before the server
  // stops taking them.
  absl::Duration lame_duck = absl::ZeroDuration();
  // How long Shutdown() then lets in-flight calls run before cancelling them.
  absl::Duration drain_timeout = absl::Seconds(10);
};

class Server {
 public:
  // Opens the index and starts serving. Errors, returned rather than
  // crashing: INVALID_ARGUMENT for unusable options (including plaintext on
  // a non-loopback address without `insecure`) and TLS files that are not
  // what they should be, NOT_FOUND for TLS files that cannot be read; the
  // index's own error (NOT_FOUND for a missing file, DATA_LOSS for a file
  // that is not a citekb index or is damaged or empty,
  // FAILED_PRECONDITION for another schema version), with a message naming
  // the file; UNAVAILABLE naming the address when it cannot be bound (in
  // use or malformed). The port is bound exclusively (no SO_REUSEPORT), so
  // a second server on the same port fails instead of sharing it.
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

  // Stops serving gracefully: health turns NOT_SERVING first, calls are
  // still served for `lame_duck`, then new calls are refused and in-flight
  // calls get up to `drain_timeout` to finish before they are cancelled.
  // Returns when all handlers have returned. Later calls return once the
  // first has finished.
  void Shutdown() ABSL_LOCKS_EXCLUDED(shutdown_mu_);

  // Blocks until the server has been shut down (by any thread).
  void Wait();

  // Reloads the index file now (see "Hot reload" above) and logs the
  // outcome. OK when the new index serves; otherwise why it was refused
  // (as Start()), and the previous index still serves.
  absl::Status Reload();

  // KnowledgeBase calls being handled right now.
  int calls_in_flight() const { return service_->calls_in_flight(); }

  // Generation of the index being served: 1 at start, +1 per reload.
  int64_t index_generation() const { return index_->generation(); }

 private:
  Server(const ServerOptions& options, std::unique_ptr<ServingIndex> index);

  // Start() once the index is open: builds and starts the gRPC server with
  // the services, listening with `credentials` (UNAVAILABLE naming the
  // address when it cannot).
  absl::Status StartGrpcServer(
      std::shared_ptr<grpc::ServerCredentials> credentials);
  // Then turns health to SERVING and starts polling the index file.
  void StartServing();

  // Writes one line to the event log, if any.
  void LogEvent(absl::string_view line) ABSL_LOCKS_EXCLUDED(event_mu_);
  // Logs the outcome of a reload attempt; returns `status`.
  absl::Status LogReload(absl::Status status);
  // Body of the thread that polls the index file.
  void PollIndexFile();

  const ServerOptions options_;
  // Declared in dependency order so that grpc_server_, which calls into
  // service_, which reads index_ and writes log_, is destroyed first.
  std::unique_ptr<ServingIndex> index_;
  std::unique_ptr<RequestLog> log_;  // null when request logging is off
  std::unique_ptr<KnowledgeBaseService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  // Owned by grpc_server_ (as its health-check service); null until built.
  HealthService* health_ = nullptr;
  int port_ = 0;
  std::string address_;

  absl::Mutex event_mu_;

  // The polling thread (when polling is on) runs until stop_polling_.
  absl::Notification stop_polling_;
  std::thread poller_;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_SERVER_H_
