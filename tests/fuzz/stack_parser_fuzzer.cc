// libFuzzer target: the free-text stack parser and the evaluator behind it
// (service/stack/stack_text_parser.h, service/stack/stack_evaluator.h), with
// the real rules from knowledge/stack_rules.textproto.
//
// The contract under test: any text (up to the server's 2,000-byte limit)
// is read without crashing, every amount read is finite and not negative,
// and evaluating it either fails with INVALID_ARGUMENT or gives one
// evaluated dose per dose read, findings most severe first.
//
// Only valid UTF-8 is tried: the server refuses anything else first.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "indexer/base/utf8.h"
#include "indexer/knowledge/stack_knowledge.h"
#include "service/server/request_parser.h"
#include "service/stack/stack_evaluator.h"

namespace {

void Die(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::abort();
}

const citekb::StackEvaluator& Evaluator() {
  static const citekb::StackEvaluator* const evaluator = [] {
    absl::StatusOr<citekb::rulespb::StackRules> rules = citekb::LoadStackRules(
        CITEKB_SOURCE_DIR "/knowledge/stack_rules.textproto");
    if (!rules.ok()) Die(rules.status().ToString());
    return new citekb::StackEvaluator(*std::move(rules));
  }();
  return *evaluator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 2000 || !citekb::IsStructurallyValidUtf8(text)) return 0;
  const citekb::StackEvaluator& evaluator = Evaluator();

  citekb::StackTextParser parser(evaluator.rules());
  const citekb::ParsedStackText parsed = parser.Parse(text);
  for (const citekb::TextDose& dose : parsed.doses) {
    if (!std::isfinite(dose.amount) || dose.amount < 0)
      Die("an amount that is not a number >= 0");
    if (dose.compound.empty()) Die("a dose without a compound");
  }

  citekb::v1::EvaluateStackRequest request;
  request.set_text(std::string(text));
  absl::StatusOr<citekb::v1::EvaluateStackResponse> response =
      evaluator.Evaluate(request);
  if (!response.ok()) {
    if (!absl::IsInvalidArgument(response.status()))
      Die(response.status().ToString());
    return 0;
  }
  if (response->doses_size() != static_cast<int>(parsed.doses.size())) {
    Die("evaluated doses differ from the doses read");
  }
  for (int i = 1; i < response->findings_size(); ++i) {
    if (response->findings(i - 1).severity() <
        response->findings(i).severity()) {
      Die("findings out of severity order");
    }
  }
  evaluator.EvaluateQuestion(text);
  return 0;
}
