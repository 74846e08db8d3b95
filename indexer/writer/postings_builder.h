// Builds the postings of one ranked table (postings_format.h) while the
// index writer fills the table itself, and writes them into the index file.
//
//   PostingsBuilder passages("passages", 3, tokenizer);
//   CITEKB_RETURN_IF_ERROR(passages.AddRow(rowid, {title, body, compounds}));
//   ...
//   // Inside the build's transaction:
//   CITEKB_RETURN_IF_ERROR(passages.Write(db));
//
// The rows come in rowid order, one text per ranked column: for passages
// the section title, the text and the joined compounds. The tokenizer is
// FTS5's, so the terms and positions are what an FTS5 table of the same
// columns would hold.
//
// Memory: the encoded postings of the whole table (about 2 bytes a posting
// plus 1 a position: ~40 MB for 10,000 articles). Not thread-safe.

#ifndef CITEKB_INDEXER_WRITER_POSTINGS_BUILDER_H_
#define CITEKB_INDEXER_WRITER_POSTINGS_BUILDER_H_

#include <sqlite3.h>

#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/fts_tokenizer.h"

namespace citekb {

class PostingsBuilder {
 public:
  // `tokenizer` must outlive the builder; `columns` is at most
  // kMaxRankedColumns.
  PostingsBuilder(std::string ranked_table, int columns,
                  const FtsTokenizer& tokenizer);

  // Adds a row; rowids must be 1, 2, 3, ... in order (as SQLite assigns
  // them to the table ranked). `columns` holds one text per
  // column.
  absl::Status AddRow(int64_t rowid,
                      absl::Span<const absl::string_view> columns);

  // Writes the rows of <ranked_table>_terms and ranked_tables (kSchemaSql
  // creates both tables).
  absl::Status Write(sqlite3* db) const;

  int64_t rows() const { return rows_; }
  int64_t terms() const { return static_cast<int64_t>(terms_.size()); }

 private:
  struct Term {
    std::string text;
    int64_t rows = 0;
    int64_t last_rowid = 0;
    std::string postings;
    std::string positions;
  };
  // One token of the row being added.
  struct Occurrence {
    uint32_t term;
    uint32_t column;
    uint32_t position;
  };

  const std::string ranked_table_;
  const int columns_;
  const FtsTokenizer& tokenizer_;
  absl::flat_hash_map<std::string, uint32_t> term_ids_;
  std::vector<Term> terms_;      // By term id, in order of first sight.
  std::vector<Occurrence> row_;  // Reused from row to row.
  std::string row_tokens_;       // Varint per row.
  int64_t rows_ = 0;
  int64_t tokens_ = 0;
};

// Feeds PostingsBuilders from a thread of its own: tokenizing every
// passage costs about what FTS5's own insert of it would, and on two cores
// it runs beside the index writer's SQLite work instead of after it.
//
//   BackgroundPostings background({&passages, &faqs});
//   background.Add([article](absl::Span<PostingsBuilder* const> builders) {
//     return builders[0]->AddRow(rowid, {title, body, compounds});
//   });
//   ...
//   CITEKB_RETURN_IF_ERROR(background.Finish());  // then Write() each builder
//
// Work runs in the order it was added. What it owns (an article, captured
// by shared_ptr) is freed on the thread too: freeing an article's many
// small strings cost the writer 6% of a build. Add waits while kMaxQueued
// items are queued, so memory stays bounded when the thread falls behind.
// One producer thread; the builders must not be used until Finish()
// returns.
class BackgroundPostings {
 public:
  using Work =
      absl::AnyInvocable<absl::Status(
                             absl::Span<PostingsBuilder* const> builders) &&>;

  explicit BackgroundPostings(std::vector<PostingsBuilder*> builders);
  // Finishes (discarding the status) if Finish() was not called.
  ~BackgroundPostings();

  BackgroundPostings(const BackgroundPostings&) = delete;
  BackgroundPostings& operator=(const BackgroundPostings&) = delete;

  // Queues `work`. After a failure, later work is dropped (not run) and
  // Finish() reports the first error.
  void Add(Work work);

  // Waits until all queued work has run; the first error, if any.
  absl::Status Finish();

  // Articles: enough to ride out one slower than the rest, with little
  // memory.
  static constexpr size_t kMaxQueued = 64;

 private:
  void Run();

  const std::vector<PostingsBuilder*> builders_;
  absl::Mutex mu_;
  std::deque<Work> queue_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  bool finished_ = false;
};

}  // namespace citekb

#endif  // CITEKB_INDEXER_WRITER_POSTINGS_BUILDER_H_
