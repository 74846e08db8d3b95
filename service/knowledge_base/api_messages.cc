#include "service/knowledge_base/api_messages.h"

#include <type_traits>
#include <utility>

namespace citekb {
namespace {

// A member of a row, moved from when the row is the caller's to give up
// (Row is not an lvalue reference), else read.
template <typename Row, typename Member>
decltype(auto) Take(Member& member) {
  if constexpr (std::is_lvalue_reference_v<Row>) {
    return std::as_const(member);
  } else {
    return std::move(member);
  }
}

v1::PassageKind PassageKindMessage(StoredPassage::Kind kind) {
  switch (kind) {
    case StoredPassage::Kind::kParagraph:
      return v1::PASSAGE_KIND_PARAGRAPH;
    case StoredPassage::Kind::kTableRow:
      return v1::PASSAGE_KIND_TABLE_ROW;
    case StoredPassage::Kind::kFaq:
      return v1::PASSAGE_KIND_FAQ;
    case StoredPassage::Kind::kUnknown:
      break;
  }
  return v1::PASSAGE_KIND_UNSPECIFIED;
}

v1::CitationKind CitationKindMessage(StoredCitation::Kind kind) {
  switch (kind) {
    case StoredCitation::Kind::kPubMed:
      return v1::CITATION_KIND_PUBMED;
    case StoredCitation::Kind::kPmc:
      return v1::CITATION_KIND_PMC;
    case StoredCitation::Kind::kDoi:
      return v1::CITATION_KIND_DOI;
    case StoredCitation::Kind::kWeb:
      return v1::CITATION_KIND_WEB;
    case StoredCitation::Kind::kSafetyReference:
      return v1::CITATION_KIND_SAFETY_REFERENCE;
    case StoredCitation::Kind::kArticle:
      return v1::CITATION_KIND_ARTICLE;
    case StoredCitation::Kind::kUnknown:
      break;
  }
  return v1::CITATION_KIND_UNSPECIFIED;
}

// Everything of the passage but score and snippet; the text only when
// `with_text`.
template <typename Row>
void FillPassage(Row&& passage, bool with_text, v1::Passage& message) {
  message.set_id(Take<Row>(passage.id));
  message.set_article_id(Take<Row>(passage.article_id));
  message.set_section_id(Take<Row>(passage.section_id));
  message.set_section_title(Take<Row>(passage.section_title));
  message.set_kind(PassageKindMessage(passage.kind));
  if (with_text) message.set_text(Take<Row>(passage.text));
  message.mutable_citation_ids()->Reserve(
      static_cast<int>(passage.source_ids.size()));
  for (auto& id : passage.source_ids) {
    message.add_citation_ids(Take<Row>(id));
  }
  message.set_anecdotal(passage.anecdotal);
}

void FillTable(StoredTable table, v1::Table& message) {
  message.set_id(std::move(table.id));
  for (StoredTable::Column& column : table.columns) {
    v1::TableColumn& out = *message.add_columns();
    out.set_header(std::move(column.header));
    out.set_anecdotal(column.anecdotal);
  }
  for (StoredTable::Row& row : table.rows) {
    v1::TableRow& out = *message.add_rows();
    out.set_passage_id(std::move(row.passage_id));
    for (std::string& cell : row.cells) out.add_cells(std::move(cell));
  }
}

template <typename Row>
v1::Citation MakeCitation(Row&& citation) {
  v1::Citation message;
  message.set_id(Take<Row>(citation.id));
  message.set_kind(CitationKindMessage(citation.kind));
  switch (citation.kind) {
    case StoredCitation::Kind::kPubMed:
      message.set_pmid(Take<Row>(citation.identifier));
      break;
    case StoredCitation::Kind::kPmc:
      message.set_pmcid(Take<Row>(citation.identifier));
      break;
    case StoredCitation::Kind::kDoi:
      message.set_doi(Take<Row>(citation.identifier));
      break;
    default:
      break;
  }
  message.set_url(Take<Row>(citation.url));
  message.set_label(Take<Row>(citation.label));
  message.mutable_citing_sentences()->Reserve(
      static_cast<int>(citation.citing_sentences.size()));
  for (auto& sentence : citation.citing_sentences) {
    v1::CitingSentence& out = *message.add_citing_sentences();
    out.set_text(Take<Row>(sentence.text));
    out.set_passage_id(Take<Row>(sentence.passage_id));
    out.set_section_id(Take<Row>(sentence.section_id));
  }
  message.mutable_passage_ids()->Reserve(
      static_cast<int>(citation.passage_ids.size()));
  for (auto& id : citation.passage_ids) {
    message.add_passage_ids(Take<Row>(id));
  }
  return message;
}

}  // namespace

v1::Passage PassageMessage(const StoredPassage& passage, double score,
                           const std::string& snippet, bool with_text) {
  v1::Passage message;
  FillPassage(passage, with_text, message);
  message.set_score(score);
  message.set_snippet(snippet);
  return message;
}

v1::Section SectionMessage(StoredSection section) {
  v1::Section message;
  message.set_id(std::move(section.id));
  message.set_article_id(std::move(section.article_id));
  message.set_anchor(std::move(section.anchor));
  message.set_title(std::move(section.title));
  message.set_ordinal(section.ordinal);
  message.set_passage_count(section.passage_count);
  return message;
}

v1::GetSectionResponse GetSectionResponse(SectionContents contents) {
  v1::GetSectionResponse response;
  *response.mutable_section() = SectionMessage(std::move(contents.section));
  response.mutable_blocks()->Reserve(static_cast<int>(contents.blocks.size()));
  for (SectionContents::Block& block : contents.blocks) {
    v1::SectionBlock& out = *response.add_blocks();
    if (auto* passage = std::get_if<StoredPassage>(&block)) {
      FillPassage(std::move(*passage), /*with_text=*/true,
                  *out.mutable_passage());
    } else if (auto* table = std::get_if<StoredTable>(&block)) {
      FillTable(std::move(*table), *out.mutable_table());
    } else if (auto* figure = std::get_if<StoredFigure>(&block)) {
      out.mutable_figure()->set_id(std::move(figure->id));
      out.mutable_figure()->set_caption(std::move(figure->caption));
    }
  }
  return response;
}

v1::Faq FaqMessage(StoredFaq faq) {
  v1::Faq message;
  message.set_id(std::move(faq.id));
  message.set_question(std::move(faq.question));
  message.set_answer(std::move(faq.answer));
  message.set_answer_incomplete(faq.answer_incomplete);
  message.set_passage_id(std::move(faq.passage_id));
  for (std::string& id : faq.source_ids) {
    message.add_citation_ids(std::move(id));
  }
  return message;
}

v1::Citation CitationMessage(const StoredCitation& citation) {
  return MakeCitation(citation);
}

v1::Citation CitationMessage(StoredCitation&& citation) {
  return MakeCitation(std::move(citation));
}

v1::RelatedLink RelatedLinkMessage(StoredLink link) {
  v1::RelatedLink message;
  message.set_path(std::move(link.path));
  message.set_kind(link.kind == StoredLink::Kind::kTool
                       ? v1::RELATED_LINK_KIND_TOOL
                       : v1::RELATED_LINK_KIND_ARTICLE);
  message.set_anchor_text(std::move(link.anchor_text));
  for (std::string& id : link.passage_ids) {
    message.add_passage_ids(std::move(id));
  }
  return message;
}

std::optional<StoredPassage::Kind> PassageKindFilter(v1::PassageKind kind) {
  switch (kind) {
    case v1::PASSAGE_KIND_PARAGRAPH:
      return StoredPassage::Kind::kParagraph;
    case v1::PASSAGE_KIND_TABLE_ROW:
      return StoredPassage::Kind::kTableRow;
    case v1::PASSAGE_KIND_FAQ:
      return StoredPassage::Kind::kFaq;
    default:
      return std::nullopt;
  }
}

std::optional<StoredCitation::Kind> CitationKindFilter(v1::CitationKind kind) {
  switch (kind) {
    case v1::CITATION_KIND_PUBMED:
      return StoredCitation::Kind::kPubMed;
    case v1::CITATION_KIND_PMC:
      return StoredCitation::Kind::kPmc;
    case v1::CITATION_KIND_DOI:
      return StoredCitation::Kind::kDoi;
    case v1::CITATION_KIND_WEB:
      return StoredCitation::Kind::kWeb;
    case v1::CITATION_KIND_SAFETY_REFERENCE:
      return StoredCitation::Kind::kSafetyReference;
    default:
      return std::nullopt;
  }
}

std::optional<StoredLink::Kind> RelatedLinkKindFilter(
    v1::RelatedLinkKind kind) {
  switch (kind) {
    case v1::RELATED_LINK_KIND_ARTICLE:
      return StoredLink::Kind::kArticle;
    case v1::RELATED_LINK_KIND_TOOL:
      return StoredLink::Kind::kTool;
    default:
      return std::nullopt;
  }
}

}  // namespace citekb
