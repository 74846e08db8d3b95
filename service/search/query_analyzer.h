// Turns a user's question into the phrases to search for, and into safe
// FTS5 expressions.
//
// The analyzer keeps only words (letters and digits), drops stop words and
// joins compounds (`MK-7` -> `mk7`, compound_terms.h). The server ranks and
// filters from its own postings (searcher.h), so it sends FTS5 no
// expression; MatchAll() is what the tests compare that ranking with (and a
// filter's name). It writes every term as a quoted FTS5 string, so quotes,
// `*`, `NEAR`, `AND`, `col:`, parentheses and control bytes are inert.
//
// Each content word becomes a TermGroup of alternatives that mean the same to
// a reader of this knowledge base: `vitamin D`, `D3` and `cholecalciferol`;
// `K2`, `menaquinone` and `MK7`; `dose` and `dosage`. A passage that has any
// alternative covers the word.
//
//   AnalyzedQuery q = AnalyzeQuery("Why K2 with vitamin D?");
//   q.groups.size() == 2
//   q.Phrases() == {"k2", "menaquinone", "mk7",
//                   "d3", "cholecalciferol", "vitamin d"}
//   q.MatchAll() == R"(("k2" OR "menaquinone" OR "mk7") AND ("d3" OR ...))"
//
// Thread-safe.

#ifndef CITEKB_SERVICE_SEARCH_QUERY_ANALYZER_H_
#define CITEKB_SERVICE_SEARCH_QUERY_ANALYZER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace citekb {

struct TermGroup {
  std::string word;                       // As the user wrote it, lower-case.
  std::vector<std::string> alternatives;  // Words or phrases; first is `word`.

  // `("a" OR "b c")`: matches a passage that has any alternative.
  std::string Match() const;
};

struct AnalyzedQuery {
  std::vector<TermGroup> groups;

  bool empty() const { return groups.empty(); }
  // Every alternative of every group, in order: what ranking looks for
  // (searcher.h), where bm25 rewards passages having more of them. And the
  // index of the group of each.
  std::vector<std::string> Phrases() const;
  std::vector<int> PhraseGroups() const;
  // Each group's alternatives: what a filter such as "citing sentences
  // with these words" needs one of, for every group (searcher.h).
  std::vector<std::vector<std::string>> GroupAlternatives() const;
  // An FTS5 expression matching what has every group, as the filter for
  // "citing sentences with these words" (Searcher::CitedText) does.
  std::string MatchAll() const;
};

// At most kMaxQueryTerms groups are kept (the first ones).
inline constexpr int kMaxQueryTerms = 16;

AnalyzedQuery AnalyzeQuery(absl::string_view text);

// `"text"` with inner quotes doubled and NUL bytes made spaces: a literal
// FTS5 string whatever `text` holds.
std::string QuoteFts(absl::string_view text);

}  // namespace citekb

#endif  // CITEKB_SERVICE_SEARCH_QUERY_ANALYZER_H_
