#include "service/search/query_analyzer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace citekb {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Words(const AnalyzedQuery& q) {
  std::vector<std::string> words;
  for (const TermGroup& g : q.groups) words.push_back(g.word);
  return words;
}

TEST(AnalyzeQueryTest, DropsStopWordsAndNormalizes) {
  EXPECT_THAT(Words(AnalyzeQuery("Why K2 with D3?")), ElementsAre("k2", "d3"));
  EXPECT_THAT(Words(AnalyzeQuery("vitamin D and Vitamin K")),
              ElementsAre("d3", "k2"));
  EXPECT_THAT(Words(AnalyzeQuery("MK-7 or mk7 or MK 7")), ElementsAre("mk7"));
  EXPECT_THAT(Words(AnalyzeQuery("25(OH)D at 5,000 IU")),
              ElementsAre("25ohd", "5000", "iu"));
  EXPECT_TRUE(AnalyzeQuery("what is the?").empty());
}

TEST(AnalyzeQueryTest, SynonymsBecomeAlternatives) {
  AnalyzedQuery q = AnalyzeQuery("menaquinone");
  ASSERT_EQ(q.groups.size(), 1u);
  EXPECT_THAT(q.groups[0].alternatives,
              ElementsAre("menaquinone", "k2", "mk7"));
  EXPECT_EQ(q.MatchAll(), R"(("menaquinone" OR "k2" OR "mk7"))");
  EXPECT_THAT(AnalyzeQuery("why K2 with vitamin D?").Phrases(),
              ElementsAre("k2", "menaquinone", "mk7", "d3", "cholecalciferol",
                          "vitamin d"));
  EXPECT_EQ(AnalyzeQuery("vitamin a").groups[0].Match(),
            R"(("retinol" OR "vitamin a"))");
}

TEST(AnalyzeQueryTest, FtsSyntaxInUserTextIsInert) {
  // Every term is a quoted string; operators and column filters are words
  // or vanish with the punctuation.
  const char* hostile[] = {"\"unbalanced", "k2* OR",      "NEAR(d3 k2, 2)",
                           "body:k2",      "d3) AND (k2", "^k2",
                           "k2 NOT d3",    "x\"y",        "\x01\x02k2"};
  for (const char* text : hostile) {
    AnalyzedQuery q = AnalyzeQuery(text);
    for (const TermGroup& g : q.groups) {
      for (const std::string& alternative : g.alternatives) {
        EXPECT_EQ(alternative.find_first_of("\"*():^"), std::string::npos)
            << text;
      }
    }
  }
  EXPECT_EQ(QuoteFts("a\"b"), "\"a\"\"b\"");
  // Found by fts_query_fuzzer: FTS5 stops reading at a NUL.
  EXPECT_EQ(QuoteFts(absl::string_view("a\0b", 3)), "\"a b\"");
  EXPECT_EQ(AnalyzeQuery("NEAR AND k2").MatchAll(),
            R"("near" AND ("k2" OR "menaquinone" OR "mk7"))");
}

TEST(AnalyzeQueryTest, PhraseGroupsNumberMatchPhrasesInOrder) {
  struct Case {
    const char* question;
    std::vector<int> phrase_groups;
  };
  const Case cases[] = {
      {"osteocalcin", {0}},
      {"why K2 with vitamin D?",
       {0, 0, 0, 1, 1, 1}},  // (k2 menaquinone mk7) (d3 ...)
      {"calcium dose", {0, 1, 1, 1, 1}},
      {"the of and", {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AnalyzeQuery(c.question).PhraseGroups(), c.phrase_groups)
        << c.question;
  }
}

TEST(AnalyzeQueryTest, BoundsTheNumberOfTerms) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "word" + std::to_string(i) + " ";
  EXPECT_EQ(AnalyzeQuery(many).groups.size(),
            static_cast<size_t>(kMaxQueryTerms));
}

}  // namespace
}  // namespace citekb
