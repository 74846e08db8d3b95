// Links as the article exports write them: `anchor text (url)`, where url is
// absolute (`https://pubmed.ncbi.nlm.nih.gov/11684396/`) or site-internal
// (`/en/research/...`). A link may sit inside a parenthesis of the prose:
// `Cholecalciferol (Vitamin D3 (/en/research/x))`.
//
//   LinkedText t =
//       StripLinks("it never reaches the bone matrix (https://...).");
//   t.text            == "it never reaches the bone matrix."
//   t.links[0].offset == 32  // where the link stood in t.text
//
// Thread-safe: patterns are compiled once.

#ifndef CITEKB_INDEXER_ARTICLE_LINKS_H_
#define CITEKB_INDEXER_ARTICLE_LINKS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "indexer/article/article.h"

namespace citekb {

struct LinkOccurrence {
  std::string url;
  // Byte offset in the readable text right after the anchor text.
  size_t offset = 0;
  // Up to five words before the link, cut at punctuation: the export lost the
  // real anchor markup, so this is a best guess used for display only.
  std::string anchor_text;
  // Author-year label written as the anchor ("Zhang 2025"), else empty.
  std::string author_year;
};

struct LinkedText {
  std::string text;  // Readable: every ` (url)` removed.
  std::vector<LinkOccurrence> links;
};

LinkedText StripLinks(absl::string_view raw);

// What a URL points at: an external source (PubMed, PMC, DOI or other web
// page) or an internal article or tool.
struct ClassifiedLink {
  std::optional<Source> source;             // Set for external URLs.
  std::optional<RelatedLinkKind> internal;  // Set for site paths.
};

// Normalizes identifiers so that two spellings of one source compare equal:
// PMIDs as digits, PMCIDs upper-case, DOIs lower-case without trailing slash.
ClassifiedLink ClassifyLink(absl::string_view url);

}  // namespace citekb

#endif  // CITEKB_INDEXER_ARTICLE_LINKS_H_
