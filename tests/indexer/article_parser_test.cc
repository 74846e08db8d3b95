#include "indexer/article/article_parser.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SeedArticleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<Article> parsed = ParseArticle(
        testing::ReadFileOrDie(testing::SeedArticlePath()), "seed.txt");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    article_ = new Article(*std::move(parsed));
  }
  static void TearDownTestSuite() { delete article_; }

  static int CountPassages(PassageKind kind) {
    int n = 0;
    for (const Passage& p : article_->passages) n += p.kind == kind;
    return n;
  }
  static const Passage* PassageContaining(absl::string_view text) {
    for (const Passage& p : article_->passages) {
      if (absl::StrContains(p.text, text)) return &p;
    }
    return nullptr;
  }
  static const Sentence* SentenceEndingWith(absl::string_view end) {
    for (const Passage& p : article_->passages) {
      for (const Sentence& s : p.sentences) {
        if (absl::EndsWith(s.text, end)) return &s;
      }
    }
    return nullptr;
  }
  static const Source* FindSource(absl::string_view id) {
    for (const Source& s : article_->sources) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }

  static Article* article_;
};
Article* SeedArticleTest::article_ = nullptr;

TEST_F(SeedArticleTest, Header) {
  EXPECT_EQ(article_->id,
            "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries");
  EXPECT_EQ(article_->category, "supplements");
  EXPECT_EQ(article_->title,
            "D3-K2 Protocol: How to Route Calcium to Bones, Not Arteries");
  EXPECT_THAT(article_->summary,
              ::testing::StartsWith("Taking Vitamin D alone is a mistake."));
  EXPECT_THAT(article_->summary, ::testing::Not(HasSubstr("TL;DR")));
}

TEST_F(SeedArticleTest, SevenSectionsFromTheTableOfContents) {
  ASSERT_EQ(article_->sections.size(), 7u);
  EXPECT_EQ(article_->sections[0].title,
            "Introduction & Physiological Baseline of the D3-K2 Axis");
  EXPECT_EQ(article_->sections[0].anchor,
            "introduction-physiological-baseline-of-the-d3-k2-a");
  EXPECT_EQ(article_->sections[4].anchor,
            "practical-protocol-how-to-stack-your-d3-and-k2");
  EXPECT_EQ(article_->sections[6].title, "Frequently Asked Questions");
  EXPECT_EQ(article_->sections[6].anchor, "frequently-asked-questions");
}

TEST_F(SeedArticleTest, PassageCounts) {
  EXPECT_EQ(CountPassages(PassageKind::kParagraph), 14);
  EXPECT_EQ(CountPassages(PassageKind::kTableRow), 16);
  EXPECT_EQ(CountPassages(PassageKind::kFaq), 4);
}

TEST_F(SeedArticleTest, FiguresAreNotPassageText) {
  ASSERT_EQ(article_->figures.size(), 3u);
  EXPECT_EQ(article_->figures[0].caption,
            "Vitamin D3 + K2: The Science of Precision Calcium Routing");
  EXPECT_EQ(PassageContaining("Illustration"), nullptr);
}

TEST_F(SeedArticleTest, FourTablesOfFourRows) {
  ASSERT_EQ(article_->tables.size(), 4u);
  for (const Table& table : article_->tables) {
    EXPECT_EQ(table.rows.size(), 4u);
    EXPECT_EQ(table.row_passage_indexes.size(), 4u);
  }
  EXPECT_EQ(article_->tables[0].columns.size(), 4u);
  EXPECT_EQ(article_->tables[2].columns.size(), 3u);
  EXPECT_EQ(article_->tables[2].columns[1].header, "Effect of D3-K2 Synergy");
  EXPECT_EQ(article_->tables[3].rows[1][0], "Vitamin K2 (MK-7)");
}

TEST_F(SeedArticleTest, TableRowPassageKeepsHeaders) {
  const Passage* row = PassageContaining("Vitamin K2 (MK-7):");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->kind, PassageKind::kTableRow);
  EXPECT_EQ(row->text,
            "Vitamin K2 (MK-7): Standard Maintenance Dosage 100–200 mcg; "
            "High-Dose Protocol (Anecdotal) 500+ mcg; Primary Role in Synergy "
            "Osteocalcin & MGP activation");
}

TEST_F(SeedArticleTest, AnecdotalEvidence) {
  const Passage* tagged = PassageContaining("powerlifters and strongmen");
  ASSERT_NE(tagged, nullptr);
  EXPECT_TRUE(tagged->anecdotal);
  EXPECT_THAT(tagged->text, ::testing::StartsWith("In the domain of strength"));
  EXPECT_EQ(PassageContaining("[anecdotal]"), nullptr);

  const Table& doses = article_->tables[3];
  EXPECT_FALSE(doses.columns[1].anecdotal);
  EXPECT_TRUE(doses.columns[2].anecdotal);
  const Passage& row = article_->passages[doses.row_passage_indexes[0]];
  EXPECT_TRUE(row.anecdotal);
  ASSERT_EQ(row.sentences.size(), 3u);
  EXPECT_FALSE(row.sentences[0].anecdotal);  // Standard dosage.
  EXPECT_TRUE(row.sentences[1].anecdotal);   // High-dose protocol.

  const Passage* plain = PassageContaining("never reaches the bone matrix");
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->anecdotal);
}

TEST_F(SeedArticleTest, LinksRemovedFromReadableText) {
  const Passage* first = PassageContaining("Your high-dose Cholecalciferol");
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(
      first->text,
      HasSubstr("Your high-dose Cholecalciferol (Vitamin D3) protocol"));
  EXPECT_THAT(first->text, HasSubstr("Without the D3-K2 synergy, you aren't"));
  for (const Passage& p : article_->passages) {
    EXPECT_THAT(p.text, ::testing::Not(HasSubstr("http"))) << p.text;
    EXPECT_THAT(p.text, ::testing::Not(HasSubstr("/en/"))) << p.text;
  }
}

TEST_F(SeedArticleTest, NineteenExternalSources) {
  int pubmed = 0, pmc = 0, doi = 0;
  for (const Source& s : article_->sources) {
    pubmed += s.kind == SourceKind::kPubMed;
    pmc += s.kind == SourceKind::kPmc;
    doi += s.kind == SourceKind::kDoi;
  }
  EXPECT_EQ(article_->sources.size(), 19u);
  EXPECT_EQ(pubmed, 13);
  EXPECT_EQ(pmc, 1);
  EXPECT_EQ(doi, 5);

  const Source* pmc_source = FindSource("pmcid:PMC5613455");
  ASSERT_NE(pmc_source, nullptr);
  EXPECT_EQ(pmc_source->identifier, "PMC5613455");
  EXPECT_EQ(pmc_source->url,
            "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5613455/");

  const Source* khandelwal = FindSource("doi:10.4103/jmh.jmh16925");
  ASSERT_NE(khandelwal, nullptr);
  EXPECT_EQ(khandelwal->label, "Khandelwal 2025");
  const Source* zhang = FindSource("doi:10.3389/fendo.2025.1703116");
  ASSERT_NE(zhang, nullptr);
  EXPECT_EQ(zhang->label, "Zhang 2025");
  EXPECT_EQ(FindSource("pmid:11684396")->label, "");
}

TEST_F(SeedArticleTest, EverySourceIsCitedBySomeSentence) {
  std::set<std::string> cited;
  for (const Passage& p : article_->passages) {
    for (const Sentence& s : p.sentences) {
      cited.insert(s.source_ids.begin(), s.source_ids.end());
    }
  }
  EXPECT_EQ(cited.size(), 19u);
}

TEST_F(SeedArticleTest, SentenceCitesItsSource) {
  const Sentence* sentence =
      SentenceEndingWith("it never reaches the bone matrix.");
  ASSERT_NE(sentence, nullptr);
  EXPECT_EQ(sentence->text,
            "You absorb calcium, but it never reaches the bone matrix.");
  EXPECT_THAT(sentence->source_ids, ElementsAre("pmid:11684396"));

  const Sentence* zhang = SentenceEndingWith("Zhang 2025");
  ASSERT_NE(zhang, nullptr);
  EXPECT_EQ(zhang->text,
            "Only then can it lock onto calcium and build the bone structure. "
            "Zhang 2025");
  EXPECT_THAT(zhang->source_ids, ElementsAre("doi:10.3389/fendo.2025.1703116"));

  const Sentence* two =
      SentenceEndingWith("inducing suboptimal system states.");
  ASSERT_NE(two, nullptr);
  EXPECT_THAT(two->source_ids,
              ElementsAre("pmcid:PMC5613455", "doi:10.4103/jmh.jmh16925"));
}

TEST_F(SeedArticleTest, SentencesRespectUnitsAndNumbers) {
  EXPECT_NE(SentenceEndingWith("optimal range of 60-80 ng/mL."), nullptr);
  EXPECT_NE(SentenceEndingWith("undercarboxylated state (ucOC)."), nullptr);
  EXPECT_NE(SentenceEndingWith("for every 5,000 IU of D3."), nullptr);
  EXPECT_NE(SentenceEndingWith("Missing K2 causes the 'Calcium Paradox.'"),
            nullptr);
  EXPECT_NE(SentenceEndingWith("This system requires Magnesium and Vitamin A."),
            nullptr);
  const Passage* high_dose = PassageContaining("powerlifters");
  ASSERT_NE(high_dose, nullptr);
  EXPECT_EQ(high_dose->sentences.size(), 1u);  // "10,000+ IU" splits nothing.
}

TEST_F(SeedArticleTest, InternalLinks) {
  EXPECT_EQ(article_->related_links.size(), 27u);
  std::set<std::string> articles, tools;
  for (const RelatedLink& link : article_->related_links) {
    (link.kind == RelatedLinkKind::kTool ? tools : articles).insert(link.path);
    ASSERT_GE(link.passage_index, 0);
    ASSERT_LT(link.passage_index, static_cast<int>(article_->passages.size()));
  }
  EXPECT_EQ(articles.size(), 22u);
  EXPECT_EQ(tools.size(), 2u);
  EXPECT_TRUE(tools.contains("/en/tools/supplement-interaction-checker"));
  const RelatedLink& fuel = *std::find_if(
      article_->related_links.begin(), article_->related_links.end(),
      [](const RelatedLink& l) { return l.path == "/en/tools/fuel-target"; });
  EXPECT_THAT(article_->passages[fuel.passage_index].text,
              HasSubstr("a high-fat snack like avocado"));
}

TEST_F(SeedArticleTest, FaqWithTruncatedAnswer) {
  ASSERT_EQ(article_->faqs.size(), 4u);
  EXPECT_EQ(article_->faqs[1].question,
            "Why is Vitamin K2 essential for bone density?");
  EXPECT_THAT(
      article_->faqs[1].answer,
      ::testing::StartsWith("Vitamin K2 acts as a mandatory co-factor"));
  EXPECT_FALSE(article_->faqs[1].answer_incomplete);

  const Faq& last = article_->faqs[3];
  EXPECT_EQ(
      last.question,
      "What is the function of Matrix Gla Protein (MGP) in this synergy?");
  EXPECT_TRUE(last.answer_incomplete);
  EXPECT_EQ(last.answer, "");
  const Passage& passage = article_->passages[last.passage_index];
  EXPECT_EQ(passage.text, last.question);
  EXPECT_THAT(passage.text, ::testing::Not(HasSubstr("Matrix Gl ")));
  ASSERT_EQ(article_->warnings.size(), 1u);
  EXPECT_THAT(article_->warnings[0], HasSubstr("seed.txt:49: FAQ answer"));
}

TEST(ParseArticleTest, FixtureArticleInTheSameFormat) {
  absl::StatusOr<Article> article = ParseArticle(
      testing::ReadFileOrDie(
          testing::SourcePath("tests/fixtures/knowledge/magnesium-forms.txt")),
      "magnesium-forms.txt");
  ASSERT_TRUE(article.ok()) << article.status();
  EXPECT_EQ(article->category, "minerals");
  EXPECT_EQ(article->sections.size(), 3u);
  ASSERT_EQ(article->tables.size(), 1u);
  EXPECT_EQ(article->tables[0].columns.size(), 3u);
  EXPECT_EQ(article->tables[0].rows.size(), 3u);
  EXPECT_EQ(article->faqs.size(), 2u);
  EXPECT_FALSE(article->faqs[0].answer_incomplete);
  EXPECT_EQ(article->sources.size(), 2u);  // One PMID cited twice, one DOI.
  EXPECT_EQ(article->sources[1].id, "doi:10.1000/xyz.2024.001");
  EXPECT_EQ(article->sources[1].label, "Smith 2024");
  EXPECT_EQ(article->related_links.size(), 2u);
  EXPECT_TRUE(article->warnings.empty());
}

struct MalformedCase {
  const char* name;
  std::string text;
  std::string error;  // Substring of the message, which starts "bad.txt:LINE:".
};

class MalformedArticleTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedArticleTest, ClearErrorWithFileAndLine) {
  absl::StatusOr<Article> article = ParseArticle(GetParam().text, "bad.txt");
  ASSERT_FALSE(article.ok());
  EXPECT_EQ(article.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(article.status().message()),
              HasSubstr(GetParam().error));
}

const char kHeader[] =
    "minerals\nA Title\n> TL;DR: short.\nIn this article\n"
    "- First (#first)\n- Second (#second)\n--- Category: minerals\n";

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedArticleTest,
    ::testing::Values(
        MalformedCase{"Empty", "", "bad.txt:1: an article needs a category"},
        MalformedCase{"NoToc", "minerals\nTitle\nText\n",
                      "bad.txt:3: no table of contents"},
        MalformedCase{"EmptyToc", "minerals\nTitle\nIn this article\nBody\n",
                      "bad.txt:3: the table of contents lists no sections"},
        MalformedCase{"SectionNeverAppears",
                      std::string(kHeader) + "First\nSome text.\n",
                      "bad.txt:6: section \"Second\" (#second) is in the table "
                      "of contents but never appears"},
        MalformedCase{
            "RowTooShort",
            std::string(kHeader) +
                "First\n| a | b | c | |---|---|---| | 1 | 2 | | 3 | 4 | 5 |\n"
                "Second\nText.\n",
            "bad.txt:9: table row 1 does not fit the header's 3 columns"},
        MalformedCase{
            "RowTooLong",
            std::string(kHeader) +
                "First\n| a | b | |---|---| | 1 | 2 | 3 |\nSecond\nText.\n",
            "bad.txt:9: table row 1 does not fit the header's 2 columns"},
        MalformedCase{
            "LastRowShort",
            std::string(kHeader) +
                "First\n| a | b | |---|---| | 1 | 2 | | 3 |\nSecond\nT.\n",
            "bad.txt:9: table row 2 has 1 cells but the header has 2"},
        MalformedCase{"SeparatorMismatch",
                      std::string(kHeader) +
                          "First\n| a | b | |---| | 1 | 2 |\nSecond\nText.\n",
                      "bad.txt:9: table header has"},
        MalformedCase{"UnclosedTable",
                      std::string(kHeader) + "First\n| a | b\nSecond\nText.\n",
                      "bad.txt:9: a table line must start and end with '|'"}),
    [](const auto& info) { return info.param.name; });

TEST(SlugifyTest, StableSlugs) {
  EXPECT_EQ(
      Slugify("D3-K2 Protocol: How to Route Calcium to Bones, Not Arteries"),
      "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries");
  EXPECT_EQ(Slugify("  Omega-3 & Fish Oil: 2,000 mg?! "),
            "omega-3-fish-oil-2-000-mg");
}

}  // namespace
}  // namespace citekb
