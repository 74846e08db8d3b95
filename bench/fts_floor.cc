// fts_floor: the floor for index-build speed. It parses a knowledge folder
// the way citekb-index does (untimed), then times only a bare FTS5 bulk
// insert of the same passages: one FTS5 table with the index's columns
// (section title, text, joined compounds) and tokenizer, one transaction, no
// journal, no syncs, no other tables. citekb-index does the equivalent (its
// own postings of the same columns, with the same tokenizer) plus reading,
// hashing and parsing the files, the ordinary tables, the FAQ postings and
// the final fsync, so its time over this one says what the rest costs.
//
//   fts_floor --knowledge var/corpus-10k [--json floor.json]
//
// Prints passages, seconds, MB/s of article text and passages/s.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "indexer/article/article_parser.h"
#include "indexer/base/status_macros.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/compound_terms.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"

ABSL_FLAG(std::string, knowledge, "knowledge", "Folder of *.txt articles.");
ABSL_FLAG(
    std::string, scratch, "",
    "Folder for the throw-away database (default: the system's temp folder).");
ABSL_FLAG(std::string, json, "", "Also write the result as JSON to this file.");

namespace citekb {
namespace {

struct FtsRow {
  std::string section_title;
  std::string body;
  std::string compounds;
};

absl::Status Run() {
  CITEKB_ASSIGN_OR_RETURN(std::vector<std::string> files,
                          ListArticleFiles(absl::GetFlag(FLAGS_knowledge)));
  std::vector<FtsRow> rows;
  int64_t bytes = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    bytes += static_cast<int64_t>(text.str().size());
    CITEKB_ASSIGN_OR_RETURN(Article article, ParseArticle(text.str(), file));
    for (const Passage& passage : article.passages) {
      rows.push_back({article.sections[passage.section_index].title,
                      passage.text, CompoundTerms(passage.text)});
    }
  }

  std::string folder = absl::GetFlag(FLAGS_scratch);
  if (folder.empty()) folder = std::filesystem::temp_directory_path().string();
  const std::string path =
      absl::StrCat(folder, "/citekb-fts-floor-", getpid(), ".sqlite");
  std::remove(path.c_str());

  const absl::Time start = absl::Now();
  absl::Duration insert_time;
  {
    CITEKB_ASSIGN_OR_RETURN(
        Database db,
        OpenDatabase(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    // The journal and sync settings of IndexWriter::Prepare.
    CITEKB_RETURN_IF_ERROR(
        Exec(db.get(),
             "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
             "PRAGMA page_size=4096;"));
    CITEKB_RETURN_IF_ERROR(Exec(
        db.get(), absl::StrCat("CREATE VIRTUAL TABLE passage_fts USING fts5("
                               "section_title, body, compounds, tokenize = '",
                               kFtsTokenizer, "')")));
    CITEKB_RETURN_IF_ERROR(Exec(db.get(), "BEGIN"));
    CITEKB_ASSIGN_OR_RETURN(
        Statement insert,
        Statement::Prepare(
            db.get(),
            "INSERT INTO passage_fts(rowid, section_title, body, compounds) "
            "VALUES(?1, ?2, ?3, ?4)"));
    int64_t rowid = 0;
    for (const FtsRow& row : rows) {
      CITEKB_RETURN_IF_ERROR(insert.Bind(1, ++rowid)
                                 .Bind(2, row.section_title)
                                 .Bind(3, row.body)
                                 .Bind(4, row.compounds)
                                 .Run());
    }
    CITEKB_RETURN_IF_ERROR(Exec(db.get(), "COMMIT"));
    insert_time = absl::Now() - start;
  }
  std::remove(path.c_str());

  const double seconds = absl::ToDoubleSeconds(insert_time);
  absl::PrintF(
      "fts floor: %d passages from %d articles (%.1f MB of text) inserted in "
      "%.2f s: "
      "%.1f MB/s, %.0f passages/s\n",
      rows.size(), files.size(), bytes / 1e6, seconds, bytes / 1e6 / seconds,
      rows.size() / seconds);
  const std::string json_path = absl::GetFlag(FLAGS_json);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << absl::StrFormat(
        "{\"articles\": %d, \"passages\": %d, \"bytes\": %d, \"seconds\": "
        "%.4f}\n",
        files.size(), rows.size(), bytes, seconds);
    if (!out.flush()) {
      return absl::UnavailableError(
          absl::StrCat("--json: cannot write ", json_path));
    }
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace citekb

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Times a bare FTS5 bulk insert of a knowledge folder's passages.\n"
      "Usage: fts_floor --knowledge DIR");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "fts_floor: unexpected argument \"" << rest[1] << "\"\n";
    return 2;
  }
  absl::Status status = citekb::Run();
  if (!status.ok()) {
    std::cerr << "fts_floor: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
