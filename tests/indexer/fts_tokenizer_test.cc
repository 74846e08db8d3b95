// FtsTokenizer must split text exactly as the index's FTS5 tables do: the
// terms, their positions and their byte offsets are checked against what
// FTS5 itself indexed (fts5vocab) for texts chosen to be awkward.

#include "indexer/format/fts_tokenizer.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const char* const kTexts[] = {
    "Arteries calcify; bones don't.",
    "Vitamin-D3 (cholecalciferol) 5,000 IU/day — with MK-7, 100–200 µg.",
    "Café naïve CRÈME brûlée: ÆON ﬁnal",
    "25(OH)D ≥ 60 ng/mL… \"quoted\" 'single' [anecdotal] x²",
    "   leading and trailing space   ",
    "",
    "a\tb\nc\r\nd",
    "日本語のテキスト and ελληνικά and русский",
    "emoji 😀 between words, zero\u200bwidth",
};

struct IndexedTerm {
  std::string term;
  int position;
  bool operator==(const IndexedTerm&) const = default;
};

// What FTS5 indexed for `text`, in position order.
std::vector<IndexedTerm> IndexedByFts5(const std::string& text) {
  absl::StatusOr<Database> db =
      OpenDatabase(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  EXPECT_TRUE(db.ok());
  EXPECT_TRUE(
      Exec(db->get(),
           absl::StrCat("CREATE VIRTUAL TABLE t USING fts5(x, tokenize = '",
                        kFtsTokenizer,
                        "'); CREATE VIRTUAL TABLE v USING "
                        "fts5vocab(t, 'instance');"))
          .ok());
  absl::StatusOr<Statement> insert =
      Statement::Prepare(db->get(), "INSERT INTO t VALUES(?1)");
  EXPECT_TRUE(insert.ok());
  EXPECT_TRUE(insert->Bind(1, text).Run().ok());
  absl::StatusOr<Statement> terms = Statement::Prepare(
      db->get(), "SELECT term, offset FROM v ORDER BY offset, term");
  EXPECT_TRUE(terms.ok());
  std::vector<IndexedTerm> indexed;
  while (*terms->Step()) {
    indexed.push_back({std::string(terms->ColumnText(0)),
                       static_cast<int>(terms->ColumnInt(1))});
  }
  return indexed;
}

TEST(FtsTokenizerTest, TermsAndPositionsAreFts5s) {
  absl::StatusOr<std::unique_ptr<FtsTokenizer>> tokenizer =
      FtsTokenizer::Create(kFtsTokenizer);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  for (const char* text : kTexts) {
    std::vector<IndexedTerm> ours;
    int position = 0;
    ASSERT_TRUE(
        (*tokenizer)
            ->Tokenize(
                text, FtsTokenizer::Purpose::kDocument,
                [&](const FtsTokenizer::Token& token) {
                  if (!token.colocated) ++position;
                  ours.push_back({std::string(token.term), position - 1});
                })
            .ok());
    std::vector<IndexedTerm> theirs = IndexedByFts5(text);
    // fts5vocab lists a term once per position; so do we, given no
    // colocated tokens. Order both by position, then term.
    std::sort(ours.begin(), ours.end(), [](const auto& a, const auto& b) {
      return std::tie(a.position, a.term) < std::tie(b.position, b.term);
    });
    EXPECT_EQ(ours, theirs) << "text: " << text;
  }
}

TEST(FtsTokenizerTest, OffsetsCoverTheWordInTheText) {
  absl::StatusOr<std::unique_ptr<FtsTokenizer>> tokenizer =
      FtsTokenizer::Create(kFtsTokenizer);
  ASSERT_TRUE(tokenizer.ok());
  const std::string text = "Arteries calcify; Vitamin-D3 and café.";
  std::vector<std::string> words;
  std::vector<std::string> terms;
  ASSERT_TRUE((*tokenizer)
                  ->Tokenize(text, FtsTokenizer::Purpose::kAux,
                             [&](const FtsTokenizer::Token& token) {
                               words.push_back(text.substr(
                                   token.start, token.end - token.start));
                               terms.emplace_back(token.term);
                             })
                  .ok());
  EXPECT_THAT(words, ElementsAre("Arteries", "calcify", "Vitamin", "D3", "and",
                                 "café"));
  EXPECT_THAT(terms,
              ElementsAre("arteri", "calcifi", "vitamin", "d3", "and", "cafe"));
}

TEST(FtsTokenizerTest, QueryTerms) {
  absl::StatusOr<std::unique_ptr<FtsTokenizer>> tokenizer =
      FtsTokenizer::Create(kFtsTokenizer);
  ASSERT_TRUE(tokenizer.ok());
  EXPECT_THAT(*(*tokenizer)->Terms("blood levels"),
              ElementsAre("blood", "level"));
  EXPECT_THAT(*(*tokenizer)->Terms("— …"), ElementsAre());
}

TEST(FtsTokenizerTest, UnknownTokenizerOrArgumentsAreRefused) {
  absl::StatusOr<std::unique_ptr<FtsTokenizer>> unknown =
      FtsTokenizer::Create("nosuch");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("nosuch"));
  absl::StatusOr<std::unique_ptr<FtsTokenizer>> bad_argument =
      FtsTokenizer::Create("unicode61 remove_diacritics 7");
  EXPECT_EQ(bad_argument.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FtsTokenizer::Create("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(FtsTokenizerTest, ManyThreadsAtOnceGetTheSameTerms) {
  absl::StatusOr<std::unique_ptr<FtsTokenizer>> tokenizer =
      FtsTokenizer::Create(kFtsTokenizer);
  ASSERT_TRUE(tokenizer.ok());
  const std::vector<std::string> expected = *(*tokenizer)->Terms(kTexts[1]);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        if (*(*tokenizer)->Terms(kTexts[1]) != expected) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace citekb
