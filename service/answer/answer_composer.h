// Composes Ask answers from the index: only knowledge-base sentences, each
// with the sources it cites.
//
// The path of one question:
//   1. Follow-up resolution: a question with few content words or a pronoun
//      ("and how much should I take?") borrows the words of the latest
//      earlier user turn.
//   2. Retrieval: BM25 over passages (query_analyzer.h expands synonyms);
//      an FAQ whose question matches the user's well is moved to the top.
//      FAQ entries whose answer was cut off are never used.
//   3. Coverage: the share of the question's content words, weighted by how
//      rare they are in the index, that the best passages contain. Below
//      kMinCoverage the question is out of scope: `answered` is false and the
//      answer says so instead of guessing.
//   4. Composition: 2-4 sentences, the best-matching ones from the best
//      passages, duplicates removed, in passage then document order;
//      anecdotal sentences are labelled "(Anecdotal)".
//
// Thread-safe (the searcher and the store are).

#ifndef CITEKB_SERVICE_ANSWER_ANSWER_COMPOSER_H_
#define CITEKB_SERVICE_ANSWER_ANSWER_COMPOSER_H_

#include "absl/status/statusor.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "service/search/searcher.h"
#include "service/store/store.h"

namespace citekb {

inline constexpr double kMinCoverage = 0.55;

// `request` must be valid (KnowledgeBase::Ask validates); max_passages 0
// means the default.
absl::StatusOr<citekb::v1::AskResponse> ComposeAnswer(
    const Searcher& searcher, const Store& store,
    const citekb::v1::AskRequest& request);

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_ANSWER_COMPOSER_H_
