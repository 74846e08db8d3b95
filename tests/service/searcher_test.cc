// Searcher ranks in memory, builds snippets itself and reads passages from
// caches; every page it returns must still be exactly what FTS5 gives for
// the same question over the same index: the same passages in the same
// order, scores bit for bit, snippet() byte for byte, the same citation ids
// and totals. Checked on the seed alone and on the seed among synthetic
// articles in its format, where rankings have thousands of candidates.

#include "service/search/searcher.h"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/corpus_generator.h"
#include "bench/request_mix.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/search/query_analyzer.h"
#include "tests/support/fts5_reference.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

struct Page {
  std::vector<int64_t> rowids;
  std::vector<double> scores;
  std::vector<std::string> snippets;
  std::vector<std::string> citation_ids;  // Joined per passage.
  int64_t total = -1;
  bool operator==(const Page&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Page& page) {
  out << "total " << page.total << ":";
  for (size_t i = 0; i < page.rowids.size(); ++i) {
    out << "\n  " << page.rowids[i] << " " << absl::StrCat(page.scores[i])
        << " " << page.snippets[i] << " [" << page.citation_ids[i] << "]";
  }
  return out;
}

const char* KindName(std::optional<StoredPassage::Kind> kind) {
  switch (kind.value_or(StoredPassage::Kind::kUnknown)) {
    case StoredPassage::Kind::kParagraph:
      return "paragraph";
    case StoredPassage::Kind::kTableRow:
      return "table_row";
    case StoredPassage::Kind::kFaq:
      return "faq";
    default:
      return "";
  }
}

class SearcherTest : public ::testing::TestWithParam<int> {
 protected:
  // One index per synthetic-article count: 0 (the seed alone) or 500.
  struct Index {
    testing::TempDir dir;
    Database db;
    std::unique_ptr<Store> store;
    std::unique_ptr<Searcher> searcher;
  };
  static Index& Get(int synthetic) {
    static auto* indexes = new std::map<int, std::unique_ptr<Index>>();
    std::unique_ptr<Index>& index = (*indexes)[synthetic];
    if (index == nullptr) {
      index = std::make_unique<Index>();
      const CorpusGenerator generator(/*seed=*/5);
      for (int i = 0; i < synthetic; ++i) {
        testing::WriteFileOrDie(index->dir.File(CorpusGenerator::FileName(i)),
                                generator.Article(i));
      }
      for (const char* file : {"knowledge/d3-k2-calcium-routing.txt",
                               "knowledge/stack_rules.textproto",
                               "knowledge/safety_references.textproto"}) {
        testing::WriteFileOrDie(
            index->dir.File(std::string(file).substr(sizeof("knowledge/") - 1)),
            testing::ReadFileOrDie(testing::SourcePath(file)));
      }
      const std::string path = index->dir.File("kb.sqlite");
      EXPECT_TRUE(
          BuildIndex({.knowledge_dir = index->dir.path(), .out_path = path})
              .ok());
      const std::string reference = index->dir.File("reference.sqlite");
      std::filesystem::copy_file(path, reference);
      index->db = *OpenDatabase(reference, SQLITE_OPEN_READWRITE);
      EXPECT_TRUE(testing::AddFts5References(index->db.get()).ok());
      EXPECT_TRUE(testing::AddSentenceReference(index->db.get()).ok());

      index->store = *Store::Open(path);
      auto searcher = Searcher::Create(*index->store);
      EXPECT_TRUE(searcher.ok()) << searcher.status();
      index->searcher = *std::move(searcher);
    }
    return *index;
  }

  // The page as FTS5 gives it, straight from SQL.
  static Page Fts5(Index& index, const std::vector<std::string>& phrases,
                   const PassageFilter& filter, int limit, int offset) {
    const std::string match = testing::MatchAnyPhrase(phrases);
    const std::string where =
        "FROM passage_ref JOIN passages p ON p.id = passage_ref.rowid "
        "JOIN sections sec ON sec.id = p.section_id WHERE passage_ref MATCH ?1 "
        "AND (?2 = '' OR p.kind = ?2) AND (?3 = '' OR sec.public_id = ?3) ";
    Page page;
    auto ranked = Statement::Prepare(
        index.db.get(),
        absl::StrCat("SELECT p.id, -bm25(passage_ref, ", kSectionTitleWeight,
                     ", ", kBodyWeight, ", ", kCompoundWeight, ") AS score ",
                     where, "ORDER BY score DESC, p.id LIMIT ?4 OFFSET ?5"));
    EXPECT_TRUE(ranked.ok()) << ranked.status();
    ranked->Bind(1, match)
        .Bind(2, KindName(filter.kind))
        .Bind(3, filter.section_id);
    ranked->Bind(4, limit).Bind(5, offset);
    auto snippet =
        Statement::Prepare(index.db.get(), testing::kReferenceSnippetSql);
    EXPECT_TRUE(snippet.ok()) << snippet.status();
    auto sources = Statement::Prepare(
        index.db.get(),
        "SELECT group_concat(source_id, ',') FROM (SELECT ss.source_id, "
        "min(s.id) AS first "
        "FROM sentences s JOIN sentence_sources ss ON ss.sentence_id = s.id "
        "WHERE s.passage_id = ?1 GROUP BY ss.source_id ORDER BY first, "
        "ss.source_id)");
    EXPECT_TRUE(sources.ok()) << sources.status();
    while (*ranked->Step()) {
      page.rowids.push_back(ranked->ColumnInt(0));
      page.scores.push_back(ranked->ColumnDouble(1));
      snippet->Reset();
      snippet->Bind(1, match).Bind(2, ranked->ColumnInt(0));
      EXPECT_TRUE(*snippet->Step());
      page.snippets.emplace_back(snippet->ColumnText(0));
      sources->Reset();
      sources->Bind(1, ranked->ColumnInt(0));
      EXPECT_TRUE(*sources->Step());
      page.citation_ids.emplace_back(sources->ColumnText(0));
    }
    auto count = Statement::Prepare(index.db.get(),
                                    absl::StrCat("SELECT count(*) ", where));
    count->Bind(1, match)
        .Bind(2, KindName(filter.kind))
        .Bind(3, filter.section_id);
    EXPECT_TRUE(*count->Step());
    page.total = count->ColumnInt(0);
    return page;
  }

  static Page Ours(Index& index, const std::vector<std::string>& phrases,
                   const PassageFilter& filter, int limit, int offset) {
    Page page;
    auto query = index.searcher->Prepare(phrases);
    EXPECT_TRUE(query.ok()) << query.status();
    auto hits = index.searcher->SearchPassages(*query, filter, limit, offset,
                                               &page.total);
    EXPECT_TRUE(hits.ok()) << hits.status();
    for (const PassageHit& hit : hits.value_or(std::vector<PassageHit>{})) {
      page.rowids.push_back(hit.rowid());
      page.scores.push_back(hit.score);
      page.snippets.push_back(hit.snippet);
      page.citation_ids.push_back(absl::StrJoin(hit.stored->source_ids, ","));
    }
    return page;
  }
};

INSTANTIATE_TEST_SUITE_P(SeedAndSynthetic, SearcherTest,
                         ::testing::Values(0, 500));

TEST_P(SearcherTest, EvaluationQuestionsGetFts5sPages) {
  Index& index = Get(GetParam());
  auto questions =
      LoadEvalQuestions(testing::SourcePath("tests/eval/ask_eval.txt"));
  ASSERT_TRUE(questions.ok()) << questions.status();
  int compared = 0;
  for (const EvalQuestion& question : *questions) {
    const AnalyzedQuery query = AnalyzeQuery(question.question);
    if (query.empty()) continue;
    const std::vector<std::string> phrases = query.Phrases();
    for (auto [limit, offset] : {std::pair{12, 0}, {10, 30}, {100, 0}}) {
      EXPECT_EQ(Ours(index, phrases, {}, limit, offset),
                Fts5(index, phrases, {}, limit, offset))
          << question.question << " limit " << limit << " offset " << offset;
      ++compared;
    }
  }
  EXPECT_GT(compared, 150);
}

TEST_P(SearcherTest, FilteredPagesGetFts5sPages) {
  Index& index = Get(GetParam());
  const std::string faq_section =
      "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries#frequently-"
      "asked-questions";
  for (const char* question :
       {"why K2 with D3?", "magnesium glycinate sleep",
        "vitamin D and calcium in arteries", "dose timing meal"}) {
    const std::vector<std::string> phrases = AnalyzeQuery(question).Phrases();
    for (const PassageFilter& filter :
         {PassageFilter{.kind = StoredPassage::Kind::kTableRow},
          PassageFilter{.kind = StoredPassage::Kind::kParagraph},
          PassageFilter{.section_id = faq_section},
          PassageFilter{.kind = StoredPassage::Kind::kFaq,
          .section_id = faq_section},
          PassageFilter{.section_id = "no-such-article#nothing"}}) {
      for (auto [limit, offset] : {std::pair{10, 0}, {5, 10}, {10, 100000}}) {
        EXPECT_EQ(Ours(index, phrases, filter, limit, offset),
                  Fts5(index, phrases, filter, limit, offset))
            << question << " kind " << KindName(filter.kind) << " section "
            << filter.section_id;
      }
    }
  }
}

TEST_P(SearcherTest, PhraseFlagsSayWhichPhrasesEachPassageHas) {
  Index& index = Get(GetParam());
  const std::vector<std::string> phrases =
      AnalyzeQuery("why K2 with vitamin D and calcium?").Phrases();
  auto query = index.searcher->Prepare(phrases);
  ASSERT_TRUE(query.ok());
  auto hits = index.searcher->SearchPassages(
      *query, {}, 20, 0, nullptr, {.snippets = false, .phrases = true});
  ASSERT_TRUE(hits.ok());
  ASSERT_FALSE(hits->empty());
  // Snippets added afterwards are the ones a search with snippets makes.
  auto with_snippets =
      index.searcher->SearchPassages(*query, {}, 20, 0, nullptr);
  ASSERT_TRUE(with_snippets.ok());
  std::vector<PassageHit*> later;
  for (PassageHit& hit : *hits) {
    EXPECT_TRUE(hit.snippet.empty());
    later.push_back(&hit);
  }
  ASSERT_TRUE(index.searcher->AddSnippets(*query, later).ok());
  for (size_t i = 0; i < hits->size(); ++i) {
    EXPECT_EQ((*hits)[i].snippet, (*with_snippets)[i].snippet);
    EXPECT_FALSE((*hits)[i].snippet.empty());
    EXPECT_TRUE((*with_snippets)[i].phrases.empty());  // Only when asked for.
  }
  for (const PassageHit& hit : *hits) {
    ASSERT_EQ(hit.phrases.size(), phrases.size());
    for (size_t p = 0; p < phrases.size(); ++p) {
      auto alone = Statement::Prepare(index.db.get(),
                                      "SELECT 1 FROM passage_ref WHERE "
                                      "passage_ref MATCH ?1 AND rowid = ?2");
      alone->Bind(1, QuoteFts(phrases[p])).Bind(2, hit.rowid());
      EXPECT_EQ(hit.phrases[p] != 0, *alone->Step())
          << phrases[p] << " in " << hit.rowid();
    }
  }
}

TEST_P(SearcherTest, CountsAndFaqMatchesAreFts5s) {
  Index& index = Get(GetParam());
  for (const char* question :
       {"calcium", "why K2 with D3?", "magnesium before bed", "zzqx"}) {
    const std::vector<std::string> phrases = AnalyzeQuery(question).Phrases();
    const Page fts5 = Fts5(index, phrases, {}, 1, 0);
    EXPECT_EQ(*index.searcher->CountMatching(phrases), fts5.total) << question;
    EXPECT_EQ(*index.searcher->CountMatching(phrases), fts5.total)
        << question;  // Remembered.

    auto best = Statement::Prepare(
        index.db.get(),
        "SELECT f.id, -bm25(faq_ref) AS score, f.question FROM faq_ref "
        "JOIN faqs f ON f.id = faq_ref.rowid WHERE faq_ref MATCH ?1 "
        "ORDER BY score DESC, f.id LIMIT 3");
    best->Bind(1, testing::MatchAnyPhrase(phrases));
    auto faqs = index.searcher->MatchFaqs(*index.searcher->Prepare(phrases), 3);
    ASSERT_TRUE(faqs.ok());
    size_t i = 0;
    for (; *best->Step(); ++i) {
      ASSERT_LT(i, faqs->size()) << question;
      EXPECT_EQ((*faqs)[i].faq->question, best->ColumnText(2)) << question;
      EXPECT_EQ((*faqs)[i].score, best->ColumnDouble(1)) << question;
    }
    EXPECT_EQ(i, faqs->size()) << question;
  }
}

// The rowids of `table` (an FTS5 reference) that MATCH `expression`.
std::vector<int64_t> Fts5Rowids(sqlite3* db, const char* table,
                                const std::string& expression) {
  auto fts5 = Statement::Prepare(
      db, absl::StrCat("SELECT rowid FROM ", table, " WHERE ", table,
                       " MATCH ?1 ORDER BY rowid"));
  EXPECT_TRUE(fts5.ok()) << fts5.status();
  std::vector<int64_t> rowids;
  if (!fts5.ok()) return rowids;
  fts5->Bind(1, expression);
  while (true) {
    absl::StatusOr<bool> row = fts5->Step();
    EXPECT_TRUE(row.ok()) << row.status() << " " << expression;
    if (!row.ok() || !*row) break;
    rowids.push_back(fts5->ColumnInt(0));
  }
  return rowids;
}

TEST_P(SearcherTest, PassagesHavingAllAreFts5sMatchOfEveryGroup) {
  Index& index = Get(GetParam());
  for (const char* words : {"calcium", "bone matrix", "vitamin D arteries",
                            "K2 dose timing", "magnesium zzqx", "the of and"}) {
    const AnalyzedQuery query = AnalyzeQuery(words);
    auto having = index.searcher->PassagesHavingAll(query.GroupAlternatives());
    ASSERT_TRUE(having.ok()) << having.status();
    std::vector<int64_t> ours;
    having->ForEach([&](int64_t row) { ours.push_back(row); });
    if (query.empty()) {  // Only stop words: no group, no passage.
      EXPECT_TRUE(ours.empty()) << words;
      continue;
    }
    const std::vector<int64_t> expected =
        Fts5Rowids(index.db.get(), "passage_ref", query.MatchAll());
    EXPECT_EQ(ours, expected) << words;
    EXPECT_FALSE(expected.empty() && query.groups.size() == 1) << words;
    EXPECT_EQ(having->size(), static_cast<int64_t>(expected.size()));
  }
}

TEST_P(SearcherTest, CitedTextKeepsTheSentencesFts5Matches) {
  Index& index = Get(GetParam());
  std::vector<std::tuple<int64_t, int64_t, std::string>> sentences;
  auto all = Statement::Prepare(
      index.db.get(), "SELECT id, passage_id, text FROM sentence_texts");
  ASSERT_TRUE(all.ok());
  while (*all->Step()) {
    sentences.emplace_back(all->ColumnInt(0), all->ColumnInt(1),
                           all->ColumnText(2));
  }
  for (const char* words : {"calcium", "bone matrix", "vitamin D arteries",
                            "MK-7", "K2 dose timing", "magnesium zzqx"}) {
    const AnalyzedQuery query = AnalyzeQuery(words);
    auto filter = index.searcher->CitedText(query.GroupAlternatives());
    ASSERT_TRUE(filter.ok()) << filter.status();
    std::vector<int64_t> ours;
    for (const auto& [id, passage, text] : sentences) {
      if ((*filter)->Keeps(passage, text)) ours.push_back(id);
    }
    std::sort(ours.begin(), ours.end());
    const std::vector<int64_t> expected =
        Fts5Rowids(index.db.get(), "sentence_ref", query.MatchAll());
    EXPECT_EQ(ours, expected) << words;
    EXPECT_FALSE(expected.empty() && query.groups.size() == 1) << words;
  }
}

TEST(SearcherSpellingTest, CorrectsOneTypoToTheCommonestStem) {
  testing::TempDir dir;
  ASSERT_TRUE(BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                          .out_path = dir.File("kb.sqlite")})
                  .ok());
  auto store = Store::Open(dir.File("kb.sqlite"));
  ASSERT_TRUE(store.ok());
  auto searcher = Searcher::Create(**store);
  ASSERT_TRUE(searcher.ok());
  EXPECT_EQ((*searcher)->CorrectSpelling("vitmin"), "vitamin");
  EXPECT_EQ((*searcher)->CorrectSpelling("calcum"), "calcium");
  EXPECT_EQ((*searcher)->CorrectSpelling("calcium"), "");  // Known.
  EXPECT_EQ((*searcher)->CorrectSpelling("bones"), "");    // "bone" is known.
  EXPECT_EQ((*searcher)->CorrectSpelling("k2"), "");  // Too short to guess.
  EXPECT_EQ((*searcher)->CorrectSpelling("zzzzzzzz"), "");
}

}  // namespace
}  // namespace citekb
