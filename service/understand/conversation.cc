#include "service/understand/conversation.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "indexer/base/status_macros.h"

namespace citekb {
namespace {

namespace v1 = ::citekb::v1;

// Earlier user turns read, latest first: enough for any follow-up of a
// chat, few enough that a long history costs little.
constexpr int kTurnsRead = 6;

// What the conversation so far is about.
struct Context {
  bool has_topic = false;
  AnalyzedQuestion topic;  // The latest user turn that named something.
  std::string topic_text;
  std::vector<Intent> intents;  // What the latest turn that asked, asked.
  std::string answer;           // The assistant's latest answer.
};

absl::StatusOr<Context> ReadContext(const QuestionReader& reader,
                                    const v1::AskRequest& request) {
  Context context;
  int read = 0;
  for (int i = request.history_size() - 1; i >= 0 && read < kTurnsRead; --i) {
    const v1::ConversationTurn& turn = request.history(i);
    if (turn.role() == v1::ROLE_ASSISTANT) {
      if (context.answer.empty() && !context.has_topic)
        context.answer = turn.text();
      continue;
    }
    ++read;
    CITEKB_ASSIGN_OR_RETURN(AnalyzedQuestion earlier, reader.Read(turn.text()));
    if (context.intents.empty()) context.intents = earlier.intents;
    if (!context.has_topic && !earlier.concepts.empty()) {
      context.has_topic = true;
      context.topic = std::move(earlier);
      context.topic_text = turn.text();
    }
    if (context.has_topic && !context.intents.empty()) break;
  }
  return context;
}

// Adds the topic's concepts that `question` does not name, weighing
// `weight` times as much.
void Borrow(const AnalyzedQuestion& topic, double weight,
            AnalyzedQuestion& question) {
  for (AskedConcept c : topic.concepts) {
    if (question.Names(c.concept_id)) continue;
    c.weight *= weight;
    c.in_preamble = false;
    question.concepts.push_back(c);
  }
}

// The follow-up as a question of its own: the intent's template filled
// with the concepts, or the message with what it is about.
std::string Standalone(const Lexicon& lexicon, const std::string& message,
                       const AnalyzedQuestion& question) {
  std::vector<std::string> names;
  for (const AskedConcept& c : question.concepts) {
    if (!c.in_preamble) {
      names.push_back(lexicon.ConceptAt(c.concept_id).display_name());
    }
  }
  const std::string about = absl::StrJoin(names, " and ");
  const std::string& pattern = lexicon.QuestionTemplate(question.intent());
  if (pattern.empty() || about.empty()) {
    return about.empty() ? message : absl::StrCat(message, " (", about, ")");
  }
  return absl::StrReplaceAll(pattern, {{"{concept}", about}});
}

}  // namespace

absl::StatusOr<ResolvedQuestion> ResolveConversation(
    const QuestionReader& reader, const v1::AskRequest& request) {
  ResolvedQuestion resolved;
  resolved.text = request.question();
  CITEKB_ASSIGN_OR_RETURN(resolved.question, reader.Read(request.question()));
  if (request.history_size() == 0) return resolved;
  CITEKB_ASSIGN_OR_RETURN(const Context context, ReadContext(reader, request));
  AnalyzedQuestion& q = resolved.question;
  const bool names_something = !q.concepts.empty();
  if (!names_something && context.has_topic) {
    Borrow(context.topic, 1.0, q);  // "is that safe?", "dose?"
  } else if (names_something && context.has_topic && q.refers_back) {
    Borrow(context.topic, 0.5, q);  // "and k2 alongside that?"
  } else if (!(names_something && q.continues && context.has_topic) &&
             !(names_something && q.intents.empty() &&
               !context.intents.empty())) {
    return resolved;  // It stands alone.
  }
  // "what about magnesium?", "magnesium?": asked as the latest turn asked.
  if (q.intents.empty()) q.intents = context.intents;
  resolved.follow_up = true;
  resolved.earlier_question = context.topic_text;
  resolved.earlier_answer = context.answer;
  resolved.text = Standalone(reader.lexicon(), request.question(), q);
  return resolved;
}

}  // namespace citekb
