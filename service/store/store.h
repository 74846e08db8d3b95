// Read-only access to a citekb index file (indexer/format/index_schema.h):
// the rows behind every answer (passages with their sentences and sources,
// sections, FAQ entries, citations, links) and the postings that
// searcher.h ranks with.
//
// The store speaks in rows: plain structs with the store's own kinds, and
// absl::Status errors that say what is missing ("no section \"x\""). It
// knows nothing of the API: api_messages.h turns rows into API messages,
// and the knowledge base (knowledge_base.h) names the request's field in
// its errors.
//
// Open() opens the file and checks it (schema version, then the checksum
// the indexer stamped over every byte, file_checksum.h); every query then
// runs on a pooled SQLite connection to that same open file (index_file.h).
// So a Store is a snapshot: renaming a new file over the path never changes
// what an open Store answers, and a new Store is how a new file is picked
// up (serving_index.h does that for the server). Pages are read through
// each connection's bounded page cache, so reading much of the file costs
// no resident memory beyond it.
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
//   Use(passage->text, passage->source_ids);
//
// What every Ask reads again (passages, FAQ entries, citations) is kept in
// bounded caches after the first read, and handed out as shared, immutable
// rows: the index never changes under a Store.
//
// Thread-safe: a connection is used by one thread at a time. At most
// max_connections() queries run at once (twice the cores, at least 2);
// more callers wait for a connection. SQLite work is CPU-bound, so more
// would only add page caches (memory) and contention, not throughput.

#ifndef CITEKB_SERVICE_STORE_STORE_H_
#define CITEKB_SERVICE_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "indexer/base/status_macros.h"
#include "service/search/retrieval_index.h"
#include "service/store/index_file.h"
#include "service/store/lru_cache.h"

namespace citekb {

// ---------------------------------------------------------------------------
// Rows
//
// Ids are the index's public ids ("d3-k2-protocol/p3", "pmid:11684396",
// "d3-k2-protocol#dosage"); rowids are SQLite's, for the searcher's
// postings. A kind the index names but this server does not know reads as
// kUnknown.
// ---------------------------------------------------------------------------

struct StoredSentence {
  std::string text;
  std::vector<std::string> source_ids;  // The sources it cites, by id.
  bool anecdotal = false;
};

// A paragraph, a table row (rendered with its column headers) or an FAQ
// entry (question and answer).
struct StoredPassage {
  enum class Kind { kUnknown, kParagraph, kTableRow, kFaq };

  int64_t rowid = 0;
  std::string id;
  std::string article_id;
  std::string section_id;
  std::string section_title;
  Kind kind = Kind::kUnknown;
  std::string text;
  bool anecdotal = false;
  bool incomplete_faq = false;  // An FAQ entry whose answer was cut off.
  // The sources its sentences cite, each once, in order of first citation.
  std::vector<std::string> source_ids;
  // Its sentences in order (Store::Passage only; GetSection leaves them
  // out).
  std::vector<StoredSentence> sentences;
  // A table row's column headers, the label column's first (Store::Passage
  // only): a row's sentences are "Label: Header value" and "Header value".
  std::vector<std::string> table_headers;
};

// What filters need to know of every passage, by rowid.
struct PassageRow {
  StoredPassage::Kind kind = StoredPassage::Kind::kUnknown;
  int64_t section_rowid = 0;
};

struct StoredFaq {
  std::string id;
  std::string question;
  std::string answer;  // Empty when answer_incomplete.
  bool answer_incomplete = false;
  std::string passage_id;
  int64_t passage_rowid = 0;
  // The sources its passage cites, in order of first citation (ListFaqs
  // only; Faq and leading_faqs leave them out).
  std::vector<std::string> source_ids;
};

struct StoredSection {
  std::string id;
  std::string article_id;
  std::string anchor;
  std::string title;
  int ordinal = 0;  // Table-of-contents order within the article.
  int passage_count = 0;
};

struct StoredTable {
  struct Column {
    std::string header;
    bool anecdotal = false;
  };
  struct Row {
    std::string passage_id;  // The passage the row is rendered as.
    std::vector<std::string> cells;
  };
  std::string id;
  std::vector<Column> columns;
  std::vector<Row> rows;
};

struct StoredFigure {
  std::string id;
  std::string caption;
};

// A section's blocks in document order: paragraphs and FAQ entries as
// passages (with source_ids, without sentences), each table once (its rows
// name their passages), figures as captions.
struct SectionContents {
  using Block = std::variant<StoredPassage, StoredTable, StoredFigure>;
  StoredSection section;
  std::vector<Block> blocks;
};

// A source the articles cite, or a whole article ("article:<id>", kArticle,
// labelled with its title, citing nothing).
struct StoredCitation {
  enum class Kind {
    kUnknown,
    kPubMed,
    kPmc,
    kDoi,
    kWeb,
    kSafetyReference,
    kArticle
  };
  struct CitingSentence {
    std::string text;
    std::string passage_id;
    std::string section_id;
  };

  std::string id;
  Kind kind = Kind::kUnknown;
  // What the id names: the PMID, PMCID or DOI for those kinds, else as the
  // index has it.
  std::string identifier;
  std::string url;
  std::string label;
  std::vector<CitingSentence> citing_sentences;  // In document order.
  // The passages of the citing sentences in order, a run of sentences of
  // one passage naming it once.
  std::vector<std::string> passage_ids;
};

// An internal link of the articles to another article or a tool.
struct StoredLink {
  enum class Kind { kArticle, kTool };

  std::string path;
  Kind kind = Kind::kArticle;
  std::string anchor_text;  // Of its first occurrence.
  // The passages linking it in order, consecutive repeats named once.
  std::vector<std::string> passage_ids;
};

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

// Which citing sentences count, for ListCitations' cited-text filter.
class SentenceFilter {
 public:
  virtual ~SentenceFilter() = default;
  // Whether to keep `text`, a sentence of the passage `passage_rowid`.
  virtual bool Keeps(int64_t passage_rowid, absl::string_view text) const = 0;
};

// Every condition set must hold; an empty one holds for every source.
struct CitationFilter {
  // No source is kArticle or kUnknown: those kinds keep none.
  std::optional<StoredCitation::Kind> kind;
  std::string section_id;  // Cited by a sentence of this section.
  std::string pmid;
  std::string doi;  // Lower-case.
  // Only sources cited by a sentence this keeps (null: any sentence), and
  // a key that names the filter, for the cache of totals. Must outlive
  // the call.
  const SentenceFilter* citing_sentence = nullptr;
  std::string citing_sentence_key;
};

// ---------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------

class Store {
 public:
  // NOT_FOUND for a missing file; DATA_LOSS for a file that is not a citekb
  // index or is damaged (truncated, corrupt pages); FAILED_PRECONDITION for
  // another schema version. Messages name the file.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();

  // Every method below may also fail with the status of the calling
  // thread's QueryBudget (query_budget.h) once it is spent, or with
  // DATA_LOSS for a damaged file.

  // The in-memory ranking index of `ranked_table` (retrieval_index.h), read
  // from this file.
  absl::StatusOr<std::unique_ptr<RetrievalIndex>> LoadRetrievalIndex(
      absl::string_view ranked_table, std::vector<double> column_weights) const;

  // Passages in the index.
  int64_t passage_count() const { return passage_count_; }
  // The passage with this rowid (1 to passage_count()) with its sentences,
  // cached after the first read. NOT_FOUND for another rowid.
  absl::StatusOr<std::shared_ptr<const StoredPassage>> Passage(
      int64_t rowid) const;
  // Kind and section of every passage, indexed by rowid (0 unused).
  absl::StatusOr<std::vector<PassageRow>> PassageRows() const;

  // Sections in document order, of one article or (with "") of all.
  absl::StatusOr<std::vector<StoredSection>> ListSections(
      const std::string& article_id) const;
  // Whether there is any section at all, without listing them (70k at
  // 10,000 articles).
  absl::StatusOr<bool> HasSections() const;
  // A section with its blocks. NOT_FOUND (`no section "<id>"`) for an
  // unknown id.
  absl::StatusOr<SectionContents> GetSection(
      const std::string& section_id) const;
  // The rowid of the section with this id; NOT_FOUND when none.
  absl::StatusOr<int64_t> SectionRowid(const std::string& section_id) const;

  // FAQ entries in document order, with their sources, of one article or
  // (with "") of all.
  absl::StatusOr<std::vector<StoredFaq>> ListFaqs(
      const std::string& article_id) const;
  // The FAQ entry with this rowid (of faqs), without its sources, cached
  // after the first read. NOT_FOUND for another rowid.
  absl::StatusOr<std::shared_ptr<const StoredFaq>> Faq(int64_t rowid) const;
  // The first kLeadingFaqs entries of ListFaqs("") whose answer is complete,
  // without their sources; read once at Open. Ask suggests follow-up
  // questions from them.
  const std::vector<StoredFaq>& leading_faqs() const { return leading_faqs_; }
  static constexpr int kLeadingFaqs = 8;

  // The sources `filter` keeps, in order of first citation in the corpus,
  // `offset` and `limit` applied; `total` (when not null) gets how many it
  // keeps in all.
  absl::StatusOr<std::vector<StoredCitation>> ListCitations(
      const CitationFilter& filter, int limit, int offset,
      int64_t* total) const;
  // By citation id ("pmid:1", or "article:<article id>" for a whole
  // article), cached after the first read. NOT_FOUND (`no citation "<id>"`)
  // when absent.
  absl::StatusOr<std::shared_ptr<const StoredCitation>> CitationById(
      const std::string& id) const;
  // By exact URL. NOT_FOUND (`no citation with url "<url>"`) when absent.
  absl::StatusOr<StoredCitation> CitationByUrl(const std::string& url) const;

  // Links in document order, each path once, of one article or (with "")
  // of all, and of one kind or (with nullopt) of both.
  absl::StatusOr<std::vector<StoredLink>> ListRelatedLinks(
      const std::string& article_id,
      std::optional<StoredLink::Kind> kind) const;

  // The stack evaluator's rules as the indexer stored them (protobuf text
  // format of citekb.rules.v1.StackRules); empty when the index has none.
  const std::string& stack_rules_text() const { return stack_rules_text_; }
  // The vocabulary questions are read with (protobuf text format of
  // citekb.knowledge.v1.Vocabulary); empty when the index has none.
  const std::string& vocabulary_text() const { return vocabulary_text_; }

  int max_connections() const { return max_connections_; }

  // Implementation details, declared here so store.cc's helpers can name
  // them.
  struct Connection;
  class Lease;

 private:
  Store(std::string path, IndexFile file);
  // Never called while the calling thread holds a Lease: with every
  // connection leased that would wait forever.
  absl::StatusOr<Lease> Acquire() const;
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Release(std::unique_ptr<Connection> connection) const;

  // Open's steps, on the first connection.
  absl::Status CheckSchemaVersion(Lease& lease) const;
  absl::Status ReadIndexFacts(Lease& lease);
  absl::Status LoadLeadingFaqs(Lease& lease);

  absl::StatusOr<StoredPassage> ReadPassage(Lease& lease, int64_t rowid) const;
  absl::StatusOr<int64_t> CountCitations(const CitationFilter& filter) const;

  const std::string path_;
  // The version of the index file every connection reads; declared before
  // (destroyed after) the pool.
  const IndexFile file_;
  const int max_connections_;
  int64_t passage_count_ = 0;
  std::string stack_rules_text_;
  std::string vocabulary_text_;
  std::vector<StoredFaq> leading_faqs_;
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
  // share their best passages, FAQ entries and sources. Costs are the
  // rows' bytes.
  static constexpr size_t kPassageCacheBytes = 16 << 20;
  static constexpr size_t kFaqCacheBytes = 2 << 20;
  static constexpr size_t kCitationCacheBytes = 4 << 20;
  LruCache<int64_t, StoredPassage> passages_{kPassageCacheBytes};
  LruCache<int64_t, StoredFaq> faqs_{kFaqCacheBytes};
  LruCache<std::string, StoredCitation> citations_{kCitationCacheBytes};
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_STORE_STORE_H_
