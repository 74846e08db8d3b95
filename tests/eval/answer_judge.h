// Judges an Ask answer against an evaluation case (eval_set.h), exactly and
// from the index file itself, independently of how the server composed it:
//
//   - which knowledge-base sentences each answer sentence quotes: a prose
//     sentence is quoted when its text appears in the answer sentence; a
//     table cell when the answer sentence comes from the cell's row and
//     contains the cell's value (rows may be rendered in any wording);
//   - whether an expected sentence leads the answer (hit@1) or is in it;
//   - which quoted sentences lost their antecedent ("spliced"): a sentence
//     that opens on an anaphor ("This ...", "It ...", "Without it, ...",
//     "Once active, it ...") quoted without the sentence before it in the
//     article, in the same or the preceding answer sentence.
//
//   CITEKB_ASSIGN_OR_RETURN(AnswerJudge judge, AnswerJudge::Open(path));
//   Verdict v = judge.Judge(eval_case, response);

#ifndef CITEKB_TESTS_EVAL_ANSWER_JUDGE_H_
#define CITEKB_TESTS_EVAL_ANSWER_JUDGE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "tests/eval/eval_set.h"

namespace citekb::eval {

// One quotable sentence of the index.
struct IndexSentence {
  int id = 0;               // Position in AnswerJudge's list.
  std::string passage_id;   // Public passage id.
  std::string text;         // As stored.
  std::string quoted_text;  // What an answer must contain to quote it.
  std::vector<std::string> sources;
  int predecessor = -1;  // The sentence before it in the article.
  bool needs_antecedent = false;
  bool table_row = false;
};

struct Verdict {
  bool answered = false;
  // An expected sentence leads the answer: it is the first answer sentence
  // or the first table row.
  bool hit_at_1 = false;
  bool hit = false;          // An expected sentence is in the answer.
  int also_expected = 0;     // `also` texts asked for...
  int also_found = 0;        // ... and found in the answer.
  int sources_expected = 0;  // Sources of the case...
  int sources_found = 0;     // ... shown with the answer.
  int shown_sources = 0;     // Citations shown...
  int shown_cited = 0;       // ... that an answer sentence cites.
  int answer_sentences = 0;
  int unrelated_sentences = 0;       // Quote no expected or `also` sentence.
  std::vector<std::string> spliced;  // Texts quoted without antecedent.
};

class AnswerJudge {
 public:
  // Reads every sentence of the index at `index_path`.
  static absl::StatusOr<AnswerJudge> Open(const std::string& index_path);

  // Sentences whose stored text contains `needle`; an error when none does
  // (a stale evaluation entry).
  absl::StatusOr<std::vector<int>> Find(const std::string& needle) const;

  Verdict Judge(const EvalCase& c, const v1::AskResponse& response) const;

  const IndexSentence& sentence(int id) const { return sentences_[id]; }

 private:
  // The index sentences that `answer_sentence` quotes.
  std::vector<int> Quoted(const v1::AnswerSentence& answer_sentence) const;
  std::vector<int> FindAll(const std::vector<std::string>& needles) const;

  std::vector<IndexSentence> sentences_;
  absl::flat_hash_map<std::string, std::vector<int>> by_passage_;
};

// Whether `sentence` opens on a word that points back to an earlier one.
bool OpensOnAnaphor(const std::string& sentence);

}  // namespace citekb::eval

#endif  // CITEKB_TESTS_EVAL_ANSWER_JUDGE_H_
