// End-to-end tests of the gRPC layer: a real Server on a free port, called
// through real channels, plus the citekb-server binary run as a subprocess
// for start-up errors and signal handling. What the RPCs answer is tested
// against the logic directly (knowledge_base_test.cc); here one smoke call
// per RPC only proves the wiring.
//
// The health and reflection protos have no installed C++ stubs, so those
// services are called through grpc::GenericStub with hand-encoded messages
// (both are a few fields of protobuf wire format).

#include "service/server.h"

#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "service/grpc_status.h"
#include "service/request_log.h"
#include "tests/test_support.h"

extern char** environ;

namespace citekb {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// Every wait in this file is bounded by this.
constexpr auto kWait = std::chrono::seconds(10);

// ---------------------------------------------------------------------------
// Protobuf wire format, just enough for health and reflection.
// ---------------------------------------------------------------------------

// A length-delimited field (strings and sub-messages).
std::string LengthDelimitedField(int number, const std::string& value) {
  std::string out(1, static_cast<char>((number << 3) | 2));
  for (size_t n = value.size();; n >>= 7) {
    if (n < 0x80) {
      out.push_back(static_cast<char>(n));
      break;
    }
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
  }
  return out + value;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + kWait);
  return context;
}

// grpc.health.v1.Health/Check for `service`: the call's status and the
// ServingStatus number (0 UNKNOWN, 1 SERVING, 2 NOT_SERVING).
struct HealthResult {
  grpc::Status status;
  int serving_status = -1;
};

HealthResult CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service) {
  grpc::GenericStub stub(channel);
  auto context = ContextWithDeadline();
  // HealthCheckRequest { string service = 1; }
  const grpc::ByteBuffer request =
      ToByteBuffer(LengthDelimitedField(1, service));
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), "/grpc.health.v1.Health/Check",
                 grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  std::future<grpc::Status> status = done.get_future();
  // The context deadline ends the call; the margin only guards the test.
  if (status.wait_for(kWait + std::chrono::seconds(5)) !=
      std::future_status::ready) {
    ADD_FAILURE() << "health check did not complete";
    context->TryCancel();
  }
  HealthResult result{.status = status.get()};
  if (!result.status.ok()) return result;
  // HealthCheckResponse { ServingStatus status = 1; } (absent = UNKNOWN)
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(FromByteBuffer(response))) return result;
  result.serving_status = 0;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == 1 &&
        fields.field(i).type() == google::protobuf::UnknownField::TYPE_VARINT) {
      result.serving_status = static_cast<int>(fields.field(i).varint());
    }
  }
  return result;
}

constexpr int kServing = 1;

// Polls health until `service` is SERVING; false after kWait.
bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& service) {
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < give_up) {
    if (CheckHealth(channel, service).serving_status == kServing) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Services listed by grpc.reflection.v1alpha.ServerReflection, or the
// failure.
absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  auto context = ContextWithDeadline();
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream =
      stub.PrepareCall(
          context.get(),
          "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
          &cq);
  // Runs one operation to completion (the context deadline bounds it).
  auto await = [&cq](intptr_t expected) {
    void* tag = nullptr;
    bool ok = false;
    const auto deadline =
        std::chrono::system_clock::now() + kWait + std::chrono::seconds(5);
    return cq.AsyncNext(&tag, &ok, deadline) ==
               grpc::CompletionQueue::GOT_EVENT &&
           reinterpret_cast<intptr_t>(tag) == expected && ok;
  };
  // ServerReflectionRequest { oneof { string list_services = 7; } }
  const grpc::ByteBuffer request = ToByteBuffer(LengthDelimitedField(7, ""));
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Status failure;
  stream->StartCall(reinterpret_cast<void*>(1));
  if (!await(1)) failure = absl::InternalError("reflection: start failed");
  if (failure.ok()) {
    stream->Write(request, reinterpret_cast<void*>(2));
    if (!await(2)) failure = absl::InternalError("reflection: write failed");
  }
  if (failure.ok()) {
    stream->WritesDone(reinterpret_cast<void*>(3));
    if (!await(3))
      failure = absl::InternalError("reflection: writes-done failed");
  }
  if (failure.ok()) {
    stream->Read(&response, reinterpret_cast<void*>(4));
    if (!await(4)) failure = absl::InternalError("reflection: read failed");
  }
  if (!failure.ok()) context->TryCancel();
  stream->Finish(&status, reinterpret_cast<void*>(5));
  {
    void* tag;
    bool ok;
    cq.AsyncNext(
        &tag, &ok,
        std::chrono::system_clock::now() + kWait + std::chrono::seconds(5));
  }
  cq.Shutdown();
  {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }
  if (!failure.ok()) return failure;
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }

  // ServerReflectionResponse { ListServiceResponse list_services_response = 6;
  // } ListServiceResponse { repeated ServiceResponse service = 1; }
  // ServiceResponse { string name = 1; }
  using google::protobuf::UnknownField;
  using google::protobuf::UnknownFieldSet;
  auto submessages = [](const std::string& bytes, int number) {
    std::vector<std::string> out;
    UnknownFieldSet fields;
    if (!fields.ParseFromString(bytes)) return out;
    for (int i = 0; i < fields.field_count(); ++i) {
      if (fields.field(i).number() == number &&
          fields.field(i).type() == UnknownField::TYPE_LENGTH_DELIMITED) {
        out.push_back(fields.field(i).length_delimited());
      }
    }
    return out;
  };
  std::vector<std::string> names;
  for (const std::string& list : submessages(FromByteBuffer(response), 6)) {
    for (const std::string& service : submessages(list, 1)) {
      for (const std::string& name : submessages(service, 1)) {
        names.push_back(name);
      }
    }
  }
  return names;
}

// ---------------------------------------------------------------------------
// ToGrpcStatus and RequestLog, without a network.
// ---------------------------------------------------------------------------

TEST(GrpcStatusTest, KeepsCodeNumberAndMessage) {
  const struct {
    absl::Status in;
    grpc::StatusCode code;
  } kCases[] = {
      {absl::InvalidArgumentError("question: must not be empty"),
       grpc::StatusCode::INVALID_ARGUMENT},
      {absl::NotFoundError("citation \"pmid:1\": not found"),
       grpc::StatusCode::NOT_FOUND},
      {absl::DataLossError("x"), grpc::StatusCode::DATA_LOSS},
      {absl::FailedPreconditionError("x"),
       grpc::StatusCode::FAILED_PRECONDITION},
      {absl::ResourceExhaustedError("x"), grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::DeadlineExceededError("x"), grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::CancelledError("x"), grpc::StatusCode::CANCELLED},
      {absl::InternalError("x"), grpc::StatusCode::INTERNAL},
      {absl::UnauthenticatedError("x"), grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& c : kCases) {
    const grpc::Status out = ToGrpcStatus(c.in);
    EXPECT_EQ(out.error_code(), c.code) << c.in;
    EXPECT_EQ(out.error_message(), c.in.message()) << c.in;
  }
}

TEST(GrpcStatusTest, OkIsOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(GrpcStatusTest, NonCanonicalCodeIsUnknown) {
  const grpc::Status out =
      ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(42), "odd"));
  EXPECT_EQ(out.error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(out.error_message(), "odd");
}

RequestLogEntry AskEntry(absl::string_view question) {
  return {.start = absl::FromUnixMillis(1764057662345),
          .method = "Ask",
          .code = absl::StatusCode::kInvalidArgument,
          .latency = absl::Microseconds(1234),
          .request_bytes = 52,
          .peer = "ipv4:127.0.0.1:5555",
          .question = question};
}

TEST(RequestLogTest, FormatsOneJsonObjectWithoutTheQuestion) {
  std::ostringstream out;
  RequestLog log(&out, /*log_questions=*/false);
  log.Record(AskEntry("how much magnesium?"));
  EXPECT_EQ(out.str(),
            "{\"ts\":\"2025-11-25T08:01:02.345Z\",\"method\":\"Ask\","
            "\"status\":\"INVALID_ARGUMENT\",\"latency_ms\":1.234,"
            "\"request_bytes\":52,\"peer\":\"ipv4:127.0.0.1:5555\"}\n");
}

TEST(RequestLogTest, WritesTheQuestionOnlyWhenAsked) {
  RequestLog log(nullptr, /*log_questions=*/true);
  EXPECT_THAT(log.Format(AskEntry("how much magnesium?")),
              HasSubstr(",\"question\":\"how much magnesium?\"}"));

  RequestLogEntry search = AskEntry("");
  search.method = "Search";
  search.question.reset();
  EXPECT_THAT(log.Format(search), Not(HasSubstr("question")));
}

TEST(RequestLogTest, EscapesStringsAsJson) {
  const struct {
    std::string question;
    std::string escaped;
  } kCases[] = {
      {"say \"hi\"", R"("say \"hi\"")"},
      {"back\\slash", R"("back\\slash")"},
      {"two\nlines\r\tend", R"("two\nlines\r\tend")"},
      {std::string("nul\0bell\x07", 9), R"("nul\u0000bell\u0007")"},
      {"vitamin K\xE2\x82\x82 5000\xC2\xB5g",
       "\"vitamin K\xE2\x82\x82 5000\xC2\xB5g\""},
      {"bad \xC3 and \xFF", R"("bad \ufffd and \ufffd")"},
      {"surrogate \xED\xA0\x80", R"("surrogate \ufffd\ufffd\ufffd")"},
  };
  RequestLog log(nullptr, /*log_questions=*/true);
  for (const auto& c : kCases) {
    EXPECT_THAT(log.Format(AskEntry(c.question)),
                HasSubstr(absl::StrCat("\"question\":", c.escaped, "}")))
        << c.question;
  }
}

TEST(RequestLogTest, ConcurrentLinesDoNotInterleave) {
  std::ostringstream out;
  RequestLog log(&out, /*log_questions=*/false);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&log] {
      for (int i = 0; i < 200; ++i) log.Record(AskEntry("q"));
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string expected = RequestLog(nullptr, false).Format(AskEntry("q"));
  std::vector<std::string> lines =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1600u);
  for (const std::string& line : lines) ASSERT_EQ(line, expected);
}

// ---------------------------------------------------------------------------
// A real server over the seed index.
// ---------------------------------------------------------------------------

// A stream buffer whose writers block until Open(), so a test can hold an
// RPC handler in flight (the request log is written at the end of every
// handler).
class GateBuf : public std::streambuf {
 public:
  // True once a writer is blocked (or has written); false after kWait.
  bool WaitForWriter() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [this] { return entered_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, kWait, [this] { return open_; });
    return n;
  }
  int overflow(int c) override {
    char ch = static_cast<char>(c);
    xsputn(&ch, 1);
    return c;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
};

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    index_dir_ = new testing::TempDir();
    absl::StatusOr<IndexSummary> summary =
        BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                    .out_path = index_dir_->File("kb.sqlite"),
                    .on_progress = nullptr});
    if (summary.ok()) {
      index_path_ = new std::string(index_dir_->File("kb.sqlite"));
    } else {
      ADD_FAILURE() << "cannot build the seed index: " << summary.status();
    }
  }
  static void TearDownTestSuite() {
    delete index_path_;
    index_path_ = nullptr;
    delete index_dir_;
    index_dir_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(index_path_, nullptr); }

  ServerOptions Options() {
    ServerOptions options;
    options.index_path = *index_path_;
    options.listen = "127.0.0.1:0";
    options.log = &log_;
    return options;
  }

  // Starts a server (ASSERT-fails the test if it cannot) and a channel to it.
  void StartServer(const ServerOptions& options) {
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::KnowledgeBase::NewStub(channel_);
  }
  void StartServer() { StartServer(Options()); }

  static testing::TempDir* index_dir_;
  static std::string* index_path_;

  std::ostringstream log_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::KnowledgeBase::Stub> stub_;
};

testing::TempDir* ServerTest::index_dir_ = nullptr;
std::string* ServerTest::index_path_ = nullptr;

TEST_F(ServerTest, HealthIsServingForServerAndService) {
  StartServer();
  for (const std::string service : {"", "citekb.v1.KnowledgeBase"}) {
    const HealthResult health = CheckHealth(channel_, service);
    ASSERT_TRUE(health.status.ok())
        << "\"" << service << "\": " << health.status.error_message();
    EXPECT_EQ(health.serving_status, kServing) << "\"" << service << "\"";
  }
}

TEST_F(ServerTest, HealthOfUnknownServiceIsNotFound) {
  StartServer();
  EXPECT_EQ(CheckHealth(channel_, "no.such.Service").status.error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, ReflectionListsTheKnowledgeBase) {
  StartServer();
  absl::StatusOr<std::vector<std::string>> services =
      ListServicesByReflection(channel_);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, Contains("citekb.v1.KnowledgeBase"));
  EXPECT_THAT(*services, Contains("grpc.health.v1.Health"));
}

TEST_F(ServerTest, MissingIndexIsAClearError) {
  ServerOptions options = Options();
  options.index_path = index_dir_->File("no-such-index.sqlite");
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound)
      << server.status();
  EXPECT_THAT(server.status().message(), HasSubstr("no-such-index.sqlite"));
}

TEST_F(ServerTest, GarbageIndexIsAClearError) {
  testing::TempDir dir;
  const std::string garbage = dir.File("garbage.sqlite");
  testing::WriteFileOrDie(garbage, std::string(4096, 'x'));
  ServerOptions options = Options();
  options.index_path = garbage;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kDataLoss)
      << server.status();
  EXPECT_THAT(server.status().message(), HasSubstr("garbage.sqlite"));
}

TEST_F(ServerTest, PortInUseIsAnErrorNamingTheAddress) {
  StartServer();
  ServerOptions options = Options();
  options.listen = absl::StrCat("127.0.0.1:", server_->port());
  absl::StatusOr<std::unique_ptr<Server>> second = Server::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(options.listen));
}

TEST_F(ServerTest, BadAddressIsAnErrorNamingTheAddress) {
  ServerOptions options = Options();
  options.listen = "256.1.1.1:not-a-port";
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("256.1.1.1:not-a-port"));
}

TEST_F(ServerTest, InvalidOptionsAreRejected) {
  ServerOptions options = Options();
  options.max_receive_message_bytes = 0;
  EXPECT_EQ(Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.listen = "";
  EXPECT_EQ(Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerTest, OversizedRequestIsResourceExhausted) {
  ServerOptions options = Options();
  options.max_receive_message_bytes = 1024;
  StartServer(options);
  v1::AskRequest request;
  request.set_question(std::string(4096, 'a'));
  v1::AskResponse response;
  auto context = ContextWithDeadline();
  const grpc::Status status = stub_->Ask(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  // Rejected by gRPC before the service: no log line.
  EXPECT_EQ(log_.str(), "");
}

TEST_F(ServerTest, LogsOneLinePerRequestWithoutTheQuestion) {
  StartServer();
  v1::AskRequest request;
  request.set_question("secret question about magnesium");
  v1::AskResponse response;
  auto context = ContextWithDeadline();
  const grpc::Status status = stub_->Ask(context.get(), request, &response);

  const std::string log = log_.str();
  std::vector<std::string> lines = absl::StrSplit(log, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u) << log;
  EXPECT_THAT(lines[0],
              AllOf(HasSubstr("\"method\":\"Ask\""),
                    HasSubstr(absl::StrCat(
                        "\"status\":\"",
                        absl::StatusCodeToString(
                            static_cast<absl::StatusCode>(status.error_code())),
                        "\"")),
                    HasSubstr("\"latency_ms\":"),
                    HasSubstr(absl::StrCat("\"request_bytes\":",
                                           request.ByteSizeLong())),
                    HasSubstr("\"peer\":\"ipv4:127.0.0.1:"),
                    Not(HasSubstr("secret")), Not(HasSubstr("question"))));
  EXPECT_EQ(lines[0].front(), '{');
  EXPECT_EQ(lines[0].back(), '}');
}

TEST_F(ServerTest, LogsTheQuestionWhenAsked) {
  ServerOptions options = Options();
  options.log_questions = true;
  StartServer(options);
  v1::AskRequest request;
  request.set_question("is \"MK-7\" better?");
  v1::AskResponse response;
  auto context = ContextWithDeadline();
  stub_->Ask(context.get(), request, &response);
  EXPECT_THAT(log_.str(), HasSubstr(R"("question":"is \"MK-7\" better?")"));
}

TEST_F(ServerTest, RequestLoggingCanBeTurnedOff) {
  ServerOptions options = Options();
  options.log_requests = false;
  StartServer(options);
  v1::ListSectionsResponse response;
  auto context = ContextWithDeadline();
  stub_->ListSections(context.get(), v1::ListSectionsRequest(), &response);
  EXPECT_EQ(log_.str(), "");
}

TEST_F(ServerTest, ShutdownLetsAnInFlightCallFinish) {
  GateBuf gate;
  std::ostream gated_log(&gate);
  ServerOptions options = Options();
  options.log = &gated_log;
  StartServer(options);

  auto context = ContextWithDeadline();
  const v1::ListSectionsRequest request;
  v1::ListSectionsResponse response;
  std::promise<grpc::Status> call_done;
  stub_->async()->ListSections(
      context.get(), &request, &response,
      [&call_done](grpc::Status status) { call_done.set_value(status); });
  std::future<grpc::Status> call = call_done.get_future();
  // The handler has done its work and is now blocked writing its log line.
  ASSERT_TRUE(gate.WaitForWriter());

  std::future<void> shutdown =
      std::async(std::launch::async, [this] { server_->Shutdown(); });
  // Shutdown waits for the handler rather than cutting it off.
  EXPECT_EQ(shutdown.wait_for(std::chrono::milliseconds(300)),
            std::future_status::timeout);
  gate.Open();

  ASSERT_EQ(call.wait_for(kWait), std::future_status::ready);
  const grpc::Status status = call.get();
  EXPECT_TRUE(status.ok()) << status.error_code() << " "
                           << status.error_message();
  ASSERT_EQ(shutdown.wait_for(kWait), std::future_status::ready);
  // Later calls are refused.
  v1::ListSectionsResponse refused;
  auto late = ContextWithDeadline();
  EXPECT_FALSE(
      stub_->ListSections(late.get(), v1::ListSectionsRequest(), &refused)
          .ok());
}

TEST_F(ServerTest, ShutdownIsIdempotent) {
  StartServer();
  server_->Shutdown();
  server_->Shutdown();
  server_->Wait();
}

// One call per RPC: only proves each is wired to the logic and that the
// logic's status reaches the client unchanged.
TEST_F(ServerTest, EveryRpcIsWired) {
  StartServer();
  const auto call = [this](auto method, const auto& request, auto response) {
    auto context = ContextWithDeadline();
    return ((*stub_).*method)(context.get(), request, &response);
  };
  using Stub = v1::KnowledgeBase::Stub;
  const auto expect = [](const grpc::Status& status, grpc::StatusCode code,
                         const char* what) {
    EXPECT_EQ(status.error_code(), code)
        << what << ": " << status.error_message();
  };

  v1::AskRequest ask;
  ask.set_question("How much vitamin K2 should I take with vitamin D3?");
  expect(call(&Stub::Ask, ask, v1::AskResponse()), grpc::StatusCode::OK, "Ask");
  expect(call(&Stub::Ask, v1::AskRequest(), v1::AskResponse()),
         grpc::StatusCode::INVALID_ARGUMENT, "Ask with no question");

  v1::SearchRequest search;
  search.set_query("magnesium");
  expect(call(&Stub::Search, search, v1::SearchResponse()),
         grpc::StatusCode::OK, "Search");
  expect(call(&Stub::ListSections, v1::ListSectionsRequest(),
              v1::ListSectionsResponse()),
         grpc::StatusCode::OK, "ListSections");
  v1::GetSectionRequest section;
  section.set_id("no-such-article#no-such-section");
  expect(call(&Stub::GetSection, section, v1::GetSectionResponse()),
         grpc::StatusCode::NOT_FOUND, "GetSection");
  expect(call(&Stub::ListFaqs, v1::ListFaqsRequest(), v1::ListFaqsResponse()),
         grpc::StatusCode::OK, "ListFaqs");
  expect(call(&Stub::ListCitations, v1::ListCitationsRequest(),
              v1::ListCitationsResponse()),
         grpc::StatusCode::OK, "ListCitations");
  v1::GetCitationRequest citation;
  citation.set_id("pmid:999999999999");
  expect(call(&Stub::GetCitation, citation, v1::Citation()),
         grpc::StatusCode::NOT_FOUND, "GetCitation");
  expect(call(&Stub::ListRelatedLinks, v1::ListRelatedLinksRequest(),
              v1::ListRelatedLinksResponse()),
         grpc::StatusCode::OK, "ListRelatedLinks");
  v1::EvaluateStackRequest stack;
  stack.set_text("2000 IU vitamin D3 and 90 mcg MK-7");
  expect(call(&Stub::EvaluateStack, stack, v1::EvaluateStackResponse()),
         grpc::StatusCode::OK, "EvaluateStack");
  expect(call(&Stub::EvaluateStack, v1::EvaluateStackRequest(),
              v1::EvaluateStackResponse()),
         grpc::StatusCode::INVALID_ARGUMENT, "EvaluateStack with nothing");

  // Every call above was logged once.
  std::vector<std::string> lines =
      absl::StrSplit(log_.str(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 11u);
}

// A stack over the wire: the free-text example of issue 4, its findings, and
// every citation they carry fetched back through GetCitation.
TEST_F(ServerTest, EvaluateStackFindingsCiteWhatGetCitationServes) {
  StartServer();
  v1::EvaluateStackRequest request;
  request.set_text("2000iu vitamin D3, 90 mcg MK7 and magnesium malate 300mg before bed");
  request.add_medications("warfarin");
  v1::EvaluateStackResponse response;
  auto context = ContextWithDeadline();
  grpc::Status status = stub_->EvaluateStack(context.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.doses_size(), 3);
  EXPECT_EQ(response.doses(1).compound(), "vitamin_k2");
  EXPECT_EQ(response.doses(1).form(), "MK-7");
  EXPECT_DOUBLE_EQ(response.k2_mcg_per_5000_iu_d3(), 225);
  ASSERT_GT(response.findings_size(), 0);
  EXPECT_EQ(response.findings(0).code(), "ANTICOAGULANT_INTERACTION");
  std::vector<std::string> codes;
  for (const v1::Finding& finding : response.findings()) {
    codes.push_back(finding.code());
    ASSERT_FALSE(finding.citation_ids().empty()) << finding.code();
    for (const std::string& id : finding.citation_ids()) {
      v1::GetCitationRequest get;
      get.set_id(id);
      v1::Citation citation;
      auto get_context = ContextWithDeadline();
      grpc::Status got = stub_->GetCitation(get_context.get(), get, &citation);
      EXPECT_TRUE(got.ok()) << id << ": " << got.error_message();
      EXPECT_EQ(citation.id(), id);
    }
  }
  // 2,000 IU is the bottom of the article's standard range; 90 mcg of K2 is
  // under its 100-200 mcg.
  EXPECT_THAT(codes, ::testing::IsSupersetOf(
                         {"TIMING_LATE", "MAGNESIUM_LOW", "K2_BELOW_STANDARD"}));
  EXPECT_EQ(response.doses(0).band(), v1::DOSE_BAND_STANDARD);

  request.Clear();
  auto *dose = request.add_doses();
  dose->set_compound("K2");
  dose->set_amount(100);
  dose->set_unit("IU");
  auto bad_context = ContextWithDeadline();
  status = stub_->EvaluateStack(bad_context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              ::testing::HasSubstr("doses[0].unit: \"IU\" does not fit Vitamin K2"));
}

// ---------------------------------------------------------------------------
// The citekb-server binary.
// ---------------------------------------------------------------------------

// A child process with stdout and stderr captured in a file; killed and
// reaped on destruction if still running.
class Child {
 public:
  Child(std::vector<std::string> args, std::string output_path)
      : output_path_(std::move(output_path)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                     output_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      int ignored;
      waitpid(pid_, &ignored, 0);
    }
  }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // The wait status once the child has exited; -1 after kWait.
  int WaitForExit() {
    const auto give_up = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < give_up) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  std::string Output() const {
    std::ifstream in(output_path_);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // Polls the output until it contains a whole line with `text`; the
  // output, or "" after kWait.
  std::string WaitForLine(absl::string_view text) const {
    const auto give_up = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < give_up) {
      std::string output = Output();
      const size_t at = output.find(std::string(text));
      if (at != std::string::npos &&
          output.find('\n', at) != std::string::npos) {
        return output;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
  }

 private:
  std::string output_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// The port from "citekb-server: serving <index> on 127.0.0.1:<port>", or 0.
int ServingPort(const std::string& output) {
  const std::string kPrefix = " on 127.0.0.1:";
  const size_t at = output.find(kPrefix);
  if (at == std::string::npos) return 0;
  const size_t start = at + kPrefix.size();
  const size_t end = output.find('\n', start);
  int port = 0;
  if (!absl::SimpleAtoi(output.substr(start, end - start), &port)) return 0;
  return port;
}

class ServerBinaryTest : public ServerTest,
                         public ::testing::WithParamInterface<int> {};

TEST_P(ServerBinaryTest, SignalShutsDownGracefullyWithExitZero) {
  testing::TempDir dir;
  Child child({CITEKB_SERVER_BINARY, "--index", *index_path_, "--listen",
               "127.0.0.1:0"},
              dir.File("output.txt"));
  ASSERT_TRUE(child.started());
  const std::string output = child.WaitForLine("citekb-server: serving");
  ASSERT_THAT(output, HasSubstr(absl::StrCat("serving ", *index_path_, " on ")))
      << child.Output();
  const int port = ServingPort(output);
  ASSERT_GT(port, 0) << output;

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  ASSERT_TRUE(WaitUntilServing(channel, "citekb.v1.KnowledgeBase"));

  ASSERT_EQ(kill(child.pid(), GetParam()), 0);
  const int status = child.WaitForExit();
  ASSERT_NE(status, -1) << "still running after the signal\n" << child.Output();
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << child.Output();
  EXPECT_THAT(child.Output(), HasSubstr("citekb-server: stopped"));
}

INSTANTIATE_TEST_SUITE_P(Signals, ServerBinaryTest,
                         ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGTERM ? "SIGTERM"
                                                                    : "SIGINT");
                         });

TEST_F(ServerTest, BinaryWithBadIndexExitsOneWithAMessage) {
  testing::TempDir dir;
  const std::string missing = dir.File("missing.sqlite");
  Child child(
      {CITEKB_SERVER_BINARY, "--index", missing, "--listen", "127.0.0.1:0"},
      dir.File("output.txt"));
  ASSERT_TRUE(child.started());
  const int status = child.WaitForExit();
  ASSERT_NE(status, -1) << "still running with a missing index";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(child.Output(),
              AllOf(HasSubstr("citekb-server: "), HasSubstr(missing)));
}

}  // namespace
}  // namespace citekb
