// End-to-end tests of the gRPC layer: a real Server on a free port, called
// through real channels, plus the citekb-server binary run as a subprocess
// for start-up errors and signal handling. What the RPCs answer is tested
// against the logic directly (knowledge_base_test.cc); here one smoke call
// per RPC only proves the wiring. Faults under load (hot reload, shutdown,
// replicas, overload) are in reliability_test.cc, TLS in tls_test.cc.

#include "service/server/server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/status.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "service/server/grpc_status.h"
#include "service/server/request_log.h"
#include "tests/support/server_test_support.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::AllOf;
using testing::CheckHealth;
using testing::Child;
using ::testing::Contains;
using testing::ContextWithDeadline;
using testing::GateBuf;
using ::testing::HasSubstr;
using testing::HealthResult;
using testing::kServing;
using testing::kWait;
using testing::ListServicesByReflection;
using ::testing::Not;
using testing::ServingPort;
using testing::StallRequestLog;
using testing::WaitUntilServing;

// Polls `done` every 10 ms; false after kWait.
bool Eventually(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < give_up) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
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
  RequestLog log(&out, {.log_questions = false});
  log.Record(AskEntry("how much magnesium?"));
  log.Flush();
  EXPECT_EQ(out.str(),
            "{\"ts\":\"2025-11-25T08:01:02.345Z\",\"method\":\"Ask\","
            "\"status\":\"INVALID_ARGUMENT\",\"latency_ms\":1.234,"
            "\"request_bytes\":52,\"peer\":\"ipv4:127.0.0.1:5555\"}\n");
}

TEST(RequestLogTest, WritesTheQuestionOnlyWhenAsked) {
  RequestLog log(nullptr, {.log_questions = true});
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
  RequestLog log(nullptr, {.log_questions = true});
  for (const auto& c : kCases) {
    EXPECT_THAT(log.Format(AskEntry(c.question)),
                HasSubstr(absl::StrCat("\"question\":", c.escaped, "}")))
        << c.question;
  }
}

TEST(RequestLogTest, ConcurrentLinesDoNotInterleave) {
  // Every line is out once Flush() has returned, whether the writer took
  // the lines in many batches (1 ms) or a few (the default).
  for (const absl::Duration interval :
       {absl::Milliseconds(1), RequestLogOptions().flush_interval}) {
    std::ostringstream out;
    RequestLog log(&out, {.log_questions = false, .flush_interval = interval});
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&log] {
        for (int i = 0; i < 200; ++i) log.Record(AskEntry("q"));
      });
    }
    for (std::thread& thread : threads) thread.join();
    log.Flush();
    const std::string expected =
        RequestLog(nullptr, {.log_questions = false}).Format(AskEntry("q"));
    std::vector<std::string> lines =
        absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 1600u) << interval;
    for (const std::string& line : lines) ASSERT_EQ(line, expected);
  }
}

TEST(RequestLogTest, TimestampsAreWrittenAsAbslFormatTimeWritesThem) {
  const absl::Time kTimes[] = {
      absl::UnixEpoch(),
      absl::FromUnixMillis(1764057662345),     // the example above
      absl::FromUnixMicros(1764057662345999),  // milliseconds round down
      absl::FromUnixMillis(-1),                // 1969-12-31T23:59:59.999
      absl::FromUnixSeconds(-11644473600),     // 1601-01-01
      absl::FromCivil(absl::CivilSecond(2000, 2, 29, 12, 0, 0),
                      absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(2024, 12, 31, 23, 59, 59),
                      absl::UTCTimeZone()) +
          absl::Milliseconds(999),
      absl::FromCivil(absl::CivilSecond(2100, 3, 1, 0, 0, 0),
                      absl::UTCTimeZone()),
      absl::FromUnixSeconds(2147483648),  // past 2038
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59),
                      absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0),
                      absl::UTCTimeZone()),  // five digits: the general way
      absl::FromCivil(absl::CivilSecond(999, 12, 31, 23, 59, 59),
                      absl::UTCTimeZone()),  // three digits: the same
      absl::FromCivil(absl::CivilSecond(1000, 1, 1, 0, 0, 0),
                      absl::UTCTimeZone()),
      absl::InfiniteFuture(),
  };
  RequestLog log(nullptr, {.log_questions = false});
  for (const absl::Time t : kTimes) {
    RequestLogEntry entry = AskEntry("");
    entry.start = t;
    EXPECT_THAT(log.Format(entry),
                HasSubstr(absl::StrCat("{\"ts\":\"",
                                       absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                                        t, absl::UTCTimeZone()),
                                       "\",")))
        << t;
  }
  // Every day of four years around a leap day, at an odd time of day.
  const absl::Time first = absl::FromCivil(
      absl::CivilSecond(1999, 12, 1, 7, 8, 9), absl::UTCTimeZone());
  for (int day = 0; day < 4 * 366; ++day) {
    RequestLogEntry entry = AskEntry("");
    entry.start = first + absl::Hours(24 * day) + absl::Milliseconds(day);
    ASSERT_THAT(log.Format(entry),
                HasSubstr(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", entry.start,
                                           absl::UTCTimeZone())))
        << entry.start;
  }
}

TEST(RequestLogTest, LatencyIsInMillisecondsWithThreeDecimals) {
  const struct {
    absl::Duration latency;
    const char* written;
  } kCases[] = {
      {absl::ZeroDuration(), "0.000"},
      {absl::Nanoseconds(499), "0.000"},
      {absl::Nanoseconds(501), "0.001"},
      {absl::Microseconds(1234), "1.234"},
      {absl::Nanoseconds(1234567), "1.235"},
      {absl::Nanoseconds(999999700), "1000.000"},
      {absl::Seconds(12), "12000.000"},
      {-absl::Microseconds(1500), "-1.500"},
  };
  RequestLog log(nullptr, {.log_questions = false});
  for (const auto& c : kCases) {
    RequestLogEntry entry = AskEntry("");
    entry.latency = c.latency;
    EXPECT_THAT(log.Format(entry),
                HasSubstr(absl::StrCat("\"latency_ms\":", c.written, ",")))
        << c.latency;
    // The same as printf's rounding, away from exact ties.
    EXPECT_EQ(c.written,
              absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(c.latency)));
  }
}

// A stream buffer that keeps what is written, and whose first write blocks
// until Open(): a stalled log.
class StallingBuf : public std::streambuf {
 public:
  // True once a write has started (and is blocked); false after kWait.
  bool WaitForWriter() {
    return entered_.WaitForNotificationWithTimeout(absl::FromChrono(kWait));
  }
  void Open() { open_.Notify(); }
  std::string str() {
    absl::MutexLock lock(&mu_);
    return data_;
  }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (!entered_.HasBeenNotified()) {
      entered_.Notify();
      open_.WaitForNotification();
    }
    absl::MutexLock lock(&mu_);
    data_.append(s, static_cast<size_t>(n));
    return n;
  }
  int overflow(int c) override {
    char ch = static_cast<char>(c);
    xsputn(&ch, 1);
    return c;
  }

 private:
  absl::Notification entered_;
  absl::Notification open_;
  absl::Mutex mu_;
  std::string data_;
};

// A stalled stream holds only the log's own writer: lines are taken at
// once, and written, in order, when the stream moves again.
TEST(RequestLogTest, LinesDoNotWaitForAStalledStream) {
  StallingBuf stalled;
  std::ostream out(&stalled);
  {
    RequestLog log(&out, {.flush_interval = absl::Milliseconds(1)});
    log.WriteLine("first");
    ASSERT_TRUE(stalled.WaitForWriter());  // The writer is stuck on "first".
    log.WriteLine("second");
    log.WriteLine("third");
    EXPECT_EQ(stalled.str(), "");
    stalled.Open();
  }  // The destructor writes what is left.
  EXPECT_EQ(stalled.str(), "first\nsecond\nthird\n");
}

// Lines reach the stream within the interval by themselves (no later line,
// flush or shutdown needed).
TEST(RequestLogTest, LinesAreWrittenWithinTheInterval) {
  StallingBuf stream;
  stream.Open();
  std::ostream out(&stream);
  RequestLog log(&out, {.flush_interval = absl::Milliseconds(5)});
  log.WriteLine("only");
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (stream.str().empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(stream.str(), "only\n");
}

// Writes `lines` lines of 1,000 bytes (with the newline) to `log` on another
// thread; true once all of them were taken, false when one still waits for
// room after `timeout`. The thread is left to finish when the caller lets
// the log move again.
bool WriteLinesWithin(RequestLog& log, int lines, absl::Duration timeout,
                      std::thread* writer) {
  auto done = std::make_shared<absl::Notification>();
  *writer = std::thread([&log, lines, done] {
    for (int i = 0; i < lines; ++i) log.WriteLine(std::string(999, 'x'));
    done->Notify();
  });
  return done->WaitForNotificationWithTimeout(timeout);
}

// While `max_pending_bytes` wait for a stalled stream, a line waits for
// room; before that, every line is taken at once. 1,000-byte lines:
// 1,049 of them take the default 1 MiB past the bound (1,048 leave 576
// bytes of room), so the 1,050th waits.
TEST(RequestLogTest, WritesWaitOnlyOnceTooMuchIsWaiting) {
  constexpr size_t kMaxPending = RequestLogOptions().max_pending_bytes;
  constexpr int kTaken = static_cast<int>(kMaxPending / 1000 + 1);
  StallingBuf stalled;
  std::ostream out(&stalled);
  RequestLog log(&out, {.flush_interval = absl::Milliseconds(1)});
  log.WriteLine("first");
  ASSERT_TRUE(stalled.WaitForWriter());

  std::thread taken;
  EXPECT_TRUE(WriteLinesWithin(log, kTaken, absl::FromChrono(kWait), &taken));
  taken.join();
  absl::Notification written;
  std::thread waiting([&] {
    log.WriteLine("last");
    written.Notify();
  });
  EXPECT_FALSE(written.WaitForNotificationWithTimeout(absl::Milliseconds(100)));

  stalled.Open();
  waiting.join();
  log.Flush();
  std::vector<std::string> lines =
      absl::StrSplit(stalled.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kTaken) + 2);
  EXPECT_EQ(lines.front(), "first");
  EXPECT_EQ(lines.back(), "last");
}

// The bound is an option: at one byte, the line after the one waiting
// waits too, which is how the server tests hold calls in flight.
TEST(RequestLogTest, TheBoundOnWhatWaitsIsAnOption) {
  StallingBuf stalled;
  std::ostream out(&stalled);
  RequestLog log(
      &out, {.flush_interval = absl::Milliseconds(1), .max_pending_bytes = 1});
  log.WriteLine("first");
  ASSERT_TRUE(stalled.WaitForWriter());
  std::thread taken;
  EXPECT_TRUE(WriteLinesWithin(log, 1, absl::FromChrono(kWait), &taken));
  taken.join();
  std::thread waiting;
  EXPECT_FALSE(WriteLinesWithin(log, 1, absl::Milliseconds(100), &waiting));
  stalled.Open();
  waiting.join();
  log.Flush();
  std::vector<std::string> lines =
      absl::StrSplit(stalled.str(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 3u);
}

// ---------------------------------------------------------------------------
// A real server over the seed index.
// ---------------------------------------------------------------------------

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
  void TearDown() override { gate_.Open(); }

  ServerOptions Options() {
    ServerOptions options;
    options.index_path = *index_path_;
    options.listen = "127.0.0.1:0";
    options.log = &log_;
    options.event_log = nullptr;
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

  // Options() with the request log written to gated_log_, where only one
  // line may wait: StallRequestLog(gate_, ...) then holds every later call
  // in flight until gate_.Open().
  ServerOptions OptionsWithAStallingLog() {
    ServerOptions options = Options();
    options.log = &gated_log_;
    options.log_max_pending_bytes = 1;
    return options;
  }

  static testing::TempDir* index_dir_;
  static std::string* index_path_;

  std::ostringstream log_;
  // A stalled log stream (server_test_support.h). Declared before server_,
  // so that the server writes its last lines before they go; TearDown opens
  // the gate, so that a test that failed with calls held ends quickly.
  GateBuf gate_;
  std::ostream gated_log_{&gate_};
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

TEST_F(ServerTest, HealthWatchReportsUnknownServicesAndChanges) {
  StartServer();
  testing::HealthWatch unknown(channel_, "no.such.Service");
  EXPECT_EQ(unknown.Next(), 3);  // SERVICE_UNKNOWN, and the stream stays
  testing::HealthWatch watch(channel_, "citekb.v1.KnowledgeBase");
  EXPECT_EQ(watch.Next(), kServing);
  server_->Shutdown();
  EXPECT_EQ(watch.Next(), testing::kNotServing);
  EXPECT_EQ(watch.Next(), -1) << "the stream ends with the server";
}

TEST_F(ServerTest, LameDuckKeepsServingWhileHealthSaysNotServing) {
  ServerOptions options = Options();
  // Long enough for the checks below on a slow machine; the test waits for
  // none of it, Shutdown() does.
  options.lame_duck = absl::Seconds(3);
  StartServer(options);
  std::future<void> shutdown =
      std::async(std::launch::async, [this] { server_->Shutdown(); });
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  HealthResult health;
  do {
    health = CheckHealth(channel_, "citekb.v1.KnowledgeBase");
  } while (health.serving_status == kServing &&
           std::chrono::steady_clock::now() < give_up);
  ASSERT_TRUE(health.status.ok()) << health.status.error_message();
  EXPECT_EQ(health.serving_status, testing::kNotServing);
  // Still answering: probes and balancers have time to look elsewhere.
  v1::ListSectionsResponse response;
  auto context = ContextWithDeadline();
  const grpc::Status status =
      stub_->ListSections(context.get(), v1::ListSectionsRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(shutdown.wait_for(kWait), std::future_status::ready);
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
  options = Options();
  options.log_flush_interval = absl::Milliseconds(-5);
  const absl::Status negative = Server::Start(options).status();
  EXPECT_EQ(negative.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(negative.message(),
            "log flush interval: must not be negative, got -5ms");
  // Request-log lines are only ever written in batches, by the log's
  // thread.
  options.log_flush_interval = absl::ZeroDuration();
  const absl::Status zero = Server::Start(options).status();
  EXPECT_EQ(zero.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero.message(),
              HasSubstr("log flush interval: must be positive"));
  options = Options();
  options.log_max_pending_bytes = 0;
  EXPECT_EQ(Server::Start(options).status().message(),
            "log max pending bytes: must be positive, got 0");
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
  // Rejected by gRPC before the service: no log line, even once every
  // line is written.
  server_->Shutdown();
  EXPECT_EQ(log_.str(), "");
}

TEST_F(ServerTest, LogsOneLinePerRequestWithoutTheQuestion) {
  StartServer();
  v1::AskRequest request;
  request.set_question("secret question about magnesium");
  v1::AskResponse response;
  auto context = ContextWithDeadline();
  const grpc::Status status = stub_->Ask(context.get(), request, &response);

  server_->Shutdown();  // Writes every line (they are written in batches).
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
  server_->Shutdown();
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
  StartServer(OptionsWithAStallingLog());
  ASSERT_TRUE(StallRequestLog(gate_, channel_));

  auto context = ContextWithDeadline();
  const v1::ListSectionsRequest request;
  v1::ListSectionsResponse response;
  std::promise<grpc::Status> call_done;
  stub_->async()->ListSections(
      context.get(), &request, &response,
      [&call_done](grpc::Status status) { call_done.set_value(status); });
  std::future<grpc::Status> call = call_done.get_future();
  // The handler does its work and then waits for room in the log.
  ASSERT_TRUE(Eventually([&] { return server_->calls_in_flight() == 1; }));

  std::future<void> shutdown =
      std::async(std::launch::async, [this] { server_->Shutdown(); });
  // Shutdown waits for the handler rather than cutting it off.
  EXPECT_EQ(shutdown.wait_for(std::chrono::milliseconds(300)),
            std::future_status::timeout);
  gate_.Open();

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

// With the default buffered log, a stalled log stream holds no call at all:
// the lines wait in memory and are written, one per call, once it moves.
TEST_F(ServerTest, StalledBufferedLogHoldsNoCall) {
  StallingBuf stalled;
  std::ostream stalled_log(&stalled);
  ServerOptions options = Options();
  options.log = &stalled_log;
  StartServer(options);

  v1::AskRequest ask;
  ask.set_question("why K2 with D3?");
  constexpr int kCalls = 6;
  for (int i = 0; i < kCalls; ++i) {
    v1::AskResponse response;
    auto context = ContextWithDeadline();
    const grpc::Status status = stub_->Ask(context.get(), ask, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.answered());
    // From the first call's line on, the stream is stuck.
    if (i == 0) {
      ASSERT_TRUE(stalled.WaitForWriter());
    }
  }
  EXPECT_EQ(stalled.str(), "");
  stalled.Open();
  server_->Shutdown();
  std::vector<std::string> lines =
      absl::StrSplit(stalled.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kCalls)) << stalled.str();
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr("\"method\":\"Ask\",\"status\":\"OK\""));
  }
}

// A stalled log holds neither health checks nor EvaluateStack calls: while
// the log's writer is stuck on the first call's line, the later calls'
// lines wait in memory, and every line is written once the stream moves.
TEST_F(ServerTest, StalledLogHoldsNeitherHealthNorEvaluateStack) {
  ServerOptions options = Options();
  options.log = &gated_log_;
  StartServer(options);

  v1::EvaluateStackRequest request;
  request.set_text("2000 IU vitamin D3 and 90 mcg MK-7");
  std::future<grpc::Status> first = std::async(std::launch::async, [&] {
    v1::EvaluateStackResponse response;
    auto context = ContextWithDeadline();
    return stub_->EvaluateStack(context.get(), request, &response);
  });
  ASSERT_TRUE(gate_.WaitForWriter());

  EXPECT_EQ(CheckHealth(channel_, "").serving_status, kServing);
  for (int i = 0; i < 3; ++i) {
    v1::EvaluateStackResponse response;
    auto context = ContextWithDeadline();
    const grpc::Status status =
        stub_->EvaluateStack(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(response.findings_size(), 0);
  }
  // The writer is still stuck on the first call's line.
  EXPECT_EQ(gate_.written(), "");

  gate_.Open();
  ASSERT_EQ(first.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(first.get().ok());
  server_->Shutdown();
  std::vector<std::string> lines =
      absl::StrSplit(gate_.written(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << gate_.written();
  for (const std::string& line : lines) {
    EXPECT_THAT(line,
                HasSubstr("\"method\":\"EvaluateStack\",\"status\":\"OK\""));
  }
}

// A call runs on gRPC's thread only when no other gRPC thread is running
// one (the blocking slot in call_scheduler.h): with one call held there and
// one on a worker, health checks and refusals are still answered at once.
TEST_F(ServerTest, HeldIndexCallsHoldNeitherHealthNorRefusals) {
  ServerOptions options = OptionsWithAStallingLog();
  options.max_threads = 2;
  StartServer(options);
  ASSERT_TRUE(StallRequestLog(gate_, channel_));

  const v1::ListSectionsRequest request;
  auto held = [&] {
    return std::async(std::launch::async, [&] {
      v1::ListSectionsResponse response;
      auto context = ContextWithDeadline();
      return stub_->ListSections(context.get(), request, &response);
    });
  };
  std::future<grpc::Status> first = held();
  ASSERT_TRUE(Eventually([&] { return server_->calls_in_flight() == 1; }));
  std::future<grpc::Status> second = held();
  ASSERT_TRUE(Eventually([&] { return server_->calls_in_flight() == 2; }));

  EXPECT_EQ(CheckHealth(channel_, "").serving_status, kServing);
  v1::ListSectionsResponse refused;
  auto context = ContextWithDeadline();
  EXPECT_EQ(stub_->ListSections(context.get(), request, &refused).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  gate_.Open();
  ASSERT_EQ(first.wait_for(kWait), std::future_status::ready);
  ASSERT_EQ(second.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
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
  server_->Shutdown();
  std::vector<std::string> lines =
      absl::StrSplit(log_.str(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 11u);
}

// A stack over the wire: a free-text stack, its findings, and every citation
// they carry fetched back through GetCitation.
TEST_F(ServerTest, EvaluateStackFindingsCiteWhatGetCitationServes) {
  StartServer();
  v1::EvaluateStackRequest request;
  request.set_text(
      "2000iu vitamin D3, 90 mcg MK7 and magnesium malate 300mg before bed");
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
  EXPECT_THAT(codes, ::testing::IsSupersetOf({"TIMING_LATE", "MAGNESIUM_LOW",
                                              "K2_BELOW_STANDARD"}));
  EXPECT_EQ(response.doses(0).band(), v1::DOSE_BAND_STANDARD);

  request.Clear();
  auto* dose = request.add_doses();
  dose->set_compound("K2");
  dose->set_amount(100);
  dose->set_unit("IU");
  auto bad_context = ContextWithDeadline();
  status = stub_->EvaluateStack(bad_context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(
      status.error_message(),
      ::testing::HasSubstr("doses[0].unit: \"IU\" does not fit Vitamin K2"));
}

// ---------------------------------------------------------------------------
// The citekb-server binary.
// ---------------------------------------------------------------------------

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
