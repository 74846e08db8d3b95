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
  // No message: the client half-closed without sending one. (An oversized
  // message never gets here: the transport fails that call with
  // RESOURCE_EXHAUSTED itself.)
  if (!received.Valid()) {
    return absl::InvalidArgumentError("request: no request message was sent");
  }
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
      max_calls_(options.scheduling.max_calls),
      scheduler_(options.scheduling) {
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
// generated unary handler does. As no method is synchronous, gRPC runs no
// thread pool for this service.
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
            const Call call{.method = name,
                            .start = absl::Now(),
                            .context = context,
                            .received = received,
                            .reply = reply,
                            .reactor = context->DefaultReactor()};
            if (!scheduler_.TryRun([this, call, logic] { Run(call, logic); })) {
              Refuse(call);
            }
            return call.reactor;
          }));
}

void KnowledgeBaseService::Refuse(const Call& call) const {
  call.reactor->Finish(
      grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                   absl::StrCat("server busy: already handling ", max_calls_,
                                " calls, its limit; retry later")));
}

template <typename Request, typename Response>
void KnowledgeBaseService::Run(const Call& call,
                               Logic<Request, Response> logic) {
  // Outlive Finish: freeing a response (EvaluateStack's is ~200 protobuf
  // objects) is work the client need not wait for.
  Request request;
  absl::StatusOr<Response> result;
  size_t request_bytes = 0;
  absl::Status status = ParseReceived(*call.received, &request, &request_bytes);
  const bool parsed = status.ok();
  if (parsed) status = Answer(*call.context, request, logic, &result);
  grpc::Status outcome = ToGrpcStatus(status);
  if (outcome.ok()) {
    bool own_buffer = false;
    outcome = grpc::SerializationTraits<Response>::Serialize(
        *result, call.reply, &own_buffer);
  }
  if (log_ != nullptr) {
    Log(call, parsed ? &request : nullptr, request_bytes, status.code());
  }
  call.reactor->Finish(std::move(outcome));
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

template <typename Request>
void KnowledgeBaseService::Log(const Call& call, const Request* request,
                               size_t request_bytes, absl::StatusCode code) {
  std::optional<absl::string_view> question;
  if constexpr (std::is_same_v<Request, v1::AskRequest>) {
    if (request != nullptr) question = request->question();
  }
  const std::string peer = call.context->peer();
  log_->Record({.start = call.start,
                .method = call.method,
                .code = code,
                .latency = absl::Now() - call.start,
                .request_bytes = request_bytes,
                .peer = peer,
                .question = question});
}

}  // namespace citekb
