// Micro-benchmarks of the knowledge-base logic without gRPC (Google
// Benchmark): what one Ask, Search, ListCitations or EvaluateStack costs
// in-process, and query analysis alone. The gap between these and citekb-load's
// figures is the RPC layer's share.
//
//   build/bench/citekb-kb-benchmark                      # seed index, built in
//   /tmp CITEKB_BENCH_INDEX=var/10k.sqlite build/bench/citekb-kb-benchmark
//
// Requests are the load generator's (request_mix.h), so the two measure the
// same mix.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/request_mix.h"
#include "indexer/corpus_indexer.h"
#include "service/knowledge_base/knowledge_base.h"
#include "service/search/query_analyzer.h"
#include "service/server/worker_pool.h"
#include "service/store/query_budget.h"

namespace citekb {
namespace {

struct Fixture {
  std::unique_ptr<KnowledgeBase> kb;
  std::vector<EvalQuestion> questions;
  std::vector<v1::AskRequest> ask;
  std::vector<v1::SearchRequest> search;
  std::vector<v1::ListCitationsRequest> list_citations;
  std::vector<v1::EvaluateStackRequest> evaluate_stack;
};

template <typename Message>
std::vector<Message> Parse(Rpc rpc,
                           const std::vector<EvalQuestion>& questions) {
  std::vector<Message> messages;
  absl::StatusOr<RequestMix> mix = BuildRequestMix(rpc, questions);
  if (!mix.ok()) std::abort();
  for (const std::string& bytes : mix->requests) {
    messages.emplace_back().ParseFromString(bytes);
  }
  return messages;
}

// Built once, on first use, and kept for the whole process.
const Fixture& GetFixture() {
  static const Fixture* const fixture = [] {
    auto* f = new Fixture;
    std::string index;
    if (const char* env = std::getenv("CITEKB_BENCH_INDEX");
        env != nullptr && *env) {
      index = env;
    } else {
      // Rebuilt on every run (atomically), so one file serves all runs.
      index = absl::StrCat(std::filesystem::temp_directory_path().string(),
                           "/citekb-kb-benchmark-seed.sqlite");
      absl::StatusOr<IndexSummary> built = BuildIndex(
          {.knowledge_dir = CITEKB_SOURCE_DIR "/knowledge", .out_path = index});
      if (!built.ok()) {
        std::fprintf(stderr, "cannot build the seed index: %s\n",
                     std::string(built.status().message()).c_str());
        std::abort();
      }
    }
    absl::StatusOr<std::unique_ptr<KnowledgeBase>> kb =
        KnowledgeBase::Open(index);
    if (!kb.ok()) {
      std::fprintf(stderr, "cannot open %s: %s\n", index.c_str(),
                   std::string(kb.status().message()).c_str());
      std::abort();
    }
    f->kb = *std::move(kb);
    absl::StatusOr<std::vector<EvalQuestion>> questions =
        LoadEvalQuestions(CITEKB_SOURCE_DIR "/tests/eval/ask_eval.txt");
    if (!questions.ok()) std::abort();
    f->questions = *std::move(questions);
    f->ask = Parse<v1::AskRequest>(Rpc::kAsk, f->questions);
    f->search = Parse<v1::SearchRequest>(Rpc::kSearch, f->questions);
    f->list_citations =
        Parse<v1::ListCitationsRequest>(Rpc::kListCitations, {});
    f->evaluate_stack =
        Parse<v1::EvaluateStackRequest>(Rpc::kEvaluateStack, {});
    return f;
  }();
  return *fixture;
}

void BM_Ask(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = state.thread_index();
  for (auto _ : state) {
    absl::StatusOr<v1::AskResponse> response =
        f.kb->Ask(f.ask[i++ % f.ask.size()]);
    if (!response.ok()) state.SkipWithError("Ask failed");
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_Ask)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(2);

// Ask as the server runs one call at a time: with /1 the call's budget may
// borrow the idle worker of a pool, so a long ranking runs in two halves
// at once (retrieval_index.h); /0 is the same without. On the seed no
// ranking is long enough to split. Compare the two with interleaved
// repetitions, the machine's speed drifts by a third within minutes.
void BM_AskWithIdleWorker(benchmark::State& state) {
  const Fixture& f = GetFixture();
  WorkerPool workers({.threads = 1, .max_admitted = 1});
  const bool may_borrow = state.range(0) != 0;
  size_t i = 0;
  int64_t lent = 0;
  for (auto _ : state) {
    QueryBudget budget(
        {.start_on_idle_thread = [&](absl::AnyInvocable<void() &&> work) {
          const bool started = may_borrow && workers.TryLend(std::move(work));
          lent += started;
          return started;
        }});
    QueryBudget::Scope scope(&budget);
    absl::StatusOr<v1::AskResponse> response =
        f.kb->Ask(f.ask[i++ % f.ask.size()]);
    if (!response.ok()) state.SkipWithError("Ask failed");
    benchmark::DoNotOptimize(response);
  }
  state.counters["lent_per_ask"] =
      benchmark::Counter(static_cast<double>(lent) / state.iterations());
}
BENCHMARK(BM_AskWithIdleWorker)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

void BM_Search(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = state.thread_index();
  for (auto _ : state) {
    absl::StatusOr<v1::SearchResponse> response =
        f.kb->Search(f.search[i++ % f.search.size()]);
    if (!response.ok()) state.SkipWithError("Search failed");
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_Search)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(2);

void BM_ListCitations(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<v1::ListCitationsResponse> response =
        f.kb->ListCitations(f.list_citations[i++ % f.list_citations.size()]);
    if (!response.ok()) state.SkipWithError("ListCitations failed");
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_ListCitations)->Unit(benchmark::kMicrosecond);

void BM_EvaluateStack(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = state.thread_index();
  for (auto _ : state) {
    absl::StatusOr<v1::EvaluateStackResponse> response =
        f.kb->EvaluateStack(f.evaluate_stack[i++ % f.evaluate_stack.size()]);
    if (!response.ok()) state.SkipWithError("EvaluateStack failed");
    benchmark::DoNotOptimize(response);
  }
}
BENCHMARK(BM_EvaluateStack)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(2);

void BM_AnalyzeQuery(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  for (auto _ : state) {
    AnalyzedQuery query =
        AnalyzeQuery(f.questions[i++ % f.questions.size()].question);
    benchmark::DoNotOptimize(query);
  }
}
BENCHMARK(BM_AnalyzeQuery)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace citekb

BENCHMARK_MAIN();
