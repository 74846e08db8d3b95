// The synthetic corpus must be reproducible and must read, to the parser,
// exactly like a real article: the benchmarks at scale are only worth what
// the corpus is.

#include "bench/corpus_generator.h"

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/article/article_parser.h"
#include "indexer/corpus_indexer.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(CorpusGeneratorTest, SameSeedAndIndexGiveTheSameText) {
  const CorpusGenerator a(7), b(7);
  for (int64_t i : {0, 1, 999, 123456}) {
    EXPECT_EQ(a.Article(i), b.Article(i)) << i;
  }
  // Order of generation does not matter.
  const std::string later = a.Article(5);
  a.Article(3);
  EXPECT_EQ(a.Article(5), later);
}

TEST(CorpusGeneratorTest, SeedsAndIndexesGiveDifferentTexts) {
  const CorpusGenerator a(1), b(2);
  EXPECT_NE(a.Article(0), b.Article(0));
  EXPECT_NE(a.Article(0), a.Article(1));
}

TEST(CorpusGeneratorTest, ArticlesHaveTheSeedFormat) {
  const std::string text = CorpusGenerator(1).Article(0);
  EXPECT_THAT(
      text,
      AllOf(HasSubstr("\n> TL;DR: "), HasSubstr("\nIn this article\n- "),
            HasSubstr("\n--- Category: "),
            HasSubstr("\nFrequently Asked Questions\n"), HasSubstr("?\nA: "),
            HasSubstr(" (#frequently-asked-questions)\n")));
  EXPECT_TRUE(absl::EndsWith(text, "\n"));
}

TEST(CorpusGeneratorTest, EveryPartOfTheFormatOccursAndParsesCleanly) {
  const CorpusGenerator generator(1);
  int tables = 0, anecdotal_columns = 0, figures = 0, anecdotal = 0, faqs = 0;
  int pubmed = 0, pmc = 0, doi = 0, labels = 0, tools = 0, research = 0;
  int64_t bytes = 0;
  constexpr int kArticles = 60;
  for (int i = 0; i < kArticles; ++i) {
    const std::string text = generator.Article(i);
    bytes += static_cast<int64_t>(text.size());
    absl::StatusOr<Article> article =
        ParseArticle(text, CorpusGenerator::FileName(i));
    ASSERT_TRUE(article.ok()) << article.status() << "\n" << text;
    for (const std::string& warning : article->warnings) {
      // The only warning on purpose: now and then a cut-off last answer.
      EXPECT_THAT(warning, HasSubstr("is cut off")) << text;
    }
    EXPECT_GE(article->sections.size(), 5u);
    EXPECT_GE(article->faqs.size(), 3u);
    EXPECT_FALSE(article->summary.empty());
    EXPECT_FALSE(article->sources.empty());
    tables += static_cast<int>(article->tables.size());
    for (const Table& table : article->tables) {
      for (const TableColumn& column : table.columns)
        anecdotal_columns += column.anecdotal;
    }
    figures += static_cast<int>(article->figures.size());
    faqs += static_cast<int>(article->faqs.size());
    for (const Passage& passage : article->passages) {
      anecdotal += passage.kind == PassageKind::kParagraph && passage.anecdotal;
    }
    for (const Source& source : article->sources) {
      pubmed += source.kind == SourceKind::kPubMed;
      pmc += source.kind == SourceKind::kPmc;
      doi += source.kind == SourceKind::kDoi;
      labels += !source.label.empty();
    }
    for (const RelatedLink& link : article->related_links) {
      tools += link.kind == RelatedLinkKind::kTool;
      research += link.kind == RelatedLinkKind::kArticle;
    }
  }
  EXPECT_GT(tables, 0);
  EXPECT_GT(anecdotal_columns, 0);
  EXPECT_GT(figures, 0);
  EXPECT_GT(anecdotal, 0);
  EXPECT_GT(pubmed, 0);
  EXPECT_GT(pmc, 0);
  EXPECT_GT(doi, 0);
  EXPECT_GT(labels, 0);
  EXPECT_GT(tools, 0);
  EXPECT_GT(research, 0);
  // About 10 KB an article, so that 10,000 articles are about 100 MB.
  EXPECT_GT(bytes / kArticles, 7000);
  EXPECT_LT(bytes / kArticles, 14000);
}

TEST(CorpusGeneratorTest, ACorpusWithTheSeedArticleIndexes) {
  testing::TempDir dir;
  const CorpusGenerator generator(3);
  for (int i = 0; i < 40; ++i) {
    testing::WriteFileOrDie(dir.File(CorpusGenerator::FileName(i)),
                            generator.Article(i));
  }
  testing::WriteFileOrDie(dir.File("seed.txt"),
                          testing::ReadFileOrDie(testing::SeedArticlePath()));
  testing::TempDir out;
  absl::StatusOr<IndexSummary> summary = BuildIndex(
      {.knowledge_dir = dir.path(), .out_path = out.File("kb.sqlite")});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->counts.articles, 41);
  EXPECT_GT(summary->counts.passages, 40 * 20);
}

}  // namespace
}  // namespace citekb
