// citekb-explain: how Ask reads a question and ranks what it could quote,
// for whoever tunes the vocabulary (knowledge/vocabulary.textproto) or the
// answer's scoring. Not a server: it opens the index itself.
//
//   citekb-explain --index var/citekb.sqlite "whats the max vit d a day"
//   citekb-explain --index var/citekb.sqlite --history "why k2 with d3" \
//       "and how much of it"
//
// Prints the question as understood (concepts with their weights and
// whether the index covers them, words, intents, the resolved question),
// the ten best answer units with their scores, and the answer.

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "service/answer/answer_units.h"
#include "service/answer/unit_scorer.h"
#include "service/knowledge_base/knowledge_base.h"

ABSL_FLAG(std::string, index, "var/citekb.sqlite", "The index to read.");
ABSL_FLAG(std::vector<std::string>, history, {},
          "Earlier user turns, oldest first, comma-separated.");

namespace citekb {
namespace {

void PrintQuestion(const Lexicon& lexicon, const ResolvedQuestion& r) {
  std::printf("resolved: %s%s\n", r.text.c_str(),
              r.follow_up ? "  (follow-up)" : "");
  for (const AskedConcept& c : r.question.concepts) {
    std::printf("  concept %-28s weight %.2f %s%s\n",
                lexicon.ConceptAt(c.concept_id).id().c_str(), c.weight,
                c.covered ? "covered" : "NOT COVERED",
                c.in_preamble ? " (preamble)" : "");
  }
  for (const AskedWord& w : r.question.words)
    std::printf("  word    %-28s weight %.2f\n", w.term.c_str(), w.weight);
  std::printf("  unknown words: %s\n",
              absl::StrJoin(r.question.unknown_words, " ").c_str());
  for (Intent i : r.question.intents)
    std::printf("  intent  %s\n", knowledgepb::Intent_Name(i).c_str());
}

int Main(const std::string& question) {
  absl::StatusOr<std::unique_ptr<KnowledgeBase>> kb =
      KnowledgeBase::Open(absl::GetFlag(FLAGS_index));
  if (!kb.ok()) {
    std::cerr << kb.status() << "\n";
    return 1;
  }
  v1::AskRequest request;
  for (const std::string& turn : absl::GetFlag(FLAGS_history)) {
    v1::ConversationTurn* t = request.add_history();
    t->set_role(v1::ROLE_USER);
    t->set_text(turn);
  }
  request.set_question(question);
  absl::StatusOr<KnowledgeBase::Explanation> explained =
      (*kb)->Explain(request);
  if (!explained.ok()) {
    std::cerr << explained.status() << "\n";
    return 1;
  }
  PrintQuestion((*kb)->lexicon(), explained->resolved);
  for (size_t i = 0; i < explained->units.size() && i < 10; ++i) {
    const AnswerUnit& u = explained->units[i];
    std::string concepts;
    for (const SentenceReading* r : Readings(u)) {
      for (int c : r->concepts)
        absl::StrAppend(&concepts, " ", (*kb)->lexicon().ConceptAt(c).id());
    }
    std::printf("  %5.2f matched %.2f fit %.2f  %s s%d: %.90s\n      [%s ]\n",
                u.score, u.matched, u.fit, u.passage().id.c_str(),
                u.main().sentences.empty() ? -1 : u.main().sentences[0],
                u.passage().sentences[u.main().sentences[0]].text.c_str(),
                concepts.c_str());
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(explained->response, &text);
  std::printf("answered %d confidence %.2f\n%s\nfollow-ups:\n",
              explained->response.answered(),
              explained->response.confidence(),
              explained->response.answer().c_str());
  for (const std::string& f : explained->response.follow_ups())
    std::printf("  %s\n", f.c_str());
  return 0;
}

}  // namespace
}  // namespace citekb

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "How Ask reads a question: citekb-explain --index FILE \"question\"");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "usage: citekb-explain --index FILE [--history T1,T2] "
                 "\"question\"\n";
    return 2;
  }
  return citekb::Main(args[1]);
}
