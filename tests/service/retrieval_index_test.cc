// RetrievalIndex must rank exactly as FTS5 does: for every query below, the
// same rows in the same order with the same scores bit for bit as bm25()
// over FTS5 tables of the index's passages and FAQ questions
// (tests/support/fts5_reference.h), the same counts, and the same "which
// phrases does this row have". The index holds the seed article plus
// synthetic articles in its format, so that rankings have thousands of
// candidates and MaxScore prunes for real.

#include "service/search/retrieval_index.h"

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/corpus_generator.h"
#include "bench/request_mix.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/fts_tokenizer.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/search/query_analyzer.h"
#include "service/store/query_budget.h"
#include "tests/support/fts5_reference.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

constexpr int kSyntheticArticles = 400;

struct Row {
  int64_t row;
  double score;
  bool operator==(const Row&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Row& row) {
  return out << "{" << row.row << ", " << absl::StrCat(row.score) << "}";
}

class RetrievalIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const CorpusGenerator generator(/*seed=*/11);
    for (int i = 0; i < kSyntheticArticles; ++i) {
      testing::WriteFileOrDie(dir_->File(CorpusGenerator::FileName(i)),
                              generator.Article(i));
    }
    testing::WriteFileOrDie(dir_->File("seed.txt"),
                            testing::ReadFileOrDie(testing::SeedArticlePath()));
    ASSERT_TRUE(BuildIndex({.knowledge_dir = dir_->path(),
                            .out_path = dir_->File("kb.sqlite")})
                    .ok());
    // The index and FTS5's reference tables, in a copy.
    std::filesystem::copy_file(dir_->File("kb.sqlite"),
                               dir_->File("reference.sqlite"));
    auto db =
        OpenDatabase(dir_->File("reference.sqlite"), SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    db_ = new Database(*std::move(db));
    ASSERT_TRUE(testing::AddFts5References(db_->get()).ok());
    auto passages = RetrievalIndex::Load(
        db_->get(), "passages",
        {kSectionTitleWeight, kBodyWeight, kCompoundWeight});
    ASSERT_TRUE(passages.ok()) << passages.status();
    passages_ = passages->release();
    auto faqs = RetrievalIndex::Load(db_->get(), "faqs", {1.0});
    ASSERT_TRUE(faqs.ok()) << faqs.status();
    faqs_ = faqs->release();
    auto tokenizer = FtsTokenizer::Create(kFtsTokenizer);
    ASSERT_TRUE(tokenizer.ok());
    tokenizer_ = tokenizer->release();
  }
  static void TearDownTestSuite() {
    delete passages_;
    delete faqs_;
    delete tokenizer_;
    delete db_;
    delete dir_;
  }

  static std::vector<std::string> Sql(
      const std::string& sql, const std::vector<std::string>& parameters) {
    auto statement = Statement::Prepare(db_->get(), sql);
    EXPECT_TRUE(statement.ok()) << statement.status() << sql;
    for (size_t i = 0; i < parameters.size(); ++i) {
      statement->Bind(static_cast<int>(i) + 1, parameters[i]);
    }
    std::vector<std::string> rows;
    while (true) {
      auto row = statement->Step();
      EXPECT_TRUE(row.ok()) << row.status();
      if (!row.ok() || !*row) break;
      std::vector<std::string> columns;
      for (int c = 0; c < sqlite3_column_count(statement->get()); ++c) {
        columns.emplace_back(statement->ColumnText(c));
      }
      rows.push_back(absl::StrJoin(columns, "|"));
    }
    return rows;
  }

  // FTS5's page: bm25() with the index's weights, best first, ties by rowid.
  static std::vector<Row> Fts5Page(const char* table,
                                   const std::vector<std::string>& phrases,
                                   int64_t limit, int64_t offset,
                                   const std::string& kind = "") {
    const bool passages = std::string(table) == "passage_ref";
    const std::string weights =
        passages ? absl::StrCat(kSectionTitleWeight, ", ", kBodyWeight, ", ",
                                kCompoundWeight)
                 : "1.0";
    auto statement = Statement::Prepare(
        db_->get(),
        absl::StrCat(
            "SELECT t.rowid, -bm25(", table, ", ", weights, ") AS score FROM ",
            table, " t ", passages ? "JOIN passages p ON p.id = t.rowid " : "",
            "WHERE ", table, " MATCH ?1 ",
            passages ? "AND (?4 = '' OR p.kind = ?4) " : "AND ?4 = '' ",
            "ORDER BY score DESC, t.rowid LIMIT ?2 OFFSET ?3"));
    EXPECT_TRUE(statement.ok()) << statement.status();
    statement->Bind(1, testing::MatchAnyPhrase(phrases))
        .Bind(2, limit)
        .Bind(3, offset)
        .Bind(4, kind);
    std::vector<Row> rows;
    while (true) {
      auto row = statement->Step();
      EXPECT_TRUE(row.ok())
          << row.status() << " " << testing::MatchAnyPhrase(phrases);
      if (!row.ok() || !*row) break;
      rows.push_back({statement->ColumnInt(0), statement->ColumnDouble(1)});
    }
    return rows;
  }

  static int64_t Fts5Count(const char* table,
                           const std::vector<std::string>& phrases) {
    auto rows = Sql(absl::StrCat("SELECT count(*) FROM ", table, " WHERE ",
                                 table, " MATCH ?1"),
                    {testing::MatchAnyPhrase(phrases)});
    return rows.empty() ? -1 : std::stoll(rows[0]);
  }

  static RetrievalQuery Compile(const RetrievalIndex& index,
                                const std::vector<std::string>& phrases) {
    std::vector<std::vector<std::string>> terms;
    for (const std::string& phrase : phrases)
      terms.push_back(*tokenizer_->Terms(phrase));
    auto query = index.Compile(terms);
    EXPECT_TRUE(query.ok()) << query.status();
    return *std::move(query);
  }

  static std::vector<Row> Ours(const RetrievalIndex& index,
                               const std::vector<std::string>& phrases,
                               int64_t limit, int64_t offset,
                               const std::string& kind = "") {
    const RetrievalQuery query = Compile(index, phrases);
    absl::StatusOr<std::vector<RankedRow>> ranked =
        kind.empty()
            ? index.Rank(query, {.offset = offset, .limit = limit})
            : index.Rank(query, {.offset = offset, .limit = limit},
                         [&](int64_t row) { return kinds_[row] == kind; });
    EXPECT_TRUE(ranked.ok()) << ranked.status();
    std::vector<Row> rows;
    for (const RankedRow& row : ranked.value_or(std::vector<RankedRow>{})) {
      rows.push_back({row.row, row.score});
    }
    return rows;
  }

  // Every page and count of `phrases`, both ways.
  static void ExpectSame(const std::vector<std::string>& phrases) {
    const std::string where = testing::MatchAnyPhrase(phrases);
    for (auto [limit, offset] : {std::pair<int64_t, int64_t>{12, 0},
                                 {10, 30},
                                 {1, 0},
                                 {100, 5},
                                 {10, 100000}}) {
      EXPECT_EQ(Ours(*passages_, phrases, limit, offset),
                Fts5Page("passage_ref", phrases, limit, offset))
          << where << " limit " << limit << " offset " << offset;
    }
    EXPECT_EQ(Ours(*faqs_, phrases, 3, 0), Fts5Page("faq_ref", phrases, 3, 0))
        << where;
    EXPECT_EQ(*passages_->Count(Compile(*passages_, phrases)),
              Fts5Count("passage_ref", phrases))
        << where;
    EXPECT_EQ(*faqs_->Count(Compile(*faqs_, phrases)),
              Fts5Count("faq_ref", phrases))
        << where;
    std::vector<std::string> rows;
    passages_->Rows(Compile(*passages_, phrases))->ForEach([&](int64_t row) {
      rows.push_back(absl::StrCat(row));
    });
    EXPECT_EQ(rows, Sql("SELECT rowid FROM passage_ref WHERE passage_ref "
                        "MATCH ?1 ORDER BY rowid",
                        {where}))
        << where;
    ++compared_;
  }

  static testing::TempDir* dir_;
  static Database* db_;
  static RetrievalIndex* passages_;
  static RetrievalIndex* faqs_;
  static FtsTokenizer* tokenizer_;
  static std::vector<std::string> kinds_;  // passages.kind by rowid.
  static int compared_;
};
testing::TempDir* RetrievalIndexTest::dir_ = nullptr;
Database* RetrievalIndexTest::db_ = nullptr;
RetrievalIndex* RetrievalIndexTest::passages_ = nullptr;
RetrievalIndex* RetrievalIndexTest::faqs_ = nullptr;
FtsTokenizer* RetrievalIndexTest::tokenizer_ = nullptr;
std::vector<std::string> RetrievalIndexTest::kinds_;
int RetrievalIndexTest::compared_ = 0;

std::vector<std::string> PhrasesOf(const AnalyzedQuery& query) {
  std::vector<std::string> phrases;
  for (const TermGroup& group : query.groups) {
    phrases.insert(phrases.end(), group.alternatives.begin(),
                   group.alternatives.end());
  }
  return phrases;
}

TEST_F(RetrievalIndexTest, EvaluationQuestionsRankAsFts5) {
  auto questions =
      LoadEvalQuestions(testing::SourcePath("tests/eval/ask_eval.txt"));
  ASSERT_TRUE(questions.ok()) << questions.status();
  for (const EvalQuestion& question : *questions) {
    const AnalyzedQuery query = AnalyzeQuery(question.question);
    if (!query.empty()) ExpectSame(PhrasesOf(query));
  }
  EXPECT_GT(compared_, 50);
}

TEST_F(RetrievalIndexTest, RandomWordsAndPhrasesRankAsFts5) {
  // Words and runs of adjacent words taken from the passages themselves,
  // so that multi-term phrases match, mixed with words the index lacks,
  // repeats and phrases without any term.
  std::vector<std::string> texts =
      Sql("SELECT text FROM passages ORDER BY id", {});
  std::mt19937_64 random(3);
  std::vector<std::vector<std::string>> words;
  for (const std::string& text : texts) {
    words.push_back(absl::StrSplit(text, ' ', absl::SkipEmpty()));
  }
  int multi_term_matches = 0;
  for (int q = 0; q < 150; ++q) {
    std::vector<std::string> phrases;
    const int count = 1 + static_cast<int>(random() % 8);
    for (int p = 0; p < count; ++p) {
      const auto& passage = words[random() % words.size()];
      if (passage.empty()) continue;
      const size_t start = random() % passage.size();
      const size_t length =
          std::min<size_t>(1 + random() % 3, passage.size() - start);
      std::vector<std::string> run(
          passage.begin() + static_cast<ptrdiff_t>(start),
          passage.begin() + static_cast<ptrdiff_t>(start + length));
      switch (random() % 10) {
        case 0:
          phrases.push_back("zzqxunknownword");
          break;
        case 1:
          phrases.push_back("— …");  // No terms at all.
          break;
        case 2:
          if (!phrases.empty()) phrases.push_back(phrases.back());  // Twice.
          break;
        default:
          phrases.push_back(absl::StrJoin(run, " "));
          if (length > 1) ++multi_term_matches;
      }
    }
    if (!phrases.empty()) ExpectSame(phrases);
  }
  EXPECT_GT(multi_term_matches, 100);
}

TEST_F(RetrievalIndexTest, FilteredRankingsRankAsFts5) {
  kinds_ = {""};
  for (const std::string& kind :
       Sql("SELECT kind FROM passages ORDER BY id", {})) {
    kinds_.push_back(kind);
  }
  for (const char* question :
       {"why K2 with D3?", "magnesium glycinate sleep",
        "vitamin D and calcium in arteries", "dose timing meal"}) {
    const std::vector<std::string> phrases = PhrasesOf(AnalyzeQuery(question));
    for (const char* kind : {"table_row", "paragraph", "faq"}) {
      for (auto [limit, offset] :
           {std::pair<int64_t, int64_t>{10, 0}, {10, 20}}) {
        EXPECT_EQ(Ours(*passages_, phrases, limit, offset, kind),
                  Fts5Page("passage_ref", phrases, limit, offset, kind))
            << question << " " << kind;
      }
    }
  }
}

TEST_F(RetrievalIndexTest, PhraseFlagsSayWhichPhrasesARowHas) {
  const std::vector<std::string> phrases = {
      "vitamin d", "k2", "calcium", "zzqxunknown", "arterial calcification"};
  auto ranked = passages_->Rank(Compile(*passages_, phrases),
                                {.limit = 20, .phrase_flags = true});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->size(), 20u);
  for (const RankedRow& row : *ranked) {
    ASSERT_EQ(row.phrases.size(), phrases.size());
    for (size_t p = 0; p < phrases.size(); ++p) {
      const bool has = !Sql("SELECT 1 FROM passage_ref WHERE passage_ref MATCH "
                            "?1 AND rowid = ?2",
                            {QuoteFts(phrases[p]), absl::StrCat(row.row)})
                            .empty();
      EXPECT_EQ(row.phrases[p] != 0, has)
          << phrases[p] << " in row " << row.row;
    }
  }
}

TEST_F(RetrievalIndexTest, TermRowsAreTheBodyColumnsDocumentCounts) {
  const absl::flat_hash_map<std::string, int64_t> body = passages_->TermRows(1);
  // fts5vocab needs a virtual table of its own: a separate connection.
  auto db = OpenDatabase(dir_->File("reference.sqlite"), SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Exec(db->get(),
                   "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, "
                   "'passage_ref', 'col')")
                  .ok());
  auto vocab = Statement::Prepare(
      db->get(), "SELECT term, doc FROM temp.v WHERE col = 'body'");
  ASSERT_TRUE(vocab.ok());
  size_t terms = 0;
  while (*vocab->Step()) {
    ++terms;
    auto it = body.find(vocab->ColumnText(0));
    ASSERT_NE(it, body.end()) << vocab->ColumnText(0);
    EXPECT_EQ(it->second, vocab->ColumnInt(1)) << vocab->ColumnText(0);
  }
  EXPECT_EQ(terms, body.size());
  EXPECT_GT(terms, 1000u);
}

TEST_F(RetrievalIndexTest, ASpentBudgetStopsTheRanking) {
  QueryBudget budget({.max_steps = 100});
  QueryBudget::Scope scope(&budget);
  auto ranked =
      passages_->Rank(Compile(*passages_, {"the", "and", "vitamin", "of"}), {});
  EXPECT_EQ(ranked.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      passages_->Count(Compile(*passages_, {"the", "and"})).status().code(),
      absl::StatusCode::kResourceExhausted);
}

TEST_F(RetrievalIndexTest, DamagedPostingsAreRefused) {
  const std::string copy = dir_->File("damaged.sqlite");
  std::filesystem::copy_file(dir_->File("kb.sqlite"), copy);
  auto db = OpenDatabase(copy, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  // A posting list cut short, then one whose rows go backwards.
  ASSERT_TRUE(Exec(db->get(),
                   "UPDATE passages_terms SET postings = substr(postings, 1, "
                   "length(postings) - 1) WHERE id = 1")
                  .ok());
  auto cut = RetrievalIndex::Load(db->get(), "passages", {2, 1, 1});
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss) << cut.status();
  ASSERT_TRUE(Exec(db->get(),
                   "UPDATE passages_terms SET postings = x'0008' WHERE id = 1")
                  .ok());
  EXPECT_EQ(
      RetrievalIndex::Load(db->get(), "passages", {2, 1, 1}).status().code(),
      absl::StatusCode::kDataLoss);
  ASSERT_TRUE(Exec(db->get(), "DELETE FROM ranked_tables").ok());
  EXPECT_EQ(
      RetrievalIndex::Load(db->get(), "passages", {2, 1, 1}).status().code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      RetrievalIndex::Load(db->get(), "passages", {0.5, 1, 1}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace citekb
