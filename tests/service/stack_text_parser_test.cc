// Free-text stacks, read with the compound names of the real rules file
// (knowledge/stack_rules.textproto).

#include "service/stack/stack_text_parser.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/knowledge/stack_knowledge.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const rulespb::StackRules& Rules() {
  static const rulespb::StackRules* const rules = [] {
    absl::StatusOr<rulespb::StackRules> loaded =
        LoadStackRules(testing::SourcePath("knowledge/stack_rules.textproto"));
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new rulespb::StackRules(loaded.ok() ? *loaded
                                               : rulespb::StackRules());
  }();
  return *rules;
}

// "vitamin_d3 2000 IU" / "vitamin_k2 90 mcg MK-7" / "zinc? 30 mg".
std::string Describe(const TextDose& dose) {
  std::string out = dose.compound;
  if (!dose.covered) out += "?";
  if (!dose.unit.empty())
    absl::StrAppend(&out, " ", dose.amount, " ", dose.unit);
  if (!dose.form.empty()) absl::StrAppend(&out, " ", dose.form);
  return out;
}

std::vector<std::string> Doses(const ParsedStackText& parsed) {
  std::vector<std::string> out;
  for (const TextDose& dose : parsed.doses) out.push_back(Describe(dose));
  return out;
}

struct Phrasing {
  const char* text;
  std::vector<std::string> doses;
};

class PhrasingTest : public ::testing::TestWithParam<Phrasing> {};

TEST_P(PhrasingTest, ReadsEveryDose) {
  StackTextParser parser(Rules());
  ParsedStackText parsed = parser.Parse(GetParam().text);
  EXPECT_EQ(Doses(parsed), GetParam().doses) << GetParam().text;
  EXPECT_THAT(parsed.problems, IsEmpty()) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Phrasings, PhrasingTest,
    ::testing::Values(
        Phrasing{"2000iu vitamin D3, 90 mcg MK7 and magnesium malate 300mg "
                 "before bed",
                 {"vitamin_d3 2000 IU", "vitamin_k2 90 mcg MK-7",
                  "magnesium 300 mg malate"}},
        Phrasing{"5000 IU D3, 100 mcg K2 MK-7, 400 mg magnesium glycinate",
                 {"vitamin_d3 5000 IU", "vitamin_k2 100 mcg MK-7",
                  "magnesium 400 mg glycinate"}},
        Phrasing{"D3 5,000 IU + K2 (MK-7) 100mcg",
                 {"vitamin_d3 5000 IU", "vitamin_k2 100 mcg MK-7"}},
        Phrasing{"Vitamin D3: 10000 IU; Vitamin K2: 200 µg",
                 {"vitamin_d3 10000 IU", "vitamin_k2 200 mcg"}},
        Phrasing{"10k IU of D3", {"vitamin_d3 10000 IU"}},
        Phrasing{"cholecalciferol 50 mcg daily", {"vitamin_d3 50 mcg"}},
        Phrasing{"125 mcg (5000 IU) vitamin D3", {"vitamin_d3 125 mcg"}},
        Phrasing{"50,000 IU vitamin D weekly", {"vitamin_d3 7142.86 IU"}},
        Phrasing{"2 x 1000 IU D3", {"vitamin_d3 2000 IU"}},
        Phrasing{"I take 4000 IU of vitamin D every morning with breakfast",
                 {"vitamin_d3 4000 IU"}},
        Phrasing{"menaquinone-7 180 ug", {"vitamin_k2 180 mcg MK-7"}},
        Phrasing{"MK-4 1.5 mg", {"vitamin_k2 1.5 mg MK-4"}},
        Phrasing{"magnesium bisglycinate 0.4 g", {"magnesium 0.4 g glycinate"}},
        Phrasing{"Mag citrate 200 milligrams", {"magnesium 200 mg citrate"}},
        Phrasing{"retinol 3000 mcg", {"vitamin_a 3000 mcg retinol"}},
        Phrasing{"Vitamin A 10,000 I.U.", {"vitamin_a 10000 IU"}},
        Phrasing{"5000 international units of vitamin d3 plus 100 micrograms "
                 "of vitamin k2",
                 {"vitamin_d3 5000 IU", "vitamin_k2 100 mcg"}},
        Phrasing{"D3 5000 IU with K2", {"vitamin_d3 5000 IU", "vitamin_k2"}},
        Phrasing{"30 mg zinc picolinate and 5000 IU D3",
                 {"zinc picolinate? 30 mg", "vitamin_d3 5000 IU"}},
        Phrasing{"is 10000 IU of D3 with 100 mcg K2 too much?",
                 {"vitamin_d3 10000 IU", "vitamin_k2 100 mcg"}},
        Phrasing{"D3 2000 IU\nK2 MK7 90mcg\nMagnesium glycinate 400 mg",
                 {"vitamin_d3 2000 IU", "vitamin_k2 90 mcg MK-7",
                  "magnesium 400 mg glycinate"}},
        Phrasing{"vit d3 5000iu & vit k2 100mcg",
                 {"vitamin_d3 5000 IU", "vitamin_k2 100 mcg"}},
        Phrasing{"5000 IU vitamin D3 together with 100 mcg menaquinone",
                 {"vitamin_d3 5000 IU", "vitamin_k2 100 mcg"}},
        // Every separator goes, one a round: the first match takes the
        // digit the second would start with.
        Phrasing{"1,400,000 IU D3 per week", {"vitamin_d3 200000 IU"}},
        // A form that does not name its compound, before the compound.
        Phrasing{"malate magnesium 300 mg", {"magnesium 300 mg malate"}},
        Phrasing{"D3 14,000 IU weekly at 8 am", {"vitamin_d3 2000 IU"}},
        // A compound that is negated or asked about is not taken.
        Phrasing{"I take 5000 IU of D3 and I never added any K2",
                 {"vitamin_d3 5000 IU"}},
        Phrasing{"5000 IU D3, no K2", {"vitamin_d3 5000 IU"}},
        Phrasing{"10,000 IU D3 without magnesium", {"vitamin_d3 10000 IU"}},
        Phrasing{"I take 5000 IU of D3 how much K2 do I need",
                 {"vitamin_d3 5000 IU"}},
        Phrasing{"2000 IU D3, which K2 should I add", {"vitamin_d3 2000 IU"}},
        // An amount makes it taken, whatever words come before.
        Phrasing{"no more than 100 mcg K2", {"vitamin_k2 100 mcg"}}));

TEST(StackTextParserTest, ReadsTimingMealSerumAndMedication) {
  StackTextParser parser(Rules());
  ParsedStackText parsed = parser.Parse(
      "5000 IU D3 and 100 mcg K2 at 9pm on an empty stomach; my level is 45 "
      "ng/mL and I'm on "
      "Warfarin");
  EXPECT_EQ(parsed.timing, v1::TIMING_NIGHT);
  EXPECT_EQ(parsed.with_fat_meal, false);
  EXPECT_EQ(parsed.serum_25ohd_ng_ml, 45);
  EXPECT_THAT(parsed.medications, ElementsAre("warfarin"));
}

TEST(StackTextParserTest, ReadsMealsAndTimesOfDay) {
  StackTextParser parser(Rules());
  struct Case {
    const char* text;
    v1::Timing timing;
    std::optional<bool> with_fat_meal;
  };
  const Case cases[] = {
      {"5000 IU D3 with my largest meal at lunch", v1::TIMING_MIDDAY, true},
      {"5000 IU D3 in the morning with breakfast", v1::TIMING_MORNING, true},
      {"5000 IU D3 after dinner", v1::TIMING_EVENING, true},
      {"5000 IU D3 at 7 am, fasted", v1::TIMING_MORNING, false},
      {"5000 IU D3 at bedtime without food", v1::TIMING_NIGHT, false},
      {"5000 IU D3", v1::TIMING_UNSPECIFIED, std::nullopt},
      // Two times of day: the stack as a whole has none.
      {"5000 IU D3 in the morning, 400 mg magnesium at night",
       v1::TIMING_UNSPECIFIED, std::nullopt},
  };
  for (const Case& c : cases) {
    ParsedStackText parsed = parser.Parse(c.text);
    EXPECT_EQ(parsed.timing, c.timing) << c.text;
    EXPECT_EQ(parsed.with_fat_meal, c.with_fat_meal) << c.text;
  }
}

TEST(StackTextParserTest, KeepsEachClauseOwnTiming) {
  StackTextParser parser(Rules());
  ParsedStackText parsed = parser.Parse(
      "5000 IU D3 in the morning, 400 mg magnesium glycinate at night");
  ASSERT_EQ(parsed.doses.size(), 2u);
  EXPECT_EQ(parsed.doses[0].timing, v1::TIMING_MORNING);
  EXPECT_EQ(parsed.doses[1].timing, v1::TIMING_NIGHT);
}

TEST(StackTextParserTest, ConvertsNanomolesToNanograms) {
  StackTextParser parser(Rules());
  ParsedStackText parsed =
      parser.Parse("D3 2000 IU, serum 25(OH)D 124.8 nmol/L");
  ASSERT_TRUE(parsed.serum_25ohd_ng_ml.has_value());
  EXPECT_NEAR(*parsed.serum_25ohd_ng_ml, 50.0, 1e-9);
}

TEST(StackTextParserTest, ReportsWhatItCannotRead) {
  StackTextParser parser(Rules());
  EXPECT_THAT(parser.Parse("5000 IU").problems,
              ElementsAre("\"5000 iu\" has an amount but names no compound"));
  ParsedStackText nothing = parser.Parse("I feel tired, what should I take?");
  EXPECT_THAT(nothing.doses, IsEmpty());
  EXPECT_THAT(nothing.problems, IsEmpty());
}

TEST(StackTextParserTest, DoesNotReadUnitsInsideWords) {
  StackTextParser parser(Rules());
  // "10 kg" is no dose, "5 gummies" no grams, "vitamin d2" not D3.
  ParsedStackText parsed =
      parser.Parse("I lost 10 kg, 5 gummies of vitamin d2");
  EXPECT_THAT(Doses(parsed), IsEmpty());
}

}  // namespace
}  // namespace citekb
