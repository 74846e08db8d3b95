#include "service/understand/lexicon.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/compound_terms.h"

namespace citekb {
namespace {

// English words that carry no content in a question: articles, pronouns,
// auxiliaries, prepositions, conjunctions. Words that ask something ("how",
// "why", "when") are intent cues in the vocabulary and are matched before
// these are set aside.
constexpr const char* kFunctionWords[] = {
    "a",       "about",     "above",    "after",      "again",   "all",
    "also",    "am",        "an",       "and",        "any",     "are",
    "as",      "at",        "be",       "been",       "being",   "both",
    "but",     "by",        "can",      "could",      "did",     "do",
    "does",    "doing",     "done",     "each",       "for",     "from",
    "further", "had",       "has",      "have",       "having",  "he",
    "her",     "here",      "him",      "his",        "how",     "i",
    "if",      "in",        "into",     "is",         "it",      "its",
    "itself",  "just",      "me",       "might",      "more",    "most",
    "must",    "my",        "myself",   "of",         "on",      "once",
    "only",    "or",        "other",    "our",        "out",     "over",
    "own",     "same",      "shall",    "she",        "should",  "so",
    "some",    "such",      "than",     "that",       "the",     "their",
    "them",    "then",      "there",    "these",      "they",    "this",
    "those",   "through",   "to",       "too",        "under",   "until",
    "up",      "very",      "was",      "we",         "were",    "what",
    "whats",   "where",     "which",    "while",      "who",     "whom",
    "why",     "will",      "with",     "would",      "you",     "your",
    "yours",   "s",         "t",        "d",          "ll",      "ve",
    "re",      "m",         "don",      "doesn",      "isn",     "aren",
    "didn",    "won",       "wouldn",   "shouldn",    "can't",   "im",
    "ive",     "id",        "youre",    "theyre",     "whether", "when",
    "get",     "got",       "gets",     "getting",    "thing",   "things",
    "one",     "ones",      "much",     "many",       "need",    "needs",
    "know",    "really",    "actually", "like",       "even",    "still",
    "ever",    "yes",       "no",       "not",        "ok",      "okay",
    "u",       "ur",        "ya",       "yeah",       "tho",     "though",
    "anyway",  "something", "anything", "everything",
};

// Words that point back to something said before.
constexpr const char* kAnaphors[] = {"it",    "its",  "that", "this",  "these",
                                     "those", "they", "them", "their", "there"};

// Openings that continue a conversation rather than start one.
constexpr const char* kContinuations[] = {
    "and",     "also",       "so",        "then",      "but",
    "plus",    "what about", "how about", "what if",   "ok so",
    "okay so", "and if",     "same for",  "same with", "what else"};

}  // namespace

absl::StatusOr<std::unique_ptr<Lexicon>> Lexicon::Create(
    const knowledgepb::Vocabulary& vocabulary, const FtsTokenizer& tokenizer) {
  std::unique_ptr<Lexicon> lexicon(new Lexicon(tokenizer));
  lexicon->vocabulary_ = vocabulary;
  CITEKB_RETURN_IF_ERROR(lexicon->AddConcepts());
  CITEKB_RETURN_IF_ERROR(lexicon->AddIntents());
  CITEKB_RETURN_IF_ERROR(lexicon->AddFillers());
  return lexicon;
}

absl::StatusOr<std::vector<std::string>> Lexicon::Terms(
    absl::string_view text) const {
  return tokenizer_.Terms(JoinCompounds(text));
}

absl::StatusOr<Tokens> Lexicon::Tokenize(absl::string_view text) const {
  const std::string joined = JoinCompounds(text);
  Tokens tokens;
  CITEKB_RETURN_IF_ERROR(tokenizer_.Tokenize(
      joined, FtsTokenizer::Purpose::kQuery,
      [&](const FtsTokenizer::Token& token) {
        tokens.terms.emplace_back(token.term);
        tokens.words.push_back(absl::AsciiStrToLower(absl::string_view(
            joined.data() + token.start,
            static_cast<size_t>(token.end - token.start))));
      }));
  return tokens;
}

absl::StatusOr<std::vector<std::string>> Lexicon::PhraseTerms(
    absl::string_view phrase) {
  CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> terms, Terms(phrase));
  known_terms_.insert(terms.begin(), terms.end());
  return terms;
}

absl::Status Lexicon::AddConcepts() {
  absl::flat_hash_map<std::string, int> index_of;
  for (int i = 0; i < concept_count(); ++i) index_of[ConceptAt(i).id()] = i;
  broader_.assign(concept_count(), -1);
  search_names_.assign(concept_count(), {});
  name_terms_.assign(concept_count(), {});
  for (int i = 0; i < concept_count(); ++i) {
    const knowledgepb::Concept& c = ConceptAt(i);
    if (!c.broader().empty()) {
      auto it = index_of.find(c.broader());
      if (it == index_of.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("concept ", c.id(), ": broader concept \"",
                         c.broader(), "\" is unknown"));
      }
      broader_[i] = it->second;
    }
    for (const std::string& name : c.names()) {
      CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> terms,
                              PhraseTerms(name));
      name_terms_[i].push_back(terms);
      concepts_.Add(std::move(terms), i);
    }
  }
  // A passage about MK-7 is about vitamin K2 too.
  for (int i = 0; i < concept_count(); ++i) {
    for (int j = 0; j < concept_count(); ++j) {
      if (!IsSameOrNarrower(j, i)) continue;
      for (const std::string& name : ConceptAt(j).names())
        search_names_[i].push_back(name);
    }
  }
  return absl::OkStatus();
}

absl::Status Lexicon::AddIntents() {
  templates_.assign(knowledgepb::Intent_ARRAYSIZE, "");
  for (const knowledgepb::IntentCues& cues : vocabulary_.intents()) {
    for (const std::string& cue : cues.cues()) {
      CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> terms, PhraseTerms(cue));
      asked_.Add(std::move(terms), cues.intent());
    }
    for (const std::string& cue : cues.answer_cues()) {
      CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> terms, PhraseTerms(cue));
      answer_cues_.Add(std::move(terms), cues.intent());
    }
    templates_[cues.intent()] = cues.question_template();
  }
  return absl::OkStatus();
}

absl::Status Lexicon::AddFillers() {
  for (const std::string& filler : vocabulary_.filler_words()) {
    CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> terms,
                            PhraseTerms(filler));
    fillers_.Add(std::move(terms), true);
  }
  function_words_.insert(std::begin(kFunctionWords), std::end(kFunctionWords));
  anaphors_.insert(std::begin(kAnaphors), std::end(kAnaphors));
  for (const char* opening : kContinuations) {
    CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> terms, Terms(opening));
    continuations_.Add(std::move(terms), true);
  }
  return absl::OkStatus();
}

std::vector<Lexicon::ConceptMatch> Lexicon::Concepts(
    const Tokens& tokens) const {
  std::vector<ConceptMatch> matches = concepts_.FindAll(tokens.terms);
  matches.erase(
      std::remove_if(matches.begin(), matches.end(),
                     [&](const ConceptMatch& m) {
                       for (int i = m.begin; i < m.end; ++i) {
                         if (!function_words_.contains(tokens.words[i]))
                           return false;
                       }
                       return true;
                     }),
      matches.end());
  return matches;
}

std::vector<Lexicon::IntentMatch> Lexicon::AskedIntents(
    const std::vector<std::string>& terms) const {
  return asked_.FindAll(terms);
}

std::vector<bool> Lexicon::AskingTerms(
    const std::vector<std::string>& terms) const {
  std::vector<bool> asking(terms.size(), false);
  for (size_t i = 0; i < terms.size(); ++i) {
    size_t length = 0;
    if (asked_.LongestAt(terms, i, &length) != nullptr) {
      for (size_t k = i; k < i + length; ++k) asking[k] = true;
    }
  }
  return asking;
}

std::vector<Lexicon::IntentMatch> Lexicon::AnswerCues(
    const std::vector<std::string>& terms) const {
  return answer_cues_.FindAll(terms);
}

std::vector<bool> Lexicon::Fillers(const Tokens& tokens) const {
  std::vector<bool> filler(tokens.size(), false);
  for (size_t i = 0; i < tokens.size(); ++i) {
    filler[i] = function_words_.contains(tokens.words[i]);
  }
  for (const PhraseTable<bool>::Match& m : fillers_.FindAll(tokens.terms)) {
    for (int i = m.begin; i < m.end; ++i) filler[i] = true;
  }
  return filler;
}

bool Lexicon::OpensOnContinuation(const std::vector<std::string>& terms) const {
  size_t length = 0;
  return !terms.empty() &&
         continuations_.LongestAt(terms, 0, &length) != nullptr;
}

bool Lexicon::IsSameOrNarrower(int concept_id, int of) const {
  for (int c = concept_id, depth = 0; c >= 0 && depth < 16;
       c = broader_[c], ++depth) {
    if (c == of) return true;
  }
  return false;
}

const std::string& Lexicon::QuestionTemplate(Intent intent) const {
  return templates_[intent];
}

}  // namespace citekb
