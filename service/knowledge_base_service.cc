#include "service/knowledge_base_service.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/cleanup/cleanup.h"
#include "absl/time/clock.h"
#include "service/grpc_status.h"
#include "service/query_budget.h"

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

}  // namespace

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
