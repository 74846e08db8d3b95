// EvaluateStack through KnowledgeBase over an index built from knowledge/:
// every rule at its boundaries, every unit conversion, the bad inputs, and
// that every finding is backed by citations GetCitation resolves and by
// passages of the index.

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/sqlite.h"
#include "indexer/knowledge/stack_knowledge.h"
#include "re2/re2.h"
#include "service/knowledge_base/knowledge_base.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class StackEvaluatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    index_ = dir_->File("kb.sqlite");
    absl::Status built =
        BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                    .out_path = index_})
            .status();
    ASSERT_TRUE(built.ok()) << built;
    auto kb = KnowledgeBase::Open(index_);
    ASSERT_TRUE(kb.ok()) << kb.status();
    kb_ = kb->release();
  }
  static void TearDownTestSuite() {
    delete kb_;
    delete dir_;
  }

  static v1::Dose MakeDose(const std::string& compound, double amount,
                           const std::string& unit,
                           const std::string& form = "") {
    v1::Dose dose;
    dose.set_compound(compound);
    dose.set_amount(amount);
    dose.set_unit(unit);
    dose.set_form(form);
    return dose;
  }

  static absl::StatusOr<v1::EvaluateStackResponse> Evaluate(
      const v1::EvaluateStackRequest& request) {
    return kb_->EvaluateStack(request);
  }

  // Evaluates doses (and optionally more of the request) that must be valid.
  static v1::EvaluateStackResponse Eval(std::vector<v1::Dose> doses,
                                        v1::EvaluateStackRequest request = {}) {
    for (v1::Dose& dose : doses) *request.add_doses() = std::move(dose);
    absl::StatusOr<v1::EvaluateStackResponse> response = Evaluate(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::EvaluateStackResponse();
  }

  static v1::EvaluateStackResponse EvalText(const std::string& text) {
    v1::EvaluateStackRequest request;
    request.set_text(text);
    absl::StatusOr<v1::EvaluateStackResponse> response = Evaluate(request);
    EXPECT_TRUE(response.ok()) << text << ": " << response.status();
    return response.ok() ? *response : v1::EvaluateStackResponse();
  }

  static std::vector<std::string> Codes(
      const v1::EvaluateStackResponse& response) {
    std::vector<std::string> codes;
    for (const v1::Finding& finding : response.findings())
      codes.push_back(finding.code());
    return codes;
  }

  static const v1::Finding* Find(const v1::EvaluateStackResponse& response,
                                 const std::string& code) {
    for (const v1::Finding& finding : response.findings()) {
      if (finding.code() == code) return &finding;
    }
    return nullptr;
  }

  // A stack that triggers none of the protocol's omissions, to which a test
  // adds the dose under study.
  static std::vector<v1::Dose> CompleteStack() {
    return {MakeDose("vitamin D3", 5000, "IU"),
            MakeDose("K2", 100, "mcg", "MK-7"),
            MakeDose("magnesium", 400, "mg", "glycinate")};
  }

  static testing::TempDir* dir_;
  static std::string index_;
  static KnowledgeBase* kb_;
};
testing::TempDir* StackEvaluatorTest::dir_ = nullptr;
std::string StackEvaluatorTest::index_;
KnowledgeBase* StackEvaluatorTest::kb_ = nullptr;

// --- Dose rules at their boundaries -----------------------------------------

struct Boundary {
  const char* code;
  const char* compound;
  const char* unit;
  double under;
  double at;
  double over;
  bool fires_under;  // Otherwise it fires over. Never at the boundary.
};

TEST_F(StackEvaluatorTest, DoseRulesFireOnlyPastTheirBoundaries) {
  const Boundary boundaries[] = {
      {"D3_ABOVE_UL", "vitamin D3", "IU", 3999, 4000, 4001, false},
      {"D3_HIGH_DOSE", "vitamin D3", "IU", 4999, 5000, 5001, false},
      {"D3_BELOW_STANDARD", "vitamin D3", "IU", 1999, 2000, 2001, true},
      {"K2_HIGH_DOSE", "K2", "mcg", 199, 200, 201, false},
      {"K2_BELOW_STANDARD", "K2", "mcg", 99, 100, 101, true},
      {"MAGNESIUM_LOW", "magnesium", "mg", 399, 400, 401, true},
      {"MAGNESIUM_ABOVE_UL", "magnesium", "mg", 349, 350, 351, false},
      {"MAGNESIUM_HIGH_DOSE", "magnesium", "mg", 399, 400, 401, false},
      {"VITAMIN_A_HIGH", "retinol", "IU", 3999, 4000, 4001, false},
      {"VITAMIN_A_ABOVE_UL", "vitamin A", "IU", 9999, 10000, 10001, false},
      {"VITAMIN_A_BELOW_STANDARD", "vitamin A", "IU", 1999, 2000, 2001, true},
  };
  for (const Boundary& b : boundaries) {
    for (double amount : {b.under, b.at, b.over}) {
      v1::EvaluateStackResponse r =
          Eval({MakeDose(b.compound, amount, b.unit)});
      const bool expected =
          b.fires_under ? amount == b.under : amount == b.over;
      EXPECT_EQ(Find(r, b.code) != nullptr, expected)
          << b.code << " at " << amount << " " << b.unit;
    }
  }
}

TEST_F(StackEvaluatorTest, BandsFollowTheArticleRangesAndTheSafetyLimits) {
  struct Case {
    double iu;
    v1::DoseBand band;
  };
  // Vitamin D3: standard 2,000-5,000 IU (article), upper limit 4,000 IU.
  for (const Case& c :
       {Case{1999, v1::DOSE_BAND_BELOW_STANDARD},
        Case{2000, v1::DOSE_BAND_STANDARD}, Case{4000, v1::DOSE_BAND_STANDARD},
        Case{4001, v1::DOSE_BAND_ABOVE_SAFETY_LIMIT},
        Case{10000, v1::DOSE_BAND_ABOVE_SAFETY_LIMIT}}) {
    EXPECT_EQ(Eval({MakeDose("D3", c.iu, "IU")}).doses(0).band(), c.band)
        << c.iu;
  }
  // Vitamin K2 has no upper limit: above standard is the anecdotal range.
  EXPECT_EQ(Eval({MakeDose("MK-7", 500, "mcg")}).doses(0).band(),
            v1::DOSE_BAND_HIGH_DOSE_ANECDOTAL);
  EXPECT_EQ(Eval({MakeDose("MK-7", 150, "mcg")}).doses(0).band(),
            v1::DOSE_BAND_STANDARD);
  EXPECT_EQ(Eval({MakeDose("zinc", 30, "mg")}).doses(0).band(),
            v1::DOSE_BAND_NOT_COVERED);
}

TEST_F(StackEvaluatorTest, K2RatioAtItsBoundary) {
  for (double k2 : {99.0, 100.0, 101.0}) {
    v1::EvaluateStackResponse r =
        Eval({MakeDose("D3", 5000, "IU"), MakeDose("K2", k2, "mcg"),
              MakeDose("magnesium", 400, "mg")});
    EXPECT_DOUBLE_EQ(r.k2_mcg_per_5000_iu_d3(), k2);
    EXPECT_EQ(Find(r, "K2_RATIO_LOW") != nullptr, k2 < 100) << k2;
  }
  v1::EvaluateStackResponse high =
      Eval({MakeDose("D3", 10000, "IU"), MakeDose("K2", 100, "mcg")});
  EXPECT_DOUBLE_EQ(high.k2_mcg_per_5000_iu_d3(), 50);
  ASSERT_NE(Find(high, "K2_RATIO_LOW"), nullptr);
  EXPECT_THAT(Find(high, "K2_RATIO_LOW")->message(),
              HasSubstr("50 mcg of vitamin K2 per 5,000 IU"));
  EXPECT_FALSE(Eval({MakeDose("D3", 5000, "IU")}).has_k2_mcg_per_5000_iu_d3());
}

TEST_F(StackEvaluatorTest, SerumRulesAtTheirBoundaries) {
  struct Case {
    double level;
    std::vector<std::string> expected;
    std::vector<std::string> absent;
  };
  const Case cases[] = {
      {49.9,
       {"SERUM_BELOW_TARGET"},
       {"SERUM_ABOVE_REFERENCE_CONCERN", "SERUM_ABOVE_TARGET"}},
      {50, {"SERUM_BELOW_TARGET"}, {"SERUM_ABOVE_REFERENCE_CONCERN"}},
      {50.1, {"SERUM_BELOW_TARGET", "SERUM_ABOVE_REFERENCE_CONCERN"}, {}},
      {59.9, {"SERUM_BELOW_TARGET"}, {}},
      {60, {"SERUM_ABOVE_REFERENCE_CONCERN"}, {"SERUM_BELOW_TARGET"}},
      {80, {}, {"SERUM_ABOVE_TARGET", "SERUM_BELOW_TARGET"}},
      {80.1, {"SERUM_ABOVE_TARGET", "SERUM_ABOVE_REFERENCE_CONCERN"}, {}},
  };
  for (const Case& c : cases) {
    v1::EvaluateStackRequest request;
    request.set_serum_25ohd_ng_ml(c.level);
    std::vector<std::string> codes = Codes(Eval(CompleteStack(), request));
    for (const std::string& code : c.expected)
      EXPECT_THAT(codes, Contains(code)) << c.level;
    for (const std::string& code : c.absent)
      EXPECT_THAT(codes, Not(Contains(code))) << c.level;
  }
}

// --- Presence, form, timing, meal, medication --------------------------------

TEST_F(StackEvaluatorTest, ProtocolOmissions) {
  EXPECT_THAT(Codes(Eval({MakeDose("D3", 5000, "IU")})),
              ::testing::IsSupersetOf(
                  {"D3_WITHOUT_K2", "MAGNESIUM_MISSING", "RETEST_INTERVAL"}));
  // The Calcium Paradox finding cites what the article cites for it.
  const v1::EvaluateStackResponse d3_only = Eval({MakeDose("D3", 5000, "IU")});
  ASSERT_NE(Find(d3_only, "D3_WITHOUT_K2"), nullptr);
  EXPECT_THAT(Find(d3_only, "D3_WITHOUT_K2")->citation_ids(),
              ::testing::IsSupersetOf({"pmid:24841276", "pmid:11684396"}));
  std::vector<std::string> complete = Codes(Eval(CompleteStack()));
  EXPECT_THAT(complete, Not(Contains("D3_WITHOUT_K2")));
  EXPECT_THAT(complete, Not(Contains("MAGNESIUM_MISSING")));
  // Without D3 there is no Calcium Paradox to warn about.
  EXPECT_THAT(Codes(Eval({MakeDose("K2", 100, "mcg")})),
              Not(Contains("D3_WITHOUT_K2")));
  // Named without an amount still counts as taken.
  EXPECT_THAT(Codes(EvalText("D3 5000 IU with K2 and magnesium")),
              Not(Contains("D3_WITHOUT_K2")));
}

TEST_F(StackEvaluatorTest, MagnesiumForm) {
  auto with_form = [](const std::string& form) {
    return Codes(Eval({MakeDose("magnesium", 400, "mg", form)}));
  };
  EXPECT_THAT(with_form("citrate"), Contains("MAGNESIUM_FORM"));
  EXPECT_THAT(with_form("Oxide"), Contains("MAGNESIUM_FORM"));
  EXPECT_THAT(with_form("glycinate"), Not(Contains("MAGNESIUM_FORM")));
  EXPECT_THAT(with_form("Bisglycinate"), Not(Contains("MAGNESIUM_FORM")));
  EXPECT_THAT(with_form("malate"), Not(Contains("MAGNESIUM_FORM")));
  EXPECT_THAT(with_form(""), Not(Contains("MAGNESIUM_FORM")));
  EXPECT_THAT(
      Find(Eval({MakeDose("magnesium citrate", 400, "mg")}), "MAGNESIUM_FORM")
          ->message(),
      HasSubstr("citrate"));
}

TEST_F(StackEvaluatorTest, TimingLateOnlyForD3InTheEveningOrAtNight) {
  for (v1::Timing timing :
       {v1::TIMING_UNSPECIFIED, v1::TIMING_MORNING, v1::TIMING_MIDDAY,
        v1::TIMING_EVENING, v1::TIMING_NIGHT}) {
    v1::EvaluateStackRequest request;
    request.set_timing(timing);
    const bool late =
        timing == v1::TIMING_EVENING || timing == v1::TIMING_NIGHT;
    EXPECT_EQ(Find(Eval(CompleteStack(), request), "TIMING_LATE") != nullptr,
              late)
        << timing;
    EXPECT_EQ(Find(Eval({MakeDose("K2", 100, "mcg")}, request), "TIMING_LATE"),
              nullptr);
  }
  // From the text, and per dose: D3 in the morning, magnesium at night.
  EXPECT_THAT(Codes(EvalText("5000 IU D3 and 100 mcg K2 before bed")),
              Contains("TIMING_LATE"));
  EXPECT_THAT(
      Codes(EvalText(
          "5000 IU D3 in the morning, 400 mg magnesium glycinate at night")),
      Not(Contains("TIMING_LATE")));
}

TEST_F(StackEvaluatorTest, TakenWithoutFat) {
  v1::EvaluateStackRequest request;
  EXPECT_EQ(Find(Eval(CompleteStack(), request), "TAKEN_WITHOUT_FAT"), nullptr);
  request.set_with_fat_meal(true);
  EXPECT_EQ(Find(Eval(CompleteStack(), request), "TAKEN_WITHOUT_FAT"), nullptr);
  request.set_with_fat_meal(false);
  EXPECT_NE(Find(Eval(CompleteStack(), request), "TAKEN_WITHOUT_FAT"), nullptr);
  EXPECT_NE(Find(EvalText("5000 IU D3, 100 mcg K2 on an empty stomach"),
                 "TAKEN_WITHOUT_FAT"),
            nullptr);
  // Magnesium alone is not fat-soluble in the article's terms.
  EXPECT_EQ(Find(Eval({MakeDose("magnesium", 400, "mg")}, request),
                 "TAKEN_WITHOUT_FAT"),
            nullptr);
}

TEST_F(StackEvaluatorTest, AnticoagulantInteractionIsAnAlert) {
  v1::EvaluateStackRequest request;
  request.add_medications("Warfarin");
  v1::EvaluateStackResponse r = Eval(CompleteStack(), request);
  ASSERT_FALSE(r.findings().empty());
  EXPECT_EQ(r.findings(0).code(), "ANTICOAGULANT_INTERACTION");
  EXPECT_EQ(r.findings(0).severity(), v1::SEVERITY_ALERT);
  EXPECT_EQ(r.findings(0).source(), v1::FINDING_SOURCE_SAFETY_REFERENCE);
  EXPECT_THAT(r.findings(0).message(), HasSubstr("Warfarin"));
  EXPECT_THAT(r.findings(0).citation_ids(), Contains("pmid:20653669"));

  v1::EvaluateStackRequest coumadin;
  coumadin.add_medications("coumadin 5 mg");
  EXPECT_NE(Find(Eval({MakeDose("MK-4", 1, "mg")}, coumadin),
                 "ANTICOAGULANT_INTERACTION"),
            nullptr);
  // No vitamin K, no interaction; vitamin K without the drug, none either.
  EXPECT_EQ(Find(Eval({MakeDose("D3", 2000, "IU")}, request),
                 "ANTICOAGULANT_INTERACTION"),
            nullptr);
  EXPECT_EQ(Find(Eval(CompleteStack()), "ANTICOAGULANT_INTERACTION"), nullptr);
  EXPECT_NE(
      Find(EvalText("I'm on warfarin and take 5000 IU D3 with 100 mcg K2"),
           "ANTICOAGULANT_INTERACTION"),
      nullptr);
}

TEST_F(StackEvaluatorTest, WhatIsNotCoveredIsReportedNotRejected) {
  v1::EvaluateStackRequest request;
  request.add_medications("metformin");
  v1::EvaluateStackResponse r =
      Eval({MakeDose("zinc", 30, "mg"), MakeDose("D3", 5000, "IU")}, request);
  EXPECT_FALSE(r.doses(0).covered());
  EXPECT_EQ(r.doses(0).compound(), "zinc");
  EXPECT_EQ(r.doses(0).unit(), "mg");
  ASSERT_NE(Find(r, "COMPOUND_NOT_COVERED"), nullptr);
  EXPECT_THAT(Find(r, "COMPOUND_NOT_COVERED")->message(), HasSubstr("zinc"));
  ASSERT_NE(Find(r, "MEDICATION_NOT_COVERED"), nullptr);
  EXPECT_THAT(Find(r, "MEDICATION_NOT_COVERED")->message(),
              HasSubstr("metformin"));
}

TEST_F(StackEvaluatorTest, WhereArticleAndReferencesDisagreeBothAreCited) {
  // 350 mg: under the article's 400 mg; 400 mg: over the 350 mg upper limit.
  const v1::EvaluateStackResponse at_limit =
      Eval({MakeDose("magnesium", 350, "mg")});
  const v1::Finding* low = Find(at_limit, "MAGNESIUM_LOW");
  ASSERT_NE(low, nullptr);
  EXPECT_THAT(low->message(), HasSubstr("400 mg"));
  EXPECT_THAT(low->message(), HasSubstr("350 mg"));
  EXPECT_THAT(low->citation_ids(), Contains("doi:10.17226/5776"));
  EXPECT_THAT(
      low->citation_ids(),
      Contains(
          "article:d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries"));
  const v1::EvaluateStackResponse at_protocol =
      Eval({MakeDose("magnesium", 400, "mg")});
  const v1::Finding* above = Find(at_protocol, "MAGNESIUM_ABOVE_UL");
  ASSERT_NE(above, nullptr);
  EXPECT_THAT(above->message(), HasSubstr("at least 400 mg"));

  // 4,500 IU D3: standard for the article, above the upper limit.
  const v1::EvaluateStackResponse d3_response =
      Eval({MakeDose("D3", 4500, "IU")});
  const v1::Finding* d3 = Find(d3_response, "D3_ABOVE_UL");
  ASSERT_NE(d3, nullptr);
  EXPECT_THAT(d3->message(), HasSubstr("4,500 IU"));
  EXPECT_THAT(d3->message(), HasSubstr("2,000–5,000 IU"));
  EXPECT_THAT(d3->citation_ids(), Contains("doi:10.17226/13050"));

  // The article's 60-80 ng/mL target against the IOM's level of concern.
  v1::EvaluateStackRequest request;
  request.set_serum_25ohd_ng_ml(45);
  const v1::EvaluateStackResponse serum_response =
      Eval(CompleteStack(), request);
  const v1::Finding* below = Find(serum_response, "SERUM_BELOW_TARGET");
  ASSERT_NE(below, nullptr);
  EXPECT_THAT(below->message(), HasSubstr("60–80 ng/mL"));
  EXPECT_THAT(below->message(), HasSubstr("50 ng/mL"));
  EXPECT_THAT(below->citation_ids(), Contains("pmid:21706235"));
  EXPECT_THAT(below->citation_ids(), Contains("doi:10.1210/jc.2010-2704"));
}

TEST_F(StackEvaluatorTest, FindingsComeMostSevereFirst) {
  v1::EvaluateStackRequest request;
  request.add_medications("warfarin");
  request.set_timing(v1::TIMING_NIGHT);
  v1::EvaluateStackResponse r =
      Eval({MakeDose("D3", 10000, "IU"), MakeDose("K2", 100, "mcg"),
            MakeDose("zinc", 1, "mg")},
           request);
  ASSERT_GE(r.findings_size(), 5);
  for (int i = 1; i < r.findings_size(); ++i) {
    EXPECT_GE(r.findings(i - 1).severity(), r.findings(i).severity());
  }
  EXPECT_EQ(r.findings(0).code(), "ANTICOAGULANT_INTERACTION");
  EXPECT_EQ(r.findings(1).code(), "D3_ABOVE_UL");
}

// --- Units -------------------------------------------------------------------

TEST_F(StackEvaluatorTest, ConvertsEveryUnitToTheCanonicalOne) {
  struct Case {
    const char* compound;
    double amount;
    const char* unit;
    double canonical;
    const char* canonical_unit;
  };
  const Case cases[] = {
      {"D3", 100, "mcg", 4000, "IU"},  // 1 mcg = 40 IU
      {"D3", 100, "µg", 4000, "IU"},
      {"D3", 100, "μg", 4000, "IU"},  // Greek mu
      {"D3", 100, "ug", 4000, "IU"},
      {"D3", 0.125, "mg", 5000, "IU"},
      {"D3", 0.0001, "g", 4000, "IU"},
      {"D3", 5000, "iu", 5000, "IU"},
      {"D3", 5000, "I.U.", 5000, "IU"},
      {"retinol", 3000, "mcg", 10000, "IU"},  // 1 IU = 0.3 mcg RAE
      {"vitamin A", 0.3, "mg", 1000, "IU"},
      {"vitamin A", 5000, "IU", 5000, "IU"},
      {"K2", 0.1, "mg", 100, "mcg"},
      {"K2", 90, "micrograms", 90, "mcg"},
      {"magnesium", 0.4, "g", 400, "mg"},
      {"magnesium", 400000, "mcg", 400, "mg"},
      {"magnesium", 300, "milligrams", 300, "mg"},
  };
  for (const Case& c : cases) {
    v1::EvaluateStackResponse r =
        Eval({MakeDose(c.compound, c.amount, c.unit)});
    ASSERT_EQ(r.doses_size(), 1);
    EXPECT_DOUBLE_EQ(r.doses(0).amount(), c.canonical)
        << c.compound << " " << c.unit;
    EXPECT_EQ(r.doses(0).unit(), c.canonical_unit);
  }
  // 100 mcg of D3 is exactly the 4,000 IU limit, not over it.
  EXPECT_EQ(Find(Eval({MakeDose("D3", 100, "mcg")}), "D3_ABOVE_UL"), nullptr);
  EXPECT_NE(
      Find(Eval({MakeDose("retinol", 3000.3, "mcg")}), "VITAMIN_A_ABOVE_UL"),
      nullptr);
  EXPECT_EQ(
      Find(Eval({MakeDose("retinol", 3000, "mcg")}), "VITAMIN_A_ABOVE_UL"),
      nullptr);
}

TEST_F(StackEvaluatorTest, DosesOfOneCompoundAddUp) {
  v1::EvaluateStackResponse r = Eval(
      {MakeDose("D3", 2500, "IU"), MakeDose("cholecalciferol", 2500, "IU")});
  EXPECT_NE(Find(r, "D3_ABOVE_UL"), nullptr);
  EXPECT_EQ(r.doses(0).band(), v1::DOSE_BAND_ABOVE_SAFETY_LIMIT);
  EXPECT_EQ(r.doses(1).band(), v1::DOSE_BAND_ABOVE_SAFETY_LIMIT);
}

TEST_F(StackEvaluatorTest, ReportsHowEachDoseWasRead) {
  v1::EvaluateStackRequest request;
  *request.add_doses() = MakeDose("Vitamin D3", 5000, "IU");
  request.set_text("90 mcg MK7 and magnesium malate 300mg before bed");
  v1::EvaluateStackResponse r = Eval({}, request);
  ASSERT_EQ(r.doses_size(), 3);
  EXPECT_EQ(r.doses(0).compound(), "vitamin_d3");
  EXPECT_EQ(r.doses(0).display_name(), "Vitamin D3");
  EXPECT_EQ(r.doses(0).request_index(), 0);
  EXPECT_EQ(r.doses(0).source_text(), "");
  EXPECT_EQ(r.doses(1).compound(), "vitamin_k2");
  EXPECT_EQ(r.doses(1).form(), "MK-7");
  EXPECT_EQ(r.doses(1).request_index(), -1);
  EXPECT_EQ(r.doses(1).source_text(), "90 mcg mk7");
  EXPECT_EQ(r.doses(2).form(), "malate");
  EXPECT_TRUE(r.doses(2).covered());
  EXPECT_EQ(r.doses(2).band(), v1::DOSE_BAND_STANDARD);
  // "before bed" is the stack's timing.
  EXPECT_THAT(Codes(r), Contains("TIMING_LATE"));
}

// --- Bad input
// ----------------------------------------------------------------

TEST_F(StackEvaluatorTest, BadRequestsNameTheFieldAndTheReason) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    std::vector<v1::Dose> doses;
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {{}, "", "doses: the stack is empty"},
      {{}, "   ", "doses: the stack is empty"},
      {{MakeDose("D3", -5, "IU")},
       "",
       "doses[0].amount: must be positive, got -5"},
      {{MakeDose("D3", 5000, "IU"), MakeDose("K2", 0, "mcg")},
       "",
       "doses[1].amount: must be positive, got 0"},
      {{MakeDose("D3", nan, "IU")},
       "",
       "doses[0].amount: must be a finite number"},
      {{MakeDose("D3", inf, "IU")},
       "",
       "doses[0].amount: must be a finite number"},
      {{MakeDose("D3", 5e7, "IU")},
       "",
       "doses[0].amount: 50,000,000 IU of Vitamin D3 a day is not plausible"},
      {{MakeDose("magnesium", 50, "g")},
       "",
       "doses[0].amount: 50,000 mg of Magnesium a day is not plausible"},
      {{MakeDose("zinc", 1e9, "mg")},
       "",
       "doses[0].amount: 1e+09 mg a day is not plausible"},
      {{MakeDose("D3", 5000, "tablets")},
       "",
       "doses[0].unit: unknown unit \"tablets\" (use IU, mcg, mg or g)"},
      {{MakeDose("D3", 5000, "")}, "", "doses[0].unit: must not be empty"},
      {{MakeDose("K2", 100, "IU")},
       "",
       "doses[0].unit: \"IU\" does not fit Vitamin K2 (use mcg, mg or g)"},
      {{MakeDose("magnesium", 400, "IU")},
       "",
       "doses[0].unit: \"IU\" does not fit Magnesium"},
      {{MakeDose("", 5000, "IU")}, "", "doses[0].compound: must not be empty"},
      {{}, "I feel tired lately", "text: no dose could be read"},
      {{}, "5000 IU", "text: \"5000 iu\" has an amount but names no compound"},
      {{},
       "5000000000 IU D3",
       "text: \"5000000000 iu d3\": 5,000,000,000 IU of Vitamin D3 a day is "
       "not plausible"},
      {{}, "100 IU K2", "text: \"100 iu k2\": \"IU\" does not fit Vitamin K2"},
      {{}, "5000 IU D3 \x01", "text: contains control characters"},
      {{}, "5000 IU D3 \xff", "text: is not valid UTF-8"},
      {{}, std::string(2001, 'a'), "text: is 2001 bytes; the limit is 2000"},
  };
  for (const Case& c : cases) {
    v1::EvaluateStackRequest request;
    for (const v1::Dose& dose : c.doses) *request.add_doses() = dose;
    request.set_text(c.text);
    absl::StatusOr<v1::EvaluateStackResponse> r = Evaluate(request);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
  }
}

TEST_F(StackEvaluatorTest, BadContextFieldsAreRejected) {
  auto with = [](auto set) {
    v1::EvaluateStackRequest request;
    *request.add_doses() = MakeDose("D3", 5000, "IU");
    set(request);
    return Evaluate(request).status();
  };
  EXPECT_THAT(with([](auto& r) { r.set_serum_25ohd_ng_ml(-3); }).message(),
              HasSubstr("serum_25ohd_ng_ml: must be a level in ng/mL above 0"));
  EXPECT_THAT(
      with([](auto& r) { r.set_serum_25ohd_ng_ml(std::nan("")); }).message(),
      HasSubstr("serum_25ohd_ng_ml:"));
  EXPECT_THAT(with([](auto& r) { r.set_serum_25ohd_ng_ml(5000); }).message(),
              HasSubstr("serum_25ohd_ng_ml:"));
  EXPECT_THAT(
      with([](auto& r) { r.set_timing(static_cast<v1::Timing>(9)); }).message(),
      HasSubstr("timing: unknown value 9"));
  EXPECT_THAT(with([](auto& r) { r.add_medications("  "); }).message(),
              HasSubstr("medications[0]: must not be empty"));
  EXPECT_THAT(with([](auto& r) {
                for (int i = 0; i <= kMaxStackDoses; ++i)
                  *r.add_doses() = MakeDose("D3", 1, "IU");
              }).message(),
              HasSubstr("doses: has 52 doses; the limit is 50"));
}

TEST_F(StackEvaluatorTest, AnIndexWithoutRulesSaysSo) {
  testing::TempDir dir;
  ASSERT_TRUE(BuildIndex({.knowledge_dir =
                              testing::SourcePath("tests/fixtures/knowledge"),
                          .out_path = dir.File("kb.sqlite")})
                  .ok());
  auto kb = KnowledgeBase::Open(dir.File("kb.sqlite"));
  ASSERT_TRUE(kb.ok());
  v1::EvaluateStackRequest request;
  request.set_text("5000 IU D3");
  EXPECT_EQ((*kb)->EvaluateStack(request).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// --- Every finding is backed by the knowledge base
// -------------------------------

TEST_F(StackEvaluatorTest, EveryFindingIsCitedAndItsCitationsResolve) {
  v1::EvaluateStackRequest request;
  request.add_medications("warfarin");
  request.add_medications("metformin");
  request.set_timing(v1::TIMING_NIGHT);
  request.set_with_fat_meal(false);
  request.set_serum_25ohd_ng_ml(90);
  request.set_text(
      "12000 IU D3, 50 mcg K2, 300 mg magnesium citrate, 12000 IU retinol, 20 "
      "mg zinc");
  v1::EvaluateStackResponse r = Eval({}, request);
  std::set<std::string> codes;
  std::set<std::string> listed;
  for (const v1::Citation& citation : r.citations())
    listed.insert(citation.id());
  auto db = OpenDatabase(index_, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.ok());
  for (const v1::Finding& finding : r.findings()) {
    codes.insert(finding.code());
    if (finding.code() == "COMPOUND_NOT_COVERED" ||
        finding.code() == "MEDICATION_NOT_COVERED") {
      // These state only what the knowledge base lacks: no claim, no source.
      EXPECT_THAT(finding.citation_ids(), IsEmpty());
      continue;
    }
    EXPECT_FALSE(finding.citation_ids().empty()) << finding.code();
    EXPECT_FALSE(finding.passage_ids().empty()) << finding.code();
    bool cites_a_safety_reference = false;
    for (const std::string& id : finding.citation_ids()) {
      EXPECT_TRUE(listed.contains(id)) << id;
      v1::GetCitationRequest get;
      get.set_id(id);
      absl::StatusOr<v1::Citation> citation = kb_->GetCitation(get);
      ASSERT_TRUE(citation.ok())
          << finding.code() << " cites " << id << ": " << citation.status();
      EXPECT_EQ(citation->id(), id);
      cites_a_safety_reference |=
          citation->kind() == v1::CITATION_KIND_SAFETY_REFERENCE;
    }
    // A finding labelled as resting on the safety references cites one (its
    // counterpoint may cite the article too).
    EXPECT_EQ(
        cites_a_safety_reference,
        finding.source() == v1::FINDING_SOURCE_SAFETY_REFERENCE ||
            finding.message().find("Institute of Medicine") !=
                std::string::npos ||
            finding.message().find("upper intake level") != std::string::npos)
        << finding.code();
    for (const std::string& passage : finding.passage_ids()) {
      auto query = Statement::Prepare(
          db->get(), "SELECT 1 FROM passages WHERE public_id = ?1");
      ASSERT_TRUE(query.ok());
      query->Bind(1, passage);
      EXPECT_TRUE(*query->Step())
          << finding.code() << " rests on unknown passage " << passage;
    }
  }
  // The stack above trips most rules; the rest are covered by the tests above.
  EXPECT_GE(codes.size(), 15u);
}

// The numbers a rule states (in its messages, and the ranges, limits and
// thresholds its condition uses) must all appear in the sentences and facts
// it cites: a rule cannot claim a figure its sources do not give.
TEST(StackRulesDataTest, EveryNumberARuleStatesIsInItsEvidence) {
  auto rules =
      LoadStackRules(testing::SourcePath("knowledge/stack_rules.textproto"));
  ASSERT_TRUE(rules.ok()) << rules.status();
  auto references = LoadSafetyReferences(
      testing::SourcePath("knowledge/safety_references.textproto"));
  ASSERT_TRUE(references.ok()) << references.status();
  std::map<std::string, std::string> facts;
  for (const auto& topic : references->topics()) {
    for (const auto& fact : topic.facts()) facts[fact.id()] = fact.text();
  }
  auto numbers = [](const std::string& text) {
    std::set<double> found;
    std::string plain = absl::StrReplaceAll(text, {{",", ""}});
    re2::StringPiece input(plain);
    std::string number;
    // Whole numbers only: the 3 of "D3" is part of a name.
    while (RE2::FindAndConsume(&input, R"(\b(\d+(?:\.\d+)?))", &number)) {
      found.insert(std::stod(number));
    }
    return found;
  };
  auto evidence_text = [&facts](const rulespb::Evidence& evidence) {
    return evidence.has_quote() ? evidence.quote().text()
                                : facts[evidence.fact_id()];
  };
  for (const rulespb::Rule& rule : rules->rules()) {
    std::string stated = rule.message();
    std::string cited;
    for (const auto& evidence : rule.evidence())
      absl::StrAppend(&cited, " ", evidence_text(evidence));
    for (const auto& counterpoint : rule.counterpoints()) {
      absl::StrAppend(&stated, " ", counterpoint.message());
      for (const auto& evidence : counterpoint.evidence()) {
        absl::StrAppend(&cited, " ", evidence_text(evidence));
      }
    }
    std::set<double> values = numbers(stated);
    for (const rulespb::Compound& compound : rules->compounds()) {
      const std::string& id = compound.id();
      if (rule.below_standard_range() == id ||
          rule.above_standard_range() == id) {
        values.insert(compound.standard_range().low());
        values.insert(compound.standard_range().high());
      }
      if (rule.above_safety_limit() == id)
        values.insert(compound.safety_limit());
    }
    if (rule.has_dose_below()) values.insert(rule.dose_below().threshold());
    if (rule.has_dose_above()) values.insert(rule.dose_above().threshold());
    if (rule.has_ratio_below()) {
      values.insert(rule.ratio_below().threshold());
      values.insert(rule.ratio_below().per());
    }
    if (rule.has_serum_below()) values.insert(rule.serum_below().threshold());
    if (rule.has_serum_above()) values.insert(rule.serum_above().threshold());
    values.erase(25);  // The "25" of 25(OH)D is a name, not a figure.
    const std::set<double> sourced = numbers(cited);
    for (double value : values) {
      EXPECT_TRUE(sourced.contains(value))
          << rule.code() << " states " << value
          << " but its evidence does not: " << cited;
    }
  }
}

// --- Ask
// ----------------------------------------------------------------------

TEST_F(StackEvaluatorTest, AskEvaluatesTheDosesOfAQuestion) {
  v1::AskRequest request;
  request.set_question("is 10000 IU of D3 with 100 mcg K2 too much?");
  absl::StatusOr<v1::AskResponse> r = kb_->Ask(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->answered());
  ASSERT_TRUE(r->has_stack_evaluation());
  EXPECT_THAT(
      Codes(r->stack_evaluation()),
      ::testing::IsSupersetOf({"D3_ABOVE_UL", "D3_HIGH_DOSE", "K2_RATIO_LOW"}));
  ASSERT_GE(r->answer_sentences_size(), 2);
  EXPECT_EQ(r->answer_sentences(0).text(),
            r->stack_evaluation().findings(0).message());
  EXPECT_THAT(r->answer(),
              HasSubstr("10,000 IU of vitamin D3 a day is above the adult "
                        "tolerable upper intake level of 4,000 IU"));
  std::set<std::string> cited;
  for (const v1::Citation& citation : r->citations())
    cited.insert(citation.id());
  for (const v1::AnswerSentence& sentence : r->answer_sentences()) {
    for (const std::string& id : sentence.citation_ids())
      EXPECT_TRUE(cited.contains(id)) << id;
  }

  request.set_question("why K2 with D3?");
  r = kb_->Ask(request);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_stack_evaluation());
}

// Ask reads a question's doses as EvaluateStack reads the same words: each
// amount once, and a compound asked about or negated is not taken.
TEST_F(StackEvaluatorTest, AskReadsDosesAsEvaluateStackDoes) {
  for (const char* question :
       {"I take 5000 IU of D3 how much K2 do I need",
        "I take 5000 IU of D3 and I never added any K2"}) {
    v1::AskRequest ask;
    ask.set_question(question);
    absl::StatusOr<v1::AskResponse> r = kb_->Ask(ask);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->has_stack_evaluation()) << question;
    ASSERT_EQ(r->stack_evaluation().doses_size(), 1) << question;
    EXPECT_EQ(r->stack_evaluation().doses(0).compound(), "vitamin_d3");
    EXPECT_EQ(r->stack_evaluation().doses(0).amount(), 5000) << question;
    EXPECT_THAT(Codes(r->stack_evaluation()), ::testing::Contains("D3_WITHOUT_K2"))
        << question;

    v1::EvaluateStackRequest stack;
    stack.set_text(question);
    absl::StatusOr<v1::EvaluateStackResponse> direct = kb_->EvaluateStack(stack);
    ASSERT_TRUE(direct.ok()) << direct.status();
    ASSERT_EQ(direct->doses_size(), 1) << question;
    EXPECT_EQ(direct->doses(0).amount(), 5000) << question;
  }
}

}  // namespace
}  // namespace citekb
