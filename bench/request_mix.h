// The requests the load generator sends, one list per RPC, serialized once
// before the run so that the generator spends its time on calls, not on
// building messages.
//
//   CITEKB_ASSIGN_OR_RETURN(std::vector<EvalQuestion> questions,
//                           LoadEvalQuestions("tests/eval/ask_eval.txt"));
//   CITEKB_ASSIGN_OR_RETURN(RequestMix mix,
//                           BuildRequestMix(Rpc::kAsk, questions));
//   // mix.method == "/citekb.v1.KnowledgeBase/Ask", mix.requests.size() == 76
//
// What each RPC gets, so that a run is a realistic mix rather than one
// cached string:
//   ask             every evaluation question, with its history turns
//   ask_reference   the same, as a chat front end asks them: passages as
//                   references, without their texts (PASSAGE_DETAIL_REFERENCE)
//   search          every evaluation question without history (a follow-up
//                   is conversation, not a query), page size 10
//   evaluate_stack  a built-in set of stacks, as free text and as doses
//   list_citations  a built-in set of filters and page sizes
//   health          grpc.health.v1.Health/Check for the whole server ("")

#ifndef CITEKB_BENCH_REQUEST_MIX_H_
#define CITEKB_BENCH_REQUEST_MIX_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "indexer/base/status_macros.h"

namespace citekb {

enum class Rpc {
  kAsk,
  kAskReference,
  kSearch,
  kEvaluateStack,
  kListCitations,
  kHealth
};

// "ask", "ask_reference", "search", "evaluate_stack", "list_citations",
// "health"; false for anything else.
bool ParseRpc(absl::string_view name, Rpc* rpc);
const char* RpcName(Rpc rpc);
// Whether BuildRequestMix needs the evaluation questions for `rpc`.
bool NeedsQuestions(Rpc rpc);

// One entry of the evaluation set (tests/eval/ask_eval.txt): the question
// and the earlier user turns it follows up on, oldest first.
struct EvalQuestion {
  std::string question;
  std::vector<std::string> history;
};

// Reads the evaluation set's `q:` and `history:` lines (its other fields
// are for scoring). NOT_FOUND when the file cannot be read,
// INVALID_ARGUMENT when it holds no question.
absl::StatusOr<std::vector<EvalQuestion>> LoadEvalQuestions(
    const std::string& path);

struct RequestMix {
  std::string method;                 // Full gRPC method path.
  std::vector<std::string> requests;  // Serialized request messages.
};

// The requests for `rpc`. Those that NeedsQuestions() need `questions`
// (INVALID_ARGUMENT when it is empty); the others ignore it.
absl::StatusOr<RequestMix> BuildRequestMix(
    Rpc rpc, const std::vector<EvalQuestion>& questions);

// A grpc.health.v1.HealthCheckRequest for `service` ("" = the whole
// server), serialized; the health protos have no C++ stubs installed.
std::string EncodeHealthCheckRequest(absl::string_view service);

// Checks that `response` is a well-formed answer to `rpc`: it parses as the
// RPC's response message, and for health it says SERVING. Returns the
// reason when it is not.
absl::Status VerifyResponse(Rpc rpc, absl::string_view response);

}  // namespace citekb

#endif  // CITEKB_BENCH_REQUEST_MIX_H_
