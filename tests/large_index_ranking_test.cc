// On a large index Store::SearchPassages ranks differently: when the
// question's phrases have many passages it keeps the best rows with SQLite's
// bounded sort and reads snippets afterwards (Store::kMinRowsForBoundedSort).
// The pages must be exactly those of FTS5's own ranking: the same passages
// in the same order, the same scores bit for bit, snippets and phrase flags.
// The seed alone is too small for that path, so this index adds synthetic
// articles in the seed's format.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/corpus_generator.h"
#include "bench/request_mix.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "service/query_analyzer.h"
#include "service/store.h"
#include "tests/test_support.h"

namespace citekb {
namespace {

constexpr int kSyntheticArticles = 600;

class LargeIndexRankingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const CorpusGenerator generator(/*seed=*/7);
    for (int i = 0; i < kSyntheticArticles; ++i) {
      testing::WriteFileOrDie(dir_->File(CorpusGenerator::FileName(i)),
                              generator.Article(i));
    }
    testing::WriteFileOrDie(dir_->File("seed.txt"),
                            testing::ReadFileOrDie(testing::SeedArticlePath()));
    ASSERT_TRUE(BuildIndex({.knowledge_dir = dir_->path(),
                            .out_path = dir_->File("kb.sqlite")})
                    .ok());
    auto store = Store::Open(dir_->File("kb.sqlite"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }

  // Whether SearchPassages takes the bounded-sort path for `query`.
  static bool TakesBoundedSort(const AnalyzedQuery& query) {
    int64_t rows = 0;
    for (const std::string& phrase : query.Phrases()) {
      absl::StatusOr<int64_t> count = store_->CountMatching(phrase);
      EXPECT_TRUE(count.ok());
      rows += count.value_or(0);
    }
    return rows >= Store::kMinRowsForBoundedSort;
  }

  // The page both ways: FTS5's bm25() and rank ordering (no phrase list),
  // then the remembered counts, which take the bounded sort on this index.
  static void ExpectSamePage(const AnalyzedQuery& query,
                             const PassageFilter& filter, int limit, int offset,
                             const std::string& where) {
    auto expected = store_->SearchPassages(query.Match(), filter, limit, offset,
                                           nullptr, {.phrases = true});
    auto actual = store_->SearchPassages(
        query.Match(), filter, limit, offset, nullptr,
        {.phrases = true, .match_phrases = query.Phrases()});
    ASSERT_TRUE(expected.ok() && actual.ok()) << where;
    ASSERT_EQ(expected->size(), actual->size()) << where;
    for (size_t i = 0; i < expected->size(); ++i) {
      const PassageHit& e = (*expected)[i];
      const PassageHit& a = (*actual)[i];
      EXPECT_EQ(e.rowid, a.rowid) << where << " #" << i;
      EXPECT_EQ(e.passage.score(), a.passage.score()) << where << " #" << i;
      EXPECT_EQ(e.passage.snippet(), a.passage.snippet()) << where << " #" << i;
      EXPECT_EQ(e.phrases, a.phrases) << where << " #" << i;
      EXPECT_EQ(e.passage.text(), a.passage.text()) << where << " #" << i;
      EXPECT_EQ(e.passage.citation_ids_size(), a.passage.citation_ids_size())
          << where;
    }
  }

  static testing::TempDir* dir_;
  static Store* store_;
};
testing::TempDir* LargeIndexRankingTest::dir_ = nullptr;
Store* LargeIndexRankingTest::store_ = nullptr;

TEST_F(LargeIndexRankingTest, EveryEvaluationQuestionGetsFts5sPages) {
  auto questions =
      LoadEvalQuestions(testing::SourcePath("tests/eval/ask_eval.txt"));
  ASSERT_TRUE(questions.ok()) << questions.status();
  int bounded = 0, total = 0;
  for (const EvalQuestion& question : *questions) {
    const AnalyzedQuery query = AnalyzeQuery(question.question);
    if (query.empty()) continue;
    ++total;
    bounded += TakesBoundedSort(query) ? 1 : 0;
    ExpectSamePage(query, {}, 12, 0, question.question);  // Ask's candidates.
    ExpectSamePage(query, {}, 10, 30,
                   question.question);  // A later Search page.
  }
  // Not a vacuous comparison: most questions take the other path here.
  EXPECT_GT(2 * bounded, total) << bounded << " of " << total;
  std::printf("[ranking] %d of %d questions ranked by bounded sort\n", bounded,
              total);
}

TEST_F(LargeIndexRankingTest, FilteredPagesGetFts5sPages) {
  for (const char* question : {"why K2 with D3?", "magnesium glycinate sleep",
                               "vitamin D and calcium in arteries"}) {
    const AnalyzedQuery query = AnalyzeQuery(question);
    ASSERT_TRUE(TakesBoundedSort(query)) << question;
    ExpectSamePage(query, {.kind = v1::PASSAGE_KIND_TABLE_ROW}, 10, 0,
                   question);
    ExpectSamePage(query, {.kind = v1::PASSAGE_KIND_PARAGRAPH}, 10, 20,
                   question);
    ExpectSamePage(
        query,
        {.section_id = "d3-k2-protocol-how-to-route-calcium-to-bones-not-"
                       "arteries#frequently-asked-questions"},
        5, 0, question);
    ExpectSamePage(query, {}, 10, 100000, question);  // Past the end: empty.
  }
}

}  // namespace
}  // namespace citekb
