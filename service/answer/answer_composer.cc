#include "service/answer/answer_composer.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/index_schema.h"
#include "service/answer/answer_units.h"
#include "service/answer/follow_ups.h"
#include "service/answer/unit_scorer.h"
#include "service/knowledge_base/api_messages.h"

namespace citekb {
namespace {

namespace v1 = ::citekb::v1;
namespace kpb = ::citekb::knowledge::v1;

// Passages ranked for a question; their sentences are the candidates.
constexpr int kCandidatePassages = 16;
// Phrases searched for at most: every name of every concept asked about.
constexpr size_t kMaxPhrases = 96;
// A unit follows the lead only when it scores this share of the lead's.
constexpr double kSupportShare = 0.7;
// ... and covers this much more of the question than the answer did.
constexpr double kMinAddedCoverage = 0.05;
// A unit that answers what is asked (intent fit at least kLeadFit) leads
// over better-covering ones scoring up to 1 - kLeadShare more.
constexpr double kLeadShare = 0.85;
constexpr double kLeadFit = 0.5;
// The lead must cover this much of the question by itself.
constexpr double kMinLeadCoverage = 0.3;

// The answer being chosen.
struct Choice {
  std::vector<const AnswerUnit*> units;
  int sentences = 0;

  bool Has(const AnswerUnit& unit) const;
  bool Fits(const AnswerUnit& unit) const {
    return sentences + static_cast<int>(unit.quotes.size()) <=
           kMaxAnswerSentences;
  }
  void Add(const AnswerUnit& unit) {
    units.push_back(&unit);
    sentences += static_cast<int>(unit.quotes.size());
  }
  std::vector<const SentenceReading*> Readings() const;
};

bool SameQuote(const Quote& a, const Quote& b) {
  if (a.passage->rowid != b.passage->rowid) return false;
  for (int i : a.sentences) {
    if (std::find(b.sentences.begin(), b.sentences.end(), i) !=
        b.sentences.end())
      return true;
  }
  return false;
}

bool Choice::Has(const AnswerUnit& unit) const {
  for (const AnswerUnit* chosen : units) {
    for (const Quote& a : chosen->quotes) {
      for (const Quote& b : unit.quotes) {
        if (SameQuote(a, b)) return true;
      }
    }
  }
  return false;
}

std::vector<const SentenceReading*> Choice::Readings() const {
  std::vector<const SentenceReading*> readings;
  for (const AnswerUnit* unit : units) {
    for (const SentenceReading* r : citekb::Readings(*unit))
      readings.push_back(r);
  }
  return readings;
}

// What to search for: every name of each covered concept asked about, and
// the other words.
std::vector<std::string> SearchPhrases(const Lexicon& lexicon,
                                       const AnalyzedQuestion& question) {
  std::vector<std::string> phrases;
  for (const AskedConcept& c : question.concepts) {
    if (!c.covered) continue;
    for (const std::string& name : lexicon.SearchNames(c.concept_id)) {
      if (phrases.size() < kMaxPhrases) phrases.push_back(name);
    }
  }
  for (const AskedWord& w : question.words) {
    if (phrases.size() < kMaxPhrases) phrases.push_back(w.term);
  }
  return phrases;
}

// The compounds a dose or safety question asks about, whose safety limit
// belongs beside the article's figure.
bool WantsSafetyLimit(const Lexicon& lexicon, const AnalyzedQuestion& q) {
  if (!q.Asks(kpb::INTENT_DOSE) && !q.Asks(kpb::INTENT_SAFETY)) return false;
  for (const AskedConcept& c : q.concepts) {
    if (c.covered &&
        lexicon.ConceptAt(c.concept_id).kind() == kpb::CONCEPT_KIND_COMPOUND)
      return true;
  }
  return false;
}

// The best safety-reference unit about a compound the question names.
const AnswerUnit* SafetyLimit(const Lexicon& lexicon, const AnalyzedQuestion& q,
                              const std::vector<AnswerUnit>& ranked) {
  for (const AnswerUnit& unit : ranked) {
    if (unit.passage().article_id != kSafetyReferencesArticleId) continue;
    for (const SentenceReading* r : Readings(unit)) {
      for (int named : r->concepts) {
        for (const AskedConcept& c : q.concepts) {
          if (lexicon.ConceptAt(c.concept_id).kind() ==
                  kpb::CONCEPT_KIND_COMPOUND &&
              lexicon.IsSameOrNarrower(named, c.concept_id)) {
            return &unit;
          }
        }
      }
    }
  }
  return nullptr;
}

bool CitesASource(const AnswerUnit& unit) {
  for (const Quote& quote : unit.quotes) {
    for (int i : quote.sentences) {
      if (!quote.passage->sentences[i].source_ids.empty()) return true;
    }
  }
  return false;
}

// An answer none of whose sentences cites a source gets the best unit
// that does and scores near the lead: the reader can then check it.
void AddCitedSupport(const std::vector<AnswerUnit>& ranked,
                     const AnswerUnit& lead, Choice& choice) {
  for (const AnswerUnit* unit : choice.units) {
    if (CitesASource(*unit)) return;
  }
  for (const AnswerUnit& unit : ranked) {
    if (unit.score < kSupportShare * lead.score) return;
    if (CitesASource(unit) && !choice.Has(unit) && choice.Fits(unit)) {
      choice.Add(unit);
      return;
    }
  }
}

// The unit that answers first: the best that gives what is asked (an
// amount, a time...), unless it scores far below the best of all.
const AnswerUnit& ChooseLead(const std::vector<AnswerUnit>& ranked) {
  for (const AnswerUnit& unit : ranked) {
    if (unit.score < kLeadShare * ranked[0].score) break;
    if (unit.fit >= kLeadFit && unit.matched >= kMinLeadCoverage) return unit;
  }
  return ranked[0];
}

// The lead, then units that add to it, then a compound's safety limit.
Choice Choose(const Lexicon& lexicon, const UnitScorer& scorer,
              const ResolvedQuestion& resolved,
              const std::vector<AnswerUnit>& ranked) {
  Choice choice;
  if (ranked.empty()) return choice;
  const AnswerUnit& lead = ChooseLead(ranked);
  if (lead.matched < kMinLeadCoverage) return choice;
  choice.Add(lead);
  const AnswerUnit* limit =
      WantsSafetyLimit(lexicon, resolved.question)
          ? SafetyLimit(lexicon, resolved.question, ranked)
          : nullptr;
  for (size_t i = 0; i < ranked.size(); ++i) {
    const AnswerUnit& unit = ranked[i];
    if (&unit == &lead) continue;
    if (unit.score < kSupportShare * lead.score) break;
    if (&unit == limit || choice.Has(unit) || !choice.Fits(unit)) continue;
    std::vector<const SentenceReading*> readings = choice.Readings();
    const double before = scorer.Covered(readings);
    for (const SentenceReading* r : Readings(unit)) readings.push_back(r);
    if (scorer.Covered(readings) >= before + kMinAddedCoverage)
      choice.Add(unit);
  }
  if (limit != nullptr && !choice.Has(*limit) && choice.Fits(*limit))
    choice.Add(*limit);
  AddCitedSupport(ranked, lead, choice);
  return choice;
}

// Table-row sentences have no closing punctuation of their own.
std::string WithFinalPeriod(std::string text) {
  if (!text.empty() && !absl::StrContains(".!?\"'", text.back()))
    text.push_back('.');
  return text;
}

// One answer sentence per quote: a row rendered from its cells, a
// sentence as written; each with the sources it cites.
void WriteSentence(const Quote& quote, v1::AnswerSentence& out,
                   std::vector<std::string>& sources) {
  const StoredPassage& passage = *quote.passage;
  std::vector<std::string> cited;
  bool anecdotal = true;
  for (int i : quote.sentences) {
    const StoredSentence& sentence = passage.sentences[i];
    anecdotal = anecdotal && sentence.anecdotal;
    for (const std::string& id : sentence.source_ids) cited.push_back(id);
  }
  out.set_text(
      quote.table_row()
          ? RenderRow(quote.reading->row, quote.sentences)
          : WithFinalPeriod(passage.sentences[quote.sentences[0]].text));
  out.set_passage_id(passage.id);
  out.set_anecdotal(anecdotal);
  for (const std::string& id : cited) {
    out.add_citation_ids(id);
    if (std::find(sources.begin(), sources.end(), id) == sources.end())
      sources.push_back(id);
  }
}

absl::Status WriteAnswer(const Store& store, const Choice& choice,
                         v1::AskResponse& response) {
  std::vector<std::string> parts;
  std::vector<std::string> sources;
  for (const AnswerUnit* unit : choice.units) {
    for (const Quote& quote : unit->quotes) {
      v1::AnswerSentence* sentence = response.add_answer_sentences();
      WriteSentence(quote, *sentence, sources);
      parts.push_back(sentence->anecdotal()
                          ? absl::StrCat("(Anecdotal) ", sentence->text())
                          : sentence->text());
    }
  }
  response.set_answer(absl::StrJoin(parts, " "));
  response.set_answered(true);
  for (const std::string& id : sources) {
    CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const StoredCitation> citation,
                            store.CitationById(id));
    *response.add_citations() = CitationMessage(*citation);
  }
  return absl::OkStatus();
}

// Whether the question itself (not its preamble) names something the
// knowledge base never mentions: "does D3 lower cholesterol?" asks about
// cholesterol, and the article's D3 sentences do not answer it.
bool NamesUncovered(const AnalyzedQuestion& q) {
  return std::any_of(q.concepts.begin(), q.concepts.end(),
                     [](const AskedConcept& c) {
                       return !c.covered && !c.in_preamble;
                     });
}

// What the refusal says: what the knowledge base lacks, when it is a
// concept the question names.
std::string RefusalText(const Lexicon& lexicon, const AnalyzedQuestion& q) {
  std::vector<std::string> missing;
  for (const AskedConcept& c : q.concepts) {
    if (!c.covered && !c.in_preamble)
      missing.push_back(lexicon.ConceptAt(c.concept_id).display_name());
  }
  if (missing.empty()) {
    return "The knowledge base does not cover this question, so there is no "
           "sourced answer to give.";
  }
  return absl::StrCat("The knowledge base has no sources on ",
                      absl::StrJoin(missing, " or "),
                      ", so there is no sourced answer to give.");
}

// The passages behind the answer, with snippets unless the request asks
// for references only (snippets only for the passages returned).
absl::Status AddPassages(const Searcher& searcher, const PhraseQuery& query,
                         const v1::AskRequest& request,
                         std::vector<PassageHit>& hits,
                         v1::AskResponse& response) {
  const int max_passages =
      request.max_passages() > 0 ? request.max_passages() : 5;
  std::vector<PassageHit*> returned;
  for (size_t i = 0;
       i < hits.size() && static_cast<int>(returned.size()) < max_passages;
       ++i) {
    // An FAQ whose answer was cut off would show a question with no answer.
    if (!hits[i].stored->incomplete_faq) returned.push_back(&hits[i]);
  }
  const bool quote_passages =
      request.passage_detail() != v1::PASSAGE_DETAIL_REFERENCE;
  if (quote_passages) {
    CITEKB_RETURN_IF_ERROR(searcher.AddSnippets(query, returned));
  }
  for (const PassageHit* hit : returned) {
    *response.add_passages() =
        PassageMessage(*hit->stored, hit->score, hit->snippet, quote_passages);
  }
  return absl::OkStatus();
}

}  // namespace

AnswerComposer::AnswerComposer(const Store& store, const Searcher& searcher,
                               const Lexicon& lexicon)
    : store_(store),
      searcher_(searcher),
      lexicon_(lexicon),
      questions_(lexicon, searcher),
      passages_(lexicon) {}

absl::StatusOr<v1::AskResponse> AnswerComposer::Compose(
    const v1::AskRequest& request, Trace* trace) const {
  CITEKB_ASSIGN_OR_RETURN(ResolvedQuestion resolved,
                          ResolveConversation(questions_, request));
  v1::AskResponse response;
  response.set_resolved_question(resolved.text);
  CITEKB_ASSIGN_OR_RETURN(
      const PhraseQuery query,
      searcher_.Prepare(SearchPhrases(lexicon_, resolved.question)));
  std::vector<PassageHit> hits;
  if (!query.phrases.empty()) {
    CITEKB_ASSIGN_OR_RETURN(
        hits, searcher_.SearchPassages(query, {}, kCandidatePassages, 0,
                                       nullptr, {.snippets = false}));
  }
  CITEKB_ASSIGN_OR_RETURN(std::vector<AnswerUnit> units,
                          BuildUnits(hits, {store_, searcher_, passages_}));
  const UnitScorer scorer(lexicon_, resolved);
  for (AnswerUnit& unit : units) scorer.Score(unit);
  std::stable_sort(units.begin(), units.end(),
                   [](const AnswerUnit& a, const AnswerUnit& b) {
                     return a.score > b.score;
                   });
  const Choice choice = Choose(lexicon_, scorer, resolved, units);
  const std::vector<const SentenceReading*> said = choice.Readings();
  const double coverage = scorer.Covered(said);
  if (choice.units.empty() || coverage < kMinCoverage ||
      NamesUncovered(resolved.question) ||
      !scorer.SatisfiesIntent(said)) {
    response.set_answered(false);
    response.set_answer(RefusalText(lexicon_, resolved.question));
    SuggestFollowUps(lexicon_, store_, resolved, units, {}, response);
    if (trace != nullptr) *trace = {std::move(resolved), std::move(units)};
    return response;
  }
  {
    CITEKB_RETURN_IF_ERROR(WriteAnswer(store_, choice, response));
    response.set_confidence(
        std::clamp(coverage * (0.6 + 0.4 * choice.units[0]->fit), 0.0, 1.0));
    SuggestFollowUps(lexicon_, store_, resolved, units, choice.units, response);
  }
  CITEKB_RETURN_IF_ERROR(
      AddPassages(searcher_, query, request, hits, response));
  if (trace != nullptr) *trace = {std::move(resolved), std::move(units)};
  return response;
}

}  // namespace citekb
