// The Ask evaluation sets (tests/eval/*.txt): questions typed the way chat
// users type them, each with the sentence(s) of the knowledge base that
// answer it and the sources those cite. The file format is described at the
// top of tests/eval/ask_eval.txt:
//
//   id: mg-daily-amount
//   intent: dose
//   turn: why do people take k2 with d3?     <- earlier user turns, if any
//   q: how much magnesium a day
//   expect: Magnesium: Standard Maintenance Dosage 200–400 mg
//   also: 350 mg per day
//   scope: in
//
//   CITEKB_ASSIGN_OR_RETURN(std::vector<EvalCase> cases,
//                           LoadEvalSet("tests/eval/ask_eval.txt"));

#ifndef CITEKB_TESTS_EVAL_EVAL_SET_H_
#define CITEKB_TESTS_EVAL_EVAL_SET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace citekb::eval {

struct EvalCase {
  std::string id;
  std::string intent;
  std::vector<std::string> turns;  // Earlier user turns, oldest first.
  std::string question;
  // Substrings of the knowledge-base sentences that answer the question;
  // any one counts.
  std::vector<std::string> expect;
  // Substrings a complete answer also contains.
  std::vector<std::string> also;
  // The sources the first expected sentence cites.
  std::vector<std::string> sources;
  bool in_scope = true;

  bool follow_up() const { return !turns.empty(); }
};

// INVALID_ARGUMENT naming the line for an unknown field, an entry without
// id or question, or an in-scope entry without expect.
absl::StatusOr<std::vector<EvalCase>> LoadEvalSet(const std::string& path);

}  // namespace citekb::eval

#endif  // CITEKB_TESTS_EVAL_EVAL_SET_H_
