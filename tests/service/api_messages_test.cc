// Rows become the API's messages field by field: kinds map one to one, a
// citation's identifier lands in the field its kind names, a passage leaves
// out its text only when asked to, and a row moved from gives the same
// message as a row copied from.

#include "service/knowledge_base/api_messages.h"

#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace citekb {
namespace {

using ::testing::ElementsAre;

StoredPassage TableRowPassage() {
  StoredPassage passage;
  passage.rowid = 7;
  passage.id = "a/p3";
  passage.article_id = "a";
  passage.section_id = "a#doses";
  passage.section_title = "Doses";
  passage.kind = StoredPassage::Kind::kTableRow;
  passage.text = "MK-7: 100 mcg";
  passage.anecdotal = true;
  passage.source_ids = {"pmid:2", "pmid:1"};
  passage.sentences.push_back({"MK-7: 100 mcg", {"pmid:2", "pmid:1"}, true});
  return passage;
}

TEST(ApiMessagesTest, PassagesCarryScoreSnippetAndTextUnlessLeftOut) {
  const StoredPassage passage = TableRowPassage();
  const v1::Passage full = PassageMessage(passage, 2.5, "[MK-7]: 100 mcg");
  EXPECT_EQ(full.id(), "a/p3");
  EXPECT_EQ(full.article_id(), "a");
  EXPECT_EQ(full.section_id(), "a#doses");
  EXPECT_EQ(full.section_title(), "Doses");
  EXPECT_EQ(full.kind(), v1::PASSAGE_KIND_TABLE_ROW);
  EXPECT_EQ(full.text(), "MK-7: 100 mcg");
  EXPECT_EQ(full.snippet(), "[MK-7]: 100 mcg");
  EXPECT_EQ(full.score(), 2.5);
  EXPECT_THAT(full.citation_ids(), ElementsAre("pmid:2", "pmid:1"));
  EXPECT_TRUE(full.anecdotal());

  v1::Passage reference = PassageMessage(passage, 2.5, "", /*with_text=*/false);
  EXPECT_EQ(reference.text(), "");
  reference.set_text(full.text());
  reference.set_snippet(full.snippet());
  EXPECT_EQ(reference.SerializeAsString(), full.SerializeAsString());
}

TEST(ApiMessagesTest, SectionPassagesHaveNoScoreOrSnippet) {
  SectionContents contents;
  contents.section = {"a#doses", "a", "doses", "Doses", 2, 1};
  contents.blocks.emplace_back(TableRowPassage());
  StoredTable table;
  table.id = "a/t0";
  table.columns = {{"Form", false}, {"Dose", true}};
  table.rows = {{"a/p3", {"MK-7", "100 mcg"}}};
  contents.blocks.emplace_back(table);
  contents.blocks.emplace_back(StoredFigure{"a/f0", "A chart"});

  const v1::GetSectionResponse response =
      GetSectionResponse(std::move(contents));
  EXPECT_EQ(response.section().id(), "a#doses");
  EXPECT_EQ(response.section().ordinal(), 2);
  EXPECT_EQ(response.section().passage_count(), 1);
  ASSERT_EQ(response.blocks_size(), 3);
  const v1::Passage& passage = response.blocks(0).passage();
  EXPECT_EQ(passage.text(), "MK-7: 100 mcg");
  EXPECT_EQ(passage.score(), 0);
  EXPECT_EQ(passage.snippet(), "");
  EXPECT_THAT(passage.citation_ids(), ElementsAre("pmid:2", "pmid:1"));
  const v1::Table& out = response.blocks(1).table();
  EXPECT_EQ(out.id(), "a/t0");
  ASSERT_EQ(out.columns_size(), 2);
  EXPECT_TRUE(out.columns(1).anecdotal());
  ASSERT_EQ(out.rows_size(), 1);
  EXPECT_EQ(out.rows(0).passage_id(), "a/p3");
  EXPECT_THAT(out.rows(0).cells(), ElementsAre("MK-7", "100 mcg"));
  EXPECT_EQ(response.blocks(2).figure().caption(), "A chart");
}

TEST(ApiMessagesTest, CitationIdentifiersLandInTheirKindsField) {
  struct Case {
    StoredCitation::Kind kind;
    v1::CitationKind message_kind;
    std::string pmid, pmcid, doi;
  };
  const Case cases[] = {
      {StoredCitation::Kind::kPubMed, v1::CITATION_KIND_PUBMED, "x", "", ""},
      {StoredCitation::Kind::kPmc, v1::CITATION_KIND_PMC, "", "x", ""},
      {StoredCitation::Kind::kDoi, v1::CITATION_KIND_DOI, "", "", "x"},
      {StoredCitation::Kind::kWeb, v1::CITATION_KIND_WEB, "", "", ""},
      {StoredCitation::Kind::kSafetyReference,
       v1::CITATION_KIND_SAFETY_REFERENCE, "", "", ""},
      {StoredCitation::Kind::kArticle, v1::CITATION_KIND_ARTICLE, "", "", ""},
      {StoredCitation::Kind::kUnknown, v1::CITATION_KIND_UNSPECIFIED, "", "",
       ""},
  };
  for (const Case& c : cases) {
    StoredCitation citation;
    citation.id = "some:x";
    citation.kind = c.kind;
    citation.identifier = "x";
    citation.url = "https://example.com/x";
    citation.label = "Zhang 2025";
    citation.citing_sentences = {{"It works.", "a/p1", "a#s"},
                                 {"It still works.", "a/p1", "a#s"}};
    citation.passage_ids = {"a/p1"};
    const v1::Citation copied = CitationMessage(citation);
    EXPECT_EQ(copied.kind(), c.message_kind);
    EXPECT_EQ(copied.pmid(), c.pmid);
    EXPECT_EQ(copied.pmcid(), c.pmcid);
    EXPECT_EQ(copied.doi(), c.doi);
    EXPECT_EQ(copied.url(), "https://example.com/x");
    EXPECT_EQ(copied.label(), "Zhang 2025");
    ASSERT_EQ(copied.citing_sentences_size(), 2);
    EXPECT_EQ(copied.citing_sentences(1).text(), "It still works.");
    EXPECT_THAT(copied.passage_ids(), ElementsAre("a/p1"));
    EXPECT_EQ(citation.identifier, "x");  // Copied from, not moved.
    EXPECT_EQ(CitationMessage(std::move(citation)).SerializeAsString(),
              copied.SerializeAsString());
  }
}

TEST(ApiMessagesTest, FaqsAndLinks) {
  const v1::Faq faq = FaqMessage(
      {"a/faq0", "Why?", "", true, "a/p9", 9, {"pmid:1", "doi:10.1/x"}});
  EXPECT_EQ(faq.id(), "a/faq0");
  EXPECT_EQ(faq.question(), "Why?");
  EXPECT_TRUE(faq.answer_incomplete());
  EXPECT_EQ(faq.passage_id(), "a/p9");
  EXPECT_THAT(faq.citation_ids(), ElementsAre("pmid:1", "doi:10.1/x"));

  const v1::RelatedLink link = RelatedLinkMessage(
      {"/tools/calc", StoredLink::Kind::kTool, "calculator", {"a/p1", "a/p4"}});
  EXPECT_EQ(link.kind(), v1::RELATED_LINK_KIND_TOOL);
  EXPECT_EQ(link.anchor_text(), "calculator");
  EXPECT_THAT(link.passage_ids(), ElementsAre("a/p1", "a/p4"));
}

TEST(ApiMessagesTest, KindFiltersLeaveAnyKindEmpty) {
  EXPECT_EQ(PassageKindFilter(v1::PASSAGE_KIND_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(PassageKindFilter(v1::PASSAGE_KIND_FAQ), StoredPassage::Kind::kFaq);
  EXPECT_EQ(CitationKindFilter(v1::CITATION_KIND_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(CitationKindFilter(v1::CITATION_KIND_ARTICLE), std::nullopt);
  EXPECT_EQ(CitationKindFilter(v1::CITATION_KIND_PMC),
            StoredCitation::Kind::kPmc);
  EXPECT_EQ(RelatedLinkKindFilter(v1::RELATED_LINK_KIND_UNSPECIFIED),
            std::nullopt);
  EXPECT_EQ(RelatedLinkKindFilter(v1::RELATED_LINK_KIND_ARTICLE),
            StoredLink::Kind::kArticle);
}

}  // namespace
}  // namespace citekb
