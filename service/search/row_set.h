// A set of rowids 1..n as one bit each: what a ranked table's rows having
// some phrases are (RetrievalIndex::Rows), intersected to "has every word"
// for filters such as ListCitations' cited text (Searcher::PassagesHaving).
//
//   RowSet rows(index.rows());
//   rows.Add(7);
//   rows.IntersectWith(other);
//   if (rows.Has(7)) ...
//
// Rows outside 1..n are never in the set: Add ignores them, Has says no.
// Not thread-safe to change; const methods may run concurrently.

#ifndef CITEKB_SERVICE_SEARCH_ROW_SET_H_
#define CITEKB_SERVICE_SEARCH_ROW_SET_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace citekb {

class RowSet {
 public:
  RowSet() = default;
  // An empty set for rowids 1..max_row.
  explicit RowSet(int64_t max_row)
      : max_row_(max_row < 0 ? 0 : max_row),
        words_((static_cast<size_t>(max_row_) >> 6) + 1, 0) {}

  void Add(int64_t row) {
    if (row >= 1 && row <= max_row_) {
      words_[static_cast<size_t>(row) >> 6] |= uint64_t{1} << (row & 63);
    }
  }
  bool Has(int64_t row) const {
    return row >= 1 && row <= max_row_ &&
           (words_[static_cast<size_t>(row) >> 6] >> (row & 63) & 1) != 0;
  }
  // Keeps only the rows `other` has too.
  void IntersectWith(const RowSet& other) {
    for (size_t i = 0; i < words_.size(); ++i) {
      words_[i] &= i < other.words_.size() ? other.words_[i] : 0;
    }
  }

  // Calls `visit(row)` for every row in the set, in ascending order.
  template <typename Visit>
  void ForEach(const Visit& visit) const {
    for (size_t word = 0; word < words_.size(); ++word) {
      for (uint64_t bits = words_[word]; bits != 0; bits &= bits - 1) {
        visit(static_cast<int64_t>(word << 6) + __builtin_ctzll(bits));
      }
    }
  }
  int64_t size() const {
    int64_t count = 0;
    for (uint64_t word : words_) count += __builtin_popcountll(word);
    return count;
  }
  bool empty() const { return size() == 0; }
  int64_t max_row() const { return max_row_; }

 private:
  int64_t max_row_ = 0;
  std::vector<uint64_t> words_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SEARCH_ROW_SET_H_
