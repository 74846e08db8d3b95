#include "service/answer/unit_scorer.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "indexer/format/index_schema.h"

namespace citekb {
namespace {

namespace kpb = ::citekb::knowledge::v1;

// What ranks units, beyond the share of the question they cover.
constexpr double kIntentWeight = 0.35;  // Answers what is asked.
constexpr double kFaqWeight = 0.4;      // An FAQ asking the same.
constexpr double kEarlierWeight = 0.5;  // "which study showed that?"
constexpr double kSearchWeight = 0.1;   // The passage's bm25, relative.
constexpr double kAnecdotalPenalty = 0.1;
// Between near equals, the one whose source a reader can check.
constexpr double kCitedWeight = 0.1;
constexpr double kAntecedentPenalty = 0.03;  // Per sentence leaned on.
// A concept's name found inside another concept's name.
constexpr double kPartialNameCredit = 0.5;

bool Cites(const Quote& quote, int sentence) {
  return !quote.passage->sentences[sentence].source_ids.empty();
}

bool FromSafetyReferences(const Quote& quote) {
  return quote.passage->article_id == kSafetyReferencesArticleId;
}

}  // namespace

UnitScorer::UnitScorer(const Lexicon& lexicon, const ResolvedQuestion& question)
    : lexicon_(lexicon), question_(question) {
  const AnalyzedQuestion& q = question.question;
  for (const AskedConcept& c : q.concepts) total_weight_ += c.weight;
  for (const AskedWord& w : q.words) total_weight_ += w.weight;
  total_weight_ += kUnknownWordWeight * static_cast<double>(q.unknown_words.size());
}

double UnitScorer::ConceptCredit(int asked, int named) const {
  if (lexicon_.IsSameOrNarrower(named, asked)) return 1.0;
  if (lexicon_.IsSameOrNarrower(asked, named)) return 0.5;
  return 0;
}

bool UnitScorer::HasNameTerms(const SentenceReading& reading,
                              int concept_id) const {
  for (const std::vector<std::string>& name :
       lexicon_.NameTerms(concept_id)) {
    if (std::all_of(name.begin(), name.end(), [&](const std::string& term) {
          return reading.terms.contains(term);
        })) {
      return true;
    }
  }
  return false;
}

double UnitScorer::Covered(
    const std::vector<const SentenceReading*>& readings) const {
  if (total_weight_ <= 0) return 0;
  const AnalyzedQuestion& q = question_.question;
  double covered = 0;
  for (const AskedConcept& c : q.concepts) {
    if (!c.covered) continue;
    double credit = 0;
    for (const SentenceReading* r : readings) {
      for (int named : r->concepts)
        credit = std::max(credit, ConceptCredit(c.concept_id, named));
      // "fat" inside "fat-soluble": named, though as part of another name.
      if (credit < kPartialNameCredit && HasNameTerms(*r, c.concept_id))
        credit = kPartialNameCredit;
    }
    covered += credit * c.weight;
  }
  for (const AskedWord& w : q.words) {
    for (const SentenceReading* r : readings) {
      if (r->terms.contains(w.term)) {
        covered += w.weight;
        break;
      }
    }
  }
  return covered / total_weight_;
}

double UnitScorer::IntentFit(const SentenceReading& r,
                             const Quote& quote) const {
  const std::vector<Intent>& intents = question_.question.intents;
  if (intents.empty()) return 0;
  // The second thing asked counts, less.
  double fit = FitFor(intents[0], r, quote);
  if (intents.size() > 1) fit = std::max(fit, 0.6 * FitFor(intents[1], r, quote));
  return fit;
}

double UnitScorer::FitFor(Intent intent, const SentenceReading& r,
                          const Quote& quote) const {
  const int sentence = quote.sentences.empty() ? 0 : quote.sentences.back();
  switch (intent) {
    case kpb::INTENT_DOSE:
      // A limit is not a dose to take: it follows the article's figure
      // (Choose adds it), unless the question also asks what is safe.
      if (r.states_dose && FromSafetyReferences(quote) &&
          !question_.question.Asks(kpb::INTENT_SAFETY)) {
        return 0.7;
      }
      return r.states_dose ? 1.0 : r.Answers(kpb::INTENT_DOSE) ? 0.4 : 0;
    case kpb::INTENT_SAFETY:
      return FromSafetyReferences(quote)     ? 1.0
             : r.Answers(kpb::INTENT_SAFETY) ? 0.7
                                             : 0;
    case kpb::INTENT_EVIDENCE:
      return Cites(quote, sentence)            ? 1.0
             : r.Answers(kpb::INTENT_EVIDENCE) ? 0.5
                                               : 0;
    case kpb::INTENT_MONITORING: {
      const bool monitors = r.states_level || r.Answers(kpb::INTENT_MONITORING);
      // "How often?" asks for an interval; a level alone half answers it.
      if (question_.question.asks_how_often)
        return r.states_interval ? 1.0 : monitors ? 0.5 : 0;
      return monitors ? 1.0 : 0;
    }
    case kpb::INTENT_COMPARISON: {
      int named = 0;
      for (const AskedConcept& c : question_.question.concepts)
        named += r.Mentions(c.concept_id);
      return named >= 2 ? 1.0 : r.Answers(kpb::INTENT_COMPARISON) ? 0.5 : 0;
    }
    case kpb::INTENT_DEFINITION:
    case kpb::INTENT_MECHANISM: {
      // What the sentence is about comes first in it.
      const bool about =
          !r.concepts.empty() && question_.question.Names(r.concepts.front());
      return 0.5 * about + 0.5 * r.Answers(question_.question.intent());
    }
    case kpb::INTENT_UNSPECIFIED:
      return 0;
    default:
      return r.Answers(intent) ? 1.0 : 0;
  }
}

bool UnitScorer::SatisfiesIntent(
    const std::vector<const SentenceReading*>& readings) const {
  const std::vector<Intent>& intents = question_.question.intents;
  if (intents.empty()) return true;
  // "maintenance range" may ask a dose or a blood level: either will do.
  if (SatisfiesIntent(intents[0], readings)) return true;
  return intents.size() > 1 && SatisfiesIntent(intents[1], readings);
}

bool UnitScorer::SatisfiesIntent(
    Intent intent, const std::vector<const SentenceReading*>& readings) const {
  for (const SentenceReading* r : readings) {
    switch (intent) {
      case kpb::INTENT_DOSE:
        if (r->states_dose) return true;
        break;
      case kpb::INTENT_MONITORING:
        if (r->states_level || r->Answers(intent)) return true;
        break;
      case kpb::INTENT_TIMING:
      case kpb::INTENT_RATIO:
        if (r->Answers(intent)) return true;
        break;
      default:
        return true;
    }
  }
  return false;
}

// The share of what `reading` names that the question names too.
double UnitScorer::NamedByQuestion(const SentenceReading& reading) const {
  if (reading.concepts.empty()) return 0;
  int named = 0;
  for (int concept_id : reading.concepts) {
    for (const AskedConcept& c : question_.question.concepts) {
      if (ConceptCredit(c.concept_id, concept_id) > 0 ||
          ConceptCredit(concept_id, c.concept_id) > 0) {
        ++named;
        break;
      }
    }
  }
  return static_cast<double>(named) / reading.concepts.size();
}

// An FAQ answer whose question means the same as the user's: each covers
// most of the other ("how does D3 raise calcium levels?" is not what "how
// much D3 a day?" asks, though it names D3), and its answer gives what is
// asked.
double UnitScorer::FaqBonus(const AnswerUnit& unit) const {
  if (unit.kind != AnswerUnit::Kind::kFaqAnswer) return 0;
  const SentenceReading& faq_question = unit.main().reading->sentences[0];
  const double same = std::min(Covered({&faq_question}),
                               NamedByQuestion(faq_question));
  const bool gives_what_is_asked =
      question_.question.intents.empty() || unit.fit > 0;
  return same >= 0.6 && gives_what_is_asked ? kFaqWeight * same : 0;
}

bool UnitScorer::CellAnswers(const SentenceReading& cell) const {
  if (question_.question.intent() != kpb::INTENT_UNSPECIFIED &&
      cell.Answers(question_.question.intent())) {
    return true;
  }
  if (question_.question.intent() == kpb::INTENT_DOSE && cell.states_dose)
    return true;
  for (const AskedWord& w : question_.question.words) {
    if (cell.terms.contains(w.term)) return true;
  }
  return false;
}

// A row answers with the cells that say what is asked; all of them when
// none does (the question is about the row's subject as a whole).
void UnitScorer::ChooseCells(AnswerUnit& unit) const {
  if (unit.kind != AnswerUnit::Kind::kTableRow) return;
  Quote& quote = unit.quotes.back();
  std::vector<int> cells;
  for (int i = 0; i < static_cast<int>(quote.reading->sentences.size()); ++i) {
    if (CellAnswers(quote.reading->sentences[i])) cells.push_back(i);
  }
  if (cells.empty()) {
    for (int i = 0; i < static_cast<int>(quote.reading->sentences.size()); ++i)
      cells.push_back(i);
  }
  quote.sentences = std::move(cells);
}

void UnitScorer::Score(AnswerUnit& unit) const {
  ChooseCells(unit);
  std::vector<const SentenceReading*> readings = Readings(unit);
  // A row's label names its subject, whichever cells are quoted.
  if (unit.kind == AnswerUnit::Kind::kTableRow) {
    readings.push_back(&unit.main().reading->sentences[0]);
  }
  // What a unit leans on names what its "this" and "it" stand for, but the
  // unit says its own sentence: the antecedents' concepts count half.
  std::vector<const SentenceReading*> own;
  for (size_t q = unit.kind == AnswerUnit::Kind::kSentence
                      ? unit.quotes.size() - 1
                      : 0;
       q < unit.quotes.size(); ++q) {
    for (int i : unit.quotes[q].sentences)
      own.push_back(&unit.quotes[q].reading->sentences[i]);
  }
  if (unit.kind == AnswerUnit::Kind::kTableRow) own = readings;
  const double own_share = Covered(own);
  unit.matched = own_share + 0.5 * (Covered(readings) - own_share);
  // How well what it says (not what it leans on) answers the intent.
  double fit = 0;
  const size_t said =
      unit.kind == AnswerUnit::Kind::kFaqAnswer ? 0 : unit.quotes.size() - 1;
  for (size_t q = said; q < unit.quotes.size(); ++q) {
    const Quote& quote = unit.quotes[q];
    for (int i : quote.sentences) {
      fit = std::max(fit, IntentFit(quote.reading->sentences[i],
                                    Quote{quote.passage, quote.reading, {i}}));
    }
  }
  unit.fit = fit;
  double score = unit.matched + kIntentWeight * fit + FaqBonus(unit);
  const StoredPassage& passage = unit.passage();
  if (question_.follow_up && !question_.earlier_answer.empty() &&
      question_.question.intent() == kpb::INTENT_EVIDENCE &&
      absl::StrContains(question_.earlier_answer,
                        passage.sentences[unit.main().sentences[0]].text)) {
    score += kEarlierWeight;
  }
  if (passage.anecdotal) score -= kAnecdotalPenalty;
  const Quote& said_quote = unit.quotes.back();
  if (std::any_of(said_quote.sentences.begin(), said_quote.sentences.end(),
                  [&](int i) { return Cites(said_quote, i); })) {
    score += kCitedWeight;
  }
  score -= kAntecedentPenalty * static_cast<double>(unit.quotes.size() - 1);
  unit.score = score + kSearchWeight * unit.bm25 / (unit.bm25 + 4.0);
}

}  // namespace citekb
