#include "service/knowledge_base_service.h"

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "service/grpc_status.h"
#include "service/query_budget.h"
#include "service/request_parser.h"

namespace citekb {
namespace {

// The call's deadline; InfiniteFuture for a call without one (gRPC reports
// that as the largest time_point, which would overflow absl::Time).
absl::Time DeadlineOf(const grpc::ServerContext& context) {
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
                                           int64_t max_query_steps)
    : index_(index), log_(log), max_query_steps_(max_query_steps) {
  ParseRequestsOurselves("Ask", &KnowledgeBaseService::Ask);
  ParseRequestsOurselves("Search", &KnowledgeBaseService::Search);
  ParseRequestsOurselves("ListSections", &KnowledgeBaseService::ListSections);
  ParseRequestsOurselves("GetSection", &KnowledgeBaseService::GetSection);
  ParseRequestsOurselves("ListFaqs", &KnowledgeBaseService::ListFaqs);
  ParseRequestsOurselves("ListCitations", &KnowledgeBaseService::ListCitations);
  ParseRequestsOurselves("GetCitation", &KnowledgeBaseService::GetCitation);
  ParseRequestsOurselves("ListRelatedLinks",
                         &KnowledgeBaseService::ListRelatedLinks);
  ParseRequestsOurselves("EvaluateStack", &KnowledgeBaseService::EvaluateStack);
}

// gRPC's sync API has no hook for a unary method's parsing, but a method can
// be "streamed unary": the handler reads the one request and writes the one
// response itself. With grpc::ByteBuffer as both types nothing is parsed
// before the handler runs. On the wire this is still a unary call; the
// generated WithStreamedUnaryMethod_* classes do the same with typed
// messages.
template <typename Request, typename Response>
void KnowledgeBaseService::ParseRequestsOurselves(
    absl::string_view name, Method<Request, Response> method) {
  const google::protobuf::MethodDescriptor* descriptor =
      Request::descriptor()
          ->file()
          ->FindServiceByName("KnowledgeBase")
          ->FindMethodByName(std::string(name));
  // Method indices follow the .proto's order, as in the generated Service.
  MarkMethodStreamed(
      descriptor->index(),
      new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer,
                                               grpc::ByteBuffer>(
          [this, name, method](
              grpc::ServerContext* context,
              grpc::ServerUnaryStreamer<grpc::ByteBuffer, grpc::ByteBuffer>*
                  stream) {
            const absl::Time start = absl::Now();
            grpc::ByteBuffer received;
            // No message: the client cancelled, or the transport refused an
            // oversized message and has already failed the call with
            // RESOURCE_EXHAUSTED; this status only reaches a client that
            // half-closed without sending one.
            if (!stream->Read(&received)) {
              return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "request: no request message was sent");
            }
            const std::string bytes = Flatten(received);
            Request request;
            const absl::Status parsed = ParseRequest(bytes, &request);
            if (!parsed.ok()) {
              if (log_ != nullptr) {
                const std::string peer = context->peer();
                log_->Record({.start = start,
                              .method = name,
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
                (this->*method)(context, &request, &response);
            if (!status.ok()) return status;
            grpc::ByteBuffer reply;
            bool own_buffer = false;
            const grpc::Status serialized =
                grpc::SerializationTraits<Response>::Serialize(response, &reply,
                                                               &own_buffer);
            if (!serialized.ok()) return serialized;
            // WriteLast holds the headers and the message back until the
            // status goes out with them, as a generated unary handler does.
            // A plain Write() sends headers first, and a client that has
            // seen headers treats the call as committed: if this replica
            // dies before the trailers, the call fails with UNAVAILABLE
            // instead of being retried on another replica.
            stream->WriteLast(reply, grpc::WriteOptions());
            return grpc::Status::OK;
          }));
}

template <typename Request, typename Response>
grpc::Status KnowledgeBaseService::Handle(absl::string_view method,
                                          grpc::ServerContext* context,
                                          const Request& request,
                                          Response* response,
                                          Logic<Request, Response> logic) {
  const absl::Time start = absl::Now();
  ++in_flight_;
  absl::Cleanup done = [this] { --in_flight_; };
  absl::Status status;
  // The deadline is checked first: once it passes gRPC also marks the call
  // cancelled, and DEADLINE_EXCEEDED is the more useful code to log.
  if (context->deadline() <= std::chrono::system_clock::now()) {
    status =
        absl::DeadlineExceededError("deadline passed before the call started");
  } else if (context->IsCancelled()) {
    status = absl::CancelledError("call cancelled by the client");
  } else {
    const std::shared_ptr<const KnowledgeBase> kb = index_.Current();
    QueryBudget budget(
        {.max_steps = max_query_steps_,
         .deadline = DeadlineOf(*context),
         .cancelled = [context] { return context->IsCancelled(); }});
    absl::StatusOr<Response> result;
    {
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
    const std::string peer = context->peer();
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

grpc::Status KnowledgeBaseService::Ask(grpc::ServerContext* context,
                                       const v1::AskRequest* request,
                                       v1::AskResponse* response) {
  return Handle("Ask", context, *request, response, &KnowledgeBase::Ask);
}

grpc::Status KnowledgeBaseService::Search(grpc::ServerContext* context,
                                          const v1::SearchRequest* request,
                                          v1::SearchResponse* response) {
  return Handle("Search", context, *request, response, &KnowledgeBase::Search);
}

grpc::Status KnowledgeBaseService::ListSections(
    grpc::ServerContext* context, const v1::ListSectionsRequest* request,
    v1::ListSectionsResponse* response) {
  return Handle("ListSections", context, *request, response,
                &KnowledgeBase::ListSections);
}

grpc::Status KnowledgeBaseService::GetSection(
    grpc::ServerContext* context, const v1::GetSectionRequest* request,
    v1::GetSectionResponse* response) {
  return Handle("GetSection", context, *request, response,
                &KnowledgeBase::GetSection);
}

grpc::Status KnowledgeBaseService::ListFaqs(grpc::ServerContext* context,
                                            const v1::ListFaqsRequest* request,
                                            v1::ListFaqsResponse* response) {
  return Handle("ListFaqs", context, *request, response,
                &KnowledgeBase::ListFaqs);
}

grpc::Status KnowledgeBaseService::ListCitations(
    grpc::ServerContext* context, const v1::ListCitationsRequest* request,
    v1::ListCitationsResponse* response) {
  return Handle("ListCitations", context, *request, response,
                &KnowledgeBase::ListCitations);
}

grpc::Status KnowledgeBaseService::GetCitation(
    grpc::ServerContext* context, const v1::GetCitationRequest* request,
    v1::Citation* response) {
  return Handle("GetCitation", context, *request, response,
                &KnowledgeBase::GetCitation);
}

grpc::Status KnowledgeBaseService::ListRelatedLinks(
    grpc::ServerContext* context, const v1::ListRelatedLinksRequest* request,
    v1::ListRelatedLinksResponse* response) {
  return Handle("ListRelatedLinks", context, *request, response,
                &KnowledgeBase::ListRelatedLinks);
}

grpc::Status KnowledgeBaseService::EvaluateStack(
    grpc::ServerContext* context, const v1::EvaluateStackRequest* request,
    v1::EvaluateStackResponse* response) {
  return Handle("EvaluateStack", context, *request, response,
                &KnowledgeBase::EvaluateStack);
}

}  // namespace citekb
