// The parsed form of one knowledge-base article: what the parser produces and
// the index writer stores. Plain structs, no behaviour: every field is filled
// by ArticleParser (article_parser.h) and read by IndexWriter (index_writer.h).
//
// All text fields hold *readable* text: links are removed (`the synergy
// (https://...)` reads `the synergy`) and evidence tags (`[anecdotal]`) are
// stripped. Where a link was is kept as a Citation or RelatedLink instead.

#ifndef CITEKB_INDEXER_ARTICLE_ARTICLE_H_
#define CITEKB_INDEXER_ARTICLE_ARTICLE_H_

#include <string>
#include <vector>

namespace citekb {

// An external source an article cites, identified by what its URL names.
// kSafetyReference marks a source of the safety references
// (stack_knowledge.h), whatever its URL names.
enum class SourceKind { kPubMed, kPmc, kDoi, kWeb, kSafetyReference };

// A source, with its normalized identifier. Two links to the same PMID are the
// same source.
struct Source {
  std::string id;  // "pmid:11684396", "pmcid:PMC5613455",
                   // "doi:10.3390/ijms18091897" or "url:<url>".
  SourceKind kind = SourceKind::kWeb;
  std::string identifier;  // "11684396", "PMC5613455", "10.3390/ijms18091897".
  std::string url;         // As written in the article.
  std::string label;       // Author-year label ("Zhang 2025") when the text
                           // gives one, else empty.
};

// Internal links point at other articles (`/en/research/...`) or tools
// (`/en/tools/...`) of the same site.
enum class RelatedLinkKind { kArticle, kTool };

struct RelatedLink {
  std::string path;  // "/en/research/calcium-paradox-..."
  RelatedLinkKind kind = RelatedLinkKind::kArticle;
  std::string anchor_text;  // Words the link was written on, best effort.
  int passage_index = -1;   // Article::passages index of the linking passage.
};

struct Sentence {
  std::string text;
  std::vector<std::string> source_ids;  // Sources this sentence cites.
  bool anecdotal = false;
};

enum class PassageKind { kParagraph, kTableRow, kFaq };

// The unit of retrieval: a body paragraph, one table row (rendered with its
// column headers) or one FAQ entry (question and answer).
struct Passage {
  PassageKind kind = PassageKind::kParagraph;
  int section_index = 0;  // Article::sections index.
  int block_index = 0;    // Position of its block within the section.
  std::string text;
  std::vector<Sentence> sentences;
  bool anecdotal = false;  // Any part of it rests on anecdote.
  int table_index = -1;    // For kTableRow: Article::tables index.
  int row_index = -1;      // For kTableRow: row within the table.
  int faq_index = -1;      // For kFaq: Article::faqs index.
};

struct TableColumn {
  std::string header;
  bool anecdotal = false;  // The header says "(Anecdotal)".
};

struct Table {
  int section_index = 0;
  int block_index = 0;
  int line = 0;  // 1-based line in the source file.
  std::vector<TableColumn> columns;
  std::vector<std::vector<std::string>> rows;  // Each has columns.size() cells.
  std::vector<int> row_passage_indexes;        // Article::passages indexes.
};

struct Figure {
  int section_index = 0;
  int block_index = 0;
  std::string caption;  // Without the " - Illustration" marker.
};

struct Faq {
  int section_index = 0;
  std::string question;
  // Empty when the answer is incomplete: a fragment is never kept as an answer.
  std::string answer;
  bool answer_incomplete = false;
  int passage_index = -1;
  int line = 0;
};

struct Section {
  std::string anchor;  // From the table of contents, without '#'.
  std::string title;
  int line = 0;  // Line of the heading in the source file.
};

struct Article {
  std::string id;  // Stable slug of the title.
  std::string category;
  std::string title;
  std::string description;  // The line under the title.
  std::string summary;      // The TL;DR.
  std::string source_path;  // File it was parsed from.
  std::vector<Section> sections;
  std::vector<Passage> passages;  // In document order.
  std::vector<Table> tables;
  std::vector<Figure> figures;
  std::vector<Faq> faqs;
  std::vector<Source> sources;  // Distinct, in order of first citation.
  std::vector<RelatedLink> related_links;  // Every occurrence.
  std::vector<std::string> warnings;       // "file:line: message".
};

}  // namespace citekb

#endif  // CITEKB_INDEXER_ARTICLE_ARTICLE_H_
