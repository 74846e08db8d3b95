// The gRPC face of the knowledge base: a thin adaptor from
// citekb.v1.KnowledgeBase to citekb::KnowledgeBase (knowledge_base.h),
// served through gRPC's callback API. Every call is first handed to the
// CallScheduler (call_scheduler.h), which admits it or, when `max_calls`
// calls are in flight already, has it answered RESOURCE_EXHAUSTED at once
// (on gRPC's thread, without parsing or logging: a log line per refusal
// would make overload worse). An admitted call then, on the thread the
// scheduler picked,
//   1. parses the request itself (request_parser.h), so that bytes that are
//      not a valid request get INVALID_ARGUMENT naming the field rather
//      than gRPC's bare INTERNAL,
//   2. returns CANCELLED or DEADLINE_EXCEEDED without doing any work when
//      the client has already given up or the deadline has passed (also
//      while the call waited for a worker),
//   3. takes the current index snapshot (serving_index.h), which the call
//      keeps to its end even if the index is reloaded meanwhile,
//   4. calls the logic, which does all validation and all the work, under a
//      QueryBudget (query_budget.h) installed on the calling thread for
//      exactly that work: the per-call step limit, the call's deadline and
//      its cancellation; when the budget stops the call, its status
//      (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, CANCELLED) is the call's,
//      even if the logic carried on with partial results,
//   5. converts the absl::Status with ToGrpcStatus (grpc_status.h) and
//      serializes the response,
//   6. writes one request-log line, when there is a log (request_log.h:
//      this waits only while the log's stream is stalled),
//   7. finishes the call: headers, response and status go out in one batch,
//      so a client never sees headers of a call whose status may not follow
//      (a replica that dies mid-call leaves the call retryable elsewhere).
//      The request and response are freed after that, off the call's
//      latency.
// There is deliberately nothing else here: tests exercise the logic directly
// and this class only through a real server (tests/e2e/server_test.cc).
//
// Thread-safe: gRPC calls the handlers concurrently; the logic is const, the
// request log and the scheduler are thread-safe. Destroy the service only
// after the grpc::Server it is registered with.

#ifndef CITEKB_SERVICE_SERVER_KNOWLEDGE_BASE_SERVICE_H_
#define CITEKB_SERVICE_SERVER_KNOWLEDGE_BASE_SERVICE_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "service/knowledge_base/knowledge_base.h"
#include "service/server/call_scheduler.h"
#include "service/server/request_log.h"
#include "service/server/serving_index.h"

namespace citekb {

class KnowledgeBaseService final : public v1::KnowledgeBase::Service {
 public:
  struct Options {
    // Bounds each call's index work (QueryLimits::max_steps; 0 for none).
    int64_t max_query_steps = 0;
    // Where calls run and how many are in flight (call_scheduler.h).
    CallSchedulerOptions scheduling;
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
  int calls_in_flight() const { return scheduler_.calls_in_flight(); }

 private:
  // A KnowledgeBase method: absl::StatusOr<Response> (const Request&) const.
  template <typename Request, typename Response>
  using Logic =
      absl::StatusOr<Response> (KnowledgeBase::*)(const Request&) const;

  // What gRPC hands over for one call; all of it lives until Finish.
  struct Call {
    absl::string_view method;
    absl::Time start;
    grpc::CallbackServerContext* context;
    const grpc::ByteBuffer* received;
    grpc::ByteBuffer* reply;
    grpc::ServerUnaryReactor* reactor;
  };

  // Makes gRPC hand `name`'s calls over as bytes, to the scheduler, which
  // runs the admitted ones with Run and `logic`.
  template <typename Request, typename Response>
  void Serve(absl::string_view name, Logic<Request, Response> logic);

  // Answers a call refused by the scheduler.
  void Refuse(const Call& call) const;

  // Steps 1-7 for an admitted call.
  template <typename Request, typename Response>
  void Run(const Call& call, Logic<Request, Response> logic);

  // Steps 2-4 for a parsed request: the call's status, with the logic's
  // result in `*result` when it ran.
  template <typename Request, typename Response>
  absl::Status Answer(grpc::CallbackServerContext& context,
                      const Request& request, Logic<Request, Response> logic,
                      absl::StatusOr<Response>* result);

  // Step 6. `request` is the parsed request, or null when it did not parse.
  template <typename Request>
  void Log(const Call& call, const Request* request, size_t request_bytes,
           absl::StatusCode code);

  const ServingIndex& index_;
  RequestLog* const log_;
  const int64_t max_query_steps_;
  const int max_calls_;
  // Last, so that it is destroyed (its workers joined) before anything the
  // calls touch.
  CallScheduler scheduler_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_KNOWLEDGE_BASE_SERVICE_H_
