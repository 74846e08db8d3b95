// The gRPC face of the knowledge base: a thin adaptor from
// citekb.v1.KnowledgeBase to citekb::KnowledgeBase (knowledge_base.h),
// served through gRPC's callback API. For every RPC it
//   0. admits the call or, when `max_calls` calls are in flight already,
//      answers RESOURCE_EXHAUSTED at once (on gRPC's thread, without
//      queueing, parsing or logging); an admitted call's work runs on a
//      WorkerPool thread (worker_pool.h says why not on gRPC's),
//   1. parses the request itself (request_parser.h), so that bytes that are
//      not a valid request get INVALID_ARGUMENT naming the field rather
//      than gRPC's bare INTERNAL,
//   2. returns CANCELLED or DEADLINE_EXCEEDED without doing any work when
//      the client has already given up or the deadline has passed (also
//      while the call waited for a worker),
//   3. takes the current index snapshot (serving_index.h), which the call
//      keeps to its end even if the index is reloaded meanwhile,
//   4. calls the logic, which does all validation and all the work, under a
//      QueryBudget (query_budget.h) installed on the worker thread for
//      exactly that work: the per-call step limit, the call's deadline and
//      its cancellation; when the budget stops the call, its status
//      (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, CANCELLED) is the call's,
//      even if the logic carried on with partial results,
//   5. converts the absl::Status with ToGrpcStatus (grpc_status.h),
//   6. writes one request-log line (request_log.h), when there is a log,
//   7. finishes the call: headers, response and status go out in one batch,
//      so a client never sees headers of a call whose status may not follow
//      (a replica that dies mid-call leaves the call retryable elsewhere).
// There is deliberately nothing else here: tests exercise the logic directly
// and this class only through a real server (tests/server_test.cc).
//
// Thread-safe: gRPC calls the handlers concurrently; the logic is const, the
// request log locks, and the worker pool is thread-safe. Destroy the
// service only after the grpc::Server it is registered with.

#ifndef CITEKB_SERVICE_KNOWLEDGE_BASE_SERVICE_H_
#define CITEKB_SERVICE_KNOWLEDGE_BASE_SERVICE_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "service/knowledge_base.h"
#include "service/request_log.h"
#include "service/serving_index.h"
#include "service/worker_pool.h"

namespace citekb {

class KnowledgeBaseService final : public v1::KnowledgeBase::Service {
 public:
  struct Options {
    // Bounds each call's index work (QueryLimits::max_steps; 0 for none).
    int64_t max_query_steps = 0;
    // Threads running admitted calls (WorkerPoolOptions::threads).
    int worker_threads = 1;
    // Calls admitted at once, running or waiting for a worker; one more
    // gets RESOURCE_EXHAUSTED at once.
    int max_calls = 1;
  };

  // `index` and `log` must outlive the service. `log` may be null: no
  // request log is written.
  KnowledgeBaseService(const ServingIndex& index, RequestLog* log,
                       const Options& options);

  KnowledgeBaseService(const KnowledgeBaseService&) = delete;
  KnowledgeBaseService& operator=(const KnowledgeBaseService&) = delete;

  // Calls admitted and not yet finished: from the moment gRPC hands a call
  // over until its status has been handed back, including calls waiting for
  // a worker. Refused calls never count.
  int calls_in_flight() const { return workers_.admitted(); }

 private:
  // A KnowledgeBase method: absl::StatusOr<Response> (const Request&) const.
  template <typename Request, typename Response>
  using Logic =
      absl::StatusOr<Response> (KnowledgeBase::*)(const Request&) const;

  // Makes gRPC hand `name`'s calls over as bytes, to step 0 above, and
  // their admitted work to Handle with `logic`.
  template <typename Request, typename Response>
  void Serve(absl::string_view name, Logic<Request, Response> logic);

  // Steps 1-6 above, on a worker thread: returns the call's status and, when
  // it is OK, fills `*reply` with the serialized response.
  template <typename Request, typename Response>
  grpc::Status Handle(absl::string_view method, absl::Time start,
                      grpc::CallbackServerContext& context,
                      const grpc::ByteBuffer& received,
                      grpc::ByteBuffer* reply, Logic<Request, Response> logic);

  // Steps 2-6 for a parsed request.
  template <typename Request, typename Response>
  grpc::Status Answer(absl::string_view method, absl::Time start,
                      grpc::CallbackServerContext& context,
                      const Request& request, Response* response,
                      Logic<Request, Response> logic);

  const ServingIndex& index_;
  RequestLog* const log_;
  const int64_t max_query_steps_;
  const int max_calls_;
  // Last, so that it is destroyed (its threads joined) before anything its
  // work touches.
  WorkerPool workers_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_KNOWLEDGE_BASE_SERVICE_H_
