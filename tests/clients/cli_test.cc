// Tests of the `citekb` command-line client (clients/cli/cli.h,
// clients/cli/format.h).
//
// Commands run in-process through RunCli against a real gRPC server on a free
// port whose KnowledgeBase service is a fake: it returns canned responses and
// records the requests it received, so each test checks both what the client
// sends and what it prints.

#include "clients/cli/cli.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "clients/cli/format.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

template <typename Message>
Message ParseTextOrDie(const std::string& text) {
  Message message;
  if (!google::protobuf::TextFormat::ParseFromString(text, &message)) {
    ADD_FAILURE() << "bad text proto: " << text;
  }
  return message;
}

// A KnowledgeBase that answers every call with the response set for it (or
// with `error` when that is not OK), and remembers the last request of each
// kind and how long the caller's deadline was.
class FakeKnowledgeBase final : public v1::KnowledgeBase::Service {
 public:
  // What to return; set before the calls.
  v1::AskResponse ask_response;
  v1::SearchResponse search_response;
  v1::ListSectionsResponse sections_response;
  v1::GetSectionResponse section_response;
  v1::ListFaqsResponse faqs_response;
  v1::ListCitationsResponse citations_response;
  v1::Citation citation_response;
  v1::ListRelatedLinksResponse links_response;
  v1::EvaluateStackResponse stack_response;
  grpc::Status error = grpc::Status::OK;
  absl::Duration delay = absl::ZeroDuration();

  // What was received.
  v1::AskRequest ask_request() const { return Get(ask_request_); }
  v1::SearchRequest search_request() const { return Get(search_request_); }
  v1::ListSectionsRequest sections_request() const {
    return Get(sections_request_);
  }
  v1::GetSectionRequest section_request() const {
    return Get(section_request_);
  }
  v1::ListFaqsRequest faqs_request() const { return Get(faqs_request_); }
  v1::ListCitationsRequest citations_request() const {
    return Get(citations_request_);
  }
  v1::GetCitationRequest citation_request() const {
    return Get(citation_request_);
  }
  v1::ListRelatedLinksRequest links_request() const {
    return Get(links_request_);
  }
  v1::EvaluateStackRequest stack_request() const { return Get(stack_request_); }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  // Time from the call's arrival to its deadline.
  absl::Duration last_deadline() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_deadline_;
  }

  grpc::Status Ask(grpc::ServerContext* context, const v1::AskRequest* request,
                   v1::AskResponse* response) override {
    return Serve(context, *request, &ask_request_, ask_response, response);
  }
  grpc::Status Search(grpc::ServerContext* context,
                      const v1::SearchRequest* request,
                      v1::SearchResponse* response) override {
    return Serve(context, *request, &search_request_, search_response,
                 response);
  }
  grpc::Status ListSections(grpc::ServerContext* context,
                            const v1::ListSectionsRequest* request,
                            v1::ListSectionsResponse* response) override {
    return Serve(context, *request, &sections_request_, sections_response,
                 response);
  }
  grpc::Status GetSection(grpc::ServerContext* context,
                          const v1::GetSectionRequest* request,
                          v1::GetSectionResponse* response) override {
    return Serve(context, *request, &section_request_, section_response,
                 response);
  }
  grpc::Status ListFaqs(grpc::ServerContext* context,
                        const v1::ListFaqsRequest* request,
                        v1::ListFaqsResponse* response) override {
    return Serve(context, *request, &faqs_request_, faqs_response, response);
  }
  grpc::Status ListCitations(grpc::ServerContext* context,
                             const v1::ListCitationsRequest* request,
                             v1::ListCitationsResponse* response) override {
    return Serve(context, *request, &citations_request_, citations_response,
                 response);
  }
  grpc::Status GetCitation(grpc::ServerContext* context,
                           const v1::GetCitationRequest* request,
                           v1::Citation* response) override {
    return Serve(context, *request, &citation_request_, citation_response,
                 response);
  }
  grpc::Status ListRelatedLinks(
      grpc::ServerContext* context, const v1::ListRelatedLinksRequest* request,
      v1::ListRelatedLinksResponse* response) override {
    return Serve(context, *request, &links_request_, links_response, response);
  }
  grpc::Status EvaluateStack(grpc::ServerContext* context,
                             const v1::EvaluateStackRequest* request,
                             v1::EvaluateStackResponse* response) override {
    return Serve(context, *request, &stack_request_, stack_response, response);
  }

 private:
  template <typename Message>
  Message Get(const Message& message) const {
    std::lock_guard<std::mutex> lock(mu_);
    return message;
  }

  template <typename Request, typename Response>
  grpc::Status Serve(grpc::ServerContext* context, const Request& request,
                     Request* recorded, const Response& canned,
                     Response* response) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      *recorded = request;
      last_deadline_ = absl::FromChrono(context->deadline()) - absl::Now();
    }
    if (delay > absl::ZeroDuration()) absl::SleepFor(delay);
    if (!error.ok()) return error;
    *response = canned;
    return grpc::Status::OK;
  }

  mutable std::mutex mu_;
  int calls_ = 0;
  absl::Duration last_deadline_;
  v1::AskRequest ask_request_;
  v1::SearchRequest search_request_;
  v1::ListSectionsRequest sections_request_;
  v1::GetSectionRequest section_request_;
  v1::ListFaqsRequest faqs_request_;
  v1::ListCitationsRequest citations_request_;
  v1::GetCitationRequest citation_request_;
  v1::ListRelatedLinksRequest links_request_;
  v1::EvaluateStackRequest stack_request_;
};

struct CliResult {
  int exit_code;
  std::string out;
  std::string err;
};

// A port on which nothing listens: bound by the kernel's choice, then closed.
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&fake_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    options_.server = absl::StrCat("127.0.0.1:", port);
    options_.timeout = absl::Seconds(10);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  CliResult Run(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    int code = RunCli(args, options_, out, err);
    return {code, out.str(), err.str()};
  }

  FakeKnowledgeBase fake_;
  std::unique_ptr<grpc::Server> server_;
  CliOptions options_;
};

// Canned responses shaped like the real server's.

v1::AskResponse AnsweredAsk() {
  return ParseTextOrDie<v1::AskResponse>(R"pb(
    answer: "Vitamin K2 activates matrix Gla protein. Some users report calmer sleep."
    answered: true
    confidence: 0.8
    resolved_question: "why K2 with D3?"
    answer_sentences {
      text: "Vitamin K2 activates matrix Gla protein."
      passage_id: "d3-k2#mechanisms/3"
      citation_ids: "pmid:11684396"
      citation_ids: "doi:10.3390/ijms18091897"
    }
    answer_sentences {
      text: "Some users report calmer sleep."
      passage_id: "d3-k2#dosing/7"
      anecdotal: true
    }
    citations {
      id: "pmid:11684396"
      url: "https://pubmed.ncbi.nlm.nih.gov/11684396/"
      label: "Zhang 2025"
      kind: CITATION_KIND_PUBMED
    }
    citations {
      id: "doi:10.3390/ijms18091897"
      url: "https://doi.org/10.3390/ijms18091897"
      kind: CITATION_KIND_DOI
    }
    passages {
      id: "d3-k2#mechanisms/3"
      section_title: "Mechanisms"
      snippet: "Vitamin [K2] activates matrix Gla protein"
      text: "Vitamin K2 activates matrix Gla protein."
    }
    follow_ups: "How much K2 per 5000 IU of D3?"
  )pb");
}

// --- help and usage -------------------------------------------------------

TEST_F(CliTest, HelpCommandAndFlagPrintUsageOfEveryCommand) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"help"}, {"--help"}, {"-h"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, kExitOk) << args[0];
    EXPECT_THAT(r.out, HasSubstr("usage: citekb"));
    for (const char* command :
         {"ask QUESTION", "search QUERY", "sections", "section ID", "faq",
          "citations", "citation ID", "links", "stack TEXT"}) {
      EXPECT_THAT(r.out, HasSubstr(command)) << args[0];
    }
    EXPECT_THAT(r.out, HasSubstr(options_.server));
    EXPECT_THAT(r.err, IsEmpty());
  }
  EXPECT_EQ(fake_.calls(), 0);
}

TEST_F(CliTest, HelpForOneCommandListsItsFlags) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"help", "stack"}, {"stack", "--help"}}) {
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, kExitOk);
    EXPECT_THAT(r.out, StartsWith("usage: citekb stack TEXT"));
    EXPECT_THAT(r.out, AllOf(HasSubstr("--timing morning|midday|evening|night"),
                             HasSubstr("--with-meal"), HasSubstr("--serum"),
                             HasSubstr("--medication NAME")));
  }
}

TEST_F(CliTest, NoArgumentsIsAUsageError) {
  CliResult r = Run({});
  EXPECT_EQ(r.exit_code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("citekb: missing command"));
  EXPECT_THAT(r.out, IsEmpty());
}

struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

TEST_F(CliTest, UsageErrorsExit2WithoutCallingTheServer) {
  const std::vector<UsageCase> cases = {
      {{"frobnicate"}, "citekb: unknown command \"frobnicate\""},
      {{"help", "frobnicate"}, "citekb: unknown command \"frobnicate\""},
      {{"ask"}, "citekb: missing QUESTION\nusage: citekb ask QUESTION"},
      {{"ask", ""}, "citekb: missing QUESTION"},
      {{"ask", "q", "--max-passages"}, "--max-passages needs a value"},
      {{"ask", "q", "--max-passages", "many"},
       "--max-passages: \"many\" is not a whole number"},
      {{"search", "k2", "--page-size", "abc"},
       "citekb: --page-size: \"abc\" is not a whole number\n"
       "usage: citekb search QUERY"},
      {{"search", "k2", "--page-size=99999999999"}, "is not a whole number"},
      {{"search", "k2", "--kind", "blog"},
       "--kind: \"blog\" is not one of paragraph, table_row, faq"},
      {{"citations", "--kind", "book"},
       "--kind: \"book\" is not one of pubmed, pmc, doi, web, "
       "safety_reference"},
      {{"links", "--kind", "video"}, "is not one of article, tool"},
      {{"stack", "5000 IU D3", "--timing", "noon"},
       "--timing: \"noon\" is not one of morning, midday, evening, night"},
      {{"stack", "5000 IU D3", "--serum", "high"},
       "--serum: \"high\" is not a number"},
      {{"stack", "5000 IU D3", "--with-meal", "--without-meal"},
       "--with-meal and --without-meal contradict each other"},
      {{"stack", "5000 IU D3", "--with-meal=yes"},
       "--with-meal takes no value"},
      {{"stack"}, "missing TEXT"},
      {{"search", "k2", "--frob"},
       "unknown flag \"--frob\" for \"citekb search\""},
      {{"--kind", "faq", "search", "k2"}, "unknown flag \"--kind\""},
      {{"section"}, "missing ID"},
      {{"section", "a#b", "c#d"}, "unexpected argument \"c#d\""},
      {{"sections", "extra"}, "unexpected argument \"extra\""},
      {{"search", "k2", "--page-size", "1", "--page-size", "2"},
       "--page-size given more than once"},
      {{"sections", "--timeout", "soon"},
       "--timeout: \"soon\" is not a number of seconds"},
      {{"sections", "--timeout", "0"}, "must be more than 0"},
      {{"sections", "--timeout", "1e300"}, "at most 24h"},
      {{"sections", "--server="}, "--server: must not be empty"},
  };
  for (const UsageCase& c : cases) {
    CliResult r = Run(c.args);
    std::string joined = absl::StrJoin(c.args, " ");
    EXPECT_EQ(r.exit_code, kExitUsage) << joined;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << joined;
    EXPECT_THAT(r.out, IsEmpty()) << joined;
  }
  EXPECT_EQ(fake_.calls(), 0);
}

// --- ask ------------------------------------------------------------------

TEST_F(CliTest, AskSendsQuestionHistoryAndMaxPassages) {
  fake_.ask_response = AnsweredAsk();
  CliResult r =
      Run({"ask", "and", "how", "much?", "--max-passages", "3", "--history",
           "why K2 with D3?", "--history=is MK-7 best?"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;

  v1::AskRequest request = fake_.ask_request();
  EXPECT_EQ(request.question(), "and how much?");
  EXPECT_EQ(request.max_passages(), 3);
  ASSERT_EQ(request.history_size(), 2);
  EXPECT_EQ(request.history(0).role(), v1::ROLE_USER);
  EXPECT_EQ(request.history(0).text(), "why K2 with D3?");
  EXPECT_EQ(request.history(1).role(), v1::ROLE_USER);
  EXPECT_EQ(request.history(1).text(), "is MK-7 best?");
}

TEST_F(CliTest, AskDefaultsLeaveOptionalFieldsUnset) {
  fake_.ask_response = AnsweredAsk();
  ASSERT_EQ(Run({"ask", "why K2 with D3?"}).exit_code, kExitOk);
  v1::AskRequest request = fake_.ask_request();
  EXPECT_EQ(request.question(), "why K2 with D3?");
  EXPECT_EQ(request.max_passages(), 0);
  EXPECT_THAT(request.history(), IsEmpty());
}

TEST_F(CliTest, AskPrintsAnswerSourcesPassagesAndFollowUps) {
  fake_.ask_response = AnsweredAsk();
  CliResult r = Run({"ask", "why K2 with D3?"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_EQ(r.out,
            "Vitamin K2 activates matrix Gla protein. [1][2] Some users report "
            "calmer sleep. (anecdotal)\n"
            "\n"
            "Sources:\n"
            "  [1] Zhang 2025 — https://pubmed.ncbi.nlm.nih.gov/11684396/\n"
            "  [2] doi:10.3390/ijms18091897 — "
            "https://doi.org/10.3390/ijms18091897\n"
            "\n"
            "Passages:\n"
            "  - d3-k2#mechanisms/3 (Mechanisms): Vitamin [K2] activates "
            "matrix Gla protein\n"
            "\n"
            "You could also ask:\n"
            "  - How much K2 per 5000 IU of D3?\n");
}

TEST_F(CliTest, AskShowsTheResolvedFollowUp) {
  fake_.ask_response = AnsweredAsk();
  fake_.ask_response.set_resolved_question("how much K2 with D3?");
  CliResult r = Run({"ask", "and how much?"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_THAT(r.out, StartsWith("(Answering: how much K2 with D3?)\n\n"));
}

TEST_F(CliTest, UnansweredAskPrintsOnlyTheNoticeAndSuggestions) {
  fake_.ask_response = ParseTextOrDie<v1::AskResponse>(R"pb(
    answer: "The knowledge base does not cover this question."
    answered: false
    answer_sentences {
      text: "The knowledge base does not cover this question."
    }
    passages { id: "unrelated/1" text: "Magnesium glycinate is gentle." }
    citations { id: "pmid:1" url: "https://pubmed.ncbi.nlm.nih.gov/1/" }
    follow_ups: "Why take K2 with D3?"
  )pb");
  CliResult r = Run({"ask", "best running shoes?"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.out,
            "The knowledge base does not cover this question.\n"
            "\n"
            "You could also ask:\n"
            "  - Why take K2 with D3?\n");
}

TEST_F(CliTest, AskWithDosesPrintsTheStackFindingsWithSharedNumbering) {
  fake_.ask_response = AnsweredAsk();
  *fake_.ask_response.mutable_stack_evaluation() =
      ParseTextOrDie<v1::EvaluateStackResponse>(R"pb(
        doses {
          compound: "vitamin_d3"
          display_name: "Vitamin D3"
          amount: 5000
          unit: "IU"
          band: DOSE_BAND_STANDARD
          covered: true
          request_index: -1
          source_text: "5000 IU D3"
        }
        findings {
          code: "D3_WITHOUT_K2"
          severity: SEVERITY_WARNING
          message: "D3 alone raises calcium absorption."
          citation_ids: "pmid:11684396"
          citation_ids: "ul:vitamin_d"
          source: FINDING_SOURCE_ARTICLE
        }
        citations {
          id: "pmid:11684396"
          url: "https://pubmed.ncbi.nlm.nih.gov/11684396/"
        }
        citations {
          id: "ul:vitamin_d"
          label: "EFSA upper level"
          url: "https://efsa.example/ul"
        }
      )pb");
  CliResult r = Run({"ask", "is 5000 IU D3 ok?"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("Your stack:\nDoses understood:\n"));
  EXPECT_THAT(r.out, HasSubstr("Vitamin D3  5000 IU"));
  // The article citation keeps its answer number; the new one comes next.
  EXPECT_THAT(r.out, HasSubstr("  1. WARNING D3_WITHOUT_K2: D3 alone raises "
                               "calcium absorption. [1][3]\n"));
  EXPECT_THAT(r.out,
              HasSubstr("  [3] EFSA upper level — https://efsa.example/ul\n"));
}

// --- search ---------------------------------------------------------------

TEST_F(CliTest, SearchMapsFiltersAndPrintsSnippetsScoresAndNextPage) {
  fake_.search_response = ParseTextOrDie<v1::SearchResponse>(R"pb(
    passages {
      id: "d3-k2#faq/2"
      section_title: "FAQ"
      kind: PASSAGE_KIND_FAQ
      snippet: "take [magnesium] in the evening"
      score: 7.126
    }
    next_page_token: "tok-2"
    total_size: 9
  )pb");
  CliResult r =
      Run({"search", "magnesium", "evening", "--kind", "FAQ", "--section",
           "d3-k2#faq", "--page-size=4", "--page-token", "tok-1"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  v1::SearchRequest request = fake_.search_request();
  EXPECT_EQ(request.query(), "magnesium evening");
  EXPECT_EQ(request.kind(), v1::PASSAGE_KIND_FAQ);
  EXPECT_EQ(request.section_id(), "d3-k2#faq");
  EXPECT_EQ(request.page_size(), 4);
  EXPECT_EQ(request.page_token(), "tok-1");

  EXPECT_THAT(r.out, HasSubstr("1 of 9 matching passages"));
  EXPECT_THAT(r.out, HasSubstr("1. FAQ — d3-k2#faq/2 (FAQ, score 7.13)\n"
                               "   take [magnesium] in the evening\n"));
  EXPECT_THAT(r.out, HasSubstr("Next page: --page-token tok-2\n"));
}

TEST_F(CliTest, SearchKindAcceptsDashes) {
  ASSERT_EQ(Run({"search", "dose", "--kind", "table-row"}).exit_code, kExitOk);
  EXPECT_EQ(fake_.search_request().kind(), v1::PASSAGE_KIND_TABLE_ROW);
}

TEST_F(CliTest, NegativeValuesAreLeftToTheServer) {
  // "--max-passages -1" is syntactically a number; the range is the server's
  // to judge.
  fake_.error = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "max_passages: must be between 0 and 20");
  CliResult r = Run({"ask", "q", "--max-passages", "-1"});
  EXPECT_EQ(fake_.ask_request().max_passages(), -1);
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(
      r.err,
      "citekb: INVALID_ARGUMENT: max_passages: must be between 0 and 20\n");
}

TEST_F(CliTest, EmptySearchSaysSo) {
  CliResult r = Run({"search", "zzz"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.out, "No passages match.\n");
}

// --- sections, section, faq ---------------------------------------------

TEST_F(CliTest, SectionsListsIdsAndTitles) {
  fake_.sections_response = ParseTextOrDie<v1::ListSectionsResponse>(R"pb(
    sections { id: "d3-k2#intro" title: "Introduction" passage_count: 4 }
    sections { id: "d3-k2#dosing-protocol" title: "Dosing" passage_count: 12 }
  )pb");
  CliResult r = Run({"sections", "--article", "d3-k2"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(fake_.sections_request().article_id(), "d3-k2");
  EXPECT_EQ(r.out,
            "Introduction — 4 passages\n"
            "  d3-k2#intro\n"
            "Dosing — 12 passages\n"
            "  d3-k2#dosing-protocol\n");
}

TEST_F(CliTest, SectionRendersPassagesTablesAndFiguresInOrder) {
  fake_.section_response = ParseTextOrDie<v1::GetSectionResponse>(R"pb(
    section { id: "d3-k2#dosing" title: "Dosing" }
    blocks { passage { id: "p1" text: "Take D3 with K2." } }
    blocks {
      table {
        id: "t1"
        columns { header: "Compound" }
        columns { header: "Dose" }
        columns { header: "Users" anecdotal: true }
        rows { cells: "Vitamin D3" cells: "5000 IU" cells: "most" }
        rows { cells: "K2 (MK-7)" cells: "100 µg" cells: "some" }
      }
    }
    blocks { figure { id: "f1" caption: "Calcium routing" } }
    blocks { passage { id: "p2" text: "Some feel calmer." anecdotal: true } }
  )pb");
  CliResult r = Run({"section", "d3-k2#dosing"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(fake_.section_request().id(), "d3-k2#dosing");
  EXPECT_EQ(r.out,
            "Dosing\n"
            "d3-k2#dosing\n"
            "\n"
            "Take D3 with K2.\n"
            "\n"
            "  Compound    Dose     Users (anecdotal)\n"
            "  ----------  -------  -----------------\n"
            "  Vitamin D3  5000 IU  most\n"
            "  K2 (MK-7)   100 µg   some\n"
            "\n"
            "[Figure: Calcium routing]\n"
            "\n"
            "Some feel calmer. (anecdotal)\n");
}

TEST_F(CliTest, SectionNotFoundIsAServerError) {
  fake_.error =
      grpc::Status(grpc::StatusCode::NOT_FOUND, "id: no section \"nope\"");
  CliResult r = Run({"section", "nope"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.err, "citekb: NOT_FOUND: id: no section \"nope\"\n");
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(CliTest, FaqShowsIncompleteAnswers) {
  fake_.faqs_response = ParseTextOrDie<v1::ListFaqsResponse>(R"pb(
    faqs { question: "Can I take D3 at night?" answer: "Yes, with fat." }
    faqs { question: "What about calcium?" answer_incomplete: true }
  )pb");
  CliResult r = Run({"faq"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(r.out,
            "Q: Can I take D3 at night?\n"
            "A: Yes, with fat.\n"
            "\n"
            "Q: What about calcium?\n"
            "A: (answer incomplete in the source)\n");
}

// --- citations, citation, links -------------------------------------------

TEST_F(CliTest, CitationsMapsEveryFilter) {
  fake_.citations_response = ParseTextOrDie<v1::ListCitationsResponse>(R"pb(
    citations {
      id: "pmid:11684396"
      label: "Zhang 2025"
      kind: CITATION_KIND_PUBMED
      url: "https://pubmed.ncbi.nlm.nih.gov/11684396/"
      passage_ids: "a"
      passage_ids: "b"
    }
    total_size: 1
  )pb");
  CliResult r = Run({"citations", "--pmid", "11684396", "--doi", "10.1/x",
                     "--kind", "pubmed", "--section", "d3-k2#intro", "--text",
                     "bone matrix", "--page-size", "5", "--page-token", "t"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  v1::ListCitationsRequest request = fake_.citations_request();
  EXPECT_EQ(request.pmid(), "11684396");
  EXPECT_EQ(request.doi(), "10.1/x");
  EXPECT_EQ(request.kind(), v1::CITATION_KIND_PUBMED);
  EXPECT_EQ(request.section_id(), "d3-k2#intro");
  EXPECT_EQ(request.cited_text(), "bone matrix");
  EXPECT_EQ(request.page_size(), 5);
  EXPECT_EQ(request.page_token(), "t");
  EXPECT_THAT(r.out, HasSubstr("pmid:11684396 — Zhang 2025\n"
                               "  https://pubmed.ncbi.nlm.nih.gov/11684396/\n"
                               "  PubMed, cited in 2 passages\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("Next page")));
}

TEST_F(CliTest, CitationKindSafetyReference) {
  ASSERT_EQ(Run({"citations", "--kind", "safety_reference"}).exit_code,
            kExitOk);
  EXPECT_EQ(fake_.citations_request().kind(),
            v1::CITATION_KIND_SAFETY_REFERENCE);
}

TEST_F(CliTest, CitationShowsCitingSentencesWithPassageIds) {
  fake_.citation_response = ParseTextOrDie<v1::Citation>(R"pb(
    id: "pmid:11684396"
    label: "Zhang 2025"
    kind: CITATION_KIND_PUBMED
    url: "https://pubmed.ncbi.nlm.nih.gov/11684396/"
    pmid: "11684396"
    citing_sentences {
      text: "Calcium never reaches bone."
      passage_id: "d3-k2#intro/1"
    }
  )pb");
  CliResult r = Run({"citation", "11684396"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(fake_.citation_request().id(), "11684396");
  EXPECT_EQ(r.out,
            "pmid:11684396\n"
            "  Label:  Zhang 2025\n"
            "  Kind:   PubMed\n"
            "  URL:    https://pubmed.ncbi.nlm.nih.gov/11684396/\n"
            "  PMID:   11684396\n"
            "\n"
            "Cited by:\n"
            "  - \"Calcium never reaches bone.\" (passage d3-k2#intro/1)\n");
}

TEST_F(CliTest, LinksMapsKindAndArticle) {
  fake_.links_response = ParseTextOrDie<v1::ListRelatedLinksResponse>(R"pb(
    links {
      path: "/en/tools/d3-calculator"
      kind: RELATED_LINK_KIND_TOOL
      anchor_text: "our calculator"
      passage_ids: "p1"
      passage_ids: "p9"
    }
  )pb");
  CliResult r = Run({"links", "--kind", "tool", "--article", "d3-k2"});
  ASSERT_EQ(r.exit_code, kExitOk);
  EXPECT_EQ(fake_.links_request().kind(), v1::RELATED_LINK_KIND_TOOL);
  EXPECT_EQ(fake_.links_request().article_id(), "d3-k2");
  EXPECT_EQ(r.out,
            "[tool] /en/tools/d3-calculator — \"our calculator\"\n"
            "  from p1, p9\n");
}

// --- stack ----------------------------------------------------------------

TEST_F(CliTest, StackMapsOptions) {
  CliResult r = Run({"stack", "5000 IU D3, 100 mcg K2 MK-7", "--timing",
                     "Night", "--with-meal", "--serum", "55.5", "--medication",
                     "warfarin", "--medication", "statin"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  v1::EvaluateStackRequest request = fake_.stack_request();
  EXPECT_EQ(request.text(), "5000 IU D3, 100 mcg K2 MK-7");
  EXPECT_THAT(request.doses(), IsEmpty());
  EXPECT_EQ(request.timing(), v1::TIMING_NIGHT);
  ASSERT_TRUE(request.has_with_fat_meal());
  EXPECT_TRUE(request.with_fat_meal());
  ASSERT_TRUE(request.has_serum_25ohd_ng_ml());
  EXPECT_DOUBLE_EQ(request.serum_25ohd_ng_ml(), 55.5);
  EXPECT_THAT(request.medications(), ElementsAre("warfarin", "statin"));
}

TEST_F(CliTest, StackWithoutMealIsFalseAndUnstatedIsUnset) {
  ASSERT_EQ(Run({"stack", "5000 IU D3", "--without-meal"}).exit_code, kExitOk);
  ASSERT_TRUE(fake_.stack_request().has_with_fat_meal());
  EXPECT_FALSE(fake_.stack_request().with_fat_meal());

  ASSERT_EQ(Run({"stack", "5000 IU D3"}).exit_code, kExitOk);
  EXPECT_FALSE(fake_.stack_request().has_with_fat_meal());
  EXPECT_FALSE(fake_.stack_request().has_serum_25ohd_ng_ml());
  EXPECT_EQ(fake_.stack_request().timing(), v1::TIMING_UNSPECIFIED);
}

TEST_F(CliTest, StackPrintsDosesFindingsAndNumberedSources) {
  fake_.stack_response = ParseTextOrDie<v1::EvaluateStackResponse>(R"pb(
    doses {
      compound: "vitamin_d3"
      display_name: "Vitamin D3"
      amount: 5000
      unit: "IU"
      band: DOSE_BAND_STANDARD
      covered: true
      request_index: -1
    }
    doses {
      compound: "vitamin_k2"
      display_name: "Vitamin K2"
      amount: 100
      unit: "mcg"
      form: "MK-7"
      band: DOSE_BAND_STANDARD
      covered: true
      request_index: -1
    }
    doses {
      compound: "magnesium"
      display_name: "Magnesium"
      amount: 400
      unit: "mg"
      form: "glycinate"
      band: DOSE_BAND_ABOVE_SAFETY_LIMIT
      covered: true
      request_index: -1
    }
    k2_mcg_per_5000_iu_d3: 100
    findings {
      code: "MG_ABOVE_UL"
      severity: SEVERITY_ALERT
      message: "Supplemental magnesium above 350 mg a day."
      citation_ids: "ul:magnesium"
      source: FINDING_SOURCE_SAFETY_REFERENCE
    }
    findings {
      code: "K2_RATIO_OK"
      severity: SEVERITY_INFO
      message: "The K2 to D3 ratio matches the protocol."
      citation_ids: "pmid:11684396"
    }
    citations {
      id: "ul:magnesium"
      label: "EFSA UL"
      url: "https://efsa.example/mg"
    }
    citations {
      id: "pmid:11684396"
      label: "Zhang 2025"
      url: "https://pubmed.ncbi.nlm.nih.gov/11684396/"
    }
  )pb");
  CliResult r =
      Run({"stack", "5000 IU D3, 100 mcg K2 MK-7, 400 mg magnesium glycinate"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_EQ(r.out,
            "Doses understood:\n"
            "  COMPOUND    AMOUNT   FORM       BAND\n"
            "  ----------  -------  ---------  ------------------\n"
            "  Vitamin D3  5000 IU             standard\n"
            "  Vitamin K2  100 mcg  MK-7       standard\n"
            "  Magnesium   400 mg   glycinate  ABOVE SAFETY LIMIT\n"
            "K2 per 5000 IU of D3: 100 mcg\n"
            "Findings:\n"
            "  1. ALERT MG_ABOVE_UL: Supplemental magnesium above 350 mg a "
            "day. [1] (safety reference)\n"
            "  2. INFO K2_RATIO_OK: The K2 to D3 ratio matches the protocol. "
            "[2]\n"
            "\n"
            "Sources:\n"
            "  [1] EFSA UL — https://efsa.example/mg\n"
            "  [2] Zhang 2025 — https://pubmed.ncbi.nlm.nih.gov/11684396/\n");
}

// --- JSON -----------------------------------------------------------------

template <typename Message>
void ExpectJsonRoundTrips(const std::string& json, const Message& expected) {
  Message parsed;
  auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(parsed, expected))
      << parsed.DebugString() << "\nvs\n"
      << expected.DebugString();
}

TEST_F(CliTest, JsonPrintsOnlyTheResponseWithProtoFieldNames) {
  fake_.ask_response = AnsweredAsk();
  CliResult r = Run({"--json", "ask", "why K2 with D3?"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, StartsWith("{"));
  EXPECT_THAT(r.out, HasSubstr("\"answer_sentences\""));
  EXPECT_THAT(r.out, Not(HasSubstr("Sources:")));
  ExpectJsonRoundTrips(r.out, fake_.ask_response);
}

TEST_F(CliTest, JsonFlagWorksAfterTheCommandAndForEveryCommand) {
  fake_.search_response.set_next_page_token("next");
  fake_.stack_response = ParseTextOrDie<v1::EvaluateStackResponse>(
      R"pb(k2_mcg_per_5000_iu_d3: 0
           findings { code: "X" severity: SEVERITY_INFO })pb");
  fake_.citation_response.set_id("pmid:1");

  CliResult search = Run({"search", "k2", "--json"});
  ASSERT_EQ(search.exit_code, kExitOk);
  EXPECT_THAT(search.out, HasSubstr("\"next_page_token\": \"next\""));
  ExpectJsonRoundTrips(search.out, fake_.search_response);

  // A present-but-zero optional field survives the round trip.
  CliResult stack = Run({"stack", "D3", "--json"});
  ASSERT_EQ(stack.exit_code, kExitOk);
  ExpectJsonRoundTrips(stack.out, fake_.stack_response);

  CliResult citation = Run({"citation", "1", "--json"});
  ASSERT_EQ(citation.exit_code, kExitOk);
  ExpectJsonRoundTrips(citation.out, fake_.citation_response);

  CliResult faq = Run({"faq", "--json"});
  ASSERT_EQ(faq.exit_code, kExitOk);
  EXPECT_EQ(faq.out, "{}\n");
}

// --- errors and deadlines -------------------------------------------------

TEST_F(CliTest, ServerErrorExits1WithCodeNameAndMessage) {
  fake_.error = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                             "question: must not be empty");
  CliResult r = Run({"ask", "   ?"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.err, "citekb: INVALID_ARGUMENT: question: must not be empty\n");
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(CliTest, ServerErrorIsNotPrintedAsJson) {
  fake_.error =
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "index: not loaded");
  CliResult r = Run({"--json", "sections"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_EQ(r.err, "citekb: FAILED_PRECONDITION: index: not loaded\n");
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(CliTest, EveryCallCarriesTheTimeoutAsDeadline) {
  // gRPC sends the remaining time on the wire, rounded up to its timeout
  // encoding's precision, so the server may see slightly more than asked.
  const absl::Duration slack = absl::Milliseconds(100);

  ASSERT_EQ(Run({"sections", "--timeout", "7"}).exit_code, kExitOk);
  EXPECT_GT(fake_.last_deadline(), absl::Seconds(5));
  EXPECT_LE(fake_.last_deadline(), absl::Seconds(7) + slack);

  ASSERT_EQ(Run({"--timeout=1500ms", "faq"}).exit_code, kExitOk);
  EXPECT_GT(fake_.last_deadline(), absl::Milliseconds(500));
  EXPECT_LE(fake_.last_deadline(), absl::Milliseconds(1500) + slack);

  options_.timeout = absl::Seconds(3);  // The default, when no flag is given.
  ASSERT_EQ(Run({"links"}).exit_code, kExitOk);
  EXPECT_GT(fake_.last_deadline(), absl::Seconds(1));
  EXPECT_LE(fake_.last_deadline(), absl::Seconds(3) + slack);
}

TEST_F(CliTest, SlowServerHitsTheDeadline) {
  fake_.delay = absl::Seconds(1);
  CliResult r = Run({"ask", "q", "--timeout", "0.2"});
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_THAT(r.err, StartsWith(absl::StrCat("citekb: cannot reach server at ",
                                             options_.server,
                                             ": no answer within 200ms")));
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(CliTest, UnreachableServerExits1WithAClearMessage) {
  const std::string address = absl::StrCat("127.0.0.1:", UnusedPort());
  absl::Time start = absl::Now();
  CliResult r = Run({"--server", address, "--timeout", "2", "sections"});
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(r.exit_code, kExitFailure);
  EXPECT_THAT(r.err, StartsWith(absl::StrCat("citekb: cannot reach server at ",
                                             address, ": ")));
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_EQ(fake_.calls(), 0);
}

// --- format.h directly ----------------------------------------------------

TEST(RenderColumnsTest, AlignsByCodePointsAndTrimsTrailingSpace) {
  EXPECT_EQ(
      RenderColumns({"A", "B", "C"}, {{"µg", "x", ""}, {"mg", "yy", "z"}}),
      "A   B   C\n"
      "--  --  -\n"
      "µg  x\n"
      "mg  yy  z\n");
}

TEST(RenderColumnsTest, NoHeaderAndNewlinesInCells) {
  EXPECT_EQ(RenderColumns({}, {{"a\nb", "c"}}, "> "), "> a b  c\n");
}

TEST(FormatTest, TableWithoutHeadersHasNoRule) {
  v1::Table table = ParseTextOrDie<v1::Table>(R"pb(
    columns {}
    columns {}
    rows { cells: "D3" cells: "5000 IU" }
  )pb");
  EXPECT_EQ(FormatTable(table), "  D3  5000 IU\n");
}

TEST(FormatTest, AnecdotalColumnIsMarkedOnce) {
  v1::Table table = ParseTextOrDie<v1::Table>(R"pb(
    columns { header: "Users" anecdotal: true }
    columns { header: "High-Dose (Anecdotal)" anecdotal: true }
    rows { cells: "most" cells: "10,000+ IU" }
  )pb");
  EXPECT_THAT(FormatTable(table),
              StartsWith("  Users (anecdotal)  High-Dose (Anecdotal)\n"));
}

TEST(FormatTest, AskFallsBackToAnswerTextAndTruncatesLongPassages) {
  v1::AskResponse response;
  response.set_answer("Plain answer.");
  response.set_answered(true);
  v1::Passage* p = response.add_passages();
  p->set_id("p1");
  p->set_text(std::string(200, 'x'));
  std::string out = FormatAskResponse(response, "q");
  EXPECT_THAT(out, StartsWith("Plain answer.\n"));
  EXPECT_THAT(out, HasSubstr("  - p1: " + std::string(160, 'x') + "…\n"));
}

TEST(FormatTest, UnknownCitationIdsStayVisible) {
  v1::EvaluateStackResponse response;
  v1::Finding* finding = response.add_findings();
  finding->set_code("X");
  finding->set_severity(v1::SEVERITY_WARNING);
  finding->set_message("m");
  finding->add_citation_ids("pmid:404");
  EXPECT_THAT(FormatStackEvaluation(response),
              HasSubstr("  1. WARNING X: m [pmid:404]\n"));
}

}  // namespace
}  // namespace citekb
