// The postings that citekb ranks with: an inverted index of its own over the
// rows of a table of the index file, with the columns and terms an FTS5
// table of them would have, written by the indexer (postings_builder.h) and
// held in memory by the server (service/search/retrieval_index.h). FTS5 would
// answer the same questions, but through an SQL statement per query and a
// b-tree walk per matching row; the server ranks from these in memory, with
// the very same bm25 scores.
//
// For a ranked table <table> (passages, faqs) the index file holds:
//
//   <table>_terms(id INTEGER PRIMARY KEY, term TEXT, rows INTEGER,
//                 postings BLOB, positions BLOB)
//     One row per term, as FtsTokenizer (fts_tokenizer.h) gives it; `rows`
//     is how many rows have the term in any column.
//   ranked_tables(name TEXT PRIMARY KEY, columns INTEGER, rows INTEGER,
//                 tokens INTEGER, row_tokens BLOB)
//     One row per <table>: its column count, row count, the tokens of all its
//     rows and columns (bm25's average length is tokens / rows), and
//     row_tokens: one varint per rowid from 1 to `rows`, the tokens of that
//     row in all columns (bm25's document length). Rowids are dense.
//
// `postings`, for each row that has the term, in rowid order:
//   varint  rowid - previous rowid (the previous is 0 before the first)
//   varint  (count << kColumnBits) | mask
//           mask: bit c set when column c has the term; count: how often
//           the lowest column in mask has it
//   varint  count, for each further column in mask, lowest first
// `positions`, for the same rows in the same order, for each column in mask
// (lowest first), `count` varints: the term's first token position in the
// column, then the gap to each next one. Positions are FTS5's: the n-th
// token of a column is at n - 1.
//
// Varints are LEB128 (indexer/base/varint.h).
//
// Readers check meta.schema_version (index_schema.h) before trusting any of
// this; a reader must still treat the bytes as untrusted and fail cleanly
// on a truncated or malformed blob.

#ifndef CITEKB_INDEXER_FORMAT_POSTINGS_FORMAT_H_
#define CITEKB_INDEXER_FORMAT_POSTINGS_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "indexer/base/varint.h"

namespace citekb {

// Columns a ranked table may have: the mask takes this many bits.
inline constexpr int kColumnBits = 3;
inline constexpr int kMaxRankedColumns = kColumnBits;

}  // namespace citekb

#endif  // CITEKB_INDEXER_FORMAT_POSTINGS_FORMAT_H_
