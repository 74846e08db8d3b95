// Composes Ask answers from the index: only knowledge-base sentences (and
// table rows, rendered from their cells), each with the sources it cites,
// the one that answers the question first.
//
// The path of one question:
//   1. Understanding (understand/): what the message asks and about what,
//      with a follow-up resolved against the conversation into a standalone
//      question (`resolved_question`).
//   2. Retrieval: BM25 over passages for the names of the concepts asked
//      about (every name the vocabulary knows) and the other words.
//   3. Units (answer_units.h): every sentence of the passages found, with
//      the sentences it leans on; every FAQ answer; every table row.
//   4. Scoring (unit_scorer.h): the share of the question a unit covers,
//      whether it answers what is asked, an FAQ asking the same.
//   5. Choice: the best unit leads; others follow only when they add to
//      it (another part of the question), up to kMaxAnswerSentences; a dose
//      or safety question about a compound also gets its safety limit,
//      when a safety reference states one.
//   6. Refusal: when the answer would cover less than kMinCoverage of the
//      question, or not give what its intent needs (no amount for a dose
//      question...), or the question is about something the knowledge base
//      never mentions, `answered` is false and the answer says so.
//   7. Suggestions: follow-up questions about what the answer is about,
//      that the knowledge base can answer.
//
// Thread-safe (the store, the searcher and the readers are).

#ifndef CITEKB_SERVICE_ANSWER_ANSWER_COMPOSER_H_
#define CITEKB_SERVICE_ANSWER_ANSWER_COMPOSER_H_

#include "absl/status/statusor.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "service/answer/answer_units.h"
#include "service/answer/passage_reading.h"
#include "service/search/searcher.h"
#include "service/store/store.h"
#include "service/understand/conversation.h"
#include "service/understand/lexicon.h"
#include "service/understand/question_reader.h"

namespace citekb {

inline constexpr double kMinCoverage = 0.55;
inline constexpr int kMaxAnswerSentences = 4;

class AnswerComposer {
 public:
  // All three must outlive the composer.
  AnswerComposer(const Store& store, const Searcher& searcher,
                 const Lexicon& lexicon);

  // How an answer came about: the question as understood and every unit
  // considered, best first.
  struct Trace {
    ResolvedQuestion resolved;
    std::vector<AnswerUnit> units;
  };

  // `request` must be valid (KnowledgeBase::Ask validates); `trace` (when
  // not null) gets how the answer came about.
  absl::StatusOr<citekb::v1::AskResponse> Compose(
      const citekb::v1::AskRequest& request, Trace* trace = nullptr) const;

 private:
  const Store& store_;
  const Searcher& searcher_;
  const Lexicon& lexicon_;
  const QuestionReader questions_;
  const PassageReader passages_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_ANSWER_COMPOSER_H_
