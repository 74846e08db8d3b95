// What SQLite's FTS5 itself answers, to hold the in-memory ranking
// (service/search/searcher.h, retrieval_index.h) to it in tests and in
// ranking_fuzzer.
//
// An index keeps no FTS5 table: it ranks from postings of its own. So
// AddFts5References adds to a writable copy of an index the FTS5 tables the
// ranking must agree with, the same rows (same rowids), columns and
// tokenizer, with the text kept for snippet():
//   passage_ref(section_title, body, compounds)  over passages
//   faq_ref(question)                            over faqs
// and, for ListCitations' cited text, AddSentenceReference:
//   sentence_ref(body, compounds)                over sentences (their text)

#ifndef CITEKB_TESTS_SUPPORT_FTS5_REFERENCE_H_
#define CITEKB_TESTS_SUPPORT_FTS5_REFERENCE_H_

#include <sqlite3.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace citekb::testing {

// Creates and fills passage_ref and faq_ref in `db` (one transaction).
absl::Status AddFts5References(sqlite3* db);

// Creates and fills sentence_ref in `db` (one transaction).
absl::Status AddSentenceReference(sqlite3* db);

// The FTS5 MATCH expression for rows having any of `phrases`:
// `"a" OR "b c"`, each quoted as the server quotes user text (QuoteFts).
std::string MatchAnyPhrase(const std::vector<std::string>& phrases);

// ?1 a MATCH expression, ?2 a rowid: that row's snippet() with the markers
// and window the service uses. Apart from the ranking query on purpose:
// there SQLite would make a snippet for every match, not only the page's.
inline constexpr char kReferenceSnippetSql[] =
    "SELECT snippet(passage_ref, 1, '[', ']', '…', 24) FROM passage_ref "
    "WHERE passage_ref MATCH ?1 AND rowid = ?2";

}  // namespace citekb::testing

#endif  // CITEKB_TESTS_SUPPORT_FTS5_REFERENCE_H_
