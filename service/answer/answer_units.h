// The pieces an answer can quote, made from the passages a search found:
//   - a sentence of a paragraph or an FAQ answer, preceded by the sentences
//     it leans on ("This ensures the D3 actually converts..." comes with
//     "Always pair this stack with at least 400mg of Magnesium..."), up to
//     kMaxAntecedents; a sentence whose antecedents reach further is not a
//     unit at all, since quoting it would change what it says;
//   - a whole FAQ answer;
//   - a table row, rendered from the cells that answer (table_row.h).
// The sentence a paragraph's first sentence leans on is the last sentence
// of the paragraph before it in the same section.
//
//   CITEKB_ASSIGN_OR_RETURN(std::vector<AnswerUnit> units,
//                           BuildUnits(hits, sources));
//
// Thread-safe: plain functions of their arguments.

#ifndef CITEKB_SERVICE_ANSWER_ANSWER_UNITS_H_
#define CITEKB_SERVICE_ANSWER_ANSWER_UNITS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "service/answer/passage_reading.h"
#include "service/search/searcher.h"
#include "service/store/store.h"

namespace citekb {

inline constexpr int kMaxAntecedents = 2;

// One answer sentence: sentences of one passage, quoted together (a table
// row's cells; a single sentence otherwise).
struct Quote {
  std::shared_ptr<const StoredPassage> passage;
  std::shared_ptr<const PassageReading> reading;
  std::vector<int> sentences;  // Indexes into the passage's sentences.

  bool table_row() const {
    return passage->kind == StoredPassage::Kind::kTableRow;
  }
};

struct AnswerUnit {
  enum class Kind { kSentence, kFaqAnswer, kTableRow };
  Kind kind = Kind::kSentence;
  // The sentences it leans on first, then what it says; a FAQ answer's
  // sentences are one quote each.
  std::vector<Quote> quotes;
  int passage_rank = 0;  // Of its passage among the search's hits.
  double bm25 = 0;       // Of its passage.
  double score = 0;      // Set by ScoreUnit (unit_scorer.h).
  double matched = 0;    // Question weight it covers (unit_scorer.h).
  double fit = 0;        // How well it answers the intent (unit_scorer.h).

  const Quote& main() const { return quotes.back(); }
  const StoredPassage& passage() const { return *main().passage; }
};

// Where units come from: the store for the paragraphs before a hit, the
// searcher for their kinds and sections, the reader for what they say.
struct UnitSources {
  const Store& store;
  const Searcher& searcher;
  const PassageReader& reader;
};

absl::StatusOr<std::vector<AnswerUnit>> BuildUnits(
    const std::vector<PassageHit>& hits, const UnitSources& sources);

// The readings of every sentence a unit quotes.
std::vector<const SentenceReading*> Readings(const AnswerUnit& unit);

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_ANSWER_UNITS_H_
