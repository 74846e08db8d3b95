// Read-only access to a citekb index file (indexer/index_schema.h).
//
// Open() reads the whole file into memory once and checks it (schema
// version, then SQLite's quick_check of every page); every query then runs
// on a pooled SQLite connection over that in-memory image. So a Store is a
// snapshot: replacing or rewriting the file later never changes what an
// open Store answers, and a new Store is how a new file is picked up
// (serving_index.h does that for the server).
//
// Connections are defensive: the image is attached read-only and
// query_only, extension loading is off, SQLITE_DBCONFIG_DEFENSIVE is on and
// the file's schema is not trusted to call functions. Statements are
// prepared once per connection and every value is bound. FTS5 expressions
// passed in must come from QueryBuilder (query_builder.h), which quotes user
// words. Every connection has a progress handler that charges the calling
// thread's QueryBudget (query_budget.h) and interrupts the statement when the
// budget is spent; the statement then fails, and the budget says why.
//
//   CITEKB_ASSIGN_OR_RETURN(auto store, Store::Open("var/citekb.sqlite"));
//   CITEKB_ASSIGN_OR_RETURN(auto hits, store->SearchPassages(match, {}, 5, 0));
//
// Each connection registers two FTS5 auxiliary functions: citekb_phrases()
// (which phrases of the MATCH expression a row has) and citekb_bm25() (bm25
// given each phrase's row count); see store.cc.
//
// Thread-safe: a connection is used by one thread at a time. At most
// max_connections() queries run at once (twice the cores, at least 2);
// more callers wait for a connection. SQLite work is CPU-bound, so more
// would only add page caches (memory) and contention, not throughput.

#ifndef CITEKB_SERVICE_STORE_H_
#define CITEKB_SERVICE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "service/mapped_file.h"
#include "indexer/sqlite.h"

namespace citekb {

struct StoredSentence {
  std::string text;
  std::vector<std::string> source_ids;
  bool anecdotal = false;
};

// A passage as search returns it: the API message (with snippet and score)
// plus what answer composition needs.
struct PassageHit {
  citekb::v1::Passage passage;
  int64_t rowid = 0;
  bool incomplete_faq = false;  // An FAQ whose answer was cut off.
  // With SearchOptions::phrases: one byte per phrase of the MATCH expression
  // (FTS5 numbers them in order of appearance), 1 when this passage has it.
  std::string phrases;
};

struct SearchOptions {
  // Fill passage.citation_ids (else see Store::AddCitationIds).
  bool citation_ids = true;
  // Fill PassageHit::phrases.
  bool phrases = false;
  // The phrases of the MATCH expression in order, each a quoted FTS5 string
  // (AnalyzedQuery::Phrases()). When given, ranking takes each phrase's
  // passage count from what CountMatching remembers instead of FTS5
  // counting it again on every query; the scores are the same. A list of
  // another length than the expression's phrases is ignored (FTS5 counts);
  // one of the right length with other phrases would give wrong scores.
  std::vector<std::string> match_phrases;
};

struct PassageFilter {
  citekb::v1::PassageKind kind = citekb::v1::PASSAGE_KIND_UNSPECIFIED;
  std::string section_id;  // Public section id; empty for any.
};

struct FaqHit {
  citekb::v1::Faq faq;
  int64_t passage_rowid = 0;
  double score = 0;  // -bm25: higher is better.
};

struct CitationFilter {
  citekb::v1::CitationKind kind = citekb::v1::CITATION_KIND_UNSPECIFIED;
  std::string section_id;
  std::string pmid;
  std::string doi;               // Lower-case.
  std::string cited_text_match;  // FTS5-safe words that a citing sentence has.
};

class Store {
 public:
  // NOT_FOUND for a missing file; DATA_LOSS for a file that is not a citekb
  // index or is damaged (truncated, corrupt pages); FAILED_PRECONDITION for
  // another schema version. Messages name the file.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();

  // Passages matching an FTS5 expression, best first (bm25 with the index's
  // column weights), `offset`/`limit` applied; `total` gets the match count.
  // `options` says what to fill in beyond the passage itself: Ask ranks more
  // passages than it returns, and learns which words each one has from the
  // same query instead of one more query per word.
  absl::StatusOr<std::vector<PassageHit>> SearchPassages(
      const std::string& match, const PassageFilter& filter, int limit,
      int offset, int64_t* total, const SearchOptions& options = {}) const;

  // Fills `hit.passage.citation_ids`: the sources its sentences cite, in
  // order of first citation.
  absl::Status AddCitationIds(PassageHit& hit) const;

  // For a word the index has never seen, the indexed term one typo away
  // (two for long words) that most passages have: "vitmin" -> "vitamin".
  // Empty when the word is known or nothing is close. Indexed terms are
  // Porter stems, so the result is a stem ("dosag") that FTS5 matches as is.
  std::string CorrectSpelling(const std::string& word) const;

  // Passages in the index, for idf.
  int64_t passage_count() const { return passage_count_; }
  // Passages whose length ranking knows without asking FTS5 (see
  // citekb_passage_bm25 in store.cc): all of them in a sound index.
  int64_t passages_with_known_length() const {
    return absl::c_count_if(passage_tokens_,
                            [](int32_t tokens) { return tokens >= 0; });
  }

  // The stack evaluator's rules as the indexer stored them (protobuf text
  // format of citekb.rules.v1.StackRules); empty when the index has none.
  const std::string& stack_rules_text() const { return stack_rules_text_; }

  int max_connections() const { return max_connections_; }

  // How many passages match `match`. Remembered per expression (the index
  // never changes under a Store), for the first kMaxCachedCounts of them.
  absl::StatusOr<int64_t> CountMatching(const std::string& match) const;
  static constexpr size_t kMaxCachedCounts = 100000;
  // Rankings whose phrases have at least this many passages in all keep
  // the best rows with SQLite's bounded sort rather than FTS5's full one.
  static constexpr int64_t kMinRowsForBoundedSort = 2000;

  // Of `rowids`, those that match `match`.
  absl::StatusOr<std::vector<int64_t>> FilterMatching(
      const std::string& match, const std::vector<int64_t>& rowids) const;

  absl::StatusOr<std::vector<StoredSentence>> Sentences(
      int64_t passage_rowid) const;

  // Complete-or-not FAQ entries whose question matches, best first.
  // `match_phrases` as in SearchOptions.
  absl::StatusOr<std::vector<FaqHit>> MatchFaqs(
      const std::string& match, int limit,
      const std::vector<std::string>& match_phrases = {}) const;
  absl::StatusOr<PassageHit> PassageByRowid(int64_t rowid) const;

  absl::StatusOr<std::vector<citekb::v1::Section>> ListSections(
      const std::string& article_id) const;
  // Whether there is any section at all, without listing them (70k at
  // 10,000 articles).
  absl::StatusOr<bool> HasSections() const;
  // NOT_FOUND for an unknown id.
  absl::StatusOr<citekb::v1::GetSectionResponse> GetSection(
      const std::string& section_id) const;
  absl::StatusOr<std::vector<citekb::v1::Faq>> ListFaqs(
      const std::string& article_id) const;
  // The first kLeadingFaqs entries of ListFaqs("") whose answer is complete,
  // without citation ids; read once at Open. Ask suggests follow-up
  // questions from them.
  const std::vector<citekb::v1::Faq>& leading_faqs() const {
    return leading_faqs_;
  }
  static constexpr int kLeadingFaqs = 8;

  // Citations ordered by first appearance in the corpus.
  absl::StatusOr<std::vector<citekb::v1::Citation>> ListCitations(
      const CitationFilter& filter, int limit, int offset,
      int64_t* total) const;
  // By citation id ("pmid:1"); NOT_FOUND when absent. "article:<id>" stands
  // for a whole article (CITATION_KIND_ARTICLE, labelled with its title).
  absl::StatusOr<citekb::v1::Citation> CitationById(
      const std::string& id) const;
  // By exact URL; NOT_FOUND when absent.
  absl::StatusOr<citekb::v1::Citation> CitationByUrl(
      const std::string& url) const;

  absl::StatusOr<std::vector<citekb::v1::RelatedLink>> ListRelatedLinks(
      const std::string& article_id, citekb::v1::RelatedLinkKind kind) const;

  // Implementation details, declared here so store.cc's helpers can name them.
  struct Connection;
  class Lease;

 private:
  Store(std::string path, MappedFile image);
  // Never called while the calling thread holds a Lease: with every
  // connection leased that would wait forever.
  absl::StatusOr<Lease> Acquire() const;
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status LoadVocabulary();
  absl::Status LoadLeadingFaqs();
  absl::Status LoadPassageTokens();
  void Release(std::unique_ptr<Connection> connection) const;
  absl::Status FillCitation(Connection& c,
                            citekb::v1::Citation& citation) const;
  // CountMatching for `table` ("passage_fts" or "faq_fts").
  absl::StatusOr<int64_t> CountIn(const char* table,
                                  const std::string& match) const;
  // One ranking of passages, as SearchPassages was asked for it.
  struct RankedQuery {
    const std::string& match;
    const char* kind;               // Passage kind name; "" for any.
    const std::string& section_id;  // Public section id; "" for any.
    int limit;
    int offset;
    bool phrases;                             // Fill PassageHit::phrases.
    const std::vector<int64_t>& phrase_rows;  // Passages per phrase, in order.
  };
  // FTS5 sorts every match by bm25 (with the remembered counts of
  // `match_phrases`, if given), and SQLite stops after the page.
  absl::StatusOr<std::vector<PassageHit>> RankByFts5(
      const RankedQuery& query,
      const std::vector<std::string>& match_phrases) const;
  // The same page, for many matches: SQLite's bounded sort keeps the page's
  // rows as they come, then reads their passages. Needs `phrase_rows`.
  absl::StatusOr<std::vector<PassageHit>> RankByBoundedSort(
      const RankedQuery& query) const;

  // The value for `rank MATCH`: bm25 with `weights`, given each phrase's row
  // count when `phrases` is not empty.
  absl::StatusOr<std::string> RankFunction(
      const char* table, absl::string_view weights,
      const std::vector<std::string>& phrases) const;

  const std::string path_;
  // The index file's bytes; connections read it in place, so it is declared
  // before (destroyed after) the pool.
  const MappedFile image_;
  const int max_connections_;
  int64_t passage_count_ = 0;
  std::string stack_rules_text_;
  // Indexed terms of passage bodies with their passage counts; read once.
  absl::flat_hash_map<std::string, int64_t> vocabulary_;
  std::vector<citekb::v1::Faq> leading_faqs_;
  // Tokens of passage_fts row i (all columns), -1 where unknown; read once.
  std::vector<int32_t> passage_tokens_;
  mutable absl::Mutex mutex_;
  mutable std::vector<std::unique_ptr<Connection>> idle_
      ABSL_GUARDED_BY(mutex_);
  mutable int open_connections_ ABSL_GUARDED_BY(mutex_) = 0;
  mutable absl::Mutex counts_mutex_;
  mutable absl::flat_hash_map<std::string, int64_t> counts_
      ABSL_GUARDED_BY(counts_mutex_);
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_STORE_H_
