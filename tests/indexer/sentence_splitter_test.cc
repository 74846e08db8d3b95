#include "indexer/article/sentence_splitter.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace citekb {
namespace {

using ::testing::ElementsAreArray;

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> sentences;
  for (const SentenceSpan& span : SplitSentences(text)) {
    sentences.push_back(text.substr(span.begin, span.end - span.begin));
  }
  return sentences;
}

struct SplitCase {
  const char* name;
  std::string text;
  std::vector<std::string> sentences;
};

class SplitSentencesTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SplitSentencesTest, SplitsAtRealBoundariesOnly) {
  EXPECT_THAT(Split(GetParam().text), ElementsAreArray(GetParam().sentences));
}

INSTANTIATE_TEST_SUITE_P(
    Table, SplitSentencesTest,
    ::testing::Values(
        SplitCase{"Plain", "One. Two! Three?", {"One.", "Two!", "Three?"}},
        SplitCase{
            "Parenthesis",
            "It is born in an undercarboxylated state (ucOC). To work, it "
            "needs K2.",
            {"It is born in an undercarboxylated state (ucOC).",
             "To work, it needs K2."}},
        SplitCase{"Units",
                  "Stay within 60-80 ng/mL. Retest.",
                  {"Stay within 60-80 ng/mL.", "Retest."}},
        SplitCase{"ThousandsAndPlus",
                  "Take 5,000 IU. Some take 10,000+ IU daily.",
                  {"Take 5,000 IU.", "Some take 10,000+ IU daily."}},
        SplitCase{"Abbreviation",
                  "Use a fat, e.g. Avocado. Then rest.",
                  {"Use a fat, e.g. Avocado.", "Then rest."}},
        SplitCase{"Decimal",
                  "A dose of 2.5 mg works. Done.",
                  {"A dose of 2.5 mg works.", "Done."}},
        SplitCase{
            "QuoteClosesSentence",
            "Missing K2 causes the 'Calcium Paradox.' You absorb calcium.",
            {"Missing K2 causes the 'Calcium Paradox.'",
             "You absorb calcium."}},
        SplitCase{"DoubleQuote",
                  "He said \"stop.\" Then left.",
                  {"He said \"stop.\"", "Then left."}},
        SplitCase{"LowercaseAfterPeriodIsNoBoundary",
                  "Approx. values vary. see below.",
                  {"Approx. values vary. see below."}},
        SplitCase{"EtAl",
                  "Shown by Smith et al. In 2020 it held.",
                  {"Shown by Smith et al. In 2020 it held."}},
        SplitCase{"Initial",
                  "Asked J. Smith. He agreed.",
                  {"Asked J. Smith.", "He agreed."}},
        SplitCase{
            "VitaminLetterEndsSentence",
            "It requires Magnesium and Vitamin A. Magnesium is key.",
            {"It requires Magnesium and Vitamin A.", "Magnesium is key."}},
        SplitCase{"TrailingAuthorYearJoins",
                  "Only then can it build bone. Zhang 2025",
                  {"Only then can it build bone. Zhang 2025"}},
        SplitCase{"Whitespace", "  One.   Two.  ", {"One.", "Two."}},
        SplitCase{"Empty", "", {}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace citekb
