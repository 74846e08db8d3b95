// Faults under load, end to end: hot reload (file replaced, SIGHUP, bad
// files refused), graceful shutdown, a replica killed behind client-side
// load balancing, and the limits that keep an overloaded or hostile caller
// from taking the server down. Every test counts the calls it made and
// asserts that none failed unexpectedly; the counts are printed, e.g.
//
//   [reliability] hot reload (poll): 1520 calls, 1 reload, 0 failed
//
// Nothing here asserts on timing: waits are bounded by kWait and load runs
// until a number of calls has completed, so a slow machine makes the tests
// slower, not flaky.

#include <grpcpp/channel.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "citekb/v1/knowledge_base.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/server/server.h"
#include "tests/support/server_test_support.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::AllOf;
using testing::CheckHealth;
using testing::Child;
using testing::ContextWithDeadline;
using testing::GateBuf;
using ::testing::HasSubstr;
using testing::HealthWatch;
using testing::kNotServing;
using testing::kServing;
using testing::kWait;
using testing::LockedStringStream;
using testing::ServingPort;
using testing::StallRequestLog;
using testing::WaitUntilServing;

using Clock = std::chrono::steady_clock;

constexpr char kSeedArticle[] =
    "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries";
constexpr char kMagnesiumArticle[] =
    "magnesium-forms-glycinate-malate-and-citrate-compared";

std::string MagnesiumArticlePath() {
  return testing::SourcePath("tests/fixtures/knowledge/magnesium-forms.txt");
}

// Polls `done` every 10 ms; false after kWait.
bool Eventually(const std::function<bool()>& done) {
  const auto give_up = Clock::now() + kWait;
  while (Clock::now() < give_up) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// ---------------------------------------------------------------------------
// A load generator: threads calling Ask, Search and ListSections in turn
// through the given channels until stopped, recording every outcome.
// ---------------------------------------------------------------------------

class Load {
 public:
  // Which index answered a ListSections call.
  enum class Index { kUnknown, kSeed, kSeedAndMagnesium };

  struct Failure {
    grpc::StatusCode code;
    std::string message;
  };

  // `ok_codes`: codes that count as expected (besides OK), e.g. UNAVAILABLE
  // for calls refused while a server shuts down. `attempts`: how often the
  // application itself makes a call that failed with UNAVAILABLE, on top of
  // the channel's retry policy (see deploy/README.md for when that matters).
  Load(std::vector<std::shared_ptr<grpc::Channel>> channels, int threads,
       std::vector<grpc::StatusCode> ok_codes = {},
       std::chrono::milliseconds deadline = kWait, int attempts = 1)
      : ok_codes_(std::move(ok_codes)),
        deadline_(deadline),
        attempts_(attempts) {
    for (int t = 0; t < threads; ++t) {
      workers_.emplace_back([this, channel = channels[t % channels.size()], t] {
        Run(channel, t);
      });
    }
  }
  ~Load() { Stop(); }

  void Stop() {
    stop_ = true;
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

  // Blocks until `n` more calls have completed after this call; false after
  // kWait.
  bool WaitForMoreCalls(int64_t n) {
    const int64_t target = calls() + n;
    return Eventually([&] { return calls() >= target; });
  }

  int64_t calls() const { return calls_.load(); }
  int64_t expected_errors() const { return expected_errors_.load(); }
  int64_t application_retries() const { return application_retries_.load(); }
  std::vector<Failure> failures() const {
    absl::MutexLock lock(&mu_);
    return failures_;
  }

  // ListSections calls that started after `since` and were answered by an
  // index other than `index`.
  int64_t AnsweredByOtherThan(Index index, Clock::time_point since) const {
    absl::MutexLock lock(&mu_);
    int64_t other = 0;
    for (const auto& [start, answered_by] : sections_calls_) {
      if (start > since && answered_by != index) ++other;
    }
    return other;
  }

  std::string Summary() const {
    return absl::StrCat(
        calls(), " calls, ", failures().size(), " failed",
        expected_errors() > 0
            ? absl::StrCat(", ", expected_errors(), " refused as expected")
            : "",
        application_retries() > 0
            ? absl::StrCat(", ", application_retries(),
                           " made again by the application")
            : "");
  }

 private:
  void Run(std::shared_ptr<grpc::Channel> channel, int thread) {
    std::unique_ptr<v1::KnowledgeBase::Stub> stub =
        v1::KnowledgeBase::NewStub(channel);
    for (int64_t i = thread; !stop_; ++i) {
      const Clock::time_point start = Clock::now();
      grpc::Status status;
      Index answered_by = Index::kUnknown;
      for (int attempt = 1;; ++attempt) {
        status = Call(*stub, i, &answered_by);
        if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
            attempt >= attempts_) {
          break;
        }
        ++application_retries_;
      }
      ++calls_;
      absl::MutexLock lock(&mu_);
      if (status.ok()) {
        if (i % 3 == 2) sections_calls_.emplace_back(start, answered_by);
      } else if (absl::c_linear_search(ok_codes_, status.error_code())) {
        ++expected_errors_;
      } else {
        failures_.push_back({status.error_code(), status.error_message()});
      }
    }
  }

  // Call number `i`: Ask, Search or ListSections in turn.
  grpc::Status Call(v1::KnowledgeBase::Stub& stub, int64_t i,
                    Index* answered_by) {
    auto context = ContextWithDeadline(deadline_);
    grpc::Status status;
    switch (i % 3) {
      case 0: {
        v1::AskRequest request;
        request.set_question(i % 2 ? "which form of magnesium is gentle?"
                                   : "why K2 with D3?");
        v1::AskResponse response;
        status = stub.Ask(context.get(), request, &response);
        break;
      }
      case 1: {
        v1::SearchRequest request;
        request.set_query("magnesium calcium");
        v1::SearchResponse response;
        status = stub.Search(context.get(), request, &response);
        break;
      }
      default: {
        v1::ListSectionsResponse response;
        status = stub.ListSections(context.get(), v1::ListSectionsRequest(),
                                   &response);
        if (status.ok()) {
          bool magnesium = false, seed = false;
          for (const v1::Section& section : response.sections()) {
            magnesium |= section.article_id() == kMagnesiumArticle;
            seed |= section.article_id() == kSeedArticle;
          }
          *answered_by = magnesium && seed ? Index::kSeedAndMagnesium
                         : seed            ? Index::kSeed
                                           : Index::kUnknown;
        }
        break;
      }
    }
    return status;
  }

  const std::vector<grpc::StatusCode> ok_codes_;
  const std::chrono::milliseconds deadline_;
  const int attempts_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> expected_errors_{0};
  std::atomic<int64_t> application_retries_{0};
  mutable absl::Mutex mu_;
  std::vector<Failure> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<Clock::time_point, Index>> sections_calls_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

std::string Describe(const std::vector<Load::Failure>& failures) {
  return absl::StrJoin(failures, "\n", [](std::string* out, const auto& f) {
    absl::StrAppend(out, static_cast<int>(f.code), ": ", f.message);
  });
}

std::shared_ptr<grpc::Channel> ChannelTo(int port) {
  // A private subchannel pool: every channel gets its own connection, so
  // "several channels" really means several connections.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

// ---------------------------------------------------------------------------
// In-process servers over a private copy of the seed index.
// ---------------------------------------------------------------------------

class ReliabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index_path_ = dir_.File("kb.sqlite");
    ASSERT_TRUE(
        testing::BuildIndexOf({testing::SeedArticlePath()}, index_path_).ok());
  }
  void TearDown() override { gate_.Open(); }

  ServerOptions Options() {
    ServerOptions options;
    options.index_path = index_path_;
    options.listen = "127.0.0.1:0";
    options.log = &log_;
    options.event_log = &events_;
    options.reload_poll_interval = absl::ZeroDuration();
    return options;
  }

  // Options() with the request log written to gated_log_, where only one
  // line may wait: StallRequestLog(gate_, ...) then holds every later call
  // in flight until gate_.Open().
  ServerOptions OptionsWithAStallingLog() {
    ServerOptions options = Options();
    options.log = &gated_log_;
    options.log_max_pending_bytes = 1;
    return options;
  }

  void StartServer(const ServerOptions& options) {
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = ChannelTo(server_->port());
  }

  // Replaces the index file the way citekb-index does (build aside, rename).
  void RebuildIndex(const std::vector<std::string>& articles) {
    ASSERT_TRUE(testing::BuildIndexOf(articles, index_path_).ok());
  }

  void RenameIntoPlace(const std::string& contents) {
    const std::string staged = dir_.File("staged.tmp");
    testing::WriteFileOrDie(staged, contents);
    std::filesystem::rename(staged, index_path_);
  }

  int CountEvents(absl::string_view text) const {
    std::vector<std::string> lines =
        absl::StrSplit(events_.str(), '\n', absl::SkipEmpty());
    return static_cast<int>(
        absl::c_count_if(lines, [&](const std::string& line) {
          return absl::StrContains(line, text);
        }));
  }

  testing::TempDir dir_;
  std::string index_path_;
  LockedStringStream log_;
  LockedStringStream events_;
  // A stalled log stream (server_test_support.h). Declared before server_,
  // so that the server writes its last lines before they go; TearDown opens
  // the gate, so that a test that failed with calls held ends quickly.
  GateBuf gate_;
  std::ostream gated_log_{&gate_};
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ReliabilityTest, OverloadIsRefusedAtOnceWithResourceExhausted) {
  ServerOptions options = OptionsWithAStallingLog();
  options.max_threads = 4;
  StartServer(options);
  ASSERT_TRUE(StallRequestLog(gate_, channel_));
  std::unique_ptr<v1::KnowledgeBase::Stub> stub =
      v1::KnowledgeBase::NewStub(channel_);

  // Many more calls than threads; those that get a thread do their work and
  // then wait for room in the request log until the gate opens.
  constexpr int kCalls = 24;
  struct Call {
    std::unique_ptr<grpc::ClientContext> context;
    v1::ListSectionsResponse response;
    std::atomic<bool> done{false};
    grpc::Status status;
  };
  std::vector<Call> calls(kCalls);
  const v1::ListSectionsRequest request;
  for (Call& call : calls) {
    call.context = ContextWithDeadline(3 * kWait);
    stub->async()->ListSections(call.context.get(), &request, &call.response,
                                [&call](grpc::Status status) {
                                  call.status = std::move(status);
                                  call.done = true;
                                });
  }
  ASSERT_TRUE(Eventually([&] { return server_->calls_in_flight() == 4; }))
      << server_->calls_in_flight();

  // While every thread is held, the rest are answered, not queued.
  auto finished = [&] {
    return absl::c_count_if(calls, [](const Call& c) { return c.done.load(); });
  };
  ASSERT_TRUE(Eventually([&] { return finished() > 0; }))
      << "no call was refused while all threads were busy";
  // Let the refusals that are on their way arrive.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int refused_while_busy = 0;
  for (const Call& call : calls) {
    if (!call.done) continue;
    EXPECT_EQ(call.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
        << call.status.error_message();
    ++refused_while_busy;
  }

  gate_.Open();
  ASSERT_TRUE(Eventually([&] { return finished() == kCalls; }));
  int ok = 0, exhausted = 0;
  for (const Call& call : calls) {
    if (call.status.ok()) ++ok;
    if (call.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_EQ(ok + exhausted, kCalls);
  std::printf(
      "[reliability] overload (max_threads 4): %d calls, %d served, %d "
      "RESOURCE_EXHAUSTED (%d while all threads were busy)\n",
      kCalls, ok, exhausted, refused_while_busy);
}

TEST_F(ReliabilityTest, ShutdownFlipsHealthFirstAndLetsInFlightCallsFinish) {
  ServerOptions options = OptionsWithAStallingLog();
  StartServer(options);
  ASSERT_TRUE(StallRequestLog(gate_, channel_));
  HealthWatch watch(channel_, "citekb.v1.KnowledgeBase");
  ASSERT_EQ(watch.Next(), kServing);

  std::unique_ptr<v1::KnowledgeBase::Stub> stub =
      v1::KnowledgeBase::NewStub(channel_);
  constexpr int kCalls = 8;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<v1::ListSectionsResponse> responses(kCalls);
  std::vector<std::promise<grpc::Status>> done(kCalls);
  const v1::ListSectionsRequest request;
  for (int i = 0; i < kCalls; ++i) {
    contexts.push_back(ContextWithDeadline(3 * kWait));
    stub->async()->ListSections(
        contexts.back().get(), &request, &responses[i],
        [&done, i](grpc::Status status) { done[i].set_value(status); });
  }
  // All of them inside their handlers (waiting for room in the log, or for
  // a worker): in flight, not merely sent.
  ASSERT_TRUE(Eventually([&] { return server_->calls_in_flight() == kCalls; }))
      << server_->calls_in_flight();

  const Clock::time_point begin = Clock::now();
  std::future<void> shutdown =
      std::async(std::launch::async, [this] { server_->Shutdown(); });
  // Health turns NOT_SERVING while the calls are still in flight.
  EXPECT_EQ(watch.Next(), kNotServing);
  EXPECT_EQ(shutdown.wait_for(std::chrono::milliseconds(0)),
            std::future_status::timeout);

  gate_.Open();
  for (int i = 0; i < kCalls; ++i) {
    std::future<grpc::Status> status = done[i].get_future();
    ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
    const grpc::Status result = status.get();
    EXPECT_TRUE(result.ok())
        << result.error_code() << " " << result.error_message();
  }
  ASSERT_EQ(shutdown.wait_for(kWait), std::future_status::ready);
  std::printf(
      "[reliability] shutdown: %d in-flight calls finished OK, drained in "
      "%lld ms\n",
      kCalls,
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                begin)
              .count()));
}

TEST_F(ReliabilityTest, ConcurrentStreamsPerConnectionAreCapped) {
  ServerOptions options = OptionsWithAStallingLog();
  options.max_concurrent_streams = 1;
  StartServer(options);
  ASSERT_TRUE(StallRequestLog(gate_, channel_));
  // The next call takes the connection's only stream and is held.
  std::unique_ptr<v1::KnowledgeBase::Stub> stub =
      v1::KnowledgeBase::NewStub(channel_);
  auto context = ContextWithDeadline(3 * kWait);
  v1::ListSectionsResponse response;
  const v1::ListSectionsRequest request;
  std::promise<grpc::Status> done;
  stub->async()->ListSections(
      context.get(), &request, &response,
      [&done](grpc::Status status) { done.set_value(status); });
  ASSERT_TRUE(Eventually([&] { return server_->calls_in_flight() == 1; }));

  // A second call on that connection waits for a stream (and here runs
  // out of time); another connection is served at once.
  EXPECT_EQ(CheckHealth(channel_, "", std::chrono::milliseconds(1000))
                .status.error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(CheckHealth(ChannelTo(server_->port()), "").serving_status,
            kServing);

  gate_.Open();
  std::future<grpc::Status> status = done.get_future();
  ASSERT_EQ(status.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(status.get().ok());
  EXPECT_EQ(CheckHealth(channel_, "").serving_status, kServing);
}

TEST_F(ReliabilityTest, QueryWorkBeyondTheLimitIsResourceExhausted) {
  ServerOptions options = Options();
  // Far below what an answer needs: the first progress check (every 1000
  // steps) is over it.
  options.max_query_steps = 500;
  StartServer(options);
  std::unique_ptr<v1::KnowledgeBase::Stub> stub =
      v1::KnowledgeBase::NewStub(channel_);
  v1::AskRequest ask;
  ask.set_question("why K2 with D3?");
  v1::AskResponse answer;
  auto context = ContextWithDeadline();
  const grpc::Status status = stub->Ask(context.get(), ask, &answer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              AllOf(HasSubstr("query work"), HasSubstr("more than 500")));
  EXPECT_EQ(answer.ByteSizeLong(), 0u) << "no partial answer";
  server_->Shutdown();  // Writes every line.
  EXPECT_THAT(log_.str(), HasSubstr("\"status\":\"RESOURCE_EXHAUSTED\""));
}

TEST_F(ReliabilityTest, TheDefaultQueryLimitAnswersEveryKindOfCall) {
  StartServer(Options());
  Load load({channel_}, 2);
  ASSERT_TRUE(load.WaitForMoreCalls(60));
  load.Stop();
  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
}

// ---------------------------------------------------------------------------
// Hot reload under load.
// ---------------------------------------------------------------------------

TEST_F(ReliabilityTest, ReplacedIndexFileIsSwappedInUnderLoadWithoutFailures) {
  ServerOptions options = Options();
  options.reload_poll_interval = absl::Milliseconds(50);
  options.log_requests = false;
  StartServer(options);
  Load load({channel_, ChannelTo(server_->port())}, 4);
  ASSERT_TRUE(load.WaitForMoreCalls(300)) << load.Summary();

  RebuildIndex({testing::SeedArticlePath(), MagnesiumArticlePath()});
  ASSERT_TRUE(Eventually([&] { return server_->index_generation() == 2; }));
  const Clock::time_point swapped = Clock::now();
  ASSERT_TRUE(load.WaitForMoreCalls(300)) << load.Summary();
  load.Stop();

  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
  EXPECT_EQ(load.AnsweredByOtherThan(Load::Index::kSeedAndMagnesium, swapped),
            0)
      << "a call started after the swap was answered from the old index";
  EXPECT_EQ(CountEvents("citekb-server: reloaded index"), 1) << events_.str();
  EXPECT_EQ(CheckHealth(channel_, "citekb.v1.KnowledgeBase").serving_status,
            kServing);
  std::printf(
      "[reliability] hot reload (file replaced, polled): %s, 1 reload\n",
      load.Summary().c_str());
}

TEST_F(ReliabilityTest, ExplicitReloadUnderLoadSwapsAtOnceAndRefusesGarbage) {
  StartServer(Options());  // polling off: only Reload() reloads
  Load load({channel_, ChannelTo(server_->port())}, 4);
  ASSERT_TRUE(load.WaitForMoreCalls(200)) << load.Summary();

  RebuildIndex({testing::SeedArticlePath(), MagnesiumArticlePath()});
  ASSERT_TRUE(load.WaitForMoreCalls(100));
  EXPECT_EQ(server_->index_generation(), 1) << "nothing reloads by itself";
  const absl::Status reloaded = server_->Reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded;
  const Clock::time_point swapped = Clock::now();
  ASSERT_TRUE(load.WaitForMoreCalls(200)) << load.Summary();

  RenameIntoPlace(std::string(8192, '\x07'));
  const absl::Status refused = server_->Reload();
  EXPECT_EQ(refused.code(), absl::StatusCode::kDataLoss) << refused;
  ASSERT_TRUE(load.WaitForMoreCalls(200)) << load.Summary();
  load.Stop();

  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
  EXPECT_EQ(load.AnsweredByOtherThan(Load::Index::kSeedAndMagnesium, swapped),
            0);
  EXPECT_EQ(server_->index_generation(), 2);
  EXPECT_EQ(CountEvents("citekb-server: reloaded index"), 1) << events_.str();
  EXPECT_EQ(CountEvents("citekb-server: refused new index"), 1)
      << events_.str();
  EXPECT_THAT(events_.str(), HasSubstr(index_path_));
  EXPECT_EQ(CheckHealth(channel_, "citekb.v1.KnowledgeBase").serving_status,
            kServing);
  std::printf(
      "[reliability] hot reload (Reload()): %s, 1 reload, 1 refused file\n",
      load.Summary().c_str());
}

TEST_F(ReliabilityTest, BadIndexFilesUnderLoadAreRefusedAndTheOldOneServes) {
  ServerOptions options = Options();
  options.reload_poll_interval = absl::Milliseconds(50);
  options.log_requests = false;
  StartServer(options);
  const std::string seed = testing::ReadFileOrDie(index_path_);
  Load load({channel_, ChannelTo(server_->port())}, 4);
  ASSERT_TRUE(load.WaitForMoreCalls(200)) << load.Summary();

  const struct {
    const char* name;
    std::function<void()> install;
  } kFaults[] = {
      {"garbage", [&] { RenameIntoPlace(std::string(100000, 'x')); }},
      {"truncated", [&] { RenameIntoPlace(seed.substr(0, seed.size() / 3)); }},
      {"empty", [&] { RenameIntoPlace(""); }},
      {"another schema version",
       [&] {
         const std::string staged = dir_.File("staged.sqlite");
         ASSERT_TRUE(
             testing::BuildIndexOf({testing::SeedArticlePath()}, staged).ok());
         {
           absl::StatusOr<Database> db =
               OpenDatabase(staged, SQLITE_OPEN_READWRITE);
           ASSERT_TRUE(db.ok());
           ASSERT_TRUE(
               Exec(db->get(), absl::StrCat("UPDATE meta SET value = '",
                                            kSchemaVersion + 1,
                                            "' WHERE key = 'schema_version'"))
                   .ok());
         }
         std::filesystem::rename(staged, index_path_);
       }},
      {"deleted", [&] { std::filesystem::remove(index_path_); }},
  };
  int refused = 0;
  for (const auto& fault : kFaults) {
    SCOPED_TRACE(fault.name);
    fault.install();
    ++refused;
    ASSERT_TRUE(Eventually([&] {
      return CountEvents("refused new index") == refused;
    })) << events_.str();
    EXPECT_EQ(CheckHealth(channel_, "citekb.v1.KnowledgeBase").serving_status,
              kServing);
    ASSERT_TRUE(load.WaitForMoreCalls(100)) << load.Summary();
  }
  EXPECT_EQ(
      load.AnsweredByOtherThan(Load::Index::kSeed, Clock::time_point::min()),
      0);
  EXPECT_EQ(server_->index_generation(), 1);

  RebuildIndex({testing::SeedArticlePath(), MagnesiumArticlePath()});
  ASSERT_TRUE(Eventually([&] { return server_->index_generation() == 2; }));
  ASSERT_TRUE(load.WaitForMoreCalls(100)) << load.Summary();
  load.Stop();
  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
  EXPECT_GT(load.calls(), 0);
  std::printf(
      "[reliability] bad index files (polled): %s, %d files refused, then 1 "
      "reload\n",
      load.Summary().c_str(), refused);
}

// ---------------------------------------------------------------------------
// The citekb-server binary: SIGHUP, SIGTERM under load, replicas.
// ---------------------------------------------------------------------------

// Starts citekb-server on a free port with `flags`; the port, or 0.
int StartBinary(Child& child) {
  if (!child.started()) return 0;
  return ServingPort(child.WaitForLine("citekb-server: serving"));
}

std::vector<std::string> ServerArgs(const std::string& index,
                                    std::vector<std::string> flags) {
  std::vector<std::string> args = {CITEKB_SERVER_BINARY, "--index", index,
                                   "--listen", "127.0.0.1:0"};
  args.insert(args.end(), flags.begin(), flags.end());
  return args;
}

// Client-side load balancing over `ports` with health checking and retries
// of UNAVAILABLE, as deploy/README.md recommends.
constexpr char kServiceConfig[] = R"json({
  "loadBalancingConfig": [{"round_robin": {}}],
  "healthCheckConfig": {"serviceName": "citekb.v1.KnowledgeBase"},
  "methodConfig": [{
    "name": [{"service": "citekb.v1.KnowledgeBase"}],
    "retryPolicy": {
      "maxAttempts": 5,
      "initialBackoff": "0.05s",
      "maxBackoff": "1s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
})json";

// A call whose response had begun to arrive when its replica died is
// "committed": the channel's retry policy may not make it again, so the
// application does, as deploy/README.md advises (every citekb RPC is a read).
constexpr int kApplicationAttempts = 3;

std::shared_ptr<grpc::Channel> BalancedChannel(const std::vector<int>& ports) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(kServiceConfig);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::vector<std::string> addresses;
  for (int port : ports) addresses.push_back(absl::StrCat("127.0.0.1:", port));
  return grpc::CreateCustomChannel(
      absl::StrCat("ipv4:", absl::StrJoin(addresses, ",")),
      grpc::InsecureChannelCredentials(), args);
}

TEST_F(ReliabilityTest, SighupReloadsTheBinaryUnderLoad) {
  Child child(ServerArgs(index_path_,
                         {"--reload-poll-interval=0", "--log-requests=false"}),
              dir_.File("server.txt"));
  const int port = StartBinary(child);
  ASSERT_GT(port, 0) << child.Output();
  auto channel = ChannelTo(port);
  ASSERT_TRUE(WaitUntilServing(channel, "citekb.v1.KnowledgeBase"));
  Load load({channel}, 3);
  ASSERT_TRUE(load.WaitForMoreCalls(100)) << load.Summary();

  RebuildIndex({testing::SeedArticlePath(), MagnesiumArticlePath()});
  ASSERT_TRUE(child.Signal(SIGHUP));
  ASSERT_THAT(child.WaitForLine("reloaded index"),
              HasSubstr(absl::StrCat("citekb-server: reloaded index ",
                                     index_path_, " (generation 2)")))
      << child.Output();
  const Clock::time_point swapped = Clock::now();
  ASSERT_TRUE(load.WaitForMoreCalls(100)) << load.Summary();

  RenameIntoPlace("garbage");
  ASSERT_TRUE(child.Signal(SIGHUP));
  ASSERT_THAT(child.WaitForLine("refused new index"),
              HasSubstr("(still serving generation 2)"))
      << child.Output();
  EXPECT_EQ(CheckHealth(channel, "citekb.v1.KnowledgeBase").serving_status,
            kServing);
  ASSERT_TRUE(load.WaitForMoreCalls(100)) << load.Summary();
  load.Stop();

  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
  EXPECT_EQ(load.AnsweredByOtherThan(Load::Index::kSeedAndMagnesium, swapped),
            0);
  ASSERT_TRUE(child.Signal(SIGTERM));
  const int status = child.WaitForExit();
  ASSERT_TRUE(WIFEXITED(status)) << child.Output();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::printf("[reliability] SIGHUP (binary): %s, 1 reload, 1 refused file\n",
              load.Summary().c_str());
}

TEST_F(ReliabilityTest, SigtermUnderLoadDrainsAndExitsZero) {
  Child child(ServerArgs(index_path_, {"--lame-duck=1s", "--drain-timeout=10s",
                                       "--log-requests=false"}),
              dir_.File("server.txt"));
  const int port = StartBinary(child);
  ASSERT_GT(port, 0) << child.Output();
  // Health-checking clients stop sending once the server says NOT_SERVING;
  // after that the only expected error is UNAVAILABLE (no server left).
  auto channel = BalancedChannel({port});
  ASSERT_TRUE(WaitUntilServing(channel, "citekb.v1.KnowledgeBase"));
  HealthWatch watch(ChannelTo(port), "citekb.v1.KnowledgeBase");
  ASSERT_EQ(watch.Next(), kServing);
  Load load({channel}, 4, {grpc::StatusCode::UNAVAILABLE});
  ASSERT_TRUE(load.WaitForMoreCalls(300)) << load.Summary();

  const Clock::time_point signalled = Clock::now();
  ASSERT_TRUE(child.Signal(SIGTERM));
  EXPECT_EQ(watch.Next(), kNotServing);
  const int status = child.WaitForExit();
  const auto took = Clock::now() - signalled;
  load.Stop();
  ASSERT_NE(status, -1) << "still running\n" << child.Output();
  ASSERT_TRUE(WIFEXITED(status)) << child.Output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << child.Output();
  EXPECT_THAT(child.Output(), HasSubstr("citekb-server: stopped"));
  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
  std::printf(
      "[reliability] SIGTERM under load (binary, lame duck 1s): %s; exit 0 "
      "after %lld ms\n",
      load.Summary().c_str(),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

int RequestLogLines(const Child& child) {
  const std::string output = child.Output();
  int lines = 0;
  for (size_t at = output.find("\"method\":"); at != std::string::npos;
       at = output.find("\"method\":", at + 1)) {
    ++lines;
  }
  return lines;
}

TEST_F(ReliabilityTest, ThreeReplicasLoseNoCallWhenOneIsKilled) {
  std::vector<std::unique_ptr<Child>> replicas;
  std::vector<int> ports;
  for (int i = 0; i < 3; ++i) {
    replicas.push_back(
        std::make_unique<Child>(ServerArgs(index_path_, {"--lame-duck=500ms"}),
                                dir_.File(absl::StrCat("replica", i, ".txt"))));
    ports.push_back(StartBinary(*replicas.back()));
    ASSERT_GT(ports.back(), 0) << replicas.back()->Output();
  }
  auto channel = BalancedChannel(ports);
  ASSERT_TRUE(WaitUntilServing(channel, "citekb.v1.KnowledgeBase"));
  Load load({channel}, 4, {}, kWait, kApplicationAttempts);
  ASSERT_TRUE(load.WaitForMoreCalls(300)) << load.Summary();

  // A crash: in-flight calls on replica 0 die with it and are retried.
  ASSERT_TRUE(replicas[0]->Signal(SIGKILL));
  ASSERT_NE(replicas[0]->WaitForExit(), -1);
  const int64_t calls_at_kill = load.calls();
  ASSERT_TRUE(load.WaitForMoreCalls(300)) << load.Summary();

  // A rolling restart: replica 1 goes away gracefully.
  ASSERT_TRUE(replicas[1]->Signal(SIGTERM));
  const int stopped = replicas[1]->WaitForExit();
  ASSERT_TRUE(WIFEXITED(stopped)) << replicas[1]->Output();
  EXPECT_EQ(WEXITSTATUS(stopped), 0);
  ASSERT_TRUE(load.WaitForMoreCalls(300)) << load.Summary();
  load.Stop();

  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
  std::vector<int> served;
  for (const auto& replica : replicas) {
    served.push_back(RequestLogLines(*replica));
    EXPECT_GT(served.back(), 0) << "round_robin skipped a replica";
  }
  EXPECT_GT(load.calls(), calls_at_kill);
  std::printf(
      "[reliability] 3 replicas, 1 SIGKILL + 1 SIGTERM mid-run: %s; logged "
      "per replica %d / %d / %d\n",
      load.Summary().c_str(), served[0], served[1], served[2]);
}

// The crash above, five times in a row with twice the clients: each SIGKILL
// lands while several calls are in flight on the dying replica. The server
// sends headers, response and status in one batch, so a call the replica
// dies in is retryable: the channel's retry policy saves nearly all of them,
// and the application's own retry the rare call whose response the kernel
// threw away half-sent.
TEST_F(ReliabilityTest, RepeatedCrashesLoseNoCall) {
  constexpr int kReplicas = 6;
  std::vector<std::unique_ptr<Child>> replicas;
  std::vector<int> ports;
  for (int i = 0; i < kReplicas; ++i) {
    replicas.push_back(std::make_unique<Child>(
        ServerArgs(index_path_, {"--log-requests=false"}),
        dir_.File(absl::StrCat("replica", i, ".txt"))));
    ports.push_back(StartBinary(*replicas.back()));
    ASSERT_GT(ports.back(), 0) << replicas.back()->Output();
  }
  auto channel = BalancedChannel(ports);
  ASSERT_TRUE(WaitUntilServing(channel, "citekb.v1.KnowledgeBase"));
  Load load({channel}, 8, {}, kWait, kApplicationAttempts);
  for (int i = 0; i + 1 < kReplicas; ++i) {
    ASSERT_TRUE(load.WaitForMoreCalls(200)) << load.Summary();
    ASSERT_TRUE(replicas[i]->Signal(SIGKILL));
    ASSERT_NE(replicas[i]->WaitForExit(), -1);
  }
  ASSERT_TRUE(load.WaitForMoreCalls(200)) << load.Summary();
  load.Stop();

  EXPECT_TRUE(load.failures().empty()) << Describe(load.failures());
  std::printf("[reliability] %d replicas, %d SIGKILLs mid-run: %s\n", kReplicas,
              kReplicas - 1, load.Summary().c_str());
}

}  // namespace
}  // namespace citekb
