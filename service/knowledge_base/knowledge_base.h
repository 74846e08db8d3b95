// The knowledge base's logic behind every RPC, without any gRPC: requests
// and responses are the API's protobuf messages, errors are absl::Status
// with the most specific canonical code and a message that names the field
// ("question: must not be empty", "id: no section \"x\" (ListSections
// gives the ids)"). The gRPC adaptor (knowledge_base_service.h) only
// converts statuses and logs.
//
// Each RPC validates its request (request_validation.h, paging.h), asks the
// store, searcher, answer composer or stack evaluator, and builds its
// response from their rows (api_messages.h).
//
//   CITEKB_ASSIGN_OR_RETURN(auto kb, KnowledgeBase::Open("var/citekb.sqlite"));
//   absl::StatusOr<v1::AskResponse> answer = kb->Ask(request);
//
// Every answer, passage and citation comes from the index; nothing is made
// up. Thread-safe: all methods are const and may run concurrently.

#ifndef CITEKB_SERVICE_KNOWLEDGE_BASE_KNOWLEDGE_BASE_H_
#define CITEKB_SERVICE_KNOWLEDGE_BASE_KNOWLEDGE_BASE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "indexer/base/status_macros.h"
#include "service/answer/answer_composer.h"
#include "service/search/searcher.h"
#include "service/stack/stack_evaluator.h"
#include "service/store/store.h"
#include "service/understand/lexicon.h"

namespace citekb {

// Request limits; larger requests get INVALID_ARGUMENT. (Page sizes are
// coerced instead: paging.h.)
inline constexpr int kMaxQuestionBytes = 1000;
inline constexpr int kMaxHistoryTurns = 20;
inline constexpr int kDefaultMaxPassages = 5;
inline constexpr int kMaxMaxPassages = 20;
inline constexpr int kMaxStackTextBytes = 2000;
// Sentences of an Ask answer to a question that states doses: the most
// severe findings first, then the composed answer's sentences.
inline constexpr int kMaxStackAnswerSentences = 3;

class KnowledgeBase {
 public:
  // Opens the index read-only. NOT_FOUND for a missing file, DATA_LOSS for a
  // file that is not a citekb index, FAILED_PRECONDITION for another schema
  // version.
  static absl::StatusOr<std::unique_ptr<KnowledgeBase>> Open(
      const std::string& index_path);

  // Answers from the best passages; `answered` is false when the index does
  // not cover the question. When the question states doses ("is 10000 IU of
  // D3 with 100 mcg K2 too much?"), they are evaluated as by EvaluateStack:
  // the evaluation is returned in `stack_evaluation` and its most severe
  // findings open the answer.
  absl::StatusOr<v1::AskResponse> Ask(const v1::AskRequest& request) const;
  // How Ask reads `request` and ranks what it could quote, for tools that
  // tune the vocabulary (bench/explain.cc); the answer is Ask's without the
  // stack evaluation.
  struct Explanation {
    ResolvedQuestion resolved;
    std::vector<AnswerUnit> units;  // Best first.
    v1::AskResponse response;
  };
  absl::StatusOr<Explanation> Explain(const v1::AskRequest& request) const;
  const Lexicon& lexicon() const { return *lexicon_; }

  absl::StatusOr<v1::SearchResponse> Search(
      const v1::SearchRequest& request) const;
  absl::StatusOr<v1::ListSectionsResponse> ListSections(
      const v1::ListSectionsRequest& request) const;
  absl::StatusOr<v1::GetSectionResponse> GetSection(
      const v1::GetSectionRequest& request) const;
  absl::StatusOr<v1::ListFaqsResponse> ListFaqs(
      const v1::ListFaqsRequest& request) const;
  absl::StatusOr<v1::ListCitationsResponse> ListCitations(
      const v1::ListCitationsRequest& request) const;
  absl::StatusOr<v1::Citation> GetCitation(
      const v1::GetCitationRequest& request) const;
  absl::StatusOr<v1::ListRelatedLinksResponse> ListRelatedLinks(
      const v1::ListRelatedLinksRequest& request) const;
  // Checks a stack against the rules stored in the index (stack_evaluator.h
  // lists the errors). FAILED_PRECONDITION when the index was built without
  // knowledge/stack_rules.textproto.
  absl::StatusOr<v1::EvaluateStackResponse> EvaluateStack(
      const v1::EvaluateStackRequest& request) const;

  // Whether the index has any section: one that has none is an index of
  // nothing, which a server should refuse rather than serve.
  absl::StatusOr<bool> HasSections() const { return store_->HasSections(); }

 private:
  KnowledgeBase(
      std::unique_ptr<Store> store, std::unique_ptr<Searcher> searcher,
      std::unique_ptr<Lexicon> lexicon,
      std::unique_ptr<StackEvaluator> evaluator,
      absl::flat_hash_map<std::string, v1::Citation> finding_citations)
      : store_(std::move(store)),
        searcher_(std::move(searcher)),
        lexicon_(std::move(lexicon)),
        composer_(
            std::make_unique<AnswerComposer>(*store_, *searcher_, *lexicon_)),
        stack_evaluator_(std::move(evaluator)),
        finding_citations_(std::move(finding_citations)) {}

  // Fills `response.citations` from the findings' citation ids.
  absl::Status ResolveFindingCitations(
      v1::EvaluateStackResponse& response) const;

  std::unique_ptr<Store> store_;
  std::unique_ptr<Searcher> searcher_;        // Reads store_.
  std::unique_ptr<Lexicon> lexicon_;          // Uses searcher_'s tokenizer.
  std::unique_ptr<AnswerComposer> composer_;  // Reads all three.
  std::unique_ptr<StackEvaluator> stack_evaluator_;  // null without rules
  // Every citation the rules' evidence names, resolved once at Open: the
  // index never changes under a KnowledgeBase.
  absl::flat_hash_map<std::string, v1::Citation> finding_citations_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_KNOWLEDGE_BASE_KNOWLEDGE_BASE_H_
