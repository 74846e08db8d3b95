#include "service/answer/follow_ups.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_replace.h"
#include "indexer/format/index_schema.h"

namespace citekb {
namespace {

namespace kpb = ::citekb::knowledge::v1;

// The intents a suggestion may ask, in the order they are offered.
constexpr Intent kSuggestedIntents[] = {
    kpb::INTENT_DOSE, kpb::INTENT_TIMING, kpb::INTENT_SAFETY,
    kpb::INTENT_MECHANISM, kpb::INTENT_DEFICIENCY};

class Suggestions {
 public:
  Suggestions(const std::string& question, citekb::v1::AskResponse& response)
      : asked_(absl::AsciiStrToLower(question)), response_(response) {}

  bool full() const { return response_.follow_ups_size() >= kMaxFollowUps; }
  void Add(const std::string& question) {
    const std::string lower = absl::AsciiStrToLower(question);
    if (full() || lower == asked_) return;
    for (const std::string& existing : response_.follow_ups()) {
      if (absl::AsciiStrToLower(existing) == lower) return;
    }
    response_.add_follow_ups(question);
  }

 private:
  const std::string asked_;
  citekb::v1::AskResponse& response_;
};

bool IsChosen(const AnswerUnit& unit,
              const std::vector<const AnswerUnit*>& chosen) {
  for (const AnswerUnit* c : chosen) {
    if (c->passage().rowid == unit.passage().rowid) return true;
  }
  return false;
}

// What the answer is about: the covered concepts asked about, then those
// the answer's sentences name.
std::vector<int> Topics(const ResolvedQuestion& resolved,
                        const std::vector<const AnswerUnit*>& chosen) {
  std::vector<int> topics;
  auto add = [&](int concept_id) {
    if (std::find(topics.begin(), topics.end(), concept_id) == topics.end())
      topics.push_back(concept_id);
  };
  for (const AskedConcept& c : resolved.question.concepts) {
    if (c.covered) add(c.concept_id);
  }
  for (const AnswerUnit* unit : chosen) {
    for (const SentenceReading* r : Readings(*unit)) {
      for (int named : r->concepts) add(named);
    }
  }
  return topics;
}

void AddFaqQuestions(const std::vector<AnswerUnit>& units,
                     const std::vector<const AnswerUnit*>& chosen,
                     const std::vector<int>& topics, Suggestions& out) {
  for (const AnswerUnit& unit : units) {
    if (unit.kind != AnswerUnit::Kind::kFaqAnswer || IsChosen(unit, chosen))
      continue;
    const SentenceReading& question = unit.main().reading->sentences[0];
    for (int topic : topics) {
      if (question.Mentions(topic)) {
        out.Add(unit.passage().sentences[0].text);
        break;
      }
    }
  }
}

// Whether `unit` answers `intent` about `concept_id`.
bool Answers(const Lexicon& lexicon, const AnswerUnit& unit, int concept_id,
             Intent intent) {
  for (const SentenceReading* r : Readings(unit)) {
    bool about = false;
    for (int named : r->concepts)
      about = about || lexicon.IsSameOrNarrower(named, concept_id);
    if (!about) continue;
    if (intent == kpb::INTENT_DOSE ? r->states_dose
        : intent == kpb::INTENT_SAFETY
            ? unit.passage().article_id == kSafetyReferencesArticleId
            : r->Answers(intent)) {
      return true;
    }
  }
  return false;
}

void AddTemplates(const Lexicon& lexicon, const ResolvedQuestion& resolved,
                  const std::vector<AnswerUnit>& units,
                  const std::vector<int>& topics, Suggestions& out) {
  if (topics.empty()) return;
  const int topic = topics[0];
  for (Intent intent : kSuggestedIntents) {
    const std::string& pattern = lexicon.QuestionTemplate(intent);
    if (intent == resolved.question.intent() || pattern.empty()) continue;
    for (const AnswerUnit& unit : units) {
      if (Answers(lexicon, unit, topic, intent)) {
        out.Add(absl::StrReplaceAll(
            pattern, {{"{concept}", lexicon.ConceptAt(topic).display_name()}}));
        break;
      }
    }
  }
}

}  // namespace

void SuggestFollowUps(const Lexicon& lexicon, const Store& store,
                      const ResolvedQuestion& resolved,
                      const std::vector<AnswerUnit>& units,
                      const std::vector<const AnswerUnit*>& chosen,
                      citekb::v1::AskResponse& response) {
  Suggestions out(resolved.text, response);
  const std::vector<int> topics = Topics(resolved, chosen);
  AddFaqQuestions(units, chosen, topics, out);
  AddTemplates(lexicon, resolved, units, topics, out);
  for (const StoredFaq& faq : store.leading_faqs()) {
    if (!faq.answer_incomplete) out.Add(faq.question);
  }
}

}  // namespace citekb
