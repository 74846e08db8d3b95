// The store's shortcuts must say exactly what the slow way says: the
// per-phrase flags of one ranking query, the FAQ entries read once at Open,
// and remembered counts.

#include "service/store.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "service/query_analyzer.h"
#include "tests/test_support.h"

namespace citekb {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    ASSERT_TRUE(BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
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
  static testing::TempDir* dir_;
  static Store* store_;
};
testing::TempDir* StoreTest::dir_ = nullptr;
Store* StoreTest::store_ = nullptr;

TEST_F(StoreTest, PhraseFlagsAgreeWithMatchingEachPhraseAlone) {
  for (const char* question :
       {"why K2 with vitamin D?", "calcium paradox arteries", "magnesium dose bedtime",
        "25(OH)D blood levels", "MK-7 5,000 IU", "osteocalcin",
        // "—" is a word to the analyzer (non-ASCII) but has no tokens: FTS5
        // keeps its place in the numbering and it never matches.
        "k2 — d3"}) {
    const AnalyzedQuery query = AnalyzeQuery(question);
    ASSERT_FALSE(query.empty()) << question;
    const std::vector<int> phrase_groups = query.PhraseGroups();
    absl::StatusOr<std::vector<PassageHit>> hits = store_->SearchPassages(
        query.Match(), {}, 40, 0, nullptr, {.citation_ids = false, .phrases = true});
    ASSERT_TRUE(hits.ok()) << hits.status();
    ASSERT_FALSE(hits->empty()) << question;
    for (const PassageHit& hit : *hits) {
      ASSERT_EQ(hit.phrases.size(), phrase_groups.size()) << question;
      size_t phrase = 0;
      for (const TermGroup& group : query.groups) {
        for (const std::string& alternative : group.alternatives) {
          absl::StatusOr<std::vector<int64_t>> alone =
              store_->FilterMatching(QuoteFts(alternative), {hit.rowid});
          ASSERT_TRUE(alone.ok());
          EXPECT_EQ(hit.phrases[phrase] != 0, !alone->empty())
              << question << ": \"" << alternative << "\" in " << hit.passage.id();
          ++phrase;
        }
      }
    }
  }
}

TEST_F(StoreTest, RememberedPhraseCountsRankExactlyAsBm25) {
  for (const char* question :
       {"why K2 with vitamin D?", "calcium paradox arteries", "magnesium dose bedtime",
        "25(OH)D blood levels", "MK-7 5,000 IU", "what is the function of MGP",
        "k2 — d3", "vitmin k2 dosage"}) {
    const AnalyzedQuery query = AnalyzeQuery(question);
    // bm25() counting each phrase itself, then the remembered counts.
    absl::StatusOr<std::vector<PassageHit>> counted =
        store_->SearchPassages(query.Match(), {}, 50, 0, nullptr);
    absl::StatusOr<std::vector<PassageHit>> remembered = store_->SearchPassages(
        query.Match(), {}, 50, 0, nullptr, {.match_phrases = query.Phrases()});
    ASSERT_TRUE(counted.ok() && remembered.ok()) << question;
    ASSERT_EQ(counted->size(), remembered->size()) << question;
    for (size_t i = 0; i < counted->size(); ++i) {
      EXPECT_EQ((*counted)[i].rowid, (*remembered)[i].rowid) << question << " #" << i;
      // Bit for bit, not approximately.
      EXPECT_EQ((*counted)[i].passage.score(), (*remembered)[i].passage.score())
          << question << " #" << i;
    }
    absl::StatusOr<std::vector<FaqHit>> faq_counted = store_->MatchFaqs(query.Match(), 10);
    absl::StatusOr<std::vector<FaqHit>> faq_remembered =
        store_->MatchFaqs(query.Match(), 10, query.Phrases());
    ASSERT_TRUE(faq_counted.ok() && faq_remembered.ok()) << question;
    ASSERT_EQ(faq_counted->size(), faq_remembered->size()) << question;
    for (size_t i = 0; i < faq_counted->size(); ++i) {
      EXPECT_EQ((*faq_counted)[i].faq.id(), (*faq_remembered)[i].faq.id()) << question;
      EXPECT_EQ((*faq_counted)[i].score, (*faq_remembered)[i].score) << question;
    }
  }
}

TEST_F(StoreTest, RankingKnowsEveryPassageLength) {
  // With the scores above equal bit for bit, the lengths are also right.
  EXPECT_EQ(store_->passages_with_known_length(), store_->passage_count());
}

TEST_F(StoreTest, WrongPhraseListStillRanksRight) {
  // A list that does not fit the expression is ignored by the ranking
  // function (it counts like bm25()), never misapplied.
  const AnalyzedQuery query = AnalyzeQuery("calcium paradox");
  absl::StatusOr<std::vector<PassageHit>> counted =
      store_->SearchPassages(query.Match(), {}, 20, 0, nullptr);
  absl::StatusOr<std::vector<PassageHit>> wrong = store_->SearchPassages(
      query.Match(), {}, 20, 0, nullptr, {.match_phrases = {"\"calcium\""}});
  ASSERT_TRUE(counted.ok() && wrong.ok());
  ASSERT_EQ(counted->size(), wrong->size());
  for (size_t i = 0; i < counted->size(); ++i) {
    EXPECT_EQ((*counted)[i].passage.score(), (*wrong)[i].passage.score());
  }
}

TEST_F(StoreTest, WithoutOptionsNoPhraseFlagsAndCitationIdsFilled) {
  absl::StatusOr<std::vector<PassageHit>> hits =
      store_->SearchPassages(AnalyzeQuery("bone matrix").Match(), {}, 5, 0, nullptr);
  ASSERT_TRUE(hits.ok());
  bool any_cited = false;
  for (const PassageHit& hit : *hits) {
    EXPECT_TRUE(hit.phrases.empty());
    any_cited = any_cited || hit.passage.citation_ids_size() > 0;
  }
  EXPECT_TRUE(any_cited);
}

TEST_F(StoreTest, LaterCitationIdsEqualTheEagerOnes) {
  const std::string match = AnalyzeQuery("calcium routing K2").Match();
  absl::StatusOr<std::vector<PassageHit>> eager =
      store_->SearchPassages(match, {}, 10, 0, nullptr);
  absl::StatusOr<std::vector<PassageHit>> lazy =
      store_->SearchPassages(match, {}, 10, 0, nullptr, {.citation_ids = false});
  ASSERT_TRUE(eager.ok() && lazy.ok());
  ASSERT_EQ(eager->size(), lazy->size());
  for (size_t i = 0; i < lazy->size(); ++i) {
    EXPECT_EQ((*lazy)[i].passage.citation_ids_size(), 0);
    ASSERT_TRUE(store_->AddCitationIds((*lazy)[i]).ok());
    EXPECT_EQ((*lazy)[i].passage.SerializeAsString(), (*eager)[i].passage.SerializeAsString());
  }
}

TEST_F(StoreTest, LeadingFaqsAreTheFirstCompleteEntries) {
  absl::StatusOr<std::vector<v1::Faq>> all = store_->ListFaqs("");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> expected;
  for (const v1::Faq& faq : *all) {
    if (!faq.answer_incomplete() && expected.size() < Store::kLeadingFaqs) {
      expected.push_back(faq.id() + "|" + faq.question() + "|" + faq.passage_id());
    }
  }
  std::vector<std::string> leading;
  for (const v1::Faq& faq : store_->leading_faqs()) {
    EXPECT_FALSE(faq.answer_incomplete());
    leading.push_back(faq.id() + "|" + faq.question() + "|" + faq.passage_id());
  }
  EXPECT_EQ(leading, expected);
  EXPECT_FALSE(leading.empty());
}

TEST_F(StoreTest, RememberedCountsStayRight) {
  const std::string match = AnalyzeQuery("calcium").Match();
  absl::StatusOr<int64_t> first = store_->CountMatching(match);
  absl::StatusOr<int64_t> second = store_->CountMatching(match);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_GT(*first, 0);
  EXPECT_EQ(*first, *second);
  int64_t total = -1;
  ASSERT_TRUE(store_->SearchPassages(match, {}, 1, 0, &total).ok());
  EXPECT_EQ(total, *first);
  // With a filter the total is counted with it.
  int64_t tables = -1;
  ASSERT_TRUE(store_
                  ->SearchPassages(match, {.kind = v1::PASSAGE_KIND_TABLE_ROW}, 1, 0,
                                   &tables)
                  .ok());
  EXPECT_GT(tables, 0);
  EXPECT_LT(tables, total);
}

TEST_F(StoreTest, CitationPagesTileTheWholeListing) {
  for (const CitationFilter& filter :
       {CitationFilter{}, CitationFilter{.kind = v1::CITATION_KIND_PUBMED},
        CitationFilter{.cited_text_match = AnalyzeQuery("calcium").MatchAll()}}) {
    int64_t total = -1;
    absl::StatusOr<std::vector<v1::Citation>> all =
        store_->ListCitations(filter, 1000, 0, &total);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(total, static_cast<int64_t>(all->size()));
    ASSERT_GT(total, 2);
    std::vector<std::string> paged;
    for (int offset = 0; offset < total + 3; offset += 3) {
      int64_t page_total = -1;
      absl::StatusOr<std::vector<v1::Citation>> page =
          store_->ListCitations(filter, 3, offset, &page_total);
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(page_total, total);
      for (const v1::Citation& c : *page) paged.push_back(c.SerializeAsString());
    }
    std::vector<std::string> whole;
    for (const v1::Citation& c : *all) whole.push_back(c.SerializeAsString());
    EXPECT_EQ(paged, whole);
  }
}

}  // namespace
}  // namespace citekb
