// Checks a supplement stack against the rules stored in the index
// (knowledge/stack_rules.textproto, resolved by the indexer): normalises each
// dose to its compound's canonical unit, places it in a dose band, and
// applies every rule in order. Findings carry the citation and passage ids
// of their evidence; the caller (KnowledgeBase) resolves the citations.
//
//   StackEvaluator evaluator(stack_rules);
//   absl::StatusOr<v1::EvaluateStackResponse> result =
//       evaluator.Evaluate(request);
//
// Units: IU; mcg, µg, ug; mg; g (and their spelled-out names). A compound
// with `mcg_per_iu` converts between IU and mass (vitamin D: 1 mcg = 40 IU;
// retinol: 1 IU = 0.3 mcg RAE); the others take mass units only. Doses of
// one compound add up: bands and findings are about the daily total.
//
// Errors (INVALID_ARGUMENT, naming the field): an empty stack; more than
// kMaxStackDoses doses or kMaxStackMedications medications; a dose with no
// compound, a non-positive, NaN, infinite or implausible amount, an unknown
// unit or one that does not fit the compound; free text in which no dose
// can be read or that has an amount naming no compound; a serum level out
// of range; an unknown timing; an empty medication. The error is the first
// problem found, looking at the request's limits, then the doses, the text,
// the context fields and the medications. A compound the rules do not cover
// is not an error: it gets DOSE_BAND_NOT_COVERED and a COMPOUND_NOT_COVERED
// finding; nor is a medication they do not list (MEDICATION_NOT_COVERED).
//
// Request text fields must already be checked for size and encoding (see
// KnowledgeBase). Thread-safe: Evaluate is const.

#ifndef CITEKB_SERVICE_STACK_STACK_EVALUATOR_H_
#define CITEKB_SERVICE_STACK_STACK_EVALUATOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "citekb/rules/v1/stack_rules.pb.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "service/stack/stack_text_parser.h"

namespace citekb {

inline constexpr int kMaxStackDoses = 50;
inline constexpr int kMaxStackMedications = 20;

class StackEvaluator {
 public:
  explicit StackEvaluator(rulespb::StackRules rules);

  // The evaluation, with `citations` left empty for the caller to fill from
  // the findings' citation ids.
  absl::StatusOr<v1::EvaluateStackResponse> Evaluate(
      const v1::EvaluateStackRequest& request) const;

  // For Ask: the doses a question mentions ("is 10000 IU of D3 with 100 mcg
  // K2 too much?"), evaluated. nullopt when the question names no covered
  // compound with an amount, or when what it says cannot be evaluated.
  std::optional<v1::EvaluateStackResponse> EvaluateQuestion(
      absl::string_view question) const;

  const rulespb::StackRules& rules() const { return rules_; }
  bool ok() const { return parser_.ok(); }

 private:
  // One call of Evaluate: what it has read so far and its steps
  // (stack_evaluator.cc).
  class Evaluation;

  // The compound `name` stands for (an id, display name, name or form name
  // of the rules, or a longer name holding exactly one of them), with the
  // form the name implies in `form`; nullptr when no compound covers it.
  const rulespb::Compound* FindCompound(absl::string_view name,
                                        std::string* form) const;

  // A compound's words that no stack changes: its lower-cased display name
  // for lookups, and the "{low}", "{high}", "{range}" and "{limit}" of rule
  // messages, formatted once here: formatting them for every finding would
  // cost a fifth of a call.
  struct CompoundWords {
    std::string lower_display_name;
    std::string low;
    std::string high;
    std::string range;
    std::string limit;
  };

  rulespb::StackRules rules_;
  StackTextParser parser_;
  // Every medication name of the rules -> its class id; the parser only
  // reports names the rules list.
  absl::flat_hash_map<std::string, std::string> medication_class_by_name_;
  absl::flat_hash_map<const rulespb::Compound*, CompoundWords> compound_words_;
  // Per rule, in the rules' order: a finding with all but the message
  // (code, severity, source, and the evidence's citation and passage ids
  // without duplicates), copied when the rule fires.
  std::vector<v1::Finding> finding_templates_;
};

// "10,000 IU", "0.5 mg", "2,857.14 IU": thousands separated, at most two
// decimals.
std::string FormatAmount(double amount, absl::string_view unit);

}  // namespace citekb

#endif  // CITEKB_SERVICE_STACK_STACK_EVALUATOR_H_
