// Reads a supplement stack written in free words, for EvaluateStack's `text`
// and for doses mentioned in an Ask question:
//
//   "2000iu vitamin D3, 90 mcg MK7 and magnesium malate 300mg before bed"
//     -> vitamin_d3 2000 IU; vitamin_k2 90 mcg (MK-7); magnesium 300 mg
//        (malate); timing TIMING_NIGHT
//
//   StackTextParser parser(stack_rules);   // compiles its patterns once
//   ParsedStackText parsed = parser.Parse(text);
//
// The text is split into clauses (at commas, semicolons, line ends, "+",
// "&", "and", "plus", "with", "then", "also", sentence ends). In each
// clause, amounts ("5,000 IU", "10k IU", "1.5 g", "2 x 1000 IU", "50,000 IU
// weekly" = 7142.9 a day; a parenthesised equivalent as in "125 mcg (5000
// IU)" does not count again) are paired by position with the compound names
// and forms of the rules (`names` in stack_rules.proto); the time of day the
// clause states is its doses' timing; and the medications of the rules it
// names ("warfarin") are collected. A clause with an amount but no known
// name yields a dose of an uncovered compound named by its remaining words
// ("30 mg zinc picolinate" -> "zinc picolinate"); a known name without an
// amount counts as present with amount 0. The stack's timing ("before bed",
// "at 9pm", "with breakfast"), meals ("with my largest meal", "on an empty
// stomach") and serum levels ("45 ng/mL", "120 nmol/L") are read from the
// whole text.
//
// Parse never fails: what it cannot read goes into `problems`, which
// EvaluateStack reports as INVALID_ARGUMENT and Ask ignores.
// Thread-safe after construction.

#ifndef CITEKB_SERVICE_STACK_STACK_TEXT_PARSER_H_
#define CITEKB_SERVICE_STACK_STACK_TEXT_PARSER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "citekb/rules/v1/stack_rules.pb.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "re2/re2.h"

namespace citekb {

namespace rulespb = ::citekb::rules::v1;

struct TextDose {
  // A rules compound id ("vitamin_d3"), or the words as written when no
  // compound covers them ("zinc picolinate").
  std::string compound;
  bool covered = false;
  // Daily amount in `unit` (weekly amounts divided by 7); 0 when the text
  // names the compound without an amount.
  double amount = 0;
  // "IU", "mcg", "mg" or "g"; empty when there is no amount.
  std::string unit;
  // A rules form id ("MK-7", "malate"); empty when unstated.
  std::string form;
  // Timing stated in the dose's own clause; TIMING_UNSPECIFIED when none.
  citekb::v1::Timing timing = citekb::v1::TIMING_UNSPECIFIED;
  // The clause the dose was read from, lower-cased.
  std::string source_text;
};

struct ParsedStackText {
  std::vector<TextDose> doses;
  // The time of day, when the text states exactly one.
  citekb::v1::Timing timing = citekb::v1::TIMING_UNSPECIFIED;
  std::optional<bool> with_fat_meal;
  std::optional<double> serum_25ohd_ng_ml;
  // Medication names from the rules' medication classes, as found.
  std::vector<std::string> medications;
  // What could not be read, e.g. "\"5000 iu\" names no compound".
  std::vector<std::string> problems;
};

class StackTextParser {
 public:
  explicit StackTextParser(const rulespb::StackRules& rules);
  ~StackTextParser();

  ParsedStackText Parse(absl::string_view text) const;

  // False only if the names in the rules made an unusable pattern; Parse
  // then finds no names.
  bool ok() const { return name_pattern_->ok(); }

  // What a name in the rules stands for.
  struct Name {
    enum Kind { kCompound, kForm, kMedication } kind = kCompound;
    std::string compound;  // For kCompound and kForm.
    std::string form;      // For kForm.
    bool names_compound =
        true;  // For kForm: the form alone means the compound.
  };

 private:
  // Adds what one clause of the normalised text says to `parsed`: its doses
  // (or a problem) and the medications it names.
  void ReadClause(absl::string_view clause, ParsedStackText& parsed) const;

  absl::flat_hash_map<std::string, Name> names_;
  std::unique_ptr<RE2> name_pattern_;
};

// Timing as the evaluator writes it in messages ("at night").
absl::string_view TimingWord(citekb::v1::Timing timing);

}  // namespace citekb

#endif  // CITEKB_SERVICE_STACK_STACK_TEXT_PARSER_H_
