#include "service/understand/question_reader.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/types/span.h"
#include "indexer/base/status_macros.h"

namespace citekb {
namespace {

// When a question asks several things, the most specific leads: "how much
// is too much" asks about safety, "when and how much" about timing.
// A drug named makes it an interaction question, but a dose asked about
// alongside one is still a dose question.
constexpr Intent kIntentPrecedence[] = {
    knowledgepb::INTENT_SAFETY,     knowledgepb::INTENT_RATIO,
    knowledgepb::INTENT_EVIDENCE,   knowledgepb::INTENT_MONITORING,
    knowledgepb::INTENT_TIMING,     knowledgepb::INTENT_DOSE,
    knowledgepb::INTENT_INTERACTION, knowledgepb::INTENT_DEFICIENCY,
    knowledgepb::INTENT_COMPARISON, knowledgepb::INTENT_DEFINITION,
    knowledgepb::INTENT_MECHANISM,
};

// Where a sentence of the message ends: ".", "?", "!", ";" or a line
// break, but not a decimal point.
bool EndsClause(absl::string_view text, size_t i) {
  const char c = text[i];
  if (c == '\n' || c == '?' || c == '!' || c == ';') return true;
  if (c != '.') return false;
  const bool digit_before =
      i > 0 && absl::ascii_isdigit(static_cast<unsigned char>(text[i - 1]));
  const bool digit_after =
      i + 1 < text.size() &&
      absl::ascii_isdigit(static_cast<unsigned char>(text[i + 1]));
  return !(digit_before && digit_after);
}

bool IsNumber(const std::string& term) {
  return !term.empty() && std::all_of(term.begin(), term.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// Words after which what a question names is the setting of what it asks
// about, not its subject: "how much magnesium to go with D3?".
constexpr const char* kContextWords[] = {"with", "alongside", "besides",
                                         "plus", "beside"};
// Words before which a concept is the setting: "add to my D3 K2 stack".
constexpr const char* kSettingNouns[] = {"stack", "combo", "combination",
                                         "protocol", "regimen"};

bool IsOneOf(absl::string_view word, absl::Span<const char* const> list) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// For each concept match, whether it names the setting of the question
// rather than its subject. The first concept named is always the subject,
// and so is a medication (the question is then about taking it).
std::vector<bool> SettingConcepts(
    const Lexicon& lexicon, const Tokens& tokens,
    const std::vector<Lexicon::ConceptMatch>& matches) {
  std::vector<bool> setting(matches.size(), false);
  if (matches.empty()) return setting;
  int context_from = static_cast<int>(tokens.size());
  for (int i = matches[0].end; i < static_cast<int>(tokens.size()); ++i) {
    if (IsOneOf(tokens.words[i], kContextWords)) {
      context_from = i;
      break;
    }
  }
  for (size_t m = 1; m < matches.size(); ++m) {
    if (lexicon.ConceptAt(matches[m].value).kind() ==
        knowledgepb::CONCEPT_KIND_MEDICATION) {
      continue;
    }
    const int after = matches[m].end;
    const bool before_setting_noun =
        after < static_cast<int>(tokens.size()) &&
        IsOneOf(tokens.words[after], kSettingNouns);
    setting[m] = matches[m].begin > context_from || before_setting_noun;
  }
  return setting;
}

void SortIntents(std::vector<Intent>& intents) {
  auto rank = [](Intent intent) {
    const auto* at = std::find(std::begin(kIntentPrecedence),
                               std::end(kIntentPrecedence), intent);
    return at - std::begin(kIntentPrecedence);
  };
  std::stable_sort(intents.begin(), intents.end(),
                   [&](Intent a, Intent b) { return rank(a) < rank(b); });
}

}  // namespace

bool AnalyzedQuestion::Asks(Intent i) const {
  return std::find(intents.begin(), intents.end(), i) != intents.end();
}

bool AnalyzedQuestion::Names(int concept_id) const {
  for (const AskedConcept& c : concepts) {
    if (c.concept_id == concept_id) return true;
  }
  return false;
}

absl::StatusOr<AnalyzedQuestion> QuestionReader::Read(
    absl::string_view text) const {
  CITEKB_ASSIGN_OR_RETURN(std::vector<Clause> clauses, SplitClauses(text));
  AnalyzedQuestion question;
  for (const Clause& clause : clauses) {
    CITEKB_RETURN_IF_ERROR(ReadClause(clause, question));
  }
  for (const AskedConcept& c : question.concepts) {
    if (lexicon_.ConceptAt(c.concept_id).kind() ==
            knowledgepb::CONCEPT_KIND_MEDICATION &&
        !question.Asks(knowledgepb::INTENT_INTERACTION)) {
      question.intents.push_back(knowledgepb::INTENT_INTERACTION);
    }
  }
  SortIntents(question.intents);
  WeighUncovered(question);
  return question;
}

absl::StatusOr<std::vector<QuestionReader::Clause>>
QuestionReader::SplitClauses(absl::string_view text) const {
  std::vector<Clause> clauses;
  int question_clause = -1;
  int asking_clause = -1;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && !EndsClause(text, i)) continue;
    CITEKB_ASSIGN_OR_RETURN(Tokens tokens,
                            lexicon_.Tokenize(text.substr(start, i - start)));
    if (!tokens.empty()) {
      CorrectSpelling(tokens);
      if (i < text.size() && text[i] == '?') {
        question_clause = static_cast<int>(clauses.size());
      }
      if (!lexicon_.AskedIntents(tokens.terms).empty()) {
        asking_clause = static_cast<int>(clauses.size());
      }
      clauses.push_back({std::move(tokens), false});
    }
    start = i + 1;
  }
  // The question is the last sentence with a question mark, else the last
  // that asks something, else the last.
  int asked = question_clause >= 0 ? question_clause : asking_clause;
  if (asked < 0) asked = static_cast<int>(clauses.size()) - 1;
  for (int i = 0; i < static_cast<int>(clauses.size()); ++i) {
    clauses[i].preamble = i != asked;
  }
  return clauses;
}

void QuestionReader::CorrectSpelling(Tokens& tokens) const {
  std::vector<std::string>& terms = tokens.terms;
  const std::vector<bool> fillers = lexicon_.Fillers(tokens);
  for (size_t i = 0; i < terms.size(); ++i) {
    if (fillers[i] || IsNumber(terms[i]) || lexicon_.Knows(terms[i]) ||
        searcher_.PassagesWithTerm(terms[i]) > 0) {
      continue;
    }
    std::string corrected = searcher_.CorrectSpelling(terms[i]);
    if (!corrected.empty()) terms[i] = std::move(corrected);
  }
}

absl::Status QuestionReader::ReadClause(const Clause& clause,
                                        AnalyzedQuestion& question) const {
  const std::vector<std::string>& terms = clause.tokens.terms;
  std::vector<bool> taken = lexicon_.Fillers(clause.tokens);
  // The words that ask ("how much", "mcg", "study") say what is asked, not
  // about what.
  const std::vector<bool> asking = lexicon_.AskingTerms(terms);
  for (size_t i = 0; i < terms.size(); ++i) taken[i] = taken[i] || asking[i];
  for (const Lexicon::IntentMatch& m : lexicon_.AskedIntents(terms)) {
    if (!question.Asks(m.value)) question.intents.push_back(m.value);
  }
  const std::vector<Lexicon::ConceptMatch> matches =
      lexicon_.Concepts(clause.tokens);
  const std::vector<bool> setting =
      SettingConcepts(lexicon_, clause.tokens, matches);
  for (size_t k = 0; k < matches.size(); ++k) {
    const Lexicon::ConceptMatch& m = matches[k];
    for (int i = m.begin; i < m.end; ++i) taken[i] = true;
    if (question.Names(m.value)) continue;
    CITEKB_ASSIGN_OR_RETURN(const double idf, ConceptIdf(m.value));
    // A named concept is what the question is about, however common it is
    // in the index: its idf only says how specific it is. Its setting
    // weighs half.
    question.concepts.push_back(
        {.concept_id = m.value,
         .weight = (1.0 + 0.5 * idf) * (setting[k] ? kSettingWeight : 1.0),
         .covered = idf > 0,
         .in_preamble = clause.preamble});
  }
  if (!clause.preamble) {
    question.continues = lexicon_.OpensOnContinuation(terms);
    for (const std::string& word : clause.tokens.words) {
      question.refers_back = question.refers_back || lexicon_.IsAnaphor(word);
      question.asks_how_often = question.asks_how_often || word == "often" ||
                                word == "frequently" || word == "frequency";
    }
  }
  ReadWords(clause, taken, question);
  return absl::OkStatus();
}

void QuestionReader::ReadWords(const Clause& clause,
                               const std::vector<bool>& taken,
                               AnalyzedQuestion& question) const {
  for (size_t i = 0; i < clause.tokens.size(); ++i) {
    const std::string& term = clause.tokens.terms[i];
    if (taken[i] || IsNumber(term)) continue;
    const int64_t passages = searcher_.PassagesWithTerm(term);
    if (passages == 0) {
      question.unknown_words.push_back(clause.tokens.words[i]);
      continue;
    }
    const bool seen =
        std::any_of(question.words.begin(), question.words.end(),
                    [&](const AskedWord& w) { return w.term == term; });
    if (!seen) {
      // Words are weaker evidence than named concepts.
      question.words.push_back({term, 0.5 * Idf(passages), clause.preamble});
    }
  }
}

double QuestionReader::Idf(int64_t passages) const {
  const double n = static_cast<double>(searcher_.passage_count());
  const double df = static_cast<double>(passages);
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

absl::StatusOr<double> QuestionReader::ConceptIdf(int concept_id) const {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = concept_idf_.find(concept_id); it != concept_idf_.end())
      return it->second;
  }
  CITEKB_ASSIGN_OR_RETURN(
      const int64_t passages,
      searcher_.CountMatching(lexicon_.SearchNames(concept_id)));
  const double idf = passages == 0 ? 0 : Idf(passages);
  absl::MutexLock lock(&mu_);
  concept_idf_.emplace(concept_id, idf);
  return idf;
}

void QuestionReader::WeighUncovered(AnalyzedQuestion& question) const {
  double covered_total = 0;
  int covered = 0;
  bool question_names_covered = false;
  for (const AskedConcept& c : question.concepts) {
    if (!c.covered) continue;
    covered_total += c.weight;
    ++covered;
    question_names_covered = question_names_covered || !c.in_preamble;
  }
  const double typical = covered > 0 ? covered_total / covered : 1.5;
  for (AskedConcept& c : question.concepts) {
    if (!c.covered) c.weight = typical;
    // What the preamble names is context, unless the question itself names
    // nothing: "I take 5000 IU of D3. Is that too much?"
    if (c.in_preamble && question_names_covered) c.weight *= 0.5;
  }
}

}  // namespace citekb
