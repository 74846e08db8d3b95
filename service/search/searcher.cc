#include "service/search/searcher.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/compound_terms.h"
#include "indexer/format/index_schema.h"

namespace citekb {
namespace {

namespace v1 = ::citekb::v1;

// The body is the second ranked column of passages: snippets come from it,
// and the spelling vocabulary is its terms.
constexpr int kBodyColumn = 1;
constexpr int kSnippetTokens = 24;

// Levenshtein distance, giving up (returning limit + 1) past `limit`.
size_t EditDistance(absl::string_view a, absl::string_view b, size_t limit) {
  if (a.size() > b.size() + limit || b.size() > a.size() + limit)
    return limit + 1;
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    size_t best = current[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      best = std::min(best, current[j]);
    }
    if (best > limit) return limit + 1;
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// A phrase list as one cache key; \x1f never occurs in a question's words.
std::string Key(absl::string_view kind,
                const std::vector<std::string>& phrases) {
  return absl::StrCat(kind, "\x1e", absl::StrJoin(phrases, "\x1f"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Searcher>> Searcher::Create(const Store& store) {
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<FtsTokenizer> tokenizer,
                          FtsTokenizer::Create(kFtsTokenizer));
  CITEKB_ASSIGN_OR_RETURN(
      std::unique_ptr<RetrievalIndex> passages,
      store.LoadRetrievalIndex(
          "passages", {kSectionTitleWeight, kBodyWeight, kCompoundWeight}));
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<RetrievalIndex> faqs,
                          store.LoadRetrievalIndex("faqs", {1.0}));
  if (passages->rows() != store.passage_count()) {
    return absl::DataLossError(absl::StrCat(
        "the index's postings cover ", passages->rows(), " passages of ",
        store.passage_count(), ": rebuild it with citekb-index"));
  }
  CITEKB_ASSIGN_OR_RETURN(std::vector<PassageRow> rows, store.PassageRows());
  absl::flat_hash_map<std::string, int64_t> vocabulary =
      passages->TermRows(kBodyColumn);
  return std::unique_ptr<Searcher>(
      new Searcher(store, std::move(tokenizer), std::move(passages),
                   std::move(faqs), std::move(rows), std::move(vocabulary)));
}

absl::StatusOr<PhraseQuery> Searcher::Prepare(
    std::vector<std::string> phrases) const {
  PhraseQuery query;
  query.terms.reserve(phrases.size());
  for (const std::string& phrase : phrases) {
    CITEKB_ASSIGN_OR_RETURN(query.terms.emplace_back(),
                            tokenizer_->Terms(phrase));
  }
  query.phrases = std::move(phrases);
  return query;
}

absl::StatusOr<std::vector<PassageHit>> Searcher::SearchPassages(
    const PhraseQuery& phrase_query, const PassageFilter& filter, int limit,
    int offset, int64_t* total, const SearchOptions& options) const {
  const std::vector<std::string>& phrases = phrase_query.phrases;
  CITEKB_ASSIGN_OR_RETURN(RetrievalQuery query,
                          passages_->Compile(phrase_query.terms));

  // A filter by section names it; a section that does not exist has no
  // passages (as a join on it would find none).
  int64_t section_rowid = 0;
  if (!filter.section_id.empty()) {
    absl::StatusOr<int64_t> rowid = store_.SectionRowid(filter.section_id);
    if (absl::IsNotFound(rowid.status())) {
      if (total != nullptr) *total = 0;
      return std::vector<PassageHit>();
    }
    CITEKB_RETURN_IF_ERROR(rowid.status());
    section_rowid = *rowid;
  }
  const bool filtered = filter.kind.has_value() || section_rowid != 0;
  auto accept = [&](int64_t row) {
    const PassageRow& passage = rows_[static_cast<size_t>(row)];
    return (!filter.kind.has_value() || passage.kind == *filter.kind) &&
           (section_rowid == 0 || passage.section_rowid == section_rowid);
  };

  if (total != nullptr) {
    if (!filtered) {
      CITEKB_ASSIGN_OR_RETURN(*total, CountMatching(phrases));
    } else {
      // Every page of a listing asks again; the answer never changes.
      const std::string key =
          Key(absl::StrCat(
                  "filtered\x1d",
                  filter.kind.has_value() ? static_cast<int>(*filter.kind) : -1,
                  "\x1d", filter.section_id),
              phrases);
      bool known = false;
      {
        absl::MutexLock lock(&counts_mu_);
        if (auto it = counts_.find(key); it != counts_.end()) {
          *total = it->second;
          known = true;
        }
      }
      if (!known) {
        CITEKB_ASSIGN_OR_RETURN(*total, passages_->Count(query, accept));
        absl::MutexLock lock(&counts_mu_);
        if (counts_.size() < kMaxCachedCounts) counts_.emplace(key, *total);
      }
    }
  }

  const RankOptions rank{
      .offset = offset, .limit = limit, .phrase_flags = options.phrases};
  CITEKB_ASSIGN_OR_RETURN(std::vector<RankedRow> ranked,
                          filtered ? passages_->Rank(query, rank, accept)
                                   : passages_->Rank(query, rank));
  std::vector<PassageHit> hits;
  hits.reserve(ranked.size());
  for (RankedRow& row : ranked) {
    PassageHit& hit = hits.emplace_back();
    CITEKB_ASSIGN_OR_RETURN(hit.stored, store_.Passage(row.row));
    hit.score = row.score;
    if (options.snippets) {
      CITEKB_ASSIGN_OR_RETURN(hit.snippet, Snippet(*hit.stored, query));
    }
    hit.phrases = std::move(row.phrases);
  }
  return hits;
}

absl::Status Searcher::AddSnippets(const PhraseQuery& phrase_query,
                                   absl::Span<PassageHit* const> hits) const {
  CITEKB_ASSIGN_OR_RETURN(RetrievalQuery query,
                          passages_->Compile(phrase_query.terms));
  for (PassageHit* hit : hits) {
    CITEKB_ASSIGN_OR_RETURN(hit->snippet, Snippet(*hit->stored, query));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Searcher::CountMatching(
    const std::vector<std::string>& phrases) const {
  const std::string key = Key("passages", phrases);
  {
    absl::MutexLock lock(&counts_mu_);
    if (auto it = counts_.find(key); it != counts_.end()) return it->second;
  }
  // A union over every phrase's postings: cheap for rare words, a few
  // milliseconds for common ones at 10,000 articles, and questions share
  // their words.
  CITEKB_ASSIGN_OR_RETURN(PhraseQuery phrase_query, Prepare(phrases));
  CITEKB_ASSIGN_OR_RETURN(RetrievalQuery query,
                          passages_->Compile(phrase_query.terms));
  CITEKB_ASSIGN_OR_RETURN(const int64_t count, passages_->Count(query));
  absl::MutexLock lock(&counts_mu_);
  if (counts_.size() < kMaxCachedCounts) counts_.emplace(key, count);
  return count;
}

absl::StatusOr<std::vector<std::vector<std::vector<std::string>>>>
Searcher::PrepareGroups(
    const std::vector<std::vector<std::string>>& groups) const {
  std::vector<std::vector<std::vector<std::string>>> terms;
  for (const std::vector<std::string>& alternatives : groups) {
    CITEKB_ASSIGN_OR_RETURN(PhraseQuery phrases, Prepare(alternatives));
    terms.push_back(std::move(phrases.terms));
  }
  return terms;
}

absl::StatusOr<RowSet> Searcher::PassagesHavingAll(
    const std::vector<std::vector<std::string>>& groups) const {
  CITEKB_ASSIGN_OR_RETURN(auto terms, PrepareGroups(groups));
  return PassagesHavingAllTerms(terms);
}

absl::StatusOr<RowSet> Searcher::PassagesHavingAllTerms(
    const std::vector<std::vector<std::vector<std::string>>>& groups) const {
  std::optional<RowSet> all;
  for (const std::vector<std::vector<std::string>>& alternatives : groups) {
    CITEKB_ASSIGN_OR_RETURN(RetrievalQuery query,
                            passages_->Compile(alternatives));
    CITEKB_ASSIGN_OR_RETURN(RowSet having, passages_->Rows(query));
    if (!all.has_value()) {
      all = std::move(having);
    } else {
      all->IntersectWith(having);
    }
  }
  return all.has_value() ? *std::move(all) : RowSet(passages_->rows());
}

absl::StatusOr<std::unique_ptr<CitedTextFilter>> Searcher::CitedText(
    const std::vector<std::vector<std::string>>& groups) const {
  CITEKB_ASSIGN_OR_RETURN(auto terms, PrepareGroups(groups));
  CITEKB_ASSIGN_OR_RETURN(RowSet passages, PassagesHavingAllTerms(terms));
  return std::unique_ptr<CitedTextFilter>(
      new CitedTextFilter(*tokenizer_, std::move(passages), std::move(terms)));
}

bool CitedTextFilter::Keeps(int64_t passage_rowid,
                            absl::string_view text) const {
  if (!passages_.Has(passage_rowid)) return false;
  // The sentence's two columns, as terms in position order.
  std::vector<std::string> columns[2];
  const std::string compounds = CompoundTerms(text);
  const absl::string_view texts[2] = {text, compounds};
  for (int c = 0; c < 2; ++c) {
    const absl::Status tokenized =
        tokenizer_.Tokenize(texts[c], FtsTokenizer::Purpose::kDocument,
                            [&](const FtsTokenizer::Token& token) {
                              columns[c].emplace_back(token.term);
                            });
    if (!tokenized.ok()) return false;
  }
  auto has_phrase = [&](const std::vector<std::string>& phrase) {
    if (phrase.empty()) return false;  // As in FTS5: matches nothing.
    for (const std::vector<std::string>& column : columns) {
      if (std::search(column.begin(), column.end(), phrase.begin(),
                      phrase.end()) != column.end()) {
        return true;
      }
    }
    return false;
  };
  for (const std::vector<std::vector<std::string>>& alternatives : groups_) {
    if (std::none_of(alternatives.begin(), alternatives.end(), has_phrase)) {
      return false;
    }
  }
  return !groups_.empty();
}

absl::StatusOr<std::vector<FaqHit>> Searcher::MatchFaqs(
    const PhraseQuery& phrase_query, int limit) const {
  CITEKB_ASSIGN_OR_RETURN(RetrievalQuery query,
                          faqs_->Compile(phrase_query.terms));
  CITEKB_ASSIGN_OR_RETURN(std::vector<RankedRow> ranked,
                          faqs_->Rank(query, {.limit = limit}));
  std::vector<FaqHit> hits;
  for (const RankedRow& row : ranked) {
    CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const StoredFaq> faq,
                            store_.Faq(row.row));
    hits.push_back({std::move(faq), row.score});
  }
  return hits;
}

absl::StatusOr<std::shared_ptr<const Searcher::BodyTokens>> Searcher::Tokens(
    const StoredPassage& passage) const {
  if (std::shared_ptr<const BodyTokens> cached = tokens_.Find(passage.rowid))
    return cached;
  auto tokens = std::make_shared<BodyTokens>();
  CITEKB_RETURN_IF_ERROR(tokenizer_->Tokenize(
      passage.text, FtsTokenizer::Purpose::kAux,
      [&](const FtsTokenizer::Token& token) {
        if (token.colocated) return;
        tokens->spans.push_back({token.start, token.end});
        const int64_t id = passages_->TermId(token.term);
        // Every body term is in the index; should one not be, it matches
        // no phrase.
        tokens->terms.push_back(id < 0 ? UINT32_MAX
                                       : static_cast<uint32_t>(id));
      }));
  const size_t bytes =
      sizeof(BodyTokens) +
      tokens->spans.size() * (sizeof(TokenSpan) + sizeof(uint32_t));
  return tokens_.Insert(passage.rowid, std::move(tokens), bytes);
}

absl::StatusOr<std::string> Searcher::Snippet(
    const StoredPassage& passage, const RetrievalQuery& query) const {
  CITEKB_ASSIGN_OR_RETURN(std::shared_ptr<const BodyTokens> tokens,
                          Tokens(passage));
  std::vector<std::vector<uint32_t>> phrases;
  phrases.reserve(query.phrases.size());
  for (const CompiledPhrase& phrase : query.phrases)
    phrases.push_back(phrase.terms);
  const std::vector<PhraseInstance> instances =
      FindPhraseInstances(tokens->terms, phrases);
  return citekb::Snippet(passage.text, tokens->spans, instances,
                         static_cast<int>(phrases.size()),
                         {.open = "[",
                          .close = "]",
                          .ellipsis = "…",
                          .max_tokens = kSnippetTokens});
}

std::string Searcher::CorrectSpelling(const std::string& word) const {
  {
    absl::MutexLock lock(&spellings_mu_);
    if (auto it = spellings_.find(word); it != spellings_.end()) {
      return it->second;
    }
  }
  std::string correction = FindCorrection(word);
  absl::MutexLock lock(&spellings_mu_);
  if (spellings_.size() < kMaxCachedSpellings) {
    spellings_.emplace(word, correction);
  }
  return correction;
}

std::string Searcher::FindCorrection(const std::string& word) const {
  if (word.size() < 5 || vocabulary_.contains(word)) return "";
  for (const std::string& stem :
       {word.substr(0, word.size() - 1), word.substr(0, word.size() - 2)}) {
    if (vocabulary_.contains(stem)) return "";  // "bones" is "bone".
  }
  const size_t limit = word.size() >= 8 ? 2 : 1;
  std::string best;
  int64_t best_count = 0;
  for (const auto& [term, count] : vocabulary_) {
    // Most passages first, then the term's order: the same answer whatever
    // order the map iterates in. Lengths further apart than the limit
    // cannot be close.
    if (term.size() < 4 || count < best_count ||
        (count == best_count && term >= best) ||
        term.size() + limit < word.size() ||
        word.size() + limit < term.size()) {
      continue;
    }
    if (EditDistance(word, term, limit) <= limit) {
      best = term;
      best_count = count;
    }
  }
  return best;
}

}  // namespace citekb
