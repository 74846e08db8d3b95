// Writes parsed articles into a new index file, atomically.
//
//   CITEKB_ASSIGN_OR_RETURN(auto writer, IndexWriter::Create("var/kb.sqlite"));
//   for (...) CITEKB_RETURN_IF_ERROR(writer->Add(article, file));
//   CITEKB_RETURN_IF_ERROR(writer->Commit());  // only now kb.sqlite changes
//
// Everything is written to a temporary file in the target's folder (so the
// final rename(2) stays on one file system) and renamed over the target only
// by Commit(), after the data is on disk. A writer destroyed without Commit(),
// a failed Add() or a killed process leave the previous index untouched;
// the destructor removes the temporary file.
//
// Not thread-safe: one writer is fed by one thread.

#ifndef CITEKB_INDEXER_WRITER_INDEX_WRITER_H_
#define CITEKB_INDEXER_WRITER_INDEX_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "indexer/article/article.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/fts_tokenizer.h"
#include "indexer/format/sqlite.h"
#include "indexer/writer/postings_builder.h"

namespace citekb {

// Where an article came from, recorded in the index's source_files table.
struct SourceFileInfo {
  std::string path;
  std::string sha256;  // Lower-case hex.
  int64_t bytes = 0;
};

// Running totals, also the build summary.
struct IndexCounts {
  int64_t articles = 0;
  int64_t sections = 0;
  int64_t passages = 0;
  int64_t sentences = 0;
  int64_t tables = 0;
  int64_t figures = 0;
  int64_t faqs = 0;
  int64_t citations = 0;      // Sentence-to-source links.
  int64_t sources = 0;        // Distinct external sources.
  int64_t related_links = 0;  // Internal link occurrences.
  int64_t warnings = 0;
};

class IndexWriter {
 public:
  static absl::StatusOr<std::unique_ptr<IndexWriter>> Create(
      const std::string& target_path);
  ~IndexWriter();

  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  // Adds one article. Fails (ALREADY_EXISTS) when another article with the
  // same id or from the same file was added. Takes the article (std::move
  // it in): its postings are made, and it is freed, on another thread.
  // A failed Add() may leave part of its article in the temporary file:
  // destroy the writer after one instead of committing.
  absl::Status Add(Article article, const SourceFileInfo& file);

  // Stores `value` under `key` in the meta table. The keys Commit() writes
  // itself (schema_version, tokenizer, built_at, articles, passages) are
  // taken.
  absl::Status SetMeta(const std::string& key, const std::string& value);

  // One stored sentence, as ResolveEvidence (stack_knowledge.h) needs it.
  struct StoredSentence {
    std::string passage_id;  // Public id, "<article id>/p<n>".
    std::string text;
    std::vector<std::string> source_ids;
  };
  // Every sentence added so far for `article_id`, in document order; empty
  // when no such article was added.
  absl::StatusOr<std::vector<StoredSentence>> ArticleSentences(
      const std::string& article_id);

  // Finishes the index and renames it over the target. The writer is spent
  // afterwards, whatever the result.
  absl::Status Commit();

  const IndexCounts& counts() const { return counts_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  struct Statements;
  struct ArticleRows;
  IndexWriter(std::string target_path, std::string temp_path, Database db);
  absl::Status Prepare();

  // The steps of Add(), in the order it takes them. Each writes one kind of
  // row, counts what it wrote, and returns the new rowids that later steps
  // refer to, by their index in the Article.
  absl::Status WriteArticle(const Article& article, const SourceFileInfo& file);
  absl::StatusOr<std::vector<int64_t>> WriteSections(const Article& article);
  absl::StatusOr<std::vector<int64_t>> WriteTables(
      const Article& article, absl::Span<const int64_t> section_rowids);
  absl::Status WriteFigures(const Article& article,
                            absl::Span<const int64_t> section_rowids);
  absl::StatusOr<std::vector<int64_t>> WritePassages(const Article& article,
                                                     const SourceFileInfo& file,
                                                     const ArticleRows& rows);
  absl::Status WriteSentences(const Passage& passage, int64_t passage_rowid,
                              const SourceFileInfo& file, size_t passage_index);
  absl::StatusOr<std::vector<int64_t>> WriteFaqs(
      const Article& article, absl::Span<const int64_t> passage_rowids);
  absl::Status WriteRelatedLinks(const Article& article,
                                 absl::Span<const int64_t> passage_rowids);
  absl::Status WriteWarnings(const Article& article);
  void QueuePostings(std::shared_ptr<const Article> article, ArticleRows rows);

  // Sources are deduplicated here and written once, by Commit(): most
  // articles cite sources others cite too, and an upsert per citation would
  // be a B-tree search per citation into a table that grows at random.
  void AddSource(Source source);
  absl::Status WriteSources();

  std::string target_path_;
  std::string temp_path_;
  Database db_;
  std::unique_ptr<Statements> statements_;
  std::unique_ptr<Transaction> transaction_;
  std::unique_ptr<FtsTokenizer> tokenizer_;
  // The postings of passages and FAQ questions (postings_format.h), filled
  // row by row as those tables are.
  std::unique_ptr<PostingsBuilder> passage_postings_;
  std::unique_ptr<PostingsBuilder> faq_postings_;
  // Fills both on a thread of its own, article by article; declared after
  // them (destroyed first, joining its thread before they go).
  std::unique_ptr<BackgroundPostings> background_postings_;
  // The first and last passage rowid of each article added (an article's
  // passages are added together, so their rowids are consecutive).
  absl::flat_hash_map<std::string, std::pair<int64_t, int64_t>>
      article_passages_;
  std::vector<Source> sources_;  // In the order first seen.
  absl::flat_hash_map<std::string, size_t>
      source_rows_;  // id -> sources_ index
  IndexCounts counts_;
  bool committed_ = false;
};

}  // namespace citekb

#endif  // CITEKB_INDEXER_WRITER_INDEX_WRITER_H_
