// Micro-benchmarks of the knowledge-base logic without gRPC (Google
// Benchmark): what one Ask, Search, ListCitations or EvaluateStack costs
// in-process, and query analysis alone. The gap between these and
// citekb-load's figures is the RPC layer's share.
//
//   build/bench/citekb-kb-benchmark    # the seed index, built in /tmp
//   CITEKB_BENCH_INDEX=var/10k.sqlite build/bench/citekb-kb-benchmark
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
