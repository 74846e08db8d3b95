// Ranks the rows of one ranked table of an index file (passages, faqs) in
// memory, from the postings the indexer wrote for it
// (indexer/format/postings_format.h): the same rows, the same bm25 scores bit
// for bit, in the same order as an FTS5 table <fts> of the same rows, columns
// and tokenizer would give for
//
//   SELECT rowid, -bm25(<fts>, w1, w2, ...) AS score FROM <fts>
//   WHERE <fts> MATCH '"phrase 1" OR "phrase 2" OR ...'
//   ORDER BY score DESC, rowid LIMIT ? OFFSET ?
//
// but without an SQL statement per query or a b-tree lookup per matching
// row (the index keeps no FTS5 table: the tests build one to compare). It
// finds the best rows with MaxScore: phrases whose best possible
// contribution cannot lift a row into the page are only consulted for rows
// the others have already made candidates, and skipped by blocks of 128
// postings. So a question of common words does not score every passage
// that has one of them.
//
//   CITEKB_ASSIGN_OR_RETURN(auto index,
//                           RetrievalIndex::Load(db, "passages", {2, 1, 1}));
//   CITEKB_ASSIGN_OR_RETURN(RetrievalQuery query,
//                           index->Compile({{"vitamin", "d"}, {"k2"}}));
//   CITEKB_ASSIGN_OR_RETURN(std::vector<RankedRow> best,
//                           index->Rank(query, {.limit = 5}));
//
// A phrase is the terms of one quoted FTS5 string, as FtsTokenizer::Terms
// gives them; it matches a row where its terms stand at consecutive
// positions of one column. A phrase without terms, or with a term the table
// lacks, matches nothing (as in FTS5) but keeps its place in the numbering.
//
// Work is charged to the calling thread's QueryBudget (query_budget.h), one
// step per posting read; when the budget says stop, Rank and Count fail
// with its status.
//
// Thread-safe: const methods may run concurrently. Phrases of several terms
// are intersected once and remembered (a bounded cache under a mutex).

#ifndef CITEKB_SERVICE_SEARCH_RETRIEVAL_INDEX_H_
#define CITEKB_SERVICE_SEARCH_RETRIEVAL_INDEX_H_

#include <sqlite3.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "indexer/base/status_macros.h"
#include "service/search/row_set.h"

namespace citekb {

// The rows having one phrase, with how often each column has it: a term's
// postings, or a phrase's, worked out from its terms' positions. Blocks of
// kBlockSize postings record their last row and the best bm25 term weight
// in them, for skipping.
struct PostingList {
  static constexpr int kBlockSize = 128;
  struct Block {
    uint32_t last_row = 0;
    uint32_t offset = 0;    // Of the block's first posting in `postings`.
    double max_weight = 0;  // Best tf * (k1 + 1) / (tf + k1 * norm) in it.
  };
  absl::string_view postings;   // postings_format.h's `postings` encoding.
  absl::string_view positions;  // Its `positions`; empty for phrases.
  uint32_t rows = 0;
  uint32_t column_rows[3] = {0, 0, 0};  // Rows having it in each column.
  std::vector<Block> blocks;
  double max_weight = 0;
  std::string owned;  // The bytes of a phrase's list; terms' live in the index.
};

// One phrase of a compiled query: its rows (null when it matches nothing),
// its bm25 idf and its terms' ids (empty when some term is not in the
// table: then it matches nothing).
struct CompiledPhrase {
  std::shared_ptr<const PostingList> list;
  double idf = 0;
  std::vector<uint32_t> terms;
};

struct RetrievalQuery {
  std::vector<CompiledPhrase> phrases;
};

struct RankedRow {
  int64_t row = 0;
  double score = 0;  // -bm25(): higher is better.
  // With RankOptions::phrase_flags: one byte per phrase, 1 when the row has
  // it in any column.
  std::string phrases;
};

struct RankOptions {
  int64_t offset = 0;
  int64_t limit = 10;
  bool phrase_flags = false;
};

// Which rows count, for filtered rankings and counts.
using RowFilter = absl::FunctionRef<bool(int64_t row)>;

class RetrievalIndex {
 public:
  // Reads <ranked_table>_terms and its ranked_tables row from `db`.
  // `column_weights` are bm25()'s, one per column; they must be whole
  // numbers (then the weighted frequencies are exact, as FTS5 sums them).
  // DATA_LOSS for missing tables or malformed postings.
  static absl::StatusOr<std::unique_ptr<RetrievalIndex>> Load(
      sqlite3* db, absl::string_view ranked_table,
      std::vector<double> column_weights);

  // Resolves phrases (each the terms of one FTS5 phrase) into their rows.
  // Fails only when a phrase's positions are malformed (DATA_LOSS) or the
  // budget is spent.
  absl::StatusOr<RetrievalQuery> Compile(
      absl::Span<const std::vector<std::string>> phrases) const;

  // The rows having any phrase of `query` (and passing `filter`), best
  // first; equal scores in row order. At most `limit` rows after `offset`.
  absl::StatusOr<std::vector<RankedRow>> Rank(const RetrievalQuery& query,
                                              const RankOptions& options) const;
  absl::StatusOr<std::vector<RankedRow>> Rank(const RetrievalQuery& query,
                                              const RankOptions& options,
                                              RowFilter filter) const;

  // How many rows have any phrase of `query` (and pass `filter`).
  absl::StatusOr<int64_t> Count(const RetrievalQuery& query) const;
  absl::StatusOr<int64_t> Count(const RetrievalQuery& query,
                                RowFilter filter) const;
  // The rows having any phrase of `query`.
  absl::StatusOr<RowSet> Rows(const RetrievalQuery& query) const;

  // Rows in the table, and their largest rowid (rowids are 1..rows).
  int64_t rows() const { return rows_; }

  // Each term of the table with the number of rows whose `column` has it
  // (the body, for spelling correction).
  absl::flat_hash_map<std::string, int64_t> TermRows(int column) const;

  // The term's id, or -1; ids are dense from 0.
  int64_t TermId(absl::string_view term) const;

 private:
  RetrievalIndex() = default;
  absl::Status LoadTerms(sqlite3* db, absl::string_view ranked_table);
  // Reads the postings once: checks them and fills each block's bounds.
  absl::Status IndexBlocks(PostingList& list) const;
  // A phrase's list (of two terms or more), from the cache or intersected.
  absl::StatusOr<std::shared_ptr<const PostingList>> PhraseList(
      const std::vector<uint32_t>& terms) const;
  // Works out a phrase's list from its terms' positions.
  absl::StatusOr<std::shared_ptr<const PostingList>> IntersectPositions(
      const std::vector<uint32_t>& terms) const;
  double Idf(int64_t rows_with_phrase) const;
  // Rank's work. `accept` is a lambda rather than a RowFilter, so that a
  // ranking without a filter costs no call per row.
  template <typename Filter>
  absl::StatusOr<std::vector<RankedRow>> RankRows(const RetrievalQuery& query,
                                                  const RankOptions& options,
                                                  const Filter& accept) const;

  int columns_ = 0;
  std::vector<double> column_weights_;
  int64_t rows_ = 0;
  double average_tokens_ = 0;
  // bm25's k1 * (1 - b + b * tokens / average), per row (index: rowid).
  std::vector<double> norms_;
  std::string postings_;   // All terms' postings, then
  std::string positions_;  // all their positions, back to back.
  absl::flat_hash_map<std::string, uint32_t> term_ids_;
  std::vector<std::string> term_text_;
  std::vector<std::shared_ptr<const PostingList>> terms_;  // By id.

  // Phrases of several terms, intersected once: least recently used first.
  static constexpr size_t kMaxCachedPhraseBytes = 8 << 20;
  struct CachedPhrase {
    std::vector<uint32_t> terms;
    std::shared_ptr<const PostingList> list;
  };
  mutable absl::Mutex phrases_mu_;
  mutable std::list<CachedPhrase> phrase_lru_ ABSL_GUARDED_BY(phrases_mu_);
  mutable size_t cached_phrase_bytes_ ABSL_GUARDED_BY(phrases_mu_) = 0;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SEARCH_RETRIEVAL_INDEX_H_
