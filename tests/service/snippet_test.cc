// Snippet() must return what SQLite's FTS5 snippet() returns, byte for byte.
//
// The hand-written cases show what a snippet looks like and pin each rule
// of FTS5's algorithm (service/search/snippet.h). The differential tests then
// put real and synthetic passages in an in-memory FTS5 table, run thousands of
// OR queries against it, and compare every matching row's
// snippet(t, 1, '[', ']', '…', 24) with ours; FTS5's own phrase instances
// (xInst(), read through a small auxiliary function registered here) are
// compared with FindPhraseInstances() on the way.

#include "service/search/snippet.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/corpus_generator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/format/fts_tokenizer.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "tests/support/fts5_reference.h"
#include "tests/support/test_support.h"

namespace citekb {

void PrintTo(const PhraseInstance& instance, std::ostream* os) {
  *os << "{phrase " << instance.phrase << " at " << instance.position
      << ", size " << instance.size << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A column as our own index would hold it.
struct Column {
  std::vector<TokenSpan> tokens;
  std::vector<std::string> terms;
};

Column TokenizeColumn(const FtsTokenizer& tokenizer, absl::string_view text) {
  Column column;
  absl::Status status = tokenizer.Tokenize(
      text, FtsTokenizer::Purpose::kAux, [&](const FtsTokenizer::Token& t) {
        column.tokens.push_back({t.start, t.end});
        column.terms.emplace_back(t.term);
      });
  EXPECT_TRUE(status.ok()) << status;
  return column;
}

std::vector<std::vector<std::string>> PhraseTerms(
    const FtsTokenizer& tokenizer, const std::vector<std::string>& phrases) {
  std::vector<std::vector<std::string>> terms;
  for (const std::string& phrase : phrases) {
    absl::StatusOr<std::vector<std::string>> phrase_terms =
        tokenizer.Terms(phrase);
    EXPECT_TRUE(phrase_terms.ok()) << phrase_terms.status();
    terms.push_back(*std::move(phrase_terms));
  }
  return terms;
}

// Our whole path for one column: tokenize, find the phrases, make the
// snippet.
absl::StatusOr<std::string> OurSnippet(const FtsTokenizer& tokenizer,
                                       absl::string_view text,
                                       const std::vector<std::string>& phrases,
                                       const SnippetOptions& options = {}) {
  const Column column = TokenizeColumn(tokenizer, text);
  const std::vector<PhraseInstance> instances =
      FindPhraseInstances(column.terms, PhraseTerms(tokenizer, phrases));
  return Snippet(text, column.tokens, instances,
                 static_cast<int>(phrases.size()), options);
}

// An in-memory fts5(a, b, c) table with FTS5's tokenizer, and an auxiliary
// function inst(t) that returns xPhraseCount() and every xInst() of the row,
// in xInst() order, as "count phrase,column,offset,size ...".
class Fts5Table {
 public:
  struct Row {
    int64_t rowid = 0;
    std::string snippet;
    int phrase_count = 0;
    std::vector<std::tuple<int, int, int, int>> instances;  // p, c, o, size
  };

  static std::unique_ptr<Fts5Table> Create() {
    auto table = std::unique_ptr<Fts5Table>(new Fts5Table);
    absl::StatusOr<Database> db =
        OpenDatabase(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    EXPECT_TRUE(db.ok()) << db.status();
    table->db_ = *std::move(db);
    sqlite3* raw = table->db_.get();
    EXPECT_TRUE(Exec(raw, absl::StrCat("CREATE VIRTUAL TABLE t USING fts5(a, "
                                       "b, c, tokenize = '",
                                       kFtsTokenizer, "')"))
                    .ok());
    fts5_api* api = nullptr;
    {
      absl::StatusOr<Statement> get_api =
          Statement::Prepare(raw, "SELECT fts5(?1)");
      EXPECT_TRUE(get_api.ok());
      sqlite3_bind_pointer(get_api->get(), 1, &api, "fts5_api_ptr", nullptr);
      EXPECT_TRUE(get_api->Step().ok());
    }
    EXPECT_NE(api, nullptr);
    EXPECT_EQ(api->xCreateFunction(api, "inst", nullptr, &Instances, nullptr),
              SQLITE_OK);
    absl::StatusOr<Statement> insert =
        Statement::Prepare(raw, "INSERT INTO t(a, b, c) VALUES(?1, ?2, ?3)");
    EXPECT_TRUE(insert.ok());
    table->insert_ = *std::move(insert);
    absl::StatusOr<Statement> query = Statement::Prepare(
        raw,
        "SELECT rowid, snippet(t, 1, ?2, ?3, ?4, ?5), inst(t) FROM t "
        "WHERE t MATCH ?1 ORDER BY rowid");
    EXPECT_TRUE(query.ok()) << query.status();
    table->query_ = *std::move(query);
    return table;
  }

  void Insert(absl::string_view a, absl::string_view b, absl::string_view c) {
    insert_.Bind(1, a).Bind(2, b).Bind(3, c);
    absl::Status status = insert_.Run();
    EXPECT_TRUE(status.ok()) << status;
  }

  std::vector<Row> Query(absl::string_view match,
                         const SnippetOptions& options) {
    query_.Reset();
    query_.Bind(1, match)
        .Bind(2, options.open)
        .Bind(3, options.close)
        .Bind(4, options.ellipsis)
        .Bind(5, options.max_tokens);
    std::vector<Row> rows;
    while (true) {
      absl::StatusOr<bool> step = query_.Step();
      EXPECT_TRUE(step.ok()) << step.status() << " for " << match;
      if (!step.ok() || !*step) break;
      Row row{.rowid = query_.ColumnInt(0),
              .snippet = std::string(query_.ColumnText(1))};
      std::vector<absl::string_view> fields =
          absl::StrSplit(query_.ColumnText(2), ' ', absl::SkipEmpty());
      EXPECT_FALSE(fields.empty());
      EXPECT_TRUE(absl::SimpleAtoi(fields[0], &row.phrase_count));
      for (size_t i = 1; i < fields.size(); ++i) {
        std::vector<absl::string_view> numbers = absl::StrSplit(fields[i], ',');
        int value[4] = {};
        EXPECT_EQ(numbers.size(), 4u);
        for (int j = 0; j < 4; ++j) {
          EXPECT_TRUE(absl::SimpleAtoi(numbers[j], &value[j]));
        }
        row.instances.emplace_back(value[0], value[1], value[2], value[3]);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  Fts5Table() = default;

  static void Instances(const Fts5ExtensionApi* api, Fts5Context* fts,
                        sqlite3_context* context, int, sqlite3_value**) {
    std::string out = absl::StrCat(api->xPhraseCount(fts));
    int count = 0;
    if (api->xInstCount(fts, &count) != SQLITE_OK) {
      sqlite3_result_error(context, "xInstCount failed", -1);
      return;
    }
    for (int i = 0; i < count; ++i) {
      int phrase = 0, column = 0, offset = 0;
      if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK) {
        sqlite3_result_error(context, "xInst failed", -1);
        return;
      }
      absl::StrAppend(&out, " ", phrase, ",", column, ",", offset, ",",
                      api->xPhraseSize(fts, phrase));
    }
    sqlite3_result_text(context, out.data(), static_cast<int>(out.size()),
                        SQLITE_TRANSIENT);
  }

  Database db_;
  Statement insert_;
  Statement query_;
};

class SnippetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FtsTokenizer>> tokenizer =
        FtsTokenizer::Create(kFtsTokenizer);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = *std::move(tokenizer);
  }

  std::unique_ptr<FtsTokenizer> tokenizer_;
};

// --- What a snippet looks like ---------------------------------------------

struct Case {
  const char* text;
  std::vector<std::string> phrases;
  int max_tokens;
  const char* expected;
};

const Case kCases[] = {
    // Shorter than the window: the whole text, from byte 0 to the end.
    {"Vitamin K2 moves calcium into bone.",
     {"k2", "calcium"},
     24,
     "Vitamin [K2] moves [calcium] into bone."},
    // Matched in another column only: the first tokens, unmarked.
    {"One two three four five six.", {"absent"}, 3, "One two three…"},
    // Stems match: "arteries" is "arteri" in both.
    {"(Arteries calcify.)", {"artery"}, 24, "([Arteries] calcify.)"},
    // Centred on the instances the window holds, ellipses at both cuts.
    {"one two three vitamin four calcium five six seven eight nine ten",
     {"vitamin", "calcium"},
     5,
     "…three [vitamin] four [calcium] five…"},
    // The window with more distinct phrases wins over the earlier one.
    {"k2 one two three four five six seven eight nine vitamin calcium ten",
     {"k2", "vitamin", "calcium"},
     4,
     "…nine [vitamin] [calcium] ten"},
    // A sentence start that holds the same phrases wins (+100), and is not
    // centred: the window begins at the sentence.
    {"one two three four five. Six seven vitamin eight nine ten eleven",
     {"vitamin"},
     4,
     "…Six seven [vitamin] eight…"},
    // ... but only after a blank: "five.Six" is one sentence.
    {"one two three four five.Six seven vitamin eight nine ten eleven",
     {"vitamin"},
     4,
     "…seven [vitamin] eight nine…"},
    // ':' ends a sentence too.
    {"- Note: one two vitamin three four five six",
     {"vitamin"},
     4,
     "…one two [vitamin] three…"},
    // The first sentence (+120) starts at byte 0: leading text is kept.
    {"\"one two vitamin three four five six seven",
     {"vitamin"},
     4,
     "\"one two [vitamin] three…"},
    // Overlapping instances are one highlighted run.
    {"take vitamin d3 k2 daily",
     {"vitamin d3", "d3 k2"},
     24,
     "take [vitamin d3 k2] daily"},
    // A run cut by the window's end is closed there.
    {"a b c d e f g h i j k", {"f g h i"}, 3, "…[f g h]…"},
    // A run that starts before the window is not marked at all.
    {"one two three four five six seven eight nine ten eleven twelve",
     {"three four five six", "seven", "eight"},
     4,
     "…six [seven] [eight] nine…"},
    // max_tokens 1 at token 0: FTS5 turns the range off and marks every run.
    {"one two three four vitamin five",
     {"one", "vitamin"},
     1,
     "[one] two three four [vitamin]…"},
    // No tokens at all: the text as it is.
    {"— … —", {"k2"}, 24, "— … —"},
    {"", {"k2"}, 24, ""},
};

TEST_F(SnippetTest, HandWrittenCasesAgreeWithFts5) {
  std::unique_ptr<Fts5Table> table = Fts5Table::Create();
  for (const Case& c : kCases) {
    table->Insert("absent", c.text, "");
  }
  for (size_t i = 0; i < std::size(kCases); ++i) {
    const Case& c = kCases[i];
    SnippetOptions options;
    options.max_tokens = c.max_tokens;
    absl::StatusOr<std::string> ours =
        OurSnippet(*tokenizer_, c.text, c.phrases, options);
    ASSERT_TRUE(ours.ok()) << ours.status();
    EXPECT_EQ(*ours, c.expected) << "text: " << c.text;
    // FTS5 agrees: the query matches every row through column a.
    std::vector<std::string> phrases = c.phrases;
    phrases.push_back("absent");
    std::vector<Fts5Table::Row> rows =
        table->Query(testing::MatchAnyPhrase(phrases), options);
    ASSERT_GT(rows.size(), i);
    EXPECT_EQ(rows[i].snippet, c.expected) << "text: " << c.text;
  }
}

TEST_F(SnippetTest, OtherMarkers) {
  SnippetOptions options{
      .open = "<b>", .close = "</b>", .ellipsis = "...", .max_tokens = 3};
  EXPECT_EQ(*OurSnippet(*tokenizer_, "a b c d e f g h", {"f"}, options),
            "...e <b>f</b> g...");
  options.ellipsis = "";
  EXPECT_EQ(*OurSnippet(*tokenizer_, "a b c d e f g h", {"f"}, options),
            "e <b>f</b> g");
}

TEST_F(SnippetTest, InputsFts5CannotProduceAreRefused) {
  const std::vector<TokenSpan> tokens = {{0, 1}, {2, 3}};
  auto code = [](const absl::StatusOr<std::string>& s) {
    return s.status().code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(code(Snippet("a b", {{0, 1}, {2, 4}}, {}, 0)), kInvalid);
  EXPECT_EQ(code(Snippet("a b", {{2, 3}, {0, 1}}, {}, 0)), kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {{.phrase = 1}}, 1)), kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {{.position = 2}}, 1)), kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {{.position = 1, .size = 2}}, 1)),
            kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {{.size = 0}}, 1)), kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {{.position = 1}, {.position = 0}}, 1)),
            kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {{.phrase = 1}, {.phrase = 0}}, 2)),
            kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {}, 0, {.max_tokens = 0})), kInvalid);
  EXPECT_EQ(code(Snippet("a b", tokens, {}, -1)), kInvalid);
  absl::StatusOr<std::string> nul_marker =
      Snippet("a b", tokens, {}, 0, {.open = absl::string_view("\0", 1)});
  EXPECT_EQ(code(nul_marker), kInvalid);
  EXPECT_THAT(nul_marker.status().message(), HasSubstr("NUL"));
  // And what FTS5 can produce is accepted.
  EXPECT_EQ(*Snippet("a b", tokens, {{.phrase = 0}, {.phrase = 1}}, 2),
            "[a] b");
}

TEST(FindPhraseInstancesTest, PositionThenPhraseOrder) {
  const std::vector<std::string> column = {"vitamin", "d3", "k2",
                                           "vitamin", "d3", "d3"};
  EXPECT_THAT(FindPhraseInstances(column, {{"d3"}, {"vitamin", "d3"}, {}}),
              ElementsAre(PhraseInstance{1, 0, 2}, PhraseInstance{0, 1, 1},
                          PhraseInstance{1, 3, 2}, PhraseInstance{0, 4, 1},
                          PhraseInstance{0, 5, 1}));
  // Overlapping matches of one phrase, and a phrase longer than the column.
  const std::vector<uint32_t> ids = {7, 7, 7};
  EXPECT_THAT(FindPhraseInstances(ids, {{7, 7, 7, 7}, {7, 7}}),
              ElementsAre(PhraseInstance{1, 0, 2}, PhraseInstance{1, 1, 2}));
  EXPECT_THAT(FindPhraseInstances(ids, {}), ElementsAre());
}

// --- Against FTS5 -----------------------------------------------------------

// A few words, often repeated, so that random texts and queries meet
// repeated terms, overlapping phrases and several phrases per window.
const char* const kSmallVocabulary[] = {
    "vitamin", "D3",  "K2",     "calcium", "bone",     "arteries",
    "the",     "and", "intake", "daily",   "Magnesium"};
// Only ever in columns a and c.
const char* const kOtherColumnWords[] = {"zinc", "selenium", "iodine"};
// Between words of the random texts: sentence ends with and without blanks.
const char* const kSeparators[] = {" ",   " ",    " ",   " ",    ", ",
                                   ". ",  ".",    ": ",  ":\n",  ".\t ",
                                   " . ", "... ", " — ", "\n\n", ".) "};

class Rows {
 public:
  explicit Rows(uint32_t seed) : random_(seed) {}

  // Every paragraph of the seed article, lines of synthetic articles,
  // hand-made edge texts and random texts over kSmallVocabulary.
  std::vector<std::string> BodyTexts() {
    std::vector<std::string> texts;
    for (absl::string_view line : absl::StrSplit(
             testing::ReadFileOrDie(testing::SeedArticlePath()), '\n')) {
      if (!line.empty()) texts.emplace_back(line);
    }
    CorpusGenerator generator(/*seed=*/3);
    for (int article = 0; article < 3; ++article) {
      for (absl::string_view line :
           absl::StrSplit(generator.Article(article), '\n')) {
        if (!line.empty()) texts.emplace_back(line);
      }
    }
    for (const char* text : {
             "",
             "K2",
             "K2.",
             ". K2",
             "—",
             "calcium calcium calcium calcium calcium calcium calcium calcium "
             "calcium calcium calcium calcium calcium calcium calcium calcium "
             "calcium calcium calcium calcium calcium calcium calcium calcium "
             "calcium calcium calcium",
             "vitamin D3 vitamin D3 K2 vitamin D3 K2 K2 vitamin vitamin D3",
             "Take 3.5 mg daily. Then: K2 (MK-7) with D3. End.",
             "end.)Next K2 and. Then D3",
             "Café naïve CRÈME brûlée: vitamin D3 — K2",
         }) {
      texts.emplace_back(text);
    }
    // 23, 24 and 25 tokens: just inside and just outside the window.
    for (int words : {23, 24, 25}) texts.push_back(RandomText(words));
    // NUL bytes: FTS5 drops the rest of the piece it is copying.
    texts.push_back(std::string("vitamin D3\0hidden K2 bone", 25));
    texts.push_back(std::string("\0K2 calcium. The bone", 21));
    for (int i = 0; i < 250; ++i) {
      texts.push_back(RandomText(
          std::uniform_int_distribution<int>(1, i < 200 ? 60 : 200)(random_)));
    }
    return texts;
  }

  // Text for columns a and c: the small vocabulary and words found nowhere
  // else.
  std::string OtherColumnText() {
    std::vector<std::string> words;
    const int count = std::uniform_int_distribution<int>(0, 6)(random_);
    for (int i = 0; i < count; ++i) {
      words.push_back(Chance(0.5) ? Pick(kOtherColumnWords)
                                  : Pick(kSmallVocabulary));
    }
    return absl::StrJoin(words, " ");
  }

  std::string RandomText(int words) {
    std::string text = Chance(0.1) ? "\"" : "";
    for (int i = 0; i < words; ++i) {
      if (i > 0) text += Chance(0.7) ? " " : Pick(kSeparators);
      text += Pick(kSmallVocabulary);
    }
    if (Chance(0.5)) text += ".";
    return text;
  }

  // 1 to 10 phrases: words and runs of words from the texts (so that
  // multi-term phrases match), repeats and overlaps of earlier phrases,
  // words of other columns only, absent words and empty phrases.
  std::vector<std::string> Query(const std::vector<std::string>& texts,
                                 const FtsTokenizer& tokenizer) {
    const int count = std::uniform_int_distribution<int>(1, 10)(random_);
    std::vector<std::string> phrases;
    while (static_cast<int>(phrases.size()) < count) {
      const int kind = std::uniform_int_distribution<int>(0, 9)(random_);
      if (kind <= 2) {
        phrases.push_back(Pick(kSmallVocabulary));
      } else if (kind <= 4) {
        phrases.push_back(
            absl::StrCat(Pick(kSmallVocabulary), " ", Pick(kSmallVocabulary)));
      } else if (kind <= 6) {
        phrases.push_back(Excerpt(texts, tokenizer));
      } else if (kind == 7 && !phrases.empty()) {
        // The same phrase again, or one that overlaps it.
        const std::string& earlier = phrases[Index(phrases.size())];
        if (Chance(0.5)) {
          phrases.push_back(earlier);
        } else {
          std::vector<std::string> words = absl::StrSplit(earlier, ' ');
          phrases.push_back(
              absl::StrCat(words.back(), " ", Pick(kSmallVocabulary)));
        }
      } else if (kind == 8) {
        phrases.push_back(Pick(kOtherColumnWords));
      } else {
        phrases.push_back(Chance(0.7) ? "xyzzy" : (Chance(0.5) ? "" : "—"));
      }
    }
    return phrases;
  }

 private:
  // 1 to 4 consecutive tokens of a random text, as written there.
  std::string Excerpt(const std::vector<std::string>& texts,
                      const FtsTokenizer& tokenizer) {
    const std::string& text = texts[Index(texts.size())];
    const Column column = TokenizeColumn(tokenizer, text);
    if (column.tokens.empty()) return "xyzzy";
    const size_t first = Index(column.tokens.size());
    const size_t last =
        std::min(column.tokens.size() - 1,
                 first + std::uniform_int_distribution<size_t>(0, 3)(random_));
    std::string excerpt =
        text.substr(column.tokens[first].start,
                    column.tokens[last].end - column.tokens[first].start);
    // A NUL would end the query string; the texts with one have it between
    // words.
    excerpt.erase(std::remove(excerpt.begin(), excerpt.end(), '\0'),
                  excerpt.end());
    return excerpt;
  }

  bool Chance(double p) { return std::bernoulli_distribution(p)(random_); }
  size_t Index(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(random_);
  }
  template <size_t N>
  std::string Pick(const char* const (&words)[N]) {
    return words[Index(N)];
  }

  std::mt19937 random_;
};

struct DifferentialResult {
  int pairs = 0;
  int mismatches = 0;
};

// Runs `queries` random OR queries with `options` against a table of
// Rows::BodyTexts() and compares every matching row.
DifferentialResult CompareWithFts5(const FtsTokenizer& tokenizer, uint32_t seed,
                                   int queries, const SnippetOptions& options) {
  Rows rows(seed);
  const std::vector<std::string> texts = rows.BodyTexts();
  std::vector<Column> columns;
  std::unique_ptr<Fts5Table> table = Fts5Table::Create();
  for (const std::string& text : texts) {
    table->Insert(rows.OtherColumnText(), text, rows.OtherColumnText());
    columns.push_back(TokenizeColumn(tokenizer, text));
  }
  DifferentialResult result;
  for (int q = 0; q < queries; ++q) {
    const std::vector<std::string> phrases = rows.Query(texts, tokenizer);
    const std::string match = testing::MatchAnyPhrase(phrases);
    const std::vector<std::vector<std::string>> phrase_terms =
        PhraseTerms(tokenizer, phrases);
    for (const Fts5Table::Row& row : table->Query(match, options)) {
      ++result.pairs;
      const size_t index = static_cast<size_t>(row.rowid - 1);
      const std::string& text = texts[index];
      const Column& column = columns[index];
      // FTS5's instances: in (column, offset, phrase) order, and those of
      // column b the same as ours.
      EXPECT_EQ(row.phrase_count, static_cast<int>(phrases.size()));
      EXPECT_TRUE(std::is_sorted(
          row.instances.begin(), row.instances.end(),
          [](const auto& x, const auto& y) {
            return std::tie(std::get<1>(x), std::get<2>(x), std::get<0>(x)) <
                   std::tie(std::get<1>(y), std::get<2>(y), std::get<0>(y));
          }))
          << match;
      std::vector<PhraseInstance> fts5_instances;
      for (const auto& [phrase, column_index, offset, size] : row.instances) {
        if (column_index == 1) fts5_instances.push_back({phrase, offset, size});
      }
      const std::vector<PhraseInstance> instances =
          FindPhraseInstances(column.terms, phrase_terms);
      EXPECT_EQ(instances, fts5_instances) << match << "\ntext: " << text;
      absl::StatusOr<std::string> ours =
          Snippet(text, column.tokens, instances,
                  static_cast<int>(phrases.size()), options);
      EXPECT_TRUE(ours.ok()) << ours.status();
      if (!ours.ok() || *ours != row.snippet) {
        // A few in full are enough to debug; the count says the rest.
        if (++result.mismatches <= 5) {
          ADD_FAILURE() << "max_tokens " << options.max_tokens << ", query "
                        << match << "\ntext:  " << text
                        << "\nfts5:  " << row.snippet
                        << "\nours:  " << ours.value_or("<error>");
        }
      }
    }
  }
  return result;
}

TEST_F(SnippetTest, SameAsFts5ForManyRowsAndQueries) {
  const DifferentialResult result =
      CompareWithFts5(*tokenizer_, /*seed=*/1, /*queries=*/500, {});
  EXPECT_EQ(result.mismatches, 0) << "of " << result.pairs << " pairs";
  // Enough pairs that every rule above meets many cases.
  EXPECT_GT(result.pairs, 20000);
  std::cout << "compared " << result.pairs << " (row, query) pairs\n";
}

TEST_F(SnippetTest, SameAsFts5ForOtherWindowSizesAndMarkers) {
  for (int max_tokens : {1, 2, 3, 5, 10, 64, 100}) {
    SnippetOptions options{.open = "<b>",
                           .close = "</b>",
                           .ellipsis = max_tokens % 2 ? "" : "...",
                           .max_tokens = max_tokens};
    const DifferentialResult result = CompareWithFts5(
        *tokenizer_, /*seed=*/max_tokens, /*queries=*/60, options);
    EXPECT_EQ(result.mismatches, 0)
        << "of " << result.pairs << " pairs, max_tokens " << max_tokens;
    EXPECT_GT(result.pairs, 1000);
  }
}

}  // namespace
}  // namespace citekb
