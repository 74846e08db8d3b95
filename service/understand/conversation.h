// Resolves the latest message of a conversation into the standalone
// question that is answered: a follow-up ("and how much?", "is that
// safe?", "what about magnesium?", "which study showed that?") takes what
// it leaves unsaid from the turns before it.
//
//   CITEKB_ASSIGN_OR_RETURN(ResolvedQuestion q,
//                           ResolveConversation(reader, request));
//   // history: "why take k2 with d3?"; question: "and how much of it?"
//   q.text     == "How much vitamin K2 should I take?"
//   q.question    // INTENT_DOSE of vitamin_k2 (and vitamin_d3)
//
// The rules, applied to the message and the latest earlier user turns:
//   - a message that names nothing, or points back ("it", "that") without
//     naming anything itself, is about the concepts of the latest turn that
//     named some;
//   - "and X ...", "what about X?" is about X, asked as the latest turn
//     asked (its intent), or together with the earlier concepts when it
//     also points back ("and k2 alongside that?");
//   - a message that asks nothing of its own ("magnesium?") asks what the
//     latest turn asked;
//   - anything else stands alone.
// A follow-up that moves to something the knowledge base does not cover
// keeps that concept, so it is refused like any such question.
//
// Thread-safe.

#ifndef CITEKB_SERVICE_UNDERSTAND_CONVERSATION_H_
#define CITEKB_SERVICE_UNDERSTAND_CONVERSATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "service/understand/question_reader.h"

namespace citekb {

struct ResolvedQuestion {
  AnalyzedQuestion question;  // With what a follow-up borrowed.
  // The question answered, standalone: the message itself, or for a
  // follow-up a question built from its intent and concepts.
  std::string text;
  bool follow_up = false;
  // For a follow-up: the latest earlier user turn it leans on, and the
  // assistant's latest answer (what "that" may be), when the client sent
  // them.
  std::string earlier_question;
  std::string earlier_answer;
};

absl::StatusOr<ResolvedQuestion> ResolveConversation(
    const QuestionReader& reader, const citekb::v1::AskRequest& request);

}  // namespace citekb

#endif  // CITEKB_SERVICE_UNDERSTAND_CONVERSATION_H_
