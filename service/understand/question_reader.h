// Reads a question the way a person typed it into what it asks (intents)
// and about what (concepts, other words), against the vocabulary
// (lexicon.h) and the index it will be answered from (searcher.h):
//
//   QuestionReader reader(lexicon, searcher);
//   CITEKB_ASSIGN_OR_RETURN(AnalyzedQuestion q, reader.Read(
//       "my doc put me on vit d, whats the max i can take a day"));
//   q.concepts   // vitamin_d3 (covered), upper_intake_level (covered)
//   q.intents    // INTENT_SAFETY, INTENT_DOSE
//
// What it does to the words:
//   - compounds are joined and every word becomes FTS5's term (stem);
//   - a word the index has never seen that is one or two typos from an
//     indexed word is read as that word ("magnesuim", "vitmain");
//   - concept names are found longest first; a concept is covered when the
//     index has any of its names (or a narrower concept's);
//   - function words and filler phrases ("pls", "my doctor says") carry no
//     content; the other words the index has are kept as words, and the
//     rest are counted as unknown;
//   - a message of several sentences is read as a preamble and a question:
//     the question is the last sentence that asks (a "?" or an intent cue);
//     what the preamble names weighs half.
//
// Each concept and word gets a weight: a named concept 1 plus half its idf
// over the passages (it is what the question is about, however common), a
// word half its idf (rare words say more); the words that ask ("how much",
// "study") are intent cues, not content. A concept the index never
// mentions weighs as much as a typical concept of the same question, so that a question mostly about
// something the knowledge base lacks ("is vitamin c good with d3?") cannot
// be covered.
//
// Thread-safe: Read() may run concurrently; what it learns of concepts
// (their passage counts) is cached under a mutex.

#ifndef CITEKB_SERVICE_UNDERSTAND_QUESTION_READER_H_
#define CITEKB_SERVICE_UNDERSTAND_QUESTION_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "service/search/searcher.h"
#include "service/understand/lexicon.h"

namespace citekb {

struct AskedConcept {
  int concept_id = 0;  // Lexicon index.
  double weight = 0;
  bool covered = false;      // The index mentions it.
  bool in_preamble = false;  // Named before the question itself.
};

struct AskedWord {
  std::string term;  // An indexed FTS5 term.
  double weight = 0;
  bool in_preamble = false;
};

struct AnalyzedQuestion {
  std::vector<AskedConcept> concepts;  // Distinct, in order of mention.
  std::vector<AskedWord> words;        // Distinct, in order.
  // Words neither indexed nor in the vocabulary, as typed.
  std::vector<std::string> unknown_words;
  // What is asked, the most specific first (safety before dose, dose
  // before mechanism...); empty when no cue says.
  std::vector<Intent> intents;
  bool refers_back = false;  // Uses "it", "that", "they"...
  bool asks_how_often = false;  // "how often", "how frequently".
  bool continues = false;    // Opens on "and", "what about"...

  Intent intent() const {
    return intents.empty() ? knowledgepb::INTENT_UNSPECIFIED : intents[0];
  }
  bool Asks(Intent i) const;
  bool Names(int concept_id) const;
  bool has_content() const { return !concepts.empty() || !words.empty(); }
};

// What unknown words weigh: they are not covered, but a typo nothing
// corrects should not by itself keep a question from its answer.
inline constexpr double kUnknownWordWeight = 0.25;
// What a concept named as the setting of the question weighs, relative to
// its subject ("to go with D3", "in my D3 K2 stack").
inline constexpr double kSettingWeight = 0.5;

class QuestionReader {
 public:
  // Both must outlive the reader.
  QuestionReader(const Lexicon& lexicon, const Searcher& searcher)
      : lexicon_(lexicon), searcher_(searcher) {}

  absl::StatusOr<AnalyzedQuestion> Read(absl::string_view text) const;

  // The concept's idf over the passages; 0 when no passage mentions it.
  absl::StatusOr<double> ConceptIdf(int concept_id) const;

  const Lexicon& lexicon() const { return lexicon_; }

 private:
  struct Clause {
    Tokens tokens;
    bool preamble = false;
  };
  absl::StatusOr<std::vector<Clause>> SplitClauses(
      absl::string_view text) const;
  // Unknown terms one or two typos from an indexed term become that term.
  void CorrectSpelling(Tokens& tokens) const;
  absl::Status ReadClause(const Clause& clause,
                          AnalyzedQuestion& question) const;
  void ReadWords(const Clause& clause, const std::vector<bool>& taken,
                 AnalyzedQuestion& question) const;
  double Idf(int64_t passages) const;
  void WeighUncovered(AnalyzedQuestion& question) const;

  const Lexicon& lexicon_;
  const Searcher& searcher_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<int, double> concept_idf_ ABSL_GUARDED_BY(mu_);
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_UNDERSTAND_QUESTION_READER_H_
