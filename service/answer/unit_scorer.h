// How well an answer unit (answer_units.h) answers a question
// (conversation.h): the share of the question's weight it covers (its
// concepts and words, question_reader.h), and whether it answers what is
// asked (the intent: a dose question wants an amount, an evidence question
// a cited sentence, a timing question a time...).
//
//   UnitScorer scorer(lexicon, question);
//   for (AnswerUnit& unit : units) scorer.Score(unit);
//   // unit.matched: covered share; unit.score: what ranks the units
//
// A table row is also told which of its cells answer (ChooseCells), so that
// a dose question gets the dosage columns, not the whole row.
//
// Thread-safe: const after construction; Score changes only its argument.

#ifndef CITEKB_SERVICE_ANSWER_UNIT_SCORER_H_
#define CITEKB_SERVICE_ANSWER_UNIT_SCORER_H_

#include <vector>

#include "absl/container/flat_hash_set.h"
#include "service/answer/answer_units.h"
#include "service/understand/conversation.h"
#include "service/understand/lexicon.h"

namespace citekb {

class UnitScorer {
 public:
  // Both must outlive the scorer.
  UnitScorer(const Lexicon& lexicon, const ResolvedQuestion& question);

  // Chooses a row's cells, then sets `unit.matched` and `unit.score`.
  void Score(AnswerUnit& unit) const;

  // The question weight that `readings` cover together, as a share of the
  // whole (0 to 1).
  double Covered(const std::vector<const SentenceReading*>& readings) const;

  // How well `reading` answers the question's intent: 0 (not at all) to 1.
  double IntentFit(const SentenceReading& reading, const Quote& quote) const;

  // Whether the answer `readings` make gives what the intent needs: an
  // amount for a dose, a time for timing... Always true for intents any
  // relevant sentence answers (mechanism, definition...).
  bool SatisfiesIntent(
      const std::vector<const SentenceReading*>& readings) const;

 private:
  // How much of concept `asked` a reading that names `named` covers: all
  // of it for the same concept or a narrower one, half for a broader one.
  double ConceptCredit(int asked, int named) const;
  bool SatisfiesIntent(
      Intent intent, const std::vector<const SentenceReading*>& readings) const;
  // Whether `reading` has every term of one of the concept's names.
  bool HasNameTerms(const SentenceReading& reading, int concept_id) const;
  double FitFor(Intent intent, const SentenceReading& reading,
                const Quote& quote) const;
  double NamedByQuestion(const SentenceReading& reading) const;
  double FaqBonus(const AnswerUnit& unit) const;
  void ChooseCells(AnswerUnit& unit) const;
  bool CellAnswers(const SentenceReading& cell) const;

  const Lexicon& lexicon_;
  const ResolvedQuestion& question_;
  double total_weight_ = 0;
  // Passages of the assistant's last answer, for "which study showed
  // that?".
  absl::flat_hash_set<std::string> earlier_answer_passages_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_ANSWER_UNIT_SCORER_H_
