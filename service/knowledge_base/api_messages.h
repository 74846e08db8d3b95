// The store's rows (store.h) as the API's messages (citekb/v1), and the
// API's kind filters as the store's kinds. The one place where the two
// meet: the store knows nothing of the API, and the knowledge base and the
// answer composer build their responses from rows through these.
//
//   CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const StoredCitation> source,
//                           store.CitationById("pmid:11684396"));
//   *response.add_citations() = CitationMessage(*source);
//
// Rows the store caches are shared and immutable, so their conversions
// copy; a row the caller owns (a listing's) is moved from, which costs no
// more than building the message from SQLite's columns would.
//
// Thread-safe: plain functions of their arguments.

#ifndef CITEKB_SERVICE_KNOWLEDGE_BASE_API_MESSAGES_H_
#define CITEKB_SERVICE_KNOWLEDGE_BASE_API_MESSAGES_H_

#include <optional>
#include <string>

#include "citekb/v1/knowledge_base.pb.h"
#include "service/store/store.h"

namespace citekb {

// A passage as a search or an answer returns it: with this search's score
// and snippet, and without its text when `with_text` is false (an Ask for
// references only, v1::PASSAGE_DETAIL_REFERENCE).
v1::Passage PassageMessage(const StoredPassage& passage, double score,
                           const std::string& snippet, bool with_text = true);

v1::Section SectionMessage(StoredSection section);

// The section with its blocks; passages without score or snippet.
v1::GetSectionResponse GetSectionResponse(SectionContents contents);

v1::Faq FaqMessage(StoredFaq faq);

v1::Citation CitationMessage(const StoredCitation& citation);
v1::Citation CitationMessage(StoredCitation&& citation);

v1::RelatedLink RelatedLinkMessage(StoredLink link);

// A request's kind filter as the store's: nullopt for "any kind".
std::optional<StoredPassage::Kind> PassageKindFilter(v1::PassageKind kind);
// CITATION_KIND_ARTICLE is no filter either: ListCitations then lists every
// source, as for CITATION_KIND_UNSPECIFIED.
std::optional<StoredCitation::Kind> CitationKindFilter(v1::CitationKind kind);
std::optional<StoredLink::Kind> RelatedLinkKindFilter(v1::RelatedLinkKind kind);

}  // namespace citekb

#endif  // CITEKB_SERVICE_KNOWLEDGE_BASE_API_MESSAGES_H_
