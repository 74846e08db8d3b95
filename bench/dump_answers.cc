// citekb-dump-answers: prints the full responses of Ask, Search and
// ListCitations for the load generator's request mix (request_mix.h),
// in protobuf text format, without gRPC. A performance change that is meant
// to keep behaviour must leave this output byte-for-byte the same:
//
//   citekb-dump-answers --index var/10k.sqlite > before.txt
//   ... change, rebuild ...
//   citekb-dump-answers --index var/10k.sqlite | diff before.txt -

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "bench/request_mix.h"
#include "google/protobuf/text_format.h"
#include "service/knowledge_base.h"

ABSL_FLAG(std::string, index, "", "The index to answer from.");
ABSL_FLAG(std::string, questions, CITEKB_SOURCE_DIR "/tests/eval/ask_eval.txt",
          "Evaluation set whose questions Ask and Search use.");

namespace citekb {
namespace {

template <typename Request, typename Response>
void Dump(const char* name, const RequestMix& mix,
          absl::StatusOr<Response> (KnowledgeBase::*method)(const Request&) const,
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
  Dump("Ask", *BuildRequestMix(Rpc::kAsk, *questions), &KnowledgeBase::Ask, **kb);
  Dump("Search", *BuildRequestMix(Rpc::kSearch, *questions), &KnowledgeBase::Search, **kb);
  Dump("ListCitations", *BuildRequestMix(Rpc::kListCitations, {}),
       &KnowledgeBase::ListCitations, **kb);
  return 0;
}

}  // namespace
}  // namespace citekb

int main(int argc, char** argv) { return citekb::Main(argc, argv); }
