// citekb-dump-answers: prints the full responses of Ask, Search,
// ListCitations and EvaluateStack for the load generator's request mix
// (request_mix.h), in protobuf text format, without gRPC. A performance
// change that is meant to keep behaviour must leave this output
// byte-for-byte the same:
//
//   citekb-dump-answers --index var/10k.sqlite > before.txt
//   ... change, rebuild ...
//   citekb-dump-answers --index var/10k.sqlite | diff before.txt -
//
// --stack_inputs FILE widens the EvaluateStack part beyond the mix: each
// line of FILE is sent as free text, as a dose's compound and as a
// medication, so that the parser, the name lookup and every rule's message
// are covered by the diff.

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/request_mix.h"
#include "google/protobuf/text_format.h"
#include "service/knowledge_base/knowledge_base.h"

ABSL_FLAG(std::string, index, "", "The index to answer from.");
ABSL_FLAG(std::string, questions, CITEKB_SOURCE_DIR "/tests/eval/ask_eval.txt",
          "Evaluation set whose questions Ask and Search use.");
ABSL_FLAG(
    std::string, stack_inputs, "",
    "Optional file of stack texts, one a line, also sent to EvaluateStack.");

namespace citekb {
namespace {

template <typename Request, typename Response>
void Dump(const char* name, const RequestMix& mix,
          absl::StatusOr<Response> (KnowledgeBase::*method)(const Request&)
              const,
          const KnowledgeBase& kb) {
  for (const std::string& bytes : mix.requests) {
    Request request;
    request.ParseFromString(bytes);
    std::string text;
    google::protobuf::TextFormat::PrintToString(request, &text);
    std::cout << "### " << name << " " << text;
    absl::StatusOr<Response> response = (kb.*method)(request);
    if (!response.ok()) {
      std::cout << "error: " << response.status() << "\n";
      continue;
    }
    google::protobuf::TextFormat::PrintToString(*response, &text);
    std::cout << text << "\n";
  }
}

// Each line as text, as a dose's compound (with a mass and a unit that fit
// most compounds) and as a medication next to a covered dose.
RequestMix StackInputs(const std::string& path) {
  RequestMix mix;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    v1::EvaluateStackRequest text;
    text.set_text(line);
    mix.requests.push_back(text.SerializeAsString());
    v1::EvaluateStackRequest dose;
    v1::Dose* d = dose.add_doses();
    d->set_compound(line.substr(0, 200));
    d->set_amount(150);
    d->set_unit("mg");
    mix.requests.push_back(dose.SerializeAsString());
    v1::EvaluateStackRequest medication;
    d = medication.add_doses();
    d->set_compound("vitamin K2");
    d->set_amount(100);
    d->set_unit("mcg");
    medication.add_medications(line.substr(0, 200));
    mix.requests.push_back(medication.SerializeAsString());
  }
  return mix;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Usage: citekb-dump-answers --index FILE");
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<std::unique_ptr<KnowledgeBase>> kb =
      KnowledgeBase::Open(absl::GetFlag(FLAGS_index));
  if (!kb.ok()) {
    std::cerr << "citekb-dump-answers: " << kb.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::vector<EvalQuestion>> questions =
      LoadEvalQuestions(absl::GetFlag(FLAGS_questions));
  if (!questions.ok()) {
    std::cerr << "citekb-dump-answers: " << questions.status() << "\n";
    return 1;
  }
  Dump("Ask", *BuildRequestMix(Rpc::kAsk, *questions), &KnowledgeBase::Ask,
       **kb);
  Dump("Search", *BuildRequestMix(Rpc::kSearch, *questions),
       &KnowledgeBase::Search, **kb);
  Dump("ListCitations", *BuildRequestMix(Rpc::kListCitations, {}),
       &KnowledgeBase::ListCitations, **kb);
  Dump("EvaluateStack", *BuildRequestMix(Rpc::kEvaluateStack, {}),
       &KnowledgeBase::EvaluateStack, **kb);
  if (!absl::GetFlag(FLAGS_stack_inputs).empty()) {
    Dump("EvaluateStack", StackInputs(absl::GetFlag(FLAGS_stack_inputs)),
         &KnowledgeBase::EvaluateStack, **kb);
  }
  return 0;
}

}  // namespace
}  // namespace citekb

int main(int argc, char** argv) { return citekb::Main(argc, argv); }
