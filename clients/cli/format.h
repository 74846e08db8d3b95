// Human-readable rendering of citekb API responses, as the `citekb`
// command-line client prints them (cli.h). Each function turns one response
// message into plain text ending in a newline; none of them does I/O or
// talks to a server, so they can be tested on hand-built messages.
//
// Conventions shared by every renderer:
//   * Citations are numbered in the order the response lists them, and text
//     that cites them carries markers such as "[1][2]". A cited id missing
//     from the response's citation list is shown as "[<id>]" rather than
//     dropped.
//   * Anecdotal (non-trial) content is marked "(anecdotal)".
//   * Aligned columns are padded by UTF-8 code points, not bytes, so "µg"
//     and "—" line up; wide (CJK) characters may still misalign.
//   * An empty result prints one sentence saying so, never nothing.
//
// Example (FormatAskResponse):
//
//   Vitamin K2 activates matrix Gla protein [1]. Some users report ...
//   (anecdotal)
//
//   Sources:
//     [1] Zhang 2025 — https://pubmed.ncbi.nlm.nih.gov/11684396/
//
//   Passages:
//     - d3-k2#mechanisms/3 (Mechanisms): ... [K2] activates ...
//
//   You could also ask:
//     - How much K2 per 5000 IU of D3?
//
// Thread-safe: all functions are pure.

#ifndef CITEKB_CLIENTS_CLI_FORMAT_H_
#define CITEKB_CLIENTS_CLI_FORMAT_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "citekb/v1/knowledge_base.pb.h"

namespace citekb {

// The answer (its sentences with citation markers and "(anecdotal)"), then
// the stack check when the question contained doses, then "Sources:",
// "Passages:" and "You could also ask:". When `answered` is false only the
// server's notice and the follow-up suggestions are printed: passages found
// for an uncovered question would read like an answer. `question` is what
// the user typed; when the server resolved it to something else (a
// follow-up), the resolved question is shown first.
std::string FormatAskResponse(const v1::AskResponse& response,
                              absl::string_view question);

// Passages best first, each with section, id, kind, score and snippet, then
// "Next page: --page-token T" when there is one.
std::string FormatSearchResponse(const v1::SearchResponse& response);

// Two lines per section: "Title — N passages", then the id (indented) to
// pass to `citekb section`.
std::string FormatSections(const v1::ListSectionsResponse& response);

// The section's title and id, then its blocks in document order: passage
// text, tables as aligned columns (FormatTable), figures as
// "[Figure: caption]".
std::string FormatSection(const v1::GetSectionResponse& response);

// A table as aligned text columns: a header line underlined with dashes
// (omitted when no column has a header), then one line per row. Anecdotal
// columns carry "(anecdotal)" in their header unless it already says so.
std::string FormatTable(const v1::Table& table);

// "Q: ..." / "A: ..." pairs; an incomplete answer is shown as
// "(answer incomplete in the source)".
std::string FormatFaqs(const v1::ListFaqsResponse& response);

// Each citation's id, label, link, kind and number of citing passages, then
// "Next page: --page-token T" when there is one.
std::string FormatCitations(const v1::ListCitationsResponse& response);

// One citation in full: id, label, kind, URL, identifiers, and every citing
// sentence with the passage it is in.
std::string FormatCitation(const v1::Citation& citation);

// Per link: "[kind] path — "link text"", then "from <passage ids>".
std::string FormatRelatedLinks(const v1::ListRelatedLinksResponse& response);

// "Doses understood:" (compound, amount, unit, form, band), the K2-per-D3
// ratio when present, "Findings:" (severity, code, message, citation
// markers) and the "Sources:" those markers refer to.
std::string FormatStackEvaluation(const v1::EvaluateStackResponse& response);

// Lines of `rows` with columns padded to a common width and separated by two
// spaces; trailing spaces are trimmed. When `header` is non-empty it is
// printed first and underlined with dashes. Newlines inside cells become
// spaces. Exposed for tests.
std::string RenderColumns(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows,
                          absl::string_view indent = "");

}  // namespace citekb

#endif  // CITEKB_CLIENTS_CLI_FORMAT_H_
