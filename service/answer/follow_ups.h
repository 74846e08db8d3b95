// The follow-up questions an answer suggests: about what the answer (or,
// for a refusal, the question) is about, and that the knowledge base can
// answer.
//   1. FAQ questions among the passages found that name a concept the
//      answer names, best first (not the one the answer quotes);
//   2. questions made from the vocabulary's templates ("How much vitamin K2
//      should I take?") for the concept asked about, for each intent that
//      a unit found for the question answers about that concept (a dose row
//      for the dose question, a timing sentence for the timing one);
//   3. the corpus's first FAQ questions, when the above leave room.
// At most kMaxFollowUps, none repeating the question.
//
// Thread-safe: a plain function of its arguments.

#ifndef CITEKB_SERVICE_ANSWER_FOLLOW_UPS_H_
#define CITEKB_SERVICE_ANSWER_FOLLOW_UPS_H_

#include <vector>

#include "citekb/v1/knowledge_base.pb.h"
#include "service/answer/answer_units.h"
#include "service/store/store.h"
#include "service/understand/conversation.h"
#include "service/understand/lexicon.h"

namespace citekb {

inline constexpr int kMaxFollowUps = 3;

// `units` are every unit found for the question, best first; `chosen` those
// the answer quotes (none for a refusal). Fills `response.follow_ups`.
void SuggestFollowUps(const Lexicon& lexicon, const Store& store,
                      const ResolvedQuestion& resolved,
                      const std::vector<AnswerUnit>& units,
                      const std::vector<const AnswerUnit*>& chosen,
                      citekb::v1::AskResponse& response);

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_FOLLOW_UPS_H_
