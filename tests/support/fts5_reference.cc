#include "tests/support/fts5_reference.h"

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/compound_terms.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/search/query_analyzer.h"

namespace citekb::testing {

absl::Status AddFts5References(sqlite3* db) {
  CITEKB_RETURN_IF_ERROR(
      Exec(db, absl::StrCat("CREATE VIRTUAL TABLE passage_ref USING fts5("
                            "section_title, body, compounds, tokenize = '",
                            kFtsTokenizer,
                            "');"
                            "CREATE VIRTUAL TABLE faq_ref USING fts5("
                            "question, tokenize = '",
                            kFtsTokenizer, "')")));
  CITEKB_ASSIGN_OR_RETURN(
      Statement rows,
      Statement::Prepare(db,
                         "SELECT p.id, s.title, p.text FROM passages p JOIN "
                         "sections s ON s.id = p.section_id ORDER BY p.id"));
  std::vector<std::tuple<int64_t, std::string, std::string>> passages;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(const bool row, rows.Step());
    if (!row) break;
    passages.emplace_back(rows.ColumnInt(0), rows.ColumnText(1),
                          rows.ColumnText(2));
  }
  // One transaction: a commit per row would sync the file every time.
  CITEKB_RETURN_IF_ERROR(Exec(db, "BEGIN"));
  CITEKB_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db,
                         "INSERT INTO passage_ref(rowid, section_title, body, "
                         "compounds) VALUES(?1, ?2, ?3, ?4)"));
  for (const auto& [id, title, text] : passages) {
    CITEKB_RETURN_IF_ERROR(insert.Bind(1, id)
                               .Bind(2, title)
                               .Bind(3, text)
                               .Bind(4, CompoundTerms(text))
                               .Run());
  }
  CITEKB_RETURN_IF_ERROR(Exec(db,
                              "INSERT INTO faq_ref(rowid, question) "
                              "SELECT id, question FROM faqs ORDER BY id"));
  return Exec(db, "COMMIT");
}

absl::Status AddSentenceReference(sqlite3* db) {
  CITEKB_RETURN_IF_ERROR(
      Exec(db, absl::StrCat("CREATE VIRTUAL TABLE sentence_ref USING fts5("
                            "body, compounds, tokenize = '",
                            kFtsTokenizer, "')")));
  std::vector<std::pair<int64_t, std::string>> sentences;
  {
    CITEKB_ASSIGN_OR_RETURN(
        Statement rows,
        Statement::Prepare(db,
                           "SELECT id, text FROM sentence_texts ORDER BY id"));
    while (true) {
      CITEKB_ASSIGN_OR_RETURN(const bool row, rows.Step());
      if (!row) break;
      sentences.emplace_back(rows.ColumnInt(0), rows.ColumnText(1));
    }
  }
  CITEKB_RETURN_IF_ERROR(Exec(db, "BEGIN"));
  CITEKB_ASSIGN_OR_RETURN(
      Statement sentence,
      Statement::Prepare(db,
                         "INSERT INTO sentence_ref(rowid, body, compounds) "
                         "VALUES(?1, ?2, ?3)"));
  for (const auto& [id, text] : sentences) {
    CITEKB_RETURN_IF_ERROR(
        sentence.Bind(1, id).Bind(2, text).Bind(3, CompoundTerms(text)).Run());
  }
  return Exec(db, "COMMIT");
}

std::string MatchAnyPhrase(const std::vector<std::string>& phrases) {
  std::vector<std::string> quoted;
  for (const std::string& phrase : phrases) quoted.push_back(QuoteFts(phrase));
  return absl::StrJoin(quoted, " OR ");
}

}  // namespace citekb::testing
