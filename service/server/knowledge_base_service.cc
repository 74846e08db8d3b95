#include "service/server/knowledge_base_service.h"

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "service/server/grpc_status.h"
#include "service/server/request_parser.h"
#include "service/store/query_budget.h"

namespace citekb {
namespace {

// The call's deadline; InfiniteFuture for a call without one (gRPC reports
// that as the largest time_point, which would overflow absl::Time).
absl::Time DeadlineOf(const grpc::CallbackServerContext& context) {
  const std::chrono::system_clock::time_point deadline = context.deadline();
  if (deadline >= std::chrono::system_clock::time_point::max() -
                      std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

// Parses the request gRPC received into `*request`; `*bytes` gets its size.
// The message is parsed where it lies when it arrived in one piece (as small
// messages do), and only copied into one piece when it did not.
absl::Status ParseReceived(const grpc::ByteBuffer& received,
                           google::protobuf::Message* request, size_t* bytes) {
  grpc::Slice slice;
  if (received.TrySingleSlice(&slice).ok()) {
    *bytes = slice.size();
    return ParseRequest(
        absl::string_view(reinterpret_cast<const char*>(slice.begin()),
                          slice.size()),
        request);
  }
  std::vector<grpc::Slice> slices;
  std::string flat;
  if (received.Dump(&slices).ok()) {
    flat.reserve(received.Length());
    for (const grpc::Slice& piece : slices) {
      flat.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
    }
  }
  *bytes = flat.size();
  return ParseRequest(flat, request);
}

}  // namespace

KnowledgeBaseService::KnowledgeBaseService(const ServingIndex& index,
                                           RequestLog* log,
                                           const Options& options)
    : index_(index),
      log_(log),
      max_query_steps_(options.max_query_steps),
      max_calls_(options.max_calls),
      workers_({.threads = options.worker_threads,
                .max_admitted = options.max_calls}) {
  // SQLite work: on gRPC's thread only with the blocking slot, when a
  // worker would have started it at once.
  constexpr Placement kIndex = Placement::kGrpcThreadWhenFree;
  Serve("Ask", &KnowledgeBase::Ask, kIndex);
  Serve("Search", &KnowledgeBase::Search, kIndex);
  Serve("ListSections", &KnowledgeBase::ListSections, kIndex);
  Serve("GetSection", &KnowledgeBase::GetSection, kIndex);
  Serve("ListFaqs", &KnowledgeBase::ListFaqs, kIndex);
  Serve("ListCitations", &KnowledgeBase::ListCitations, kIndex);
  Serve("GetCitation", &KnowledgeBase::GetCitation, kIndex);
  Serve("ListRelatedLinks", &KnowledgeBase::ListRelatedLinks, kIndex);
  // In memory and bounded: see "Where calls run" in the header.
  Serve("EvaluateStack", &KnowledgeBase::EvaluateStack, Placement::kGrpcThread);
}

// The generated Service only supplies the method table (names and paths in
// the .proto's order); every method is replaced here by a "raw" callback
// handler, which hands the request over as bytes (so that ParseRequest, not
// gRPC, decides what a bad request is told) and takes the response as
// bytes. Its Finish sends headers, message and status in one batch, as a
// generated unary handler does. With no synchronous method left, gRPC runs
// no thread pool for this service.
template <typename Request, typename Response>
void KnowledgeBaseService::Serve(absl::string_view name,
                                 Logic<Request, Response> logic,
                                 Placement placement) {
  const google::protobuf::MethodDescriptor* descriptor =
      Request::descriptor()
          ->file()
          ->FindServiceByName("KnowledgeBase")
          ->FindMethodByName(std::string(name));
  MarkMethodRawCallback(
      descriptor->index(),
      new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                               grpc::ByteBuffer>(
          [this, name, logic, placement](grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* received,
                                         grpc::ByteBuffer* reply) {
            // On gRPC's thread: nothing here may block.
            const Call call{.method = name,
                            .start = absl::Now(),
                            .context = context,
                            .received = received,
                            .reply = reply,
                            .reactor = context->DefaultReactor()};
            if (!workers_.TryAdmit()) {
              // As the sync server's thread quota did: refused at once, not
              // logged (a log line per refusal would make overload worse).
              call.reactor->Finish(grpc::Status(
                  grpc::StatusCode::RESOURCE_EXHAUSTED,
                  absl::StrCat("server busy: already handling ", max_calls_,
                               " calls, its limit; retry later")));
            } else if (placement == Placement::kGrpcThread) {
              Run(call, logic, Runner::kGrpcThread);
            } else if (workers_.idle() && TakeBlockingSlot()) {
              Run(call, logic, Runner::kGrpcThreadWithSlot);
              ReleaseBlockingSlot();
            } else {
              workers_.Submit(
                  [this, call, logic] { Run(call, logic, Runner::kWorker); });
            }
            return call.reactor;
          }));
}

template <typename Request, typename Response>
void KnowledgeBaseService::Run(const Call& call, Logic<Request, Response> logic,
                               Runner runner) {
  // Outlive Finish: freeing a response (EvaluateStack's is ~200 protobuf
  // objects) is work the client need not wait for.
  Request request;
  absl::StatusOr<Response> result;
  std::string line;
  grpc::Status status = Process(call, logic, &request, &result,
                                log_ != nullptr ? &line : nullptr);
  if (log_ != nullptr && !WriteLogLine(runner, &line)) {
    // The call's admission moves with it.
    workers_.Submit([this, reactor = call.reactor, status = std::move(status),
                     line = std::move(line)]() mutable {
      log_->WriteLine(std::move(line));
      reactor->Finish(std::move(status));
    });
    return;
  }
  call.reactor->Finish(std::move(status));
  // A worker's admission ends when its work returns (WorkerPool::Submit).
  if (runner != Runner::kWorker) workers_.Release();
}

bool KnowledgeBaseService::WriteLogLine(Runner runner, std::string* line) {
  if (runner != Runner::kGrpcThread) {
    log_->WriteLine(std::move(*line));
    return true;
  }
  if (log_->TryWriteLine(line)) return true;
  if (!TakeBlockingSlot()) return false;
  log_->WriteLine(std::move(*line));
  ReleaseBlockingSlot();
  return true;
}

template <typename Request, typename Response>
grpc::Status KnowledgeBaseService::Process(const Call& call,
                                           Logic<Request, Response> logic,
                                           Request* request,
                                           absl::StatusOr<Response>* result,
                                           std::string* log_line) {
  // No message: the client half-closed without sending one. (An oversized
  // message never gets here: the transport fails that call with
  // RESOURCE_EXHAUSTED itself.)
  if (!call.received->Valid()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request: no request message was sent");
  }
  size_t request_bytes = 0;
  const absl::Status parsed =
      ParseReceived(*call.received, request, &request_bytes);
  const absl::Status status =
      parsed.ok() ? Answer(*call.context, *request, logic, result) : parsed;
  grpc::Status outcome = ToGrpcStatus(status);
  if (outcome.ok()) {
    bool own_buffer = false;
    outcome = grpc::SerializationTraits<Response>::Serialize(
        **result, call.reply, &own_buffer);
  }
  if (log_line != nullptr) {
    std::optional<absl::string_view> question;
    if constexpr (std::is_same_v<Request, v1::AskRequest>) {
      if (parsed.ok()) question = request->question();
    }
    const std::string peer = call.context->peer();
    *log_line = log_->Format({.start = call.start,
                              .method = call.method,
                              .code = status.code(),
                              .latency = absl::Now() - call.start,
                              .request_bytes = request_bytes,
                              .peer = peer,
                              .question = question});
  }
  return outcome;
}

template <typename Request, typename Response>
absl::Status KnowledgeBaseService::Answer(grpc::CallbackServerContext& context,
                                          const Request& request,
                                          Logic<Request, Response> logic,
                                          absl::StatusOr<Response>* result) {
  // The deadline is checked first: once it passes gRPC also marks the call
  // cancelled, and DEADLINE_EXCEEDED is the more useful code to log.
  if (context.deadline() <= std::chrono::system_clock::now()) {
    return absl::DeadlineExceededError(
        "deadline passed before the call started");
  }
  if (context.IsCancelled()) {
    return absl::CancelledError("call cancelled by the client");
  }
  const std::shared_ptr<const KnowledgeBase> kb = index_.Current();
  QueryBudget budget(
      {.max_steps = max_query_steps_,
       .deadline = DeadlineOf(context),
       .cancelled = [&context] { return context.IsCancelled(); }});
  {
    // The logic runs entirely on this thread (the store leases its
    // connections to the calling thread), so the scope covers exactly this
    // call's work.
    QueryBudget::Scope scope(&budget);
    *result = (kb.get()->*logic)(request);
  }
  if (!budget.status().ok()) return budget.status();
  return result->status();
}

}  // namespace citekb
