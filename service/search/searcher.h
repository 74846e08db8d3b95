// Ranked search over an index: passages and FAQ entries that have any of a
// question's phrases, best first, with FTS5's bm25 scores and snippets; how
// many passages have them; typo correction against the indexed terms.
//
// Ranking runs in memory on the index's own postings (retrieval_index.h),
// the rows behind the hits come from the store (store.h, cached there), and
// each passage's snippet is the one FTS5's snippet(<table>, 1, '[', ']',
// '…', 24) would make, computed from the passage's tokens (snippet.h). So a
// search costs no SQL once its passages have been read.
//
//   CITEKB_ASSIGN_OR_RETURN(auto searcher, Searcher::Create(*store));
//   CITEKB_ASSIGN_OR_RETURN(
//       std::vector<PassageHit> hits,
//       searcher->SearchPassages({"k2", "vitamin d"}, {}, 5, 0));
//
// A phrase is a word or words as a question has them ("vitamin d", "mk7");
// FTS5's tokenizer (fts_tokenizer.h) splits and stems it exactly as the
// indexer did. A passage has the phrase when its words stand in a row in
// one of its columns (section title, text, joined compounds).
//
// Thread-safe: all methods are const and may run concurrently.

#ifndef CITEKB_SERVICE_SEARCH_SEARCHER_H_
#define CITEKB_SERVICE_SEARCH_SEARCHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/fts_tokenizer.h"
#include "service/search/retrieval_index.h"
#include "service/search/row_set.h"
#include "service/search/snippet.h"
#include "service/store/lru_cache.h"
#include "service/store/store.h"

namespace citekb {

// A question's phrases, each split into FTS5 terms once for all the
// searches that follow (Searcher::Prepare).
struct PhraseQuery {
  std::vector<std::string> phrases;
  std::vector<std::vector<std::string>> terms;  // Per phrase.
};

// A passage as search returns it: the stored passage (its row, sentences
// and sources) with this search's score and snippet.
struct PassageHit {
  std::shared_ptr<const StoredPassage> stored;
  double score = 0;  // -bm25: higher is better.
  // FTS5's snippet of the passage's text; empty with
  // SearchOptions::snippets off until Searcher::AddSnippets.
  std::string snippet;
  // With SearchOptions::phrases: one byte per phrase searched for, 1 when
  // this passage has it.
  std::string phrases;

  int64_t rowid() const { return stored->rowid; }
};

struct SearchOptions {
  // Compute snippets (else see Searcher::AddSnippets).
  bool snippets = true;
  // Fill PassageHit::phrases.
  bool phrases = false;
};

struct PassageFilter {
  std::optional<StoredPassage::Kind> kind;  // Empty for any.
  std::string section_id;                   // Public section id; empty for any.
};

struct FaqHit {
  std::shared_ptr<const StoredFaq> faq;  // Without its sources.
  double score = 0;                      // -bm25: higher is better.
};

// ListCitations' cited-text filter (store.h's SentenceFilter): keeps a
// sentence that has, for every group of words, one of its alternative
// phrases, matched as FTS5 would match the phrase in a table of the
// sentence's text and its joined compounds (compound_terms.h): same terms,
// consecutive positions. Made by Searcher::CitedText.
class CitedTextFilter : public SentenceFilter {
 public:
  bool Keeps(int64_t passage_rowid, absl::string_view text) const override;

 private:
  friend class Searcher;
  CitedTextFilter(const FtsTokenizer& tokenizer, RowSet passages,
                  std::vector<std::vector<std::vector<std::string>>> groups)
      : tokenizer_(tokenizer),
        passages_(std::move(passages)),
        groups_(std::move(groups)) {}

  const FtsTokenizer& tokenizer_;
  // Passages having every group in any column: only they can hold such a
  // sentence, and the others need no tokenizing.
  const RowSet passages_;
  // Per group, per alternative phrase: its terms.
  const std::vector<std::vector<std::vector<std::string>>> groups_;
};

class Searcher {
 public:
  // Loads the store's postings. DATA_LOSS when they are damaged.
  static absl::StatusOr<std::unique_ptr<Searcher>> Create(const Store& store);

  // Splits each phrase into terms as FTS5 would a quoted string of it.
  absl::StatusOr<PhraseQuery> Prepare(std::vector<std::string> phrases) const;

  // Passages having any phrase of `query`, best first (bm25 with the
  // index's column weights; equal scores in index order), `offset`/`limit`
  // applied; `total` (when not null) gets how many passages match.
  absl::StatusOr<std::vector<PassageHit>> SearchPassages(
      const PhraseQuery& query, const PassageFilter& filter, int limit,
      int offset, int64_t* total, const SearchOptions& options = {}) const;

  // Fills the snippets of hits found for `query` without them: when only
  // some of the hits are shown, only those need one.
  absl::Status AddSnippets(const PhraseQuery& query,
                           absl::Span<PassageHit* const> hits) const;

  // How many passages have any of `phrases`. Remembered per phrase list
  // (the index never changes under a Searcher), for the first
  // kMaxCachedCounts lists.
  absl::StatusOr<int64_t> CountMatching(
      const std::vector<std::string>& phrases) const;
  static constexpr size_t kMaxCachedCounts = 100000;

  // The passages that have, for every group, at least one of its
  // alternative phrases: the words of a filter such as ListCitations'
  // cited text (each word with its synonyms, query_analyzer.h).
  absl::StatusOr<RowSet> PassagesHavingAll(
      const std::vector<std::vector<std::string>>& groups) const;
  // The filter for citing sentences having every group (as above), for
  // Store::ListCitations. Valid while this Searcher is.
  absl::StatusOr<std::unique_ptr<CitedTextFilter>> CitedText(
      const std::vector<std::vector<std::string>>& groups) const;

  // FAQ entries (complete or not) whose question has any phrase of
  // `query`, best first.
  absl::StatusOr<std::vector<FaqHit>> MatchFaqs(const PhraseQuery& query,
                                                int limit) const;

  // For a word the index has never seen, the indexed term one typo away
  // (two for long words) that most passages have: "vitmin" -> "vitamin".
  // Empty when the word (or its stem) is known or nothing is close. Indexed
  // terms are Porter stems, so the result is a stem ("dosag") that matches
  // as is. Remembered per word, for the first kMaxCachedSpellings words.
  std::string CorrectSpelling(const std::string& word) const;
  static constexpr size_t kMaxCachedSpellings = 100000;

  // How many passages have `term` (an FTS5 term) in their text; 0 for a
  // term the index has never seen.
  int64_t PassagesWithTerm(const std::string& term) const {
    auto it = vocabulary_.find(term);
    return it == vocabulary_.end() ? 0 : it->second;
  }

  // Kind and section of the passage with this rowid (1 to
  // passage_count()); a default row for any other.
  PassageRow passage_row(int64_t rowid) const {
    return rowid > 0 && rowid < static_cast<int64_t>(rows_.size())
               ? rows_[static_cast<size_t>(rowid)]
               : PassageRow();
  }

  // FTS5's tokenizer, as the index was built with.
  const FtsTokenizer& tokenizer() const { return *tokenizer_; }

  // Passages in the index, for idf.
  int64_t passage_count() const { return passages_->rows(); }

 private:
  // A passage body's tokens, for its snippets.
  struct BodyTokens {
    std::vector<TokenSpan> spans;
    std::vector<uint32_t> terms;  // Term ids of the passage index.
  };

  // Each group's alternative phrases split into terms (Prepare), and
  // PassagesHavingAll for groups so split.
  absl::StatusOr<std::vector<std::vector<std::vector<std::string>>>>
  PrepareGroups(const std::vector<std::vector<std::string>>& groups) const;
  absl::StatusOr<RowSet> PassagesHavingAllTerms(
      const std::vector<std::vector<std::vector<std::string>>>& groups) const;

  Searcher(const Store& store, std::unique_ptr<FtsTokenizer> tokenizer,
           std::unique_ptr<RetrievalIndex> passages,
           std::unique_ptr<RetrievalIndex> faqs, std::vector<PassageRow> rows,
           absl::flat_hash_map<std::string, int64_t> vocabulary)
      : store_(store),
        tokenizer_(std::move(tokenizer)),
        passages_(std::move(passages)),
        faqs_(std::move(faqs)),
        rows_(std::move(rows)),
        vocabulary_(std::move(vocabulary)) {}

  std::string FindCorrection(const std::string& word) const;
  absl::StatusOr<std::string> Snippet(const StoredPassage& passage,
                                      const RetrievalQuery& query) const;
  absl::StatusOr<std::shared_ptr<const BodyTokens>> Tokens(
      const StoredPassage& passage) const;

  const Store& store_;
  const std::unique_ptr<FtsTokenizer> tokenizer_;
  const std::unique_ptr<RetrievalIndex> passages_;
  const std::unique_ptr<RetrievalIndex> faqs_;
  const std::vector<PassageRow> rows_;  // By passage rowid.
  // Terms of passage bodies with their passage counts, for spelling.
  const absl::flat_hash_map<std::string, int64_t> vocabulary_;
  static constexpr size_t kTokenCacheBytes = 8 << 20;
  LruCache<int64_t, BodyTokens> tokens_{kTokenCacheBytes};
  mutable absl::Mutex counts_mu_;
  mutable absl::flat_hash_map<std::string, int64_t> counts_
      ABSL_GUARDED_BY(counts_mu_);
  mutable absl::Mutex spellings_mu_;
  mutable absl::flat_hash_map<std::string, std::string> spellings_
      ABSL_GUARDED_BY(spellings_mu_);
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SEARCH_SEARCHER_H_
