#include "service/knowledge_base_service.h"

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
#include "service/grpc_status.h"
#include "service/query_budget.h"
#include "service/request_parser.h"

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

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!buffer.Dump(&slices).ok()) return bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
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
  Serve("Ask", &KnowledgeBase::Ask);
  Serve("Search", &KnowledgeBase::Search);
  Serve("ListSections", &KnowledgeBase::ListSections);
  Serve("GetSection", &KnowledgeBase::GetSection);
  Serve("ListFaqs", &KnowledgeBase::ListFaqs);
  Serve("ListCitations", &KnowledgeBase::ListCitations);
  Serve("GetCitation", &KnowledgeBase::GetCitation);
  Serve("ListRelatedLinks", &KnowledgeBase::ListRelatedLinks);
  Serve("EvaluateStack", &KnowledgeBase::EvaluateStack);
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
                                 Logic<Request, Response> logic) {
  const google::protobuf::MethodDescriptor* descriptor =
      Request::descriptor()
          ->file()
          ->FindServiceByName("KnowledgeBase")
          ->FindMethodByName(std::string(name));
  MarkMethodRawCallback(
      descriptor->index(),
      new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer,
                                               grpc::ByteBuffer>(
          [this, name, logic](grpc::CallbackServerContext* context,
                              const grpc::ByteBuffer* received,
                              grpc::ByteBuffer* reply) {
            // On gRPC's thread: nothing here may block.
            const absl::Time start = absl::Now();
            grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
            // The context, request and reply live until Finish; the work
            // finishes the call as its last use of them.
            const bool admitted = workers_.TrySubmit(
                [this, name, logic, start, context, received, reply,
                 reactor] {
                  reactor->Finish(
                      Handle(name, start, *context, *received, reply, logic));
                });
            if (!admitted) {
              // As the sync server's thread quota did: refused at once, not
              // logged (a log line per refusal would make overload worse).
              reactor->Finish(grpc::Status(
                  grpc::StatusCode::RESOURCE_EXHAUSTED,
                  absl::StrCat("server busy: already handling ", max_calls_,
                               " calls, its limit; retry later")));
            }
            return reactor;
          }));
}

template <typename Request, typename Response>
grpc::Status KnowledgeBaseService::Handle(absl::string_view method,
                                          absl::Time start,
                                          grpc::CallbackServerContext& context,
                                          const grpc::ByteBuffer& received,
                                          grpc::ByteBuffer* reply,
                                          Logic<Request, Response> logic) {
  // No message: the client half-closed without sending one. (An oversized
  // message never gets here: the transport fails that call with
  // RESOURCE_EXHAUSTED itself.)
  if (!received.Valid()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request: no request message was sent");
  }
  const std::string bytes = Flatten(received);
  Request request;
  const absl::Status parsed = ParseRequest(bytes, &request);
  if (!parsed.ok()) {
    if (log_ != nullptr) {
      const std::string peer = context.peer();
      log_->Record({.start = start,
                    .method = method,
                    .code = parsed.code(),
                    .latency = absl::Now() - start,
                    .request_bytes = bytes.size(),
                    .peer = peer,
                    .question = std::nullopt});
    }
    return ToGrpcStatus(parsed);
  }
  Response response;
  const grpc::Status status =
      Answer(method, start, context, request, &response, logic);
  if (!status.ok()) return status;
  bool own_buffer = false;
  return grpc::SerializationTraits<Response>::Serialize(response, reply,
                                                        &own_buffer);
}

template <typename Request, typename Response>
grpc::Status KnowledgeBaseService::Answer(absl::string_view method,
                                          absl::Time start,
                                          grpc::CallbackServerContext& context,
                                          const Request& request,
                                          Response* response,
                                          Logic<Request, Response> logic) {
  absl::Status status;
  // The deadline is checked first: once it passes gRPC also marks the call
  // cancelled, and DEADLINE_EXCEEDED is the more useful code to log.
  if (context.deadline() <= std::chrono::system_clock::now()) {
    status =
        absl::DeadlineExceededError("deadline passed before the call started");
  } else if (context.IsCancelled()) {
    status = absl::CancelledError("call cancelled by the client");
  } else {
    const std::shared_ptr<const KnowledgeBase> kb = index_.Current();
    QueryBudget budget(
        {.max_steps = max_query_steps_,
         .deadline = DeadlineOf(context),
         .cancelled = [&context] { return context.IsCancelled(); }});
    absl::StatusOr<Response> result;
    {
      // The logic runs entirely on this thread (the store leases its
      // connections to the calling thread), so the scope covers exactly
      // this call's work.
      QueryBudget::Scope scope(&budget);
      result = (kb.get()->*logic)(request);
    }
    if (!budget.status().ok()) {
      status = budget.status();
    } else if (result.ok()) {
      *response = *std::move(result);
    } else {
      status = result.status();
    }
  }

  if (log_ != nullptr) {
    std::optional<absl::string_view> question;
    if constexpr (std::is_same_v<Request, v1::AskRequest>) {
      question = request.question();
    }
    const std::string peer = context.peer();
    log_->Record({.start = start,
                  .method = method,
                  .code = status.code(),
                  .latency = absl::Now() - start,
                  .request_bytes = request.ByteSizeLong(),
                  .peer = peer,
                  .question = question});
  }
  return ToGrpcStatus(status);
}

}  // namespace citekb
