#include "service/search/retrieval_index.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/postings_format.h"
#include "indexer/format/sqlite.h"
#include "service/store/query_budget.h"

namespace citekb {
namespace {

// bm25's constants, as FTS5's bm25() has them.
constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

// A bound is trusted to prune only when it falls short of the threshold by
// more than rounding could explain: bounds add the same terms as exact
// scores, in another order.
constexpr double kBoundSlack = 1e-9;

constexpr uint32_t kNoRow = std::numeric_limits<uint32_t>::max();

// bm25's weight of a phrase in a row, before idf: FTS5's
// (f * (k1 + 1)) / (f + k1 * (1 - b + b * D / avgdl)), with the row's
// k1 * (...) precomputed (the same operations, so the same double).
double Weight(double frequency, double norm) {
  return (frequency * (kK1 + 1.0)) / (frequency + norm);
}

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("the index's postings are damaged (",
                                          what,
                                          "): rebuild it with citekb-index"));
}

// One posting, decoded.
struct Posting {
  uint32_t row = 0;
  uint32_t counts[kMaxRankedColumns] = {0, 0, 0};
  uint32_t mask = 0;
};

// Decodes the posting at `*p`, whose row follows `base`. False when the
// bytes are malformed (checked once at load; phrase lists are our own).
inline bool CheckedVarint(const char** p, const char* end, uint64_t* value) {
  if (*p < end && static_cast<uint8_t>(**p) < 0x80) {  // Most are one byte.
    *value = static_cast<uint8_t>(*(*p)++);
    return true;
  }
  return ReadVarint(p, end, value);
}

inline bool DecodePosting(const char** p, const char* end, uint32_t base,
                          int columns, Posting* out) {
  uint64_t delta = 0;
  uint64_t first = 0;
  if (!CheckedVarint(p, end, &delta) || !CheckedVarint(p, end, &first)) {
    return false;
  }
  const uint64_t mask = first & ((1u << kColumnBits) - 1);
  if (delta == 0 || base + delta > kNoRow - 1 || mask == 0 ||
      mask >> columns != 0) {
    return false;
  }
  out->row = static_cast<uint32_t>(base + delta);
  out->mask = static_cast<uint32_t>(mask);
  out->counts[0] = out->counts[1] = out->counts[2] = 0;
  uint64_t count = first >> kColumnBits;
  if ((mask & (mask - 1)) == 0) {  // One column, nearly always the body.
    if (count == 0 || count > kNoRow) return false;
    out->counts[__builtin_ctzll(mask)] = static_cast<uint32_t>(count);
    return true;
  }
  for (int c = 0; c < columns; ++c) {
    if ((mask & (1u << c)) == 0) continue;
    if (count == 0 || count > kNoRow) return false;
    out->counts[c] = static_cast<uint32_t>(count);
    count = 0;
    if ((mask >> (c + 1)) != 0 && !CheckedVarint(p, end, &count)) return false;
  }
  return true;
}

// Ranking order: the higher score first, equal scores in row order. As a
// heap's comparison it keeps the worst row on top.
bool Better(const RankedRow& a, const RankedRow& b) {
  return a.score > b.score || (a.score == b.score && a.row < b.row);
}

// Charges postings read to the calling thread's budget, a batch at a time.
class BudgetMeter {
 public:
  BudgetMeter() : budget_(QueryBudget::Current()) {}
  // False once the budget says stop.
  bool Count(int64_t postings) {
    pending_ += postings;
    if (pending_ < kBatch) return true;
    return Flush();
  }
  bool Flush() {
    const int64_t charge = pending_;
    pending_ = 0;
    return budget_ == nullptr || budget_->Charge(charge);
  }
  // Why it stopped: the budget's status.
  absl::Status status() const {
    return budget_ == nullptr ? absl::OkStatus() : budget_->status();
  }

 private:
  static constexpr int64_t kBatch = 4096;
  QueryBudget* const budget_;
  int64_t pending_ = 0;
};

// Reads one varint of a list already checked at load (IndexBlocks): most
// are one byte.
inline uint64_t FastVarint(const char*& p, const char* end) {
  const auto byte = static_cast<uint8_t>(*p);
  if (byte < 0x80) {
    ++p;
    return byte;
  }
  uint64_t value = 0;
  if (!ReadVarint(&p, end, &value)) p = end;  // Cannot happen: checked.
  return value;
}

// Walks one posting list forward. Blocks are decoded only when a row in
// them is needed, all at once, into rows and weighted frequencies; seeking
// past a block, or asking what a block could score, decodes nothing.
class Cursor {
 public:
  // `weights` are the column weights; postings decoded are added to
  // `*decoded`.
  Cursor(const PostingList& list, const std::vector<double>& weights,
         int64_t* decoded)
      : list_(&list), weights_(&weights), decoded_(decoded) {
    Enter(0);
  }

  // The current row, kNoRow past the end.
  uint32_t row() {
    if (!ready_) Decode();
    return rows_[at_];
  }
  // The current row's weighted frequency: the sum over columns of weight
  // times count.
  double frequency() {
    if (!ready_) Decode();
    return frequencies_[at_];
  }

  void Next() {
    if (!ready_) Decode();
    if (rows_[at_] == kNoRow) return;
    if (++at_ == size_) Enter(block_ + 1);
  }

  // Moves to the first posting whose row is at least `target`; decodes
  // nothing until the row is asked for.
  void SeekAtLeast(uint32_t target) {
    if (ready_ && rows_[at_] >= target) return;
    if (!ready_ && pending_ >= target) return;
    const auto& blocks = list_->blocks;
    if (block_ < blocks.size() && blocks[block_].last_row >= target) {
      if (ready_) {
        while (rows_[at_] < target) ++at_;  // The block's last row is >= it.
      } else {
        pending_ = target;
      }
      return;
    }
    size_t block = block_ + 1;
    while (block < blocks.size() && blocks[block].last_row < target) ++block;
    Enter(block);
    if (pending_ < target) pending_ = target;
  }

  // The best weight (before idf) this list can give `target` or any row
  // after it in the same block: its block's bound, 0 past the end. Rows
  // asked about only grow, so the search starts where the last one ended.
  double BoundAt(uint32_t target) {
    const auto& blocks = list_->blocks;
    size_t block = std::max(bound_block_, block_);
    while (block < blocks.size() && blocks[block].last_row < target) ++block;
    bound_block_ = block;
    return block < blocks.size() ? blocks[block].max_weight : 0;
  }

 private:
  // Positions the cursor at the start of `block`, undecoded.
  void Enter(size_t block) {
    const auto& blocks = list_->blocks;
    block_ = block;
    ready_ = false;
    if (block >= blocks.size()) {
      rows_[0] = kNoRow;
      at_ = 0;
      size_ = 1;
      ready_ = true;
      pending_ = kNoRow;
      return;
    }
    pending_ = block == 0 ? 1 : blocks[block - 1].last_row + 1;
  }

  void Decode() {
    const auto& blocks = list_->blocks;
    const char* data = list_->postings.data();
    const char* p = data + blocks[block_].offset;
    const char* end = block_ + 1 < blocks.size()
                          ? data + blocks[block_ + 1].offset
                          : data + list_->postings.size();
    uint32_t row = block_ == 0 ? 0 : blocks[block_ - 1].last_row;
    const double* weights = weights_->data();
    const int columns = static_cast<int>(weights_->size());
    size_ = 0;
    while (p < end && size_ < PostingList::kBlockSize) {
      row += static_cast<uint32_t>(FastVarint(p, end));
      const uint64_t first = FastVarint(p, end);
      const uint32_t mask =
          static_cast<uint32_t>(first) & ((1u << kColumnBits) - 1);
      // The weighted sum, column by column as FTS5 adds it; nearly every
      // posting has one column, which needs no loop.
      double frequency = 0;
      if ((mask & (mask - 1)) == 0) {
        frequency += weights[__builtin_ctz(mask)] *
                     static_cast<double>(first >> kColumnBits);
      } else {
        bool lowest = true;
        for (int c = 0; c < columns; ++c) {
          if ((mask & (1u << c)) == 0) continue;
          const uint64_t count =
              lowest ? first >> kColumnBits : FastVarint(p, end);
          frequency += weights[c] * static_cast<double>(count);
          lowest = false;
        }
      }
      rows_[size_] = row;
      frequencies_[size_] = frequency;
      ++size_;
    }
    *decoded_ += static_cast<int64_t>(size_);
    ready_ = true;
    at_ = 0;
    if (size_ == 0) {  // Cannot happen: blocks are never empty.
      rows_[0] = kNoRow;
      size_ = 1;
      return;
    }
    while (at_ + 1 < size_ && rows_[at_] < pending_) ++at_;
  }

  const PostingList* list_;
  const std::vector<double>* weights_;
  int64_t* decoded_;
  size_t block_ = 0;
  size_t bound_block_ = 0;
  bool ready_ = false;
  uint32_t pending_ = 0;  // Undecoded: the least row the cursor may be at.
  size_t at_ = 0;
  size_t size_ = 0;
  uint32_t rows_[PostingList::kBlockSize];
  double frequencies_[PostingList::kBlockSize];
};

using ColumnPositions = std::array<std::vector<uint32_t>, kMaxRankedColumns>;

// Reads the positions of consecutive postings of one term, in step with
// its postings.
class PositionReader {
 public:
  explicit PositionReader(absl::string_view positions)
      : p_(positions.data()), end_(positions.data() + positions.size()) {}

  // The positions of `posting` in column order: one vector per column
  // (empty for columns without the term). False when malformed.
  bool Read(const Posting& posting, ColumnPositions& out) {
    for (int c = 0; c < kMaxRankedColumns; ++c) {
      out[c].clear();
      uint64_t position = 0;
      for (uint32_t i = 0; i < posting.counts[c]; ++i) {
        uint64_t gap = 0;
        if (!ReadVarint(&p_, end_, &gap)) return false;
        position = i == 0 ? gap : position + gap;
        if (position > kNoRow) return false;
        out[c].push_back(static_cast<uint32_t>(position));
      }
    }
    return true;
  }
  // Skips the positions of `posting`.
  bool Skip(const Posting& posting) {
    const uint64_t n =
        uint64_t{posting.counts[0]} + posting.counts[1] + posting.counts[2];
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t ignored = 0;
      if (!ReadVarint(&p_, end_, &ignored)) return false;
    }
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

// One term's postings and positions, read in step (IntersectPositions).
class TermWalk {
 public:
  TermWalk(const PostingList& list, int columns)
      : p_(list.postings.data()),
        end_(list.postings.data() + list.postings.size()),
        columns_(columns),
        positions_(list.positions) {}

  // Moves to the next posting, or past the last (then done()). False when
  // the posting is malformed.
  bool Advance() {
    if (p_ == end_) {
      done_ = true;
      return true;
    }
    return DecodePosting(&p_, end_, posting_.row, columns_, &posting_);
  }
  bool done() const { return done_; }
  uint32_t row() const { return posting_.row; }

  // The current posting's positions, per column; or skips them. Each
  // posting's positions must be read or skipped once, before Advance().
  // False when malformed.
  bool ReadPositions(ColumnPositions& out) {
    return positions_.Read(posting_, out);
  }
  bool SkipPositions() { return positions_.Skip(posting_); }

 private:
  const char* p_;
  const char* end_;
  int columns_;
  PositionReader positions_;
  Posting posting_;
  bool done_ = false;
};

// How often a phrase occurs in each column of a row that all its terms
// have, from the terms' positions there (`positions[i]` are term i's): at
// p when term i is at p + i for every i.
void CountPhraseOccurrences(const std::vector<ColumnPositions>& positions,
                            int columns, uint32_t counts[kMaxRankedColumns]) {
  for (int c = 0; c < columns; ++c) {
    for (uint32_t start : positions[0][c]) {
      bool all = true;
      for (size_t w = 1; w < positions.size() && all; ++w) {
        all = std::binary_search(positions[w][c].begin(), positions[w][c].end(),
                                 start + static_cast<uint32_t>(w));
      }
      if (all) ++counts[c];
    }
  }
}

// Appends a phrase's posting for `row` to `out` in postings_format.h's
// encoding (the gap from `previous_row`, then the counts of the columns
// having it, the first with the column mask), and returns true; returns
// false, appending nothing, when no column has the phrase.
bool AppendPhrasePosting(uint32_t row, uint32_t previous_row,
                         const uint32_t counts[kMaxRankedColumns], int columns,
                         std::string& out) {
  uint32_t mask = 0;
  for (int c = 0; c < columns; ++c) {
    if (counts[c] > 0) mask |= 1u << c;
  }
  if (mask == 0) return false;
  AppendVarint(out, row - previous_row);
  bool first = true;
  for (int c = 0; c < columns; ++c) {
    if (counts[c] == 0) continue;
    AppendVarint(
        out, first ? (uint64_t{counts[c]} << kColumnBits) | mask : counts[c]);
    first = false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RetrievalIndex>> RetrievalIndex::Load(
    sqlite3* db, absl::string_view ranked_table,
    std::vector<double> column_weights) {
  // The name is spliced into SQL: it comes from our code, but say so.
  if (ranked_table.empty() ||
      !std::all_of(ranked_table.begin(), ranked_table.end(), [](char c) {
        return absl::ascii_islower(static_cast<unsigned char>(c)) || c == '_';
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad table name \"", ranked_table, "\""));
  }
  if (column_weights.empty() || column_weights.size() > kMaxRankedColumns) {
    return absl::InvalidArgumentError("a ranked table has 1 to 3 columns");
  }
  for (double weight : column_weights) {
    if (!(weight >= 0) || weight > (1 << 20) || weight != std::floor(weight)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "column weight ", weight, " is not a small whole number"));
    }
  }
  auto index = std::unique_ptr<RetrievalIndex>(new RetrievalIndex());
  index->column_weights_ = std::move(column_weights);
  index->columns_ = static_cast<int>(index->column_weights_.size());
  {
    CITEKB_ASSIGN_OR_RETURN(
        Statement table,
        Statement::Prepare(
            db,
            "SELECT columns, rows, tokens, row_tokens FROM ranked_tables "
            "WHERE name = ?1"));
    table.Bind(1, ranked_table);
    CITEKB_ASSIGN_OR_RETURN(bool found, table.Step());
    if (!found)
      return Malformed(absl::StrCat("no postings for ", ranked_table));
    if (table.ColumnInt(0) != index->columns_) {
      return Malformed(absl::StrCat(ranked_table, " has ", table.ColumnInt(0),
                                    " columns, not ", index->columns_));
    }
    const int64_t rows = table.ColumnInt(1);
    const int64_t tokens = table.ColumnInt(2);
    if (rows < 0 || rows >= kNoRow || tokens < 0)
      return Malformed("row counts");
    index->rows_ = rows;
    index->average_tokens_ =
        rows > 0 ? static_cast<double>(tokens) / static_cast<double>(rows) : 0;
    absl::string_view lengths = table.ColumnBlob(3);
    const char* p = lengths.data();
    const char* end = p + lengths.size();
    index->norms_.assign(static_cast<size_t>(rows) + 1, 0);
    for (int64_t row = 1; row <= rows; ++row) {
      uint64_t row_tokens = 0;
      if (!ReadVarint(&p, end, &row_tokens)) return Malformed("row lengths");
      index->norms_[static_cast<size_t>(row)] =
          kK1 * (1 - kB +
                 kB * static_cast<double>(row_tokens) / index->average_tokens_);
    }
    if (p != end) return Malformed("row lengths");
  }
  CITEKB_RETURN_IF_ERROR(index->LoadTerms(db, ranked_table));
  return index;
}

absl::Status RetrievalIndex::LoadTerms(sqlite3* db,
                                       absl::string_view ranked_table) {
  const std::string terms_table = absl::StrCat(ranked_table, "_terms");
  {
    CITEKB_ASSIGN_OR_RETURN(
        Statement sizes,
        Statement::Prepare(
            db, absl::StrCat("SELECT count(*), total(length(postings)), "
                             "total(length(positions)) FROM ",
                             terms_table)));
    CITEKB_ASSIGN_OR_RETURN(bool row, sizes.Step());
    if (!row) return Malformed(terms_table);
    // Reserved once, so that the lists' views into them stay put.
    postings_.reserve(static_cast<size_t>(sizes.ColumnDouble(1)));
    positions_.reserve(static_cast<size_t>(sizes.ColumnDouble(2)));
    term_text_.reserve(static_cast<size_t>(sizes.ColumnInt(0)));
  }
  CITEKB_ASSIGN_OR_RETURN(
      Statement terms,
      Statement::Prepare(
          db, absl::StrCat("SELECT id, term, rows, postings, positions FROM ",
                           terms_table, " ORDER BY id")));
  std::vector<std::pair<size_t, size_t>> postings_at, positions_at;
  std::vector<int64_t> rows;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, terms.Step());
    if (!row) break;
    const int64_t id = terms.ColumnInt(0);
    if (id != static_cast<int64_t>(term_text_.size()) + 1)
      return Malformed("term ids");
    absl::string_view postings = terms.ColumnBlob(3);
    absl::string_view positions = terms.ColumnBlob(4);
    if (postings_.size() + postings.size() > postings_.capacity() ||
        positions_.size() + positions.size() > positions_.capacity()) {
      return Malformed(
          "sizes");  // The table changed under us: impossible read-only.
    }
    postings_at.emplace_back(postings_.size(), postings.size());
    positions_at.emplace_back(positions_.size(), positions.size());
    postings_.append(postings.data(), postings.size());
    positions_.append(positions.data(), positions.size());
    rows.push_back(terms.ColumnInt(2));
    const auto [it, added] = term_ids_.try_emplace(
        terms.ColumnText(1), static_cast<uint32_t>(term_text_.size()));
    if (!added) return Malformed("a term listed twice");
    term_text_.emplace_back(terms.ColumnText(1));
  }
  terms_.reserve(term_text_.size());
  for (size_t id = 0; id < term_text_.size(); ++id) {
    auto list = std::make_shared<PostingList>();
    list->postings = absl::string_view(postings_).substr(
        postings_at[id].first, postings_at[id].second);
    list->positions =
        absl::string_view(positions_)
            .substr(positions_at[id].first, positions_at[id].second);
    CITEKB_RETURN_IF_ERROR(IndexBlocks(*list));
    if (list->rows != rows[id])
      return Malformed(absl::StrCat("the rows of ", term_text_[id]));
    terms_.push_back(std::move(list));
  }
  return absl::OkStatus();
}

absl::Status RetrievalIndex::IndexBlocks(PostingList& list) const {
  list.blocks.clear();
  list.rows = 0;
  list.max_weight = 0;
  std::fill(std::begin(list.column_rows), std::end(list.column_rows), 0);
  const char* data = list.postings.data();
  const char* p = data;
  const char* end = data + list.postings.size();
  const double* weights = column_weights_.data();
  Posting posting;
  PostingList::Block* block = nullptr;
  while (p < end) {
    const char* start = p;
    if (!DecodePosting(&p, end, posting.row, columns_, &posting) ||
        posting.row > rows_) {
      return Malformed("a posting");
    }
    if (list.rows % PostingList::kBlockSize == 0) {
      block = &list.blocks.emplace_back();
      block->offset = static_cast<uint32_t>(start - data);
    }
    block->last_row = posting.row;
    double frequency = 0;
    for (uint32_t bits = posting.mask; bits != 0; bits &= bits - 1) {
      const int c = __builtin_ctz(bits);
      ++list.column_rows[c];
      frequency += weights[c] * posting.counts[c];
    }
    block->max_weight =
        std::max(block->max_weight, Weight(frequency, norms_[posting.row]));
    ++list.rows;
  }
  for (const PostingList::Block& b : list.blocks) {
    list.max_weight = std::max(list.max_weight, b.max_weight);
  }
  return absl::OkStatus();
}

double RetrievalIndex::Idf(int64_t rows_with_phrase) const {
  // bm25()'s idf, with its floor for phrases in most rows.
  double idf = std::log((static_cast<double>(rows_ - rows_with_phrase) + 0.5) /
                        (static_cast<double>(rows_with_phrase) + 0.5));
  if (idf <= 0.0) idf = 1e-6;
  return idf;
}

int64_t RetrievalIndex::TermId(absl::string_view term) const {
  auto it = term_ids_.find(term);
  if (it == term_ids_.end()) return -1;
  return it->second;
}

absl::flat_hash_map<std::string, int64_t> RetrievalIndex::TermRows(
    int column) const {
  absl::flat_hash_map<std::string, int64_t> rows;
  if (column < 0 || column >= columns_) return rows;
  for (size_t id = 0; id < terms_.size(); ++id) {
    const uint32_t count = terms_[id]->column_rows[column];
    if (count > 0) rows.emplace(term_text_[id], count);
  }
  return rows;
}

absl::StatusOr<RetrievalQuery> RetrievalIndex::Compile(
    absl::Span<const std::vector<std::string>> phrases) const {
  RetrievalQuery query;
  query.phrases.reserve(phrases.size());
  for (const std::vector<std::string>& terms : phrases) {
    std::vector<uint32_t> ids;
    for (const std::string& term : terms) {
      const int64_t id = TermId(term);
      if (id < 0) {
        ids.clear();
        break;
      }
      ids.push_back(static_cast<uint32_t>(id));
    }
    CompiledPhrase& phrase = query.phrases.emplace_back();
    if (ids.empty()) {
      phrase.idf = Idf(0);
      continue;
    }
    if (ids.size() == 1) {
      phrase.list = terms_[ids[0]];
    } else {
      CITEKB_ASSIGN_OR_RETURN(phrase.list, PhraseList(ids));
    }
    phrase.idf = Idf(phrase.list->rows);
    if (phrase.list->rows == 0) phrase.list = nullptr;
    phrase.terms = std::move(ids);
  }
  return query;
}

absl::StatusOr<std::shared_ptr<const PostingList>> RetrievalIndex::PhraseList(
    const std::vector<uint32_t>& terms) const {
  {
    absl::MutexLock lock(&phrases_mu_);
    for (auto it = phrase_lru_.begin(); it != phrase_lru_.end(); ++it) {
      if (it->terms == terms) {
        phrase_lru_.splice(phrase_lru_.end(), phrase_lru_,
                           it);  // Now most recent.
        return it->list;
      }
    }
  }
  CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const PostingList> list,
                          IntersectPositions(terms));
  absl::MutexLock lock(&phrases_mu_);
  cached_phrase_bytes_ += list->owned.size() + sizeof(CachedPhrase);
  phrase_lru_.push_back({terms, list});
  while (cached_phrase_bytes_ > kMaxCachedPhraseBytes &&
         phrase_lru_.size() > 1) {
    cached_phrase_bytes_ -=
        phrase_lru_.front().list->owned.size() + sizeof(CachedPhrase);
    phrase_lru_.pop_front();
  }
  return list;
}

absl::StatusOr<std::shared_ptr<const PostingList>>
RetrievalIndex::IntersectPositions(const std::vector<uint32_t>& terms) const {
  // Every term's postings and positions are read in step, row by row: only
  // a row that every term has can hold the phrase.
  std::vector<TermWalk> walks;
  walks.reserve(terms.size());
  for (uint32_t id : terms) {
    walks.emplace_back(*terms_[id], columns_);
    if (!walks.back().Advance()) return Malformed("a posting");
  }
  BudgetMeter meter;
  auto list = std::make_shared<PostingList>();
  uint32_t last_row = 0;
  std::vector<ColumnPositions> positions(walks.size());
  while (std::none_of(walks.begin(), walks.end(),
                      [](const TermWalk& w) { return w.done(); })) {
    uint32_t lowest = kNoRow;
    uint32_t highest = 0;
    for (const TermWalk& walk : walks) {
      lowest = std::min(lowest, walk.row());
      highest = std::max(highest, walk.row());
    }
    if (!meter.Count(static_cast<int64_t>(walks.size()))) return meter.status();
    if (lowest != highest) {
      // Some term lacks the lowest row: the terms at it move on.
      for (TermWalk& walk : walks) {
        if (walk.row() != lowest) continue;
        if (!walk.SkipPositions() || !walk.Advance()) {
          return Malformed("positions");
        }
      }
      continue;
    }
    for (size_t w = 0; w < walks.size(); ++w) {
      if (!walks[w].ReadPositions(positions[w])) return Malformed("positions");
    }
    uint32_t counts[kMaxRankedColumns] = {0, 0, 0};
    CountPhraseOccurrences(positions, columns_, counts);
    if (AppendPhrasePosting(lowest, last_row, counts, columns_, list->owned)) {
      last_row = lowest;
    }
    for (TermWalk& walk : walks) {
      if (!walk.Advance()) return Malformed("a posting");
    }
  }
  if (!meter.Flush()) return meter.status();
  list->postings = list->owned;
  CITEKB_RETURN_IF_ERROR(IndexBlocks(*list));
  return std::shared_ptr<const PostingList>(std::move(list));
}

namespace {

// MaxScore, document at a time, over the lists of one query. The lists are
// ordered by the most they can add to a row (idf times the list's best
// weight), least first; the longest prefix of them that together cannot
// lift a row above the threshold (the worst kept score) is "non-essential":
// a row they alone have cannot make the page, so candidates come from the
// other lists only, and the non-essential lists are consulted for a
// candidate only while its score could still make it (bounded by their
// blocks that would hold it).
template <typename Filter>
class MaxScoreRanking {
 public:
  // Keeps the best `keep` rows (at least one) that `accept` accepts; with
  // `phrase_flags`, each with the phrases it has.
  MaxScoreRanking(const RetrievalQuery& query,
                  const std::vector<double>& column_weights,
                  const std::vector<double>& norms, size_t keep,
                  bool phrase_flags, const Filter& accept);
  MaxScoreRanking(const MaxScoreRanking&) = delete;
  MaxScoreRanking& operator=(const MaxScoreRanking&) = delete;

  // The best rows, as a heap (worst on top), or the budget's status when it
  // stops the ranking first. Call once.
  absl::StatusOr<std::vector<RankedRow>> Run();

 private:
  // Postings decoded between charges to the budget.
  static constexpr int64_t kChargeEvery = 4096;

  uint32_t ReadEssential(uint32_t row, double norm, bool wanted,
                         double* partial);
  bool ReadNonEssential(uint32_t row, double norm, double partial);
  void Add(size_t list, double norm, double* partial);
  double ExactScore(double norm) const;
  void Keep(uint32_t row, double score);
  uint32_t LeastEssentialRow();

  const RetrievalQuery& query_;
  const std::vector<double>& norms_;
  const size_t keep_;
  const bool phrase_flags_;
  const Filter& accept_;
  int64_t decoded_ = 0;  // Postings the cursors have decoded.

  // Per list, least bound first: its phrase (an index into the query), its
  // cursor, its idf, and the sum of its bound and those before it.
  std::vector<size_t> order_;
  std::vector<Cursor> cursors_;
  std::vector<double> idf_;
  std::vector<double> bound_through_;
  // The lists before it are non-essential.
  size_t first_essential_ = 0;

  // The best rows so far; the worst on top (lowest score, then highest row).
  std::vector<RankedRow> best_;
  // What a row must exceed to make the page once `keep_` rows are kept (the
  // worst kept score); -1 before. Only bounds are held to it, strictly, so
  // a row that ties it is still scored.
  double threshold_ = -1;

  // The candidate being scored, per phrase in query order: the weighted
  // frequency of the phrase in it, and whether it has the phrase (0 or 1;
  // not a byte, because a store through a byte may alias any member, and
  // the ranking loop would then reload them all after each).
  std::vector<double> frequency_;
  std::vector<uint32_t> has_;
  // Per non-essential list, what its block could add to the candidate.
  std::vector<double> block_bound_;
};

template <typename Filter>
MaxScoreRanking<Filter>::MaxScoreRanking(
    const RetrievalQuery& query, const std::vector<double>& column_weights,
    const std::vector<double>& norms, size_t keep, bool phrase_flags,
    const Filter& accept)
    : query_(query),
      norms_(norms),
      keep_(keep),
      phrase_flags_(phrase_flags),
      accept_(accept),
      frequency_(query.phrases.size(), 0),
      has_(query.phrases.size(), 0) {
  for (size_t i = 0; i < query.phrases.size(); ++i) {
    if (query.phrases[i].list != nullptr) order_.push_back(i);
  }
  auto bound = [&](size_t phrase) {
    return query.phrases[phrase].idf * query.phrases[phrase].list->max_weight;
  };
  // Stable: lists with equal bounds stay in query order.
  std::stable_sort(order_.begin(), order_.end(),
                   [&](size_t a, size_t b) { return bound(a) < bound(b); });
  cursors_.reserve(order_.size());
  double sum = 0;
  for (size_t phrase : order_) {
    cursors_.emplace_back(*query.phrases[phrase].list, column_weights,
                          &decoded_);
    idf_.push_back(query.phrases[phrase].idf);
    sum += bound(phrase);
    bound_through_.push_back(sum);
  }
  block_bound_.assign(order_.size(), 0);
  best_.reserve(keep + 1);
}

// Candidate by candidate: the essential lists' part, then the non-essential
// lists' while the row could still make the page, then the exact score.
template <typename Filter>
absl::StatusOr<std::vector<RankedRow>> MaxScoreRanking<Filter>::Run() {
  BudgetMeter meter;
  int64_t charged = 0;
  uint32_t row = LeastEssentialRow();
  while (row != kNoRow) {
    const double norm = norms_[row];
    const bool wanted = accept_(row);
    double partial = 0;
    uint32_t next = ReadEssential(row, norm, wanted, &partial);
    if (wanted) {
      if (ReadNonEssential(row, norm, partial)) {
        const size_t essential_before = first_essential_;
        Keep(row, ExactScore(norm));
        // A list that turned non-essential no longer leads: the next
        // candidate is the least row of those still essential.
        if (first_essential_ != essential_before) next = LeastEssentialRow();
      }
      std::fill(has_.begin(), has_.end(), 0);
    }
    row = next;
    if (decoded_ - charged >= kChargeEvery) {
      if (!meter.Count(decoded_ - charged)) return meter.status();
      charged = decoded_;
    }
  }
  if (!meter.Count(decoded_ - charged) || !meter.Flush()) {
    return meter.status();
  }
  return std::move(best_);
}

// The essential lists at `row` give their part (when the row is `wanted`)
// and move on; returns the least row they then stand at, the next
// candidate.
template <typename Filter>
uint32_t MaxScoreRanking<Filter>::ReadEssential(uint32_t row, double norm,
                                                bool wanted, double* partial) {
  uint32_t next = kNoRow;
  for (size_t i = first_essential_; i < cursors_.size(); ++i) {
    Cursor& cursor = cursors_[i];
    if (cursor.row() == row) {
      if (wanted) Add(i, norm, partial);
      cursor.Next();
    }
    next = std::min(next, cursor.row());
  }
  return next;
}

// Decides whether `row`, with `partial` from the essential lists, can still
// make the page: the non-essential lists are read at it, the most
// promising first, only while what they could still add (their blocks'
// bounds) could lift it over the threshold. False as soon as it cannot.
template <typename Filter>
bool MaxScoreRanking<Filter>::ReadNonEssential(uint32_t row, double norm,
                                               double partial) {
  double rest = 0;
  for (size_t i = 0; i < first_essential_; ++i) {
    block_bound_[i] = idf_[i] * cursors_[i].BoundAt(row);
    rest += block_bound_[i];
  }
  for (size_t i = first_essential_; i-- > 0;) {
    if ((partial + rest) * (1 + kBoundSlack) < threshold_) return false;
    rest -= block_bound_[i];
    Cursor& cursor = cursors_[i];
    cursor.SeekAtLeast(row);
    if (cursor.row() == row) Add(i, norm, &partial);
  }
  return partial * (1 + kBoundSlack) >= threshold_;
}

// Records that the candidate has list `i`'s phrase, at the frequency its
// cursor stands at, and adds the phrase's score to `*partial`.
template <typename Filter>
void MaxScoreRanking<Filter>::Add(size_t i, double norm, double* partial) {
  const double f = cursors_[i].frequency();
  frequency_[order_[i]] = f;
  has_[order_[i]] = 1;
  *partial += idf_[i] * Weight(f, norm);
}

// The candidate's exact score: bm25()'s sum, phrase by phrase in query
// order (not the lists' order the partial sums take), so that the double
// is FTS5's.
template <typename Filter>
double MaxScoreRanking<Filter>::ExactScore(double norm) const {
  double score = 0;
  for (size_t phrase = 0; phrase < has_.size(); ++phrase) {
    if (has_[phrase]) {
      score += query_.phrases[phrase].idf * Weight(frequency_[phrase], norm);
    }
  }
  return score;
}

// Keeps the candidate when it beats the worst kept row (or fewer than
// `keep_` are kept). Once `keep_` are kept, the threshold rises to the
// worst of them, and the lists that can no longer lift a row over it
// become non-essential.
template <typename Filter>
void MaxScoreRanking<Filter>::Keep(uint32_t row, double score) {
  if (best_.size() == keep_ && !(score > threshold_)) return;
  RankedRow entry{row, score, {}};
  if (phrase_flags_) entry.phrases.assign(has_.begin(), has_.end());
  best_.push_back(std::move(entry));
  std::push_heap(best_.begin(), best_.end(), Better);
  if (best_.size() > keep_) {
    std::pop_heap(best_.begin(), best_.end(), Better);
    best_.pop_back();
  }
  if (best_.size() < keep_ || best_.front().score <= threshold_) return;
  threshold_ = best_.front().score;
  while (first_essential_ < cursors_.size() &&
         bound_through_[first_essential_] * (1 + kBoundSlack) < threshold_) {
    ++first_essential_;
  }
}

// The least row an essential list stands at; kNoRow when all are done.
template <typename Filter>
uint32_t MaxScoreRanking<Filter>::LeastEssentialRow() {
  uint32_t row = kNoRow;
  for (size_t i = first_essential_; i < cursors_.size(); ++i) {
    row = std::min(row, cursors_[i].row());
  }
  return row;
}

}  // namespace

absl::StatusOr<std::vector<RankedRow>> RetrievalIndex::Rank(
    const RetrievalQuery& query, const RankOptions& options) const {
  return RankRows(query, options, [](uint32_t) { return true; });
}

absl::StatusOr<std::vector<RankedRow>> RetrievalIndex::Rank(
    const RetrievalQuery& query, const RankOptions& options,
    RowFilter filter) const {
  return RankRows(query, options,
                  [&filter](uint32_t row) { return filter(row); });
}

template <typename Filter>
absl::StatusOr<std::vector<RankedRow>> RetrievalIndex::RankRows(
    const RetrievalQuery& query, const RankOptions& options,
    const Filter& accept) const {
  if (options.limit <= 0 || options.offset < 0 || options.offset >= rows_) {
    return std::vector<RankedRow>();
  }
  const size_t keep =
      static_cast<size_t>(std::min(options.offset + options.limit, rows_));
  MaxScoreRanking<Filter> ranking(query, column_weights_, norms_, keep,
                                  options.phrase_flags, accept);
  CITEKB_ASSIGN_OR_RETURN(std::vector<RankedRow> best, ranking.Run());
  std::sort(best.begin(), best.end(), Better);
  // The page: what follows the first `offset` rows.
  best.erase(best.begin(),
             best.begin() +
                 std::min(best.size(), static_cast<size_t>(options.offset)));
  return best;
}

absl::StatusOr<int64_t> RetrievalIndex::Count(
    const RetrievalQuery& query) const {
  // One list (a one-word question, or the same phrase twice) needs no union.
  const PostingList* only = nullptr;
  for (const CompiledPhrase& phrase : query.phrases) {
    if (phrase.list == nullptr || phrase.list.get() == only) continue;
    if (only != nullptr) return Count(query, [](int64_t) { return true; });
    only = phrase.list.get();
  }
  return only == nullptr ? 0 : only->rows;
}

absl::StatusOr<int64_t> RetrievalIndex::Count(const RetrievalQuery& query,
                                              RowFilter filter) const {
  CITEKB_ASSIGN_OR_RETURN(const RowSet rows, Rows(query));
  int64_t count = 0;
  rows.ForEach([&](int64_t row) {
    if (filter(row)) ++count;
  });
  return count;
}

absl::StatusOr<RowSet> RetrievalIndex::Rows(const RetrievalQuery& query) const {
  RowSet rows(rows_);
  BudgetMeter meter;
  for (const CompiledPhrase& phrase : query.phrases) {
    if (phrase.list == nullptr) continue;
    int64_t decoded = 0;
    for (Cursor cursor(*phrase.list, column_weights_, &decoded);
         cursor.row() != kNoRow; cursor.Next()) {
      rows.Add(cursor.row());
    }
    if (!meter.Count(decoded)) return meter.status();
  }
  if (!meter.Flush()) return meter.status();
  return rows;
}

}  // namespace citekb
