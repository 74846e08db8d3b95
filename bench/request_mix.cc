#include "bench/request_mix.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "google/protobuf/unknown_field_set.h"

namespace citekb {
namespace {

namespace v1 = ::citekb::v1;

constexpr char kService[] = "/citekb.v1.KnowledgeBase/";
constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";

// Stacks as people type them: brands of units, salts, timing, a few doses
// outside the documented bands, and one compound the corpus does not cover.
constexpr const char* kStackTexts[] = {
    "5000 IU D3, 100 mcg K2 MK-7, 400 mg magnesium glycinate",
    "vitamin D3 2000iu and K2 90mcg in the morning with breakfast",
    "10000 IU vitamin D3 daily, no K2",
    "D3 5000 IU + MK-7 200 mcg + magnesium malate 300mg before bed",
    "50000 IU vitamin D once a day",
    "K2 MK-4 1500 mcg, vitamin A 5000 IU, D3 4000 IU with a fatty meal",
    "1000 IU D3, 45 mcg K2, 200 mg magnesium citrate, 500 mg vitamin C",
    "vitamin d3 8000 iu at night, k2 mk7 300 mcg, I take warfarin",
};

// Protobuf wire format of a string field: the health request is one.
std::string LengthDelimitedField(int number, absl::string_view value) {
  std::string out(1, static_cast<char>((number << 3) | 2));
  for (size_t n = value.size();; n >>= 7) {
    if (n < 0x80) {
      out.push_back(static_cast<char>(n));
      break;
    }
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
  }
  return absl::StrCat(out, value);
}

std::vector<std::string> AskRequests(const std::vector<EvalQuestion>& questions,
                                     v1::PassageDetail detail) {
  std::vector<std::string> requests;
  for (const EvalQuestion& q : questions) {
    v1::AskRequest request;
    request.set_question(q.question);
    request.set_passage_detail(detail);
    for (const std::string& turn : q.history) {
      v1::ConversationTurn* t = request.add_history();
      t->set_role(v1::ROLE_USER);
      t->set_text(turn);
    }
    requests.push_back(request.SerializeAsString());
  }
  return requests;
}

std::vector<std::string> SearchRequests(
    const std::vector<EvalQuestion>& questions) {
  std::vector<std::string> requests;
  for (const EvalQuestion& q : questions) {
    // A follow-up ("why not?") is conversation, not a search query.
    if (!q.history.empty()) continue;
    v1::SearchRequest request;
    request.set_query(q.question);
    request.set_page_size(10);
    requests.push_back(request.SerializeAsString());
  }
  return requests;
}

std::vector<std::string> EvaluateStackRequests() {
  std::vector<std::string> requests;
  for (const char* text : kStackTexts) {
    v1::EvaluateStackRequest request;
    request.set_text(text);
    requests.push_back(request.SerializeAsString());
  }
  // The same kind of stack given as structured doses.
  v1::EvaluateStackRequest doses;
  auto add = [&doses](const char* compound, double amount, const char* unit,
                      const char* form) {
    v1::Dose* dose = doses.add_doses();
    dose->set_compound(compound);
    dose->set_amount(amount);
    dose->set_unit(unit);
    dose->set_form(form);
  };
  add("vitamin D3", 5000, "IU", "");
  add("vitamin K2", 100, "mcg", "MK-7");
  add("magnesium", 400, "mg", "glycinate");
  doses.set_timing(v1::TIMING_MORNING);
  doses.set_with_fat_meal(true);
  doses.set_serum_25ohd_ng_ml(45);
  requests.push_back(doses.SerializeAsString());
  return requests;
}

std::vector<std::string> ListCitationsRequests() {
  std::vector<v1::ListCitationsRequest> list(7);
  list[1].set_kind(v1::CITATION_KIND_PUBMED);
  list[1].set_page_size(5);
  list[2].set_kind(v1::CITATION_KIND_DOI);
  list[3].set_cited_text("bone matrix");
  list[4].set_cited_text("arterial calcification");
  list[5].set_pmid("11684396");
  list[6].set_page_size(50);
  std::vector<std::string> requests;
  for (const v1::ListCitationsRequest& request : list) {
    requests.push_back(request.SerializeAsString());
  }
  return requests;
}

}  // namespace

bool ParseRpc(absl::string_view name, Rpc* rpc) {
  for (Rpc candidate :
       {Rpc::kAsk, Rpc::kAskReference, Rpc::kSearch, Rpc::kEvaluateStack,
        Rpc::kListCitations, Rpc::kHealth}) {
    if (name == RpcName(candidate)) {
      *rpc = candidate;
      return true;
    }
  }
  return false;
}

const char* RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kAsk:
      return "ask";
    case Rpc::kAskReference:
      return "ask_reference";
    case Rpc::kSearch:
      return "search";
    case Rpc::kEvaluateStack:
      return "evaluate_stack";
    case Rpc::kListCitations:
      return "list_citations";
    case Rpc::kHealth:
      return "health";
  }
  return "?";
}

bool NeedsQuestions(Rpc rpc) {
  return rpc == Rpc::kAsk || rpc == Rpc::kAskReference || rpc == Rpc::kSearch;
}

absl::StatusOr<std::vector<EvalQuestion>> LoadEvalQuestions(
    const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::NotFoundError(absl::StrCat("--questions: cannot read ", path));
  std::vector<EvalQuestion> questions;
  EvalQuestion current;
  auto flush = [&] {
    if (!current.question.empty()) questions.push_back(std::move(current));
    current = EvalQuestion();
  };
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view view = absl::StripAsciiWhitespace(line);
    if (view.empty()) {
      flush();
      continue;
    }
    if (absl::ConsumePrefix(&view, "q:")) {
      current.question = std::string(absl::StripAsciiWhitespace(view));
    } else if (absl::ConsumePrefix(&view, "history:") ||
               absl::ConsumePrefix(&view, "turn:")) {
      current.history.emplace_back(absl::StripAsciiWhitespace(view));
    }
  }
  flush();
  if (questions.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--questions: ", path, " has no \"q:\" lines"));
  }
  return questions;
}

absl::StatusOr<RequestMix> BuildRequestMix(
    Rpc rpc, const std::vector<EvalQuestion>& questions) {
  if (NeedsQuestions(rpc) && questions.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(RpcName(rpc), " needs questions (--questions FILE)"));
  }
  switch (rpc) {
    case Rpc::kAsk:
      return RequestMix{absl::StrCat(kService, "Ask"),
                        AskRequests(questions, v1::PASSAGE_DETAIL_UNSPECIFIED)};
    case Rpc::kAskReference:
      return RequestMix{absl::StrCat(kService, "Ask"),
                        AskRequests(questions, v1::PASSAGE_DETAIL_REFERENCE)};
    case Rpc::kSearch:
      return RequestMix{absl::StrCat(kService, "Search"),
                        SearchRequests(questions)};
    case Rpc::kEvaluateStack:
      return RequestMix{absl::StrCat(kService, "EvaluateStack"),
                        EvaluateStackRequests()};
    case Rpc::kListCitations:
      return RequestMix{absl::StrCat(kService, "ListCitations"),
                        ListCitationsRequests()};
    case Rpc::kHealth:
      return RequestMix{kHealthCheck, {EncodeHealthCheckRequest("")}};
  }
  return absl::InvalidArgumentError("unknown rpc");
}

std::string EncodeHealthCheckRequest(absl::string_view service) {
  // HealthCheckRequest { string service = 1; }
  return LengthDelimitedField(1, service);
}

absl::Status VerifyResponse(Rpc rpc, absl::string_view response) {
  std::unique_ptr<google::protobuf::Message> message;
  switch (rpc) {
    case Rpc::kAsk:
    case Rpc::kAskReference:
      message = std::make_unique<v1::AskResponse>();
      break;
    case Rpc::kSearch:
      message = std::make_unique<v1::SearchResponse>();
      break;
    case Rpc::kEvaluateStack:
      message = std::make_unique<v1::EvaluateStackResponse>();
      break;
    case Rpc::kListCitations:
      message = std::make_unique<v1::ListCitationsResponse>();
      break;
    case Rpc::kHealth: {
      // HealthCheckResponse { ServingStatus status = 1; }, SERVING = 1.
      google::protobuf::UnknownFieldSet fields;
      if (!fields.ParseFromArray(response.data(),
                                 static_cast<int>(response.size()))) {
        return absl::DataLossError("health response does not parse");
      }
      for (int i = 0; i < fields.field_count(); ++i) {
        const google::protobuf::UnknownField& field = fields.field(i);
        if (field.number() == 1 &&
            field.type() == google::protobuf::UnknownField::TYPE_VARINT &&
            field.varint() == 1) {
          return absl::OkStatus();
        }
      }
      return absl::FailedPreconditionError("health status is not SERVING");
    }
  }
  if (!message->ParseFromArray(response.data(),
                               static_cast<int>(response.size()))) {
    return absl::DataLossError(absl::StrCat(
        RpcName(rpc), " response does not parse as ", message->GetTypeName()));
  }
  return absl::OkStatus();
}

}  // namespace citekb
