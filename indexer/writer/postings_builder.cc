#include "indexer/writer/postings_builder.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/postings_format.h"
#include "indexer/format/sqlite.h"

namespace citekb {

PostingsBuilder::PostingsBuilder(std::string ranked_table, int columns,
                                 const FtsTokenizer& tokenizer)
    : ranked_table_(std::move(ranked_table)),
      columns_(std::clamp(columns, 1, kMaxRankedColumns)),
      tokenizer_(tokenizer) {}

absl::Status PostingsBuilder::AddRow(
    int64_t rowid, absl::Span<const absl::string_view> columns) {
  if (rowid != rows_ + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        ranked_table_, ": postings rows must come in rowid order; got ", rowid,
        " after ", rows_));
  }
  if (static_cast<int>(columns.size()) != columns_) {
    return absl::InvalidArgumentError(
        absl::StrCat(ranked_table_, ": ", columns.size(), " columns given, ",
                     columns_, " expected"));
  }
  row_.clear();
  // A row's length for bm25 is its positions in all columns (FTS5's
  // xColumnSize), so colocated tokens do not count.
  int64_t row_tokens = 0;
  for (int column = 0; column < columns_; ++column) {
    uint32_t position = 0;
    CITEKB_RETURN_IF_ERROR(tokenizer_.Tokenize(
        columns[column], FtsTokenizer::Purpose::kDocument,
        [&](const FtsTokenizer::Token& token) {
          const uint32_t at =
              token.colocated && position > 0 ? position - 1 : position++;
          auto [it, added] = term_ids_.try_emplace(
              token.term, static_cast<uint32_t>(terms_.size()));
          if (added) terms_.push_back({.text = std::string(token.term)});
          row_.push_back({it->second, static_cast<uint32_t>(column), at});
        }));
    row_tokens += position;
  }
  tokens_ += row_tokens;
  AppendVarint(row_tokens_, static_cast<uint64_t>(row_tokens));
  rows_ = rowid;

  // Group the row's tokens by term, then column, then position.
  std::sort(row_.begin(), row_.end(),
            [](const Occurrence& a, const Occurrence& b) {
              return std::tie(a.term, a.column, a.position) <
                     std::tie(b.term, b.column, b.position);
            });
  for (size_t begin = 0; begin < row_.size();) {
    const uint32_t term_id = row_[begin].term;
    size_t end = begin;
    while (end < row_.size() && row_[end].term == term_id) ++end;
    Term& term = terms_[term_id];
    uint32_t counts[kMaxRankedColumns] = {0, 0, 0};
    uint64_t mask = 0;
    for (size_t i = begin; i < end; ++i) {
      ++counts[row_[i].column];
      mask |= uint64_t{1} << row_[i].column;
    }
    AppendVarint(term.postings, static_cast<uint64_t>(rowid - term.last_rowid));
    bool first = true;
    for (int column = 0; column < columns_; ++column) {
      if (counts[column] == 0) continue;
      AppendVarint(term.postings,
                   first ? (uint64_t{counts[column]} << kColumnBits) | mask
                         : counts[column]);
      first = false;
    }
    uint32_t previous = 0;
    uint32_t previous_column = UINT32_MAX;
    for (size_t i = begin; i < end; ++i) {
      const Occurrence& o = row_[i];
      const bool column_start = o.column != previous_column;
      AppendVarint(term.positions,
                   column_start ? o.position : o.position - previous);
      previous = o.position;
      previous_column = o.column;
    }
    term.last_rowid = rowid;
    ++term.rows;
    begin = end;
  }
  return absl::OkStatus();
}

absl::Status PostingsBuilder::Write(sqlite3* db) const {
  CITEKB_ASSIGN_OR_RETURN(
      Statement table,
      Statement::Prepare(
          db, "INSERT INTO ranked_tables VALUES(?1, ?2, ?3, ?4, ?5)"));
  CITEKB_RETURN_IF_ERROR(table.Bind(1, ranked_table_)
                             .Bind(2, columns_)
                             .Bind(3, rows_)
                             .Bind(4, tokens_)
                             .BindBlob(5, row_tokens_)
                             .Run());
  CITEKB_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db,
                         absl::StrCat("INSERT INTO ", ranked_table_,
                                      "_terms VALUES(?1, ?2, ?3, ?4, ?5)")));
  for (size_t id = 0; id < terms_.size(); ++id) {
    const Term& term = terms_[id];
    CITEKB_RETURN_IF_ERROR(insert.Bind(1, static_cast<int64_t>(id) + 1)
                               .Bind(2, term.text)
                               .Bind(3, term.rows)
                               .BindBlob(4, term.postings)
                               .BindBlob(5, term.positions)
                               .Run());
  }
  return absl::OkStatus();
}

BackgroundPostings::BackgroundPostings(std::vector<PostingsBuilder*> builders)
    : builders_(std::move(builders)) {
  thread_ = std::thread([this] { Run(); });
}

BackgroundPostings::~BackgroundPostings() {
  if (!finished_) Finish().IgnoreError();
}

void BackgroundPostings::Add(Work work) {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::deque<Work>* queue) { return queue->size() < kMaxQueued; },
      &queue_));
  queue_.push_back(std::move(work));
}

absl::Status BackgroundPostings::Finish() {
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  if (thread_.joinable()) thread_.join();
  finished_ = true;
  absl::MutexLock lock(&mu_);
  return status_;
}

void BackgroundPostings::Run() {
  while (true) {
    Work work;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](BackgroundPostings* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->done_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // done_, and nothing left.
      work = std::move(queue_.front());
      queue_.pop_front();
      if (!status_.ok()) continue;  // Drop work after a failure.
    }
    absl::Status status = std::move(work)(builders_);
    work = nullptr;  // Frees what it owned here, outside the lock.
    if (!status.ok()) {
      absl::MutexLock lock(&mu_);
      if (status_.ok()) status_ = std::move(status);
    }
  }
}

}  // namespace citekb
