// The gRPC face of the knowledge base: a thin adaptor from
// citekb.v1.KnowledgeBase to citekb::KnowledgeBase (knowledge_base.h),
// served through gRPC's callback API. For every RPC it
//   0. admits the call or, when `max_calls` calls are in flight already,
//      answers RESOURCE_EXHAUSTED at once (on gRPC's thread, without
//      queueing, parsing or logging). An admitted call runs steps 1-7 on
//      the gRPC thread that received it or on a WorkerPool thread
//      (worker_pool.h says why not always on gRPC's); see "Where calls run"
//      below,
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
//   6. writes one request-log line (request_log.h), when there is a log,
//   7. finishes the call: headers, response and status go out in one batch,
//      so a client never sees headers of a call whose status may not follow
//      (a replica that dies mid-call leaves the call retryable elsewhere).
//      The request and response are freed after that, off the call's
//      latency.
// There is deliberately nothing else here: tests exercise the logic directly
// and this class only through a real server (tests/server_test.cc).
//
// Where calls run. Handing a call to a worker and finishing it from there
// costs thread wake-ups (the worker's, then a gRPC thread's to complete the
// call, often gRPC's executor's too) and preemptions between the two sets of
// threads. Measured on 2 cores at concurrency 32: 10-15 us of server CPU
// per EvaluateStack, as much as its logic (~11 us), and ~45 us per Ask; and
// tens of microseconds of latency one call at a time (bench/RESULTS.md). So
// a call runs on the gRPC thread that received it whenever that cannot hold
// up anything else:
//   - EvaluateStack always: its work is in memory (the rules and citations
//     KnowledgeBase reads at Open), short, and bounded by its request
//     limits; it never waits.
//   - Any other call when a worker is free and no call is waiting for one
//     (a worker would have started it at once: running it here overtakes
//     no one and saves the hand-off), and no other gRPC thread holds the
//     "blocking slot". These calls query SQLite, which can take long (a
//     large index, a connection to wait for, pages to read), so only the
//     one gRPC thread holding the slot may run one. gRPC runs at least two
//     callback threads (1.51: half the cores, at least 2), so another is
//     always free for health checks and refusals. Otherwise the call goes
//     to a worker, in order of arrival. Under load the workers are busy and
//     calls queue, so this is mostly the latency of a lightly loaded
//     server.
//   - The request log (step 6): a gRPC thread without the slot never waits
//     for the stream. Its line goes to the log's batch (a buffered log, the
//     server's default) or to the thread writing, if there is one
//     (RequestLog::TryWriteLine); else it takes the slot to write it; else
//     (the slot is busy, or the log has stalled) the rest of the call goes
//     to a worker.
// Every call counts against `max_calls` wherever it runs.
//
// Thread-safe: gRPC calls the handlers concurrently; the logic is const, the
// request log and the worker pool are thread-safe. Destroy the service only
// after the grpc::Server it is registered with.

#ifndef CITEKB_SERVICE_SERVER_KNOWLEDGE_BASE_SERVICE_H_
#define CITEKB_SERVICE_SERVER_KNOWLEDGE_BASE_SERVICE_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "service/knowledge_base/knowledge_base.h"
#include "service/server/request_log.h"
#include "service/server/serving_index.h"
#include "service/server/worker_pool.h"

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

  // Where a method's calls may run (see "Where calls run" above).
  enum class Placement {
    kGrpcThread,          // always on gRPC's thread: short and never waits
    kGrpcThreadWhenFree,  // on gRPC's thread when it holds the slot
  };
  // The thread running a call, and so whether it may block.
  enum class Runner {
    kWorker,              // a WorkerPool thread: may block
    kGrpcThread,          // gRPC's, without the slot: must not block
    kGrpcThreadWithSlot,  // gRPC's, holding the blocking slot: may block
  };

  // What gRPC hands over for one call; all of it lives until Finish.
  struct Call {
    absl::string_view method;
    absl::Time start;
    grpc::CallbackServerContext* context;
    const grpc::ByteBuffer* received;
    grpc::ByteBuffer* reply;
    grpc::ServerUnaryReactor* reactor;
  };

  // Makes gRPC hand `name`'s calls over as bytes, to step 0 above, and
  // their admitted work to Run with `logic`, where `placement` allows.
  template <typename Request, typename Response>
  void Serve(absl::string_view name, Logic<Request, Response> logic,
             Placement placement);

  // Steps 1-7 for an admitted call on `runner`, and the end of its
  // admission.
  template <typename Request, typename Response>
  void Run(const Call& call, Logic<Request, Response> logic, Runner runner);

  // Step 6: writes `*line` as `runner` may (see "Where calls run"). False,
  // with `*line` untouched, when it must be written from a worker instead.
  bool WriteLogLine(Runner runner, std::string* line);

  // The blocking slot: true when this thread took it (it was free).
  bool TakeBlockingSlot() {
    return !blocking_slot_taken_.load(std::memory_order_relaxed) &&
           !blocking_slot_taken_.exchange(true, std::memory_order_acquire);
  }
  void ReleaseBlockingSlot() {
    blocking_slot_taken_.store(false, std::memory_order_release);
  }

  // Steps 1-5 and the log line of step 6 (into `*log_line`, when not null):
  // returns the call's status and, when it is OK, fills `call.reply`.
  // `*request` and `*result` are the caller's, to free after Finish.
  template <typename Request, typename Response>
  grpc::Status Process(const Call& call, Logic<Request, Response> logic,
                       Request* request, absl::StatusOr<Response>* result,
                       std::string* log_line);

  // Steps 2-4 for a parsed request: the call's status, with the logic's
  // result in `*result` when it ran.
  template <typename Request, typename Response>
  absl::Status Answer(grpc::CallbackServerContext& context,
                      const Request& request, Logic<Request, Response> logic,
                      absl::StatusOr<Response>* result);

  const ServingIndex& index_;
  RequestLog* const log_;
  const int64_t max_query_steps_;
  const int max_calls_;
  // Held by the one gRPC thread, at most, that is doing something that may
  // block: a call's index work, or writing the request log.
  std::atomic<bool> blocking_slot_taken_{false};
  // Last, so that it is destroyed (its threads joined) before anything its
  // work touches.
  WorkerPool workers_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_KNOWLEDGE_BASE_SERVICE_H_
