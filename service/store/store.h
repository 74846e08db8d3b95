// Read-only access to a citekb index file (indexer/index_schema.h): the
// rows behind every answer (passages with their sentences and sources,
// sections, FAQ entries, citations, links) and the postings that
// searcher.h ranks with.
//
// Open() opens the file and checks it (schema version, then the checksum
// the indexer stamped over every byte, file_checksum.h); every query then
// runs on a pooled SQLite
// connection to that same open file (index_file.h). So a Store is a
// snapshot: renaming a new file over the path never changes what an open
// Store answers, and a new Store is how a new file is picked up
// (serving_index.h does that for the server). Pages are read through each
// connection's bounded page cache, so reading much of the file costs no
// resident memory beyond it.
//
// Connections are defensive: the file is opened read-only, immutable and
// query_only, extension loading is off, SQLITE_DBCONFIG_DEFENSIVE is on and
// the file's schema is not trusted to call functions. Statements are
// prepared once per connection and every value is bound. Every connection
// has a progress handler that charges the calling thread's QueryBudget
// (query_budget.h) and interrupts the statement when the budget is spent;
// the statement then fails, and the budget says why.
//
//   CITEKB_ASSIGN_OR_RETURN(auto store, Store::Open("var/citekb.sqlite"));
//   CITEKB_ASSIGN_OR_RETURN(auto passage, store->Passage(rowid));
//
// What every Ask reads again (passages, FAQ entries, citations) is kept in
// bounded caches after the first read: the index never changes under a
// Store.
//
// Thread-safe: a connection is used by one thread at a time. At most
// max_connections() queries run at once (twice the cores, at least 2);
// more callers wait for a connection. SQLite work is CPU-bound, so more
// would only add page caches (memory) and contention, not throughput.

#ifndef CITEKB_SERVICE_STORE_STORE_H_
#define CITEKB_SERVICE_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "citekb/v1/knowledge_base.pb.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/sqlite.h"
#include "service/search/retrieval_index.h"
#include "service/store/index_file.h"
#include "service/store/lru_cache.h"

namespace citekb {

struct StoredSentence {
  std::string text;
  std::vector<std::string> source_ids;
  bool anecdotal = false;
};

// A passage as answers need it, read once and then cached: the API message
// (with citation_ids, without snippet and score), its sentences in order and
// the sources each cites.
struct StoredPassage {
  int64_t rowid = 0;
  citekb::v1::Passage passage;
  bool incomplete_faq = false;  // An FAQ whose answer was cut off.
  std::vector<StoredSentence> sentences;
};

// An FAQ entry (without citation_ids) and the rowid of its passage.
struct StoredFaq {
  citekb::v1::Faq faq;
  int64_t passage_rowid = 0;
};

// What filters need to know of every passage, by rowid.
struct PassageRow {
  citekb::v1::PassageKind kind = citekb::v1::PASSAGE_KIND_UNSPECIFIED;
  int64_t section_rowid = 0;
};

// Which citing sentences count, for ListCitations' cited-text filter.
class SentenceFilter {
 public:
  virtual ~SentenceFilter() = default;
  // Whether to keep `text`, a sentence of the passage `passage_rowid`.
  virtual bool Keeps(int64_t passage_rowid, absl::string_view text) const = 0;
};

struct CitationFilter {
  citekb::v1::CitationKind kind = citekb::v1::CITATION_KIND_UNSPECIFIED;
  std::string section_id;
  std::string pmid;
  std::string doi;  // Lower-case.
  // Only sources cited by a sentence this keeps (null: any sentence), and
  // a key that names the filter, for the cache of totals. Must outlive
  // the call.
  const SentenceFilter* citing_sentence = nullptr;
  std::string citing_sentence_key;
};

class Store {
 public:
  // NOT_FOUND for a missing file; DATA_LOSS for a file that is not a citekb
  // index or is damaged (truncated, corrupt pages); FAILED_PRECONDITION for
  // another schema version. Messages name the file.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();

  // The in-memory ranking index of `ranked_table` (retrieval_index.h), read
  // from this file. DATA_LOSS for damaged postings.
  absl::StatusOr<std::unique_ptr<RetrievalIndex>> LoadRetrievalIndex(
      absl::string_view ranked_table, std::vector<double> column_weights) const;

  // The passage with this rowid (1 to passage_count()), cached after the
  // first read. NOT_FOUND for another rowid.
  absl::StatusOr<std::shared_ptr<const StoredPassage>> Passage(
      int64_t rowid) const;
  // Kind and section of every passage, indexed by rowid (0 unused).
  absl::StatusOr<std::vector<PassageRow>> PassageRows() const;
  // The rowid of the section with this public id; NOT_FOUND when none.
  absl::StatusOr<int64_t> SectionRowid(const std::string& section_id) const;
  // The FAQ entry with this rowid (of faqs), cached after the first read.
  absl::StatusOr<std::shared_ptr<const StoredFaq>> Faq(int64_t rowid) const;

  // Passages in the index.
  int64_t passage_count() const { return passage_count_; }

  // The stack evaluator's rules as the indexer stored them (protobuf text
  // format of citekb.rules.v1.StackRules); empty when the index has none.
  const std::string& stack_rules_text() const { return stack_rules_text_; }

  int max_connections() const { return max_connections_; }

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
  // By citation id ("pmid:1"), cached after the first read; NOT_FOUND when
  // absent. "article:<id>" stands for a whole article
  // (CITATION_KIND_ARTICLE, labelled with its title).
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
  Store(std::string path, IndexFile file);
  // Never called while the calling thread holds a Lease: with every
  // connection leased that would wait forever.
  absl::StatusOr<Lease> Acquire() const;
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status LoadLeadingFaqs();
  void Release(std::unique_ptr<Connection> connection) const;
  absl::Status FillCitation(Connection& c,
                            citekb::v1::Citation& citation) const;
  absl::StatusOr<citekb::v1::Citation> ReadCitation(
      const std::string& id) const;

  const std::string path_;
  // The version of the index file every connection reads; declared before
  // (destroyed after) the pool.
  const IndexFile file_;
  const int max_connections_;
  int64_t passage_count_ = 0;
  std::string stack_rules_text_;
  std::vector<citekb::v1::Faq> leading_faqs_;
  mutable absl::Mutex mutex_;
  mutable std::vector<std::unique_ptr<Connection>> idle_
      ABSL_GUARDED_BY(mutex_);
  mutable int open_connections_ ABSL_GUARDED_BY(mutex_) = 0;
  mutable absl::Mutex counts_mutex_;
  // ListCitations' totals per filter (the index never changes under a
  // Store), for the first kMaxCachedCounts filters.
  mutable absl::flat_hash_map<std::string, int64_t> counts_
      ABSL_GUARDED_BY(counts_mutex_);
  static constexpr size_t kMaxCachedCounts = 100000;
  // What Ask reads on every call, kept after the first read: questions
  // share their best passages, FAQ entries and sources.
  static constexpr size_t kPassageCacheBytes = 16 << 20;
  static constexpr size_t kFaqCacheBytes = 2 << 20;
  static constexpr size_t kCitationCacheBytes = 4 << 20;
  LruCache<int64_t, StoredPassage> passages_{kPassageCacheBytes};
  LruCache<int64_t, StoredFaq> faqs_{kFaqCacheBytes};
  LruCache<std::string, citekb::v1::Citation> citations_{kCitationCacheBytes};
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_STORE_STORE_H_
