// Turns a user's question into safe FTS5 expressions.
//
// User text never reaches FTS5 as syntax: the analyzer keeps only words
// (letters and digits), drops stop words, joins compounds (`MK-7` -> `mk7`,
// compound_terms.h) and writes every term as a quoted FTS5 string, so quotes,
// `*`, `NEAR`, `AND`, `col:`, parentheses and control bytes are inert.
//
// Each content word becomes a TermGroup of alternatives that mean the same to
// a reader of this knowledge base: `vitamin D`, `D3` and `cholecalciferol`;
// `K2`, `menaquinone` and `MK7`; `dose` and `dosage`. A passage that has any
// alternative covers the word.
//
//   AnalyzedQuery q = AnalyzeQuery("Why K2 with vitamin D?");
//   q.groups.size() == 2
//   q.Match() == R"(("k2" OR "menaquinone" OR "mk7") OR ("d3" OR ...))"
//
// Thread-safe.

#ifndef CITEKB_SERVICE_QUERY_ANALYZER_H_
#define CITEKB_SERVICE_QUERY_ANALYZER_H_

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
  // Any group: for ranking, where bm25 rewards passages matching more groups.
  std::string Match() const;
  // Every group: for filters such as "citing sentences with these words".
  std::string MatchAll() const;
  // The phrases of Match() in FTS5's order (every alternative of every
  // group, in order), each a quoted FTS5 string; and the index of the group
  // of each.
  std::vector<std::string> Phrases() const;
  std::vector<int> PhraseGroups() const;
};

// At most kMaxQueryTerms groups are kept (the first ones).
inline constexpr int kMaxQueryTerms = 16;

AnalyzedQuery AnalyzeQuery(absl::string_view text);

// `"text"` with inner quotes doubled and NUL bytes made spaces: a literal
// FTS5 string whatever `text` holds.
std::string QuoteFts(absl::string_view text);

}  // namespace citekb

#endif  // CITEKB_SERVICE_QUERY_ANALYZER_H_
