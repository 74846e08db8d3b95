#include "indexer/article/links.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace citekb {
namespace {

TEST(StripLinksTest, RemovesUrlAndRecordsWhereItStood) {
  LinkedText t = StripLinks(
      "You absorb calcium, but it never reaches the bone matrix "
      "(https://pubmed.ncbi.nlm.nih.gov/11684396/). Instead, it hardens.");
  EXPECT_EQ(t.text,
            "You absorb calcium, but it never reaches the bone matrix. "
            "Instead, it hardens.");
  ASSERT_EQ(t.links.size(), 1u);
  EXPECT_EQ(t.links[0].url, "https://pubmed.ncbi.nlm.nih.gov/11684396/");
  EXPECT_EQ(t.text.substr(0, t.links[0].offset),
            "You absorb calcium, but it never reaches the bone matrix");
  EXPECT_EQ(t.links[0].anchor_text, "never reaches the bone matrix");
}

TEST(StripLinksTest, LinkNestedInsideAParenthesis) {
  LinkedText t = StripLinks(
      "Your high-dose Cholecalciferol (Vitamin D3 "
      "(/en/research/calcium-paradox-why-vitamin-d-alone-damages-your-heart)) "
      "protocol");
  EXPECT_EQ(t.text, "Your high-dose Cholecalciferol (Vitamin D3) protocol");
  ASSERT_EQ(t.links.size(), 1u);
  EXPECT_EQ(t.links[0].anchor_text, "Vitamin D3");
}

TEST(StripLinksTest, UrlWithBalancedParentheses) {
  LinkedText t = StripLinks(
      "see the trial (https://doi.org/10.1016/S0140-6736(20)30183-5) now");
  EXPECT_EQ(t.text, "see the trial now");
  ASSERT_EQ(t.links.size(), 1u);
  EXPECT_EQ(t.links[0].url, "https://doi.org/10.1016/S0140-6736(20)30183-5");
}

TEST(StripLinksTest, AuthorYearLabel) {
  LinkedText t = StripLinks(
      "calcifying your heart Khandelwal 2025 (https://doi.org/10.4103/x) and "
      "more. In 2024 (https://doi.org/10.1/y) too.");
  ASSERT_EQ(t.links.size(), 2u);
  EXPECT_EQ(t.links[0].author_year, "Khandelwal 2025");
}

TEST(StripLinksTest, ProseParenthesesStay) {
  LinkedText t = StripLinks("nitric oxide (NO) production (a (b) c)");
  EXPECT_EQ(t.text, "nitric oxide (NO) production (a (b) c)");
  EXPECT_TRUE(t.links.empty());
}

struct ClassifyCase {
  const char* url;
  const char* id;  // "" for internal links.
  SourceKind kind;
};

TEST(ClassifyLinkTest, NormalizesIdentifiers) {
  const ClassifyCase cases[] = {
      {"https://pubmed.ncbi.nlm.nih.gov/24841276/", "pmid:24841276",
       SourceKind::kPubMed},
      {"https://www.ncbi.nlm.nih.gov/pubmed/24841276", "pmid:24841276",
       SourceKind::kPubMed},
      {"https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5613455/",
       "pmcid:PMC5613455", SourceKind::kPmc},
      {"https://pmc.ncbi.nlm.nih.gov/articles/pmc5613455/", "pmcid:PMC5613455",
       SourceKind::kPmc},
      {"https://doi.org/10.3390/IJMS18091897", "doi:10.3390/ijms18091897",
       SourceKind::kDoi},
      {"https://dx.doi.org/10.7556/jaoa.2018.037/", "doi:10.7556/jaoa.2018.037",
       SourceKind::kDoi},
      {"https://example.org/page", "url:https://example.org/page",
       SourceKind::kWeb},
  };
  for (const ClassifyCase& c : cases) {
    ClassifiedLink link = ClassifyLink(c.url);
    ASSERT_TRUE(link.source.has_value()) << c.url;
    EXPECT_EQ(link.source->id, c.id) << c.url;
    EXPECT_EQ(link.source->kind, c.kind) << c.url;
    EXPECT_EQ(link.source->url, c.url);
  }
}

TEST(ClassifyLinkTest, InternalLinks) {
  EXPECT_EQ(ClassifyLink("/en/research/sleep-hrv-digital-twin").internal,
            RelatedLinkKind::kArticle);
  EXPECT_EQ(ClassifyLink("/en/tools/fuel-target").internal,
            RelatedLinkKind::kTool);
  EXPECT_FALSE(ClassifyLink("/en/tools/fuel-target").source.has_value());
}

}  // namespace
}  // namespace citekb
