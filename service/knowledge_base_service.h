// The gRPC face of the knowledge base: a thin adaptor from
// citekb.v1.KnowledgeBase to citekb::KnowledgeBase (knowledge_base.h).
// For every RPC it
//   0. parses the request itself (request_parser.h), so that bytes that are
//      not a valid request get INVALID_ARGUMENT naming the field rather
//      than gRPC's bare INTERNAL,
//   1. returns CANCELLED or DEADLINE_EXCEEDED without doing any work when
//      the client has already given up or the deadline has passed,
//   2. takes the current index snapshot (serving_index.h), which the call
//      keeps to its end even if the index is reloaded meanwhile,
//   3. calls the logic, which does all validation and all the work, under a
//      QueryBudget (query_budget.h): the per-call step limit, the call's
//      deadline and its cancellation; when the budget stops the call, its
//      status (RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, CANCELLED) is the
//      call's, even if the logic carried on with partial results,
//   4. converts the absl::Status with ToGrpcStatus (grpc_status.h),
//   5. writes one request-log line (request_log.h), when there is a log.
// There is deliberately nothing else here: tests exercise the logic directly
// and this class only through a real server (tests/server_test.cc).
//
// Thread-safe: gRPC calls the handlers concurrently; the logic is const and
// the request log locks.

#ifndef CITEKB_SERVICE_KNOWLEDGE_BASE_SERVICE_H_
#define CITEKB_SERVICE_KNOWLEDGE_BASE_SERVICE_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "service/knowledge_base.h"
#include "service/request_log.h"
#include "service/serving_index.h"

namespace citekb {

class KnowledgeBaseService final : public v1::KnowledgeBase::Service {
 public:
  // `index` and `log` must outlive the service. `log` may be null: no
  // request log is written. `max_query_steps` bounds each call's index work
  // (QueryLimits::max_steps; 0 for no bound).
  KnowledgeBaseService(const ServingIndex& index, RequestLog* log,
                       int64_t max_query_steps);

  KnowledgeBaseService(const KnowledgeBaseService&) = delete;
  KnowledgeBaseService& operator=(const KnowledgeBaseService&) = delete;

  // Calls inside a handler right now (from the moment gRPC hands the call
  // over until the handler returns).
  int calls_in_flight() const { return in_flight_.load(); }

  grpc::Status Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                   v1::AskResponse* response) override;
  grpc::Status Search(grpc::ServerContext* context,
                      const v1::SearchRequest* request,
                      v1::SearchResponse* response) override;
  grpc::Status ListSections(grpc::ServerContext* context,
                            const v1::ListSectionsRequest* request,
                            v1::ListSectionsResponse* response) override;
  grpc::Status GetSection(grpc::ServerContext* context,
                          const v1::GetSectionRequest* request,
                          v1::GetSectionResponse* response) override;
  grpc::Status ListFaqs(grpc::ServerContext* context,
                        const v1::ListFaqsRequest* request,
                        v1::ListFaqsResponse* response) override;
  grpc::Status ListCitations(grpc::ServerContext* context,
                             const v1::ListCitationsRequest* request,
                             v1::ListCitationsResponse* response) override;
  grpc::Status GetCitation(grpc::ServerContext* context,
                           const v1::GetCitationRequest* request,
                           v1::Citation* response) override;
  grpc::Status ListRelatedLinks(
      grpc::ServerContext* context, const v1::ListRelatedLinksRequest* request,
      v1::ListRelatedLinksResponse* response) override;
  grpc::Status EvaluateStack(grpc::ServerContext* context,
                             const v1::EvaluateStackRequest* request,
                             v1::EvaluateStackResponse* response) override;

 private:
  // A KnowledgeBase method: absl::StatusOr<Response> (const Request&) const.
  template <typename Request, typename Response>
  using Logic =
      absl::StatusOr<Response> (KnowledgeBase::*)(const Request&) const;

  // One of the RPC methods above.
  template <typename Request, typename Response>
  using Method = grpc::Status (KnowledgeBaseService::*)(grpc::ServerContext*,
                                                         const Request*,
                                                         Response*);

  // Step 0: makes gRPC hand `name`'s request over as bytes, which are
  // parsed with ParseRequest and then given to `method`.
  template <typename Request, typename Response>
  void ParseRequestsOurselves(absl::string_view name,
                              Method<Request, Response> method);

  // Steps 1-5 above, shared by every RPC.
  template <typename Request, typename Response>
  grpc::Status Handle(absl::string_view method, grpc::ServerContext* context,
                      const Request& request, Response* response,
                      Logic<Request, Response> logic);

  const ServingIndex& index_;
  RequestLog* const log_;
  const int64_t max_query_steps_;
  std::atomic<int> in_flight_{0};
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_KNOWLEDGE_BASE_SERVICE_H_
