// The vocabulary a server reads questions and sentences with
// (proto/citekb/knowledge/v1/vocabulary.proto, stored in the index by the
// indexer): concepts and their names, the cues of each intent, and the
// words that carry no content. Everything is matched on FTS5's terms of a
// text with its compounds joined (compound_terms.h), so "Vitamin D3",
// "vitamin d3" and "VITAMIN D-3"... and "arteries"/"artery" meet.
//
//   CITEKB_ASSIGN_OR_RETURN(auto lexicon, Lexicon::Create(vocabulary, tok));
//   CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> terms,
//                           lexicon->Terms("is vit d safe at bedtime?"));
//   lexicon->Concepts(terms)      // vitamin_d3 [1, 3), night [5, 6)
//   lexicon->AskedIntents(terms)  // INTENT_SAFETY [3, 4), INTENT_TIMING ...
//   lexicon->Fillers(terms)       // is, at
//
// Thread-safe: const after Create.

#ifndef CITEKB_SERVICE_UNDERSTAND_LEXICON_H_
#define CITEKB_SERVICE_UNDERSTAND_LEXICON_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "citekb/knowledge/v1/vocabulary.pb.h"
#include "indexer/format/fts_tokenizer.h"
#include "service/understand/phrase_table.h"

namespace citekb {

namespace knowledgepb = ::citekb::knowledge::v1;
using Intent = knowledgepb::Intent;

// A text as the lexicon reads it: each token's FTS5 term (what names and
// cues are matched on) and its word as written, lower case (what function
// words are told by: Porter stems "evening" and "even" alike).
struct Tokens {
  std::vector<std::string> terms;
  std::vector<std::string> words;

  size_t size() const { return terms.size(); }
  bool empty() const { return terms.empty(); }
};

class Lexicon {
 public:
  using ConceptMatch = PhraseTable<int>::Match;
  using IntentMatch = PhraseTable<Intent>::Match;

  // INVALID_ARGUMENT when a `broader` concept is unknown. `tokenizer` must
  // outlive the lexicon.
  static absl::StatusOr<std::unique_ptr<Lexicon>> Create(
      const knowledgepb::Vocabulary& vocabulary, const FtsTokenizer& tokenizer);

  // The terms of `text`: compounds joined, then FTS5's query terms.
  absl::StatusOr<std::vector<std::string>> Terms(absl::string_view text) const;
  // The terms and words of `text`.
  absl::StatusOr<Tokens> Tokenize(absl::string_view text) const;

  // Concept names in `tokens`, longest first, none overlapping; values are
  // concept indexes (0 to concept_count() - 1). A name whose words are all
  // function words ("even" for "evening") is not one.
  std::vector<ConceptMatch> Concepts(const Tokens& tokens) const;
  // Cues of what a question asks, and of what a sentence answers.
  std::vector<IntentMatch> AskedIntents(
      const std::vector<std::string>& terms) const;
  // For each term, whether some cue of what is asked covers it: cues may
  // overlap ("what time" and "time of day").
  std::vector<bool> AskingTerms(const std::vector<std::string>& terms) const;
  std::vector<IntentMatch> AnswerCues(
      const std::vector<std::string>& terms) const;
  // For each token, whether it carries no content: an English function word
  // or part of a filler phrase.
  std::vector<bool> Fillers(const Tokens& tokens) const;
  // Whether `word` (as written, lower case) points back to something said
  // before ("it", "that", "they", "this"...).
  bool IsAnaphor(absl::string_view word) const {
    return anaphors_.contains(word);
  }
  // Whether `terms` open on a continuation of the conversation ("and ...",
  // "what about ...", "how about ...", "also ...").
  bool OpensOnContinuation(const std::vector<std::string>& terms) const;

  // Whether `term` is part of any name, cue or filler phrase: a word the
  // vocabulary knows, which needs no spelling correction.
  bool Knows(absl::string_view term) const {
    return known_terms_.contains(term);
  }

  int concept_count() const { return vocabulary_.concepts_size(); }
  const knowledgepb::Concept& ConceptAt(int index) const {
    return vocabulary_.concepts(index);
  }
  // Whether `concept_id` is `of` or a kind of it, at any depth.
  bool IsSameOrNarrower(int concept_id, int of) const;
  // The names of `concept_id` and of every concept narrower than it: what a
  // passage may say to be about it.
  const std::vector<std::string>& SearchNames(int concept_id) const {
    return search_names_[concept_id];
  }
  // The terms of each of the concept's own names.
  const std::vector<std::vector<std::string>>& NameTerms(
      int concept_id) const {
    return name_terms_[concept_id];
  }
  // The template of a standalone question asking `intent` ("How much
  // {concept} should I take?"); empty when the vocabulary has none.
  const std::string& QuestionTemplate(Intent intent) const;

 private:
  explicit Lexicon(const FtsTokenizer& tokenizer) : tokenizer_(tokenizer) {}
  absl::Status AddConcepts();
  absl::Status AddIntents();
  absl::Status AddFillers();
  // The terms of `phrase`, remembered as known.
  absl::StatusOr<std::vector<std::string>> PhraseTerms(
      absl::string_view phrase);

  const FtsTokenizer& tokenizer_;
  knowledgepb::Vocabulary vocabulary_;
  PhraseTable<int> concepts_;
  PhraseTable<Intent> asked_;
  PhraseTable<Intent> answer_cues_;
  PhraseTable<bool> fillers_;
  PhraseTable<bool> continuations_;
  absl::flat_hash_set<std::string> function_words_;
  absl::flat_hash_set<std::string> anaphors_;
  absl::flat_hash_set<std::string> known_terms_;
  std::vector<int> broader_;  // Per concept_id; -1 for none.
  std::vector<std::vector<std::string>> search_names_;  // Per concept.
  std::vector<std::vector<std::vector<std::string>>> name_terms_;
  std::vector<std::string> templates_;                  // Per Intent value.
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_UNDERSTAND_LEXICON_H_
