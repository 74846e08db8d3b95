#include "indexer/format/compound_terms.h"

#include "gtest/gtest.h"

namespace citekb {
namespace {

TEST(JoinCompoundsTest, JoinsWhatReadersTreatAsOneWord) {
  const std::pair<const char*, const char*> cases[] = {
      {"MK-7", "MK7"},
      {"mk 7 and MK-4", "mk7 and MK4"},
      {"MK7", "MK7"},
      {"25(OH)D", "25OHD"},
      {"25-OH-D levels", "25OHD levels"},
      {"25-hydroxyvitamin D", "25OHD"},
      {"5,000 IU", "5000 IU"},
      {"10,000+ IU", "10000+ IU"},
      {"1,000,000", "1000000"},
      {"D3-K2 synergy", "D3-K2 synergy"},
      {"2, 3 and 4", "2, 3 and 4"},
  };
  for (const auto& [input, joined] : cases) {
    EXPECT_EQ(JoinCompounds(input), joined) << input;
  }
}

TEST(CompoundTermsTest, ListsEachJoinedTermOnce) {
  EXPECT_EQ(CompoundTerms("Vitamin K2 (MK-7): 100 mcg; MK-7 again, 5,000 IU"),
            "mk7 5000");
  EXPECT_EQ(CompoundTerms("Plain words only"), "");
}

}  // namespace
}  // namespace citekb
