// Builds an index from a knowledge folder: every `*.txt` article directly in
// the folder, in name order, parsed (article_parser.h) and written
// (index_writer.h) into one index file that replaces `out_path` atomically.
// When the folder has them, the safety references and the stack rules
// (stack_knowledge.h) are added too: the references as one more article,
// the rules checked against the indexed text and stored with it.
//
//   absl::StatusOr<IndexSummary> summary = BuildIndex(
//       {.knowledge_dir = "knowledge", .out_path = "var/kb.sqlite"});
//
// The files are read and parsed on a second thread, a few articles ahead of
// the one writing the index; everything else (progress calls, the order of
// warnings and errors) is as if one thread did it all.
//
// Errors name the file (and line, for parse errors): a missing folder, a
// folder with no articles, an unreadable or malformed article. On any error
// the previous index at `out_path` is left as it was.

#ifndef CITEKB_INDEXER_CORPUS_INDEXER_H_
#define CITEKB_INDEXER_CORPUS_INDEXER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "indexer/writer/index_writer.h"

namespace citekb {

struct IndexProgress {
  int64_t files_done = 0;
  int64_t files_total = 0;
  int64_t bytes_done = 0;
  int64_t bytes_total = 0;
};

struct BuildOptions {
  std::string knowledge_dir;
  std::string out_path;
  // Called after each article is added (from the building thread).
  std::function<void(const IndexProgress&)> on_progress;
};

struct IndexSummary {
  IndexCounts counts;
  std::vector<std::string> warnings;  // "file:line: reason"
  int64_t milliseconds = 0;
};

absl::StatusOr<IndexSummary> BuildIndex(const BuildOptions& options);

// The article files BuildIndex would read, sorted.
absl::StatusOr<std::vector<std::string>> ListArticleFiles(
    const std::string& knowledge_dir);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

}  // namespace citekb

#endif  // CITEKB_INDEXER_CORPUS_INDEXER_H_
