// libFuzzer target: the FTS5 query builder (service/search/query_analyzer.h).
//
// The contract under test: user text never becomes FTS5 syntax. Every
// expression the analyzer builds from any text (MatchAll, each group's
// Match, each phrase quoted, and QuoteFts of the raw text) must be accepted
// by SQLite's FTS5 parser on tables made like the tests' references (same
// columns, same tokenizer), and matching must not fail. The server sends
// FTS5 no expression (it ranks and filters from its own postings); these
// expressions are what the tests and ranking_fuzzer hold that ranking to,
// and MatchAll names a cited-text filter in the cache of ListCitations
// totals.
//
// Only valid UTF-8 is tried: the server refuses anything else before
// analysis (knowledge_base.cc, request_parser.h).

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "indexer/base/utf8.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/search/query_analyzer.h"
#include "service/server/request_parser.h"

namespace {

struct Fixture {
  citekb::Database db;
  citekb::Statement passages;
  citekb::Statement faqs;
};

void Die(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::abort();
}

// Tables made like index_writer.cc makes them, with a few rows so that
// matching does real work. Built once; the fuzzer only reads.
Fixture& GetFixture() {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    absl::StatusOr<citekb::Database> db = citekb::OpenDatabase(
        ":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!db.ok()) Die(db.status().ToString());
    f->db = *std::move(db);
    const std::string ddl = absl::StrCat(
        "CREATE VIRTUAL TABLE passage_fts USING fts5(section_title, body, "
        "compounds, tokenize = '",
        citekb::kFtsTokenizer,
        "');"
        "CREATE VIRTUAL TABLE faq_fts USING fts5(question, tokenize = '",
        citekb::kFtsTokenizer,
        "');"
        "INSERT INTO passage_fts VALUES ('Dosage', 'Take 100 mcg of vitamin K2 "
        "(MK-7) with 5,000 IU of D3 and a fatty meal.', 'mk7 5000');"
        "INSERT INTO passage_fts VALUES ('Calcium paradox', 'Without K2, "
        "calcium hardens arteries instead of bones; café crème.', '');"
        "INSERT INTO faq_fts VALUES ('Why take K2 with D3?');");
    const absl::Status created = citekb::Exec(f->db.get(), ddl);
    if (!created.ok()) Die(created.ToString());
    absl::StatusOr<citekb::Statement> passages = citekb::Statement::Prepare(
        f->db.get(),
        "SELECT snippet(passage_fts, 1, '[', ']', '…', 8), bm25(passage_fts, "
        "2, 1, 1) "
        "FROM passage_fts WHERE passage_fts MATCH ?1 ORDER BY 2");
    absl::StatusOr<citekb::Statement> faqs =
        citekb::Statement::Prepare(f->db.get(),
                                   "SELECT rowid FROM faq_fts WHERE faq_fts "
                                   "MATCH ?1 ORDER BY bm25(faq_fts)");
    if (!passages.ok()) Die(passages.status().ToString());
    if (!faqs.ok()) Die(faqs.status().ToString());
    f->passages = *std::move(passages);
    f->faqs = *std::move(faqs);
    return f;
  }();
  return *fixture;
}

void MustMatch(citekb::Statement& statement, const std::string& expression,
               absl::string_view input) {
  statement.Reset();
  statement.Bind(1, expression);
  while (true) {
    const absl::StatusOr<bool> row = statement.Step();
    if (!row.ok()) {
      Die(absl::StrCat("FTS5 refused an analyzer expression\n  input: ",
                       absl::CHexEscape(input),
                       "\n  expression: ", absl::CHexEscape(expression),
                       "\n  error: ", row.status().ToString()));
    }
    if (!*row) break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (size > 4096 || !citekb::IsStructurallyValidUtf8(text)) return 0;
  Fixture& f = GetFixture();

  const citekb::AnalyzedQuery query = citekb::AnalyzeQuery(text);
  if (query.groups.size() > static_cast<size_t>(citekb::kMaxQueryTerms)) {
    Die("more groups than kMaxQueryTerms");
  }
  MustMatch(f.passages, citekb::QuoteFts(text), text);
  if (query.empty()) return 0;
  MustMatch(f.passages, query.MatchAll(), text);
  for (const std::string& phrase : query.Phrases()) {
    MustMatch(f.faqs, citekb::QuoteFts(phrase), text);
  }
  for (const citekb::TermGroup& group : query.groups) {
    if (group.alternatives.empty()) Die("a term group without alternatives");
    MustMatch(f.passages, group.Match(), text);
  }
  return 0;
}
