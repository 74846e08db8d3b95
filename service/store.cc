#include "service/store.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "indexer/index_schema.h"
#include "indexer/stack_knowledge.h"
#include "service/query_budget.h"

namespace citekb {

struct Store::Connection {
  Database db;
  absl::flat_hash_map<std::string, std::unique_ptr<Statement>> statements;

  // The statement for `sql`, prepared on first use, reset and unbound.
  absl::StatusOr<Statement*> Prepare(const std::string& sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      CITEKB_ASSIGN_OR_RETURN(Statement statement,
                              Statement::Prepare(db.get(), sql));
      it = statements
               .emplace(sql, std::make_unique<Statement>(std::move(statement)))
               .first;
    }
    it->second->Reset();
    return it->second.get();
  }
};

// Returns the connection to the pool when it goes out of scope.
class Store::Lease {
 public:
  Lease(const Store* store, std::unique_ptr<Connection> connection)
      : store_(store), connection_(std::move(connection)) {}
  Lease(Lease&&) = default;
  ~Lease() {
    if (connection_) store_->Release(std::move(connection_));
  }
  Connection* operator->() { return connection_.get(); }
  Connection& operator*() { return *connection_; }

 private:
  const Store* store_;
  std::unique_ptr<Connection> connection_;
};

namespace {

// FTS5 auxiliary function citekb_bm25(fts_table, w1, ..., wN, hits1, ...,
// hitsP): FTS5's bm25() with column weights w1..wN (one per column), except
// that the number of rows containing each of the P phrases of the MATCH
// expression is passed in instead of counted. bm25() counts them at the start
// of every query, walking each phrase's whole document list, while the
// count of a phrase never changes in a read-only index; the caller remembers
// it (Store::CountIn). The formula and the order of every floating-point
// operation are bm25()'s, so the scores are identical bit for bit
// (store_test compares them). Without the right number of counts it counts
// like bm25().
//
// citekb_passage_bm25(passage_fts, ...) is the same function told each
// row's length by Store::passage_tokens_ instead of asking FTS5, which reads
// it from the passage_fts_docsize table: one b-tree lookup per matching row,
// 40% of ranking's time at 10,000 articles, for a number that never
// changes.
struct Bm25Query {
  double average_length = 0;      // Tokens per row, all columns.
  std::vector<double> idf;        // Per phrase.
  std::vector<double> frequency;  // Per phrase, for the current row.
};

constexpr double kBm25K1 = 1.2;
constexpr double kBm25B = 0.75;

int CountRowsCallback(const Fts5ExtensionApi*, Fts5Context*, void* count) {
  ++*static_cast<sqlite3_int64*>(count);
  return SQLITE_OK;
}

int PrepareBm25Query(const Fts5ExtensionApi* api, Fts5Context* fts, int argc,
                     sqlite3_value** argv, Bm25Query** out) {
  *out = static_cast<Bm25Query*>(api->xGetAuxdata(fts, 0));
  if (*out != nullptr) return SQLITE_OK;
  auto query = std::make_unique<Bm25Query>();
  const int columns = api->xColumnCount(fts);
  const int phrases = api->xPhraseCount(fts);
  sqlite3_int64 rows = 0;
  sqlite3_int64 tokens = 0;
  int rc = api->xRowCount(fts, &rows);
  if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &tokens);
  if (rc != SQLITE_OK) return rc;
  query->average_length =
      static_cast<double>(tokens) / static_cast<double>(rows);
  const bool counts_given = argc == columns + phrases;
  for (int i = 0; i < phrases; ++i) {
    sqlite3_int64 hits = 0;
    if (counts_given) {
      hits = sqlite3_value_int64(argv[columns + i]);
    } else if ((rc = api->xQueryPhrase(fts, i, &hits, CountRowsCallback)) !=
               SQLITE_OK) {
      return rc;
    }
    double idf = std::log((rows - hits + 0.5) / (hits + 0.5));
    if (idf <= 0.0) idf = 1e-6;  // As bm25(): a phrase in most rows.
    query->idf.push_back(idf);
  }
  query->frequency.resize(static_cast<size_t>(phrases));
  rc = api->xSetAuxdata(fts, query.get(),
                        [](void* p) { delete static_cast<Bm25Query*>(p); });
  if (rc != SQLITE_OK) return rc;  // xSetAuxdata deleted it.
  *out = query.release();
  return SQLITE_OK;
}

void Bm25Function(const Fts5ExtensionApi* api, Fts5Context* fts,
                  sqlite3_context* result, int argc, sqlite3_value** argv) {
  Bm25Query* query = nullptr;
  int rc = PrepareBm25Query(api, fts, argc, argv, &query);
  if (rc == SQLITE_OK) {
    // Phrase by phrase (xPhraseFirst) rather than through xInst, which
    // first merges every phrase's instances into one sorted list; each
    // phrase's instances come in the same order either way, so the sums are
    // the same.
    const int columns = api->xColumnCount(fts);
    for (size_t phrase = 0; phrase < query->frequency.size(); ++phrase) {
      double frequency = 0;
      Fts5PhraseIter iter;
      int column = 0, offset = 0;
      rc = api->xPhraseFirst(fts, static_cast<int>(phrase), &iter, &column,
                             &offset);
      if (rc != SQLITE_OK) break;
      for (; column >= 0; api->xPhraseNext(fts, &iter, &column, &offset)) {
        // A column without a weight weighs 1, as in bm25().
        frequency += column < std::min(argc, columns)
                         ? sqlite3_value_double(argv[column])
                         : 1.0;
      }
      query->frequency[phrase] = frequency;
    }
  }
  int row_tokens = -1;
  if (rc == SQLITE_OK) {
    if (const auto* lengths =
            static_cast<const std::vector<int32_t>*>(api->xUserData(fts));
        lengths != nullptr) {
      const sqlite3_int64 rowid = api->xRowid(fts);
      if (rowid >= 0 && rowid < static_cast<sqlite3_int64>(lengths->size())) {
        row_tokens = (*lengths)[static_cast<size_t>(rowid)];
      }
    }
    if (row_tokens < 0) rc = api->xColumnSize(fts, -1, &row_tokens);
  }
  if (rc != SQLITE_OK) {
    sqlite3_result_error_code(result, rc);
    return;
  }
  const double length = static_cast<double>(row_tokens);
  double score = 0.0;
  for (size_t i = 0; i < query->idf.size(); ++i) {
    const double f = query->frequency[i];
    score += query->idf[i] *
             ((f * (kBm25K1 + 1.0)) /
              (f + kBm25K1 *
                       (1 - kBm25B + kBm25B * length / query->average_length)));
  }
  sqlite3_result_double(result, -1.0 * score);
}

// FTS5 auxiliary function citekb_phrases(fts_table): a blob with one byte
// per phrase of the row's MATCH expression, 1 when the row has the phrase
// (in any column). One ranking query then tells which of the question's
// words each passage has.
void PhrasesFunction(const Fts5ExtensionApi* api, Fts5Context* fts,
                     sqlite3_context* result, int, sqlite3_value**) {
  const int count = api->xPhraseCount(fts);
  std::string present(static_cast<size_t>(count), '\0');
  for (int i = 0; i < count; ++i) {
    Fts5PhraseIter iter;
    int column = -1;
    if (const int rc = api->xPhraseFirstColumn(fts, i, &iter, &column);
        rc != SQLITE_OK) {
      sqlite3_result_error_code(result, rc);
      return;
    }
    present[static_cast<size_t>(i)] = column >= 0 ? 1 : 0;
  }
  sqlite3_result_blob(result, present.data(), count, SQLITE_TRANSIENT);
}

// `passage_tokens`: see citekb_passage_bm25.
absl::Status RegisterFunctions(sqlite3* db,
                               const std::vector<int32_t>* passage_tokens) {
  // The documented way to reach FTS5's registration API from C.
  fts5_api* api = nullptr;
  CITEKB_ASSIGN_OR_RETURN(Statement query,
                          Statement::Prepare(db, "SELECT fts5(?1)"));
  sqlite3_bind_pointer(query.get(), 1, &api, "fts5_api_ptr", nullptr);
  CITEKB_RETURN_IF_ERROR(query.Step().status());
  if (api == nullptr || api->iVersion < 2 ||
      api->xCreateFunction(api, "citekb_phrases", nullptr, PhrasesFunction,
                           nullptr) != SQLITE_OK ||
      api->xCreateFunction(api, "citekb_bm25", nullptr, Bm25Function,
                           nullptr) != SQLITE_OK ||
      api->xCreateFunction(api, "citekb_passage_bm25",
                           const_cast<std::vector<int32_t>*>(passage_tokens),
                           Bm25Function, nullptr) != SQLITE_OK) {
    return absl::InternalError("cannot register an FTS5 function");
  }
  return absl::OkStatus();
}

// SQLite calls the progress handler after this many virtual-machine steps;
// each call charges them to the current call's QueryBudget. Small enough to
// stop a runaway statement within microseconds, large enough to cost
// nothing measurable.
constexpr int kProgressSteps = 1000;

// Returning non-zero interrupts the running statement (SQLITE_INTERRUPT).
int ChargeCurrentBudget(void*) {
  QueryBudget* budget = QueryBudget::Current();
  return budget != nullptr && !budget->Charge(kProgressSteps) ? 1 : 0;
}

// A connection to the in-memory `image` of an index: read-only three times
// over (SQLITE_OPEN_READONLY, the image attached with
// SQLITE_DESERIALIZE_READONLY, and query_only refusing writes up front),
// defensive (no schema or page tricks from SQL), not trusting the schema
// (functions and virtual tables used by views or triggers in a hostile file
// refuse to run), with extension loading off (OpenDatabase) and the
// progress handler above. Pages are read straight from the image (mmap
// mode), so connections add no copy of the index.
absl::StatusOr<Database> OpenImage(absl::string_view image,
                                   const std::vector<int32_t>* passage_tokens) {
  CITEKB_ASSIGN_OR_RETURN(
      Database db,
      OpenDatabase(":memory:", SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX));
  // READONLY and not RESIZEABLE: SQLite reads the caller's buffer in place
  // and never writes or frees it. The cast drops const only for the C API.
  unsigned char* data =
      reinterpret_cast<unsigned char*>(const_cast<char*>(image.data()));
  const auto size = static_cast<sqlite3_int64>(image.size());
  if (sqlite3_deserialize(db.get(), "main", data, size, size,
                          SQLITE_DESERIALIZE_READONLY) != SQLITE_OK) {
    return SqliteError(db.get(), "cannot load the index image");
  }
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  CITEKB_RETURN_IF_ERROR(
      Exec(db.get(), absl::StrCat("PRAGMA mmap_size = ", image.size())));
  CITEKB_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA query_only = ON"));
  sqlite3_progress_handler(db.get(), kProgressSteps, &ChargeCurrentBudget,
                           nullptr);
  CITEKB_RETURN_IF_ERROR(RegisterFunctions(db.get(), passage_tokens));
  return db;
}

v1::PassageKind PassageKindFromName(absl::string_view name) {
  if (name == "paragraph") return v1::PASSAGE_KIND_PARAGRAPH;
  if (name == "table_row") return v1::PASSAGE_KIND_TABLE_ROW;
  if (name == "faq") return v1::PASSAGE_KIND_FAQ;
  return v1::PASSAGE_KIND_UNSPECIFIED;
}

const char* PassageKindName(v1::PassageKind kind) {
  switch (kind) {
    case v1::PASSAGE_KIND_PARAGRAPH:
      return "paragraph";
    case v1::PASSAGE_KIND_TABLE_ROW:
      return "table_row";
    case v1::PASSAGE_KIND_FAQ:
      return "faq";
    default:
      return "";
  }
}

v1::CitationKind CitationKindFromName(absl::string_view name) {
  if (name == "pubmed") return v1::CITATION_KIND_PUBMED;
  if (name == "pmc") return v1::CITATION_KIND_PMC;
  if (name == "doi") return v1::CITATION_KIND_DOI;
  if (name == "web") return v1::CITATION_KIND_WEB;
  if (name == "safety_reference") return v1::CITATION_KIND_SAFETY_REFERENCE;
  return v1::CITATION_KIND_UNSPECIFIED;
}

const char* CitationKindName(v1::CitationKind kind) {
  switch (kind) {
    case v1::CITATION_KIND_PUBMED:
      return "pubmed";
    case v1::CITATION_KIND_PMC:
      return "pmc";
    case v1::CITATION_KIND_DOI:
      return "doi";
    case v1::CITATION_KIND_WEB:
      return "web";
    case v1::CITATION_KIND_SAFETY_REFERENCE:
      return "safety_reference";
    default:
      return "";
  }
}

std::string Str(absl::string_view text) { return std::string(text); }

// Columns 0..9 of every passage query, in this order.
constexpr char kPassageColumns[] =
    "p.id, p.public_id, p.article_id, sec.public_id, sec.title, p.kind, "
    "p.text, p.anecdotal, "
    "(SELECT answer_incomplete FROM faqs WHERE faqs.passage_id = p.id)";

PassageHit ReadPassage(const Statement& row) {
  PassageHit hit;
  hit.rowid = row.ColumnInt(0);
  v1::Passage& p = hit.passage;
  p.set_id(Str(row.ColumnText(1)));
  p.set_article_id(Str(row.ColumnText(2)));
  p.set_section_id(Str(row.ColumnText(3)));
  p.set_section_title(Str(row.ColumnText(4)));
  p.set_kind(PassageKindFromName(row.ColumnText(5)));
  p.set_text(Str(row.ColumnText(6)));
  p.set_anecdotal(row.ColumnInt(7) != 0);
  hit.incomplete_faq = row.ColumnInt(8) != 0;
  return hit;
}

absl::Status ReadCitationIds(Store::Connection& c, int64_t passage_rowid,
                             v1::Passage& passage);

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  // SQLite keeps memory statistics behind one process-wide mutex taken on
  // every allocation; with queries on several threads that mutex is the
  // server's hottest lock. citekb never reads the statistics. The switch
  // only works before SQLite initializes, that is in a process whose first
  // SQLite use is this (the server); elsewhere it is refused and harmless.
  static const bool kNoMemoryStatistics [[maybe_unused]] =
      sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  CITEKB_ASSIGN_OR_RETURN(MappedFile image, MappedFile::Open(path));
  std::unique_ptr<Store> store(new Store(path, std::move(image)));
  {
    CITEKB_ASSIGN_OR_RETURN(Lease lease, store->Acquire());
    // A file that is not SQLite fails here with DATA_LOSS; one without our
    // meta table or with another schema version is refused by name.
    absl::StatusOr<Statement*> version =
        lease->Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!version.ok()) {
      if (absl::IsDataLoss(version.status())) {
        // SQLite says "not a database" also for its own files cut short.
        constexpr absl::string_view kSqliteMagic("SQLite format 3\0", 16);
        return absl::DataLossError(absl::StrCat(
            path, absl::StartsWith(store->image_.bytes(), kSqliteMagic)
                      ? " is damaged or truncated: rebuild it with citekb-index"
                      : " is not a citekb index (not an SQLite database)"));
      }
      return absl::DataLossError(absl::StrCat(
          path, " is not a citekb index: ", version.status().message()));
    }
    absl::StatusOr<bool> has_row = (*version)->Step();
    if (!has_row.ok()) {
      return absl::DataLossError(absl::StrCat(
          path,
          " is not a readable citekb index: ", has_row.status().message()));
    }
    const std::string found =
        *has_row ? Str((*version)->ColumnText(0)) : "none";
    if (found != absl::StrCat(kSchemaVersion)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " has index schema version ", found,
                       "; this server reads version ", kSchemaVersion,
                       ": rebuild it with citekb-index"));
    }
    // A truncated or damaged file can still have a readable first page; the
    // b-tree check reads every page once, so such a file is refused here
    // rather than failing calls later.
    absl::StatusOr<Statement*> check = lease->Prepare("PRAGMA quick_check(3)");
    absl::StatusOr<bool> check_row =
        check.ok() ? (*check)->Step() : absl::StatusOr<bool>(check.status());
    if (!check_row.ok() || !*check_row || (*check)->ColumnText(0) != "ok") {
      // quick_check's report spans lines; a log line must not.
      const std::string problem = absl::StrReplaceAll(
          !check_row.ok() ? std::string(check_row.status().message())
          : *check_row    ? Str((*check)->ColumnText(0))
                          : "no result",
          {{"\n", " "}});
      return absl::DataLossError(absl::StrCat(
          path, " is damaged (", problem, "): rebuild it with citekb-index"));
    }
    CITEKB_ASSIGN_OR_RETURN(Statement * count,
                            lease->Prepare("SELECT count(*) FROM passages"));
    CITEKB_ASSIGN_OR_RETURN(bool counted, count->Step());
    store->passage_count_ = counted ? count->ColumnInt(0) : 0;
    CITEKB_ASSIGN_OR_RETURN(
        Statement * rules,
        lease->Prepare(absl::StrCat("SELECT value FROM meta WHERE key = '",
                                    kStackRulesMetaKey, "'")));
    CITEKB_ASSIGN_OR_RETURN(bool has_rules, rules->Step());
    if (has_rules) store->stack_rules_text_ = Str(rules->ColumnText(0));
  }  // The lease goes back before LoadLeadingFaqs takes one.
  CITEKB_RETURN_IF_ERROR(store->LoadVocabulary());
  CITEKB_RETURN_IF_ERROR(store->LoadLeadingFaqs());
  CITEKB_RETURN_IF_ERROR(store->LoadPassageTokens());
  // quick_check read every page; serving needs only the ones queries touch.
  store->image_.ReleaseResidentPages();
  return store;
}

namespace {

// One of SQLite's variable-length integers (FTS5 writes them too) from the
// start of `bytes`, consumed. False when `bytes` ends inside it.
bool ReadVarint(absl::string_view& bytes, uint64_t* value) {
  *value = 0;
  for (int i = 0; i < 9; ++i) {
    if (bytes.empty()) return false;
    const auto byte = static_cast<uint8_t>(bytes.front());
    bytes.remove_prefix(1);
    if (i == 8) {  // The ninth byte carries 8 bits.
      *value = (*value << 8) | byte;
      return true;
    }
    *value = (*value << 7) | (byte & 0x7f);
    if ((byte & 0x80) == 0) return true;
  }
  return true;
}

}  // namespace

absl::Status Store::LoadPassageTokens() {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  // FTS5 keeps each row's token count per column in its docsize table, as
  // one varint per column.
  CITEKB_ASSIGN_OR_RETURN(
      Statement * rows,
      c->Prepare("SELECT id, sz FROM passage_fts_docsize ORDER BY id"));
  std::vector<int32_t> tokens;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, rows->Step());
    if (!row) break;
    const int64_t rowid = rows->ColumnInt(0);
    absl::string_view sizes = rows->ColumnText(1);
    uint64_t total = 0;
    while (!sizes.empty()) {
      uint64_t column = 0;
      if (!ReadVarint(sizes, &column)) {
        return absl::DataLossError(
            absl::StrCat(path_,
                         " is damaged (a bad passage length): rebuild it with "
                         "citekb-index"));
      }
      total += column;
    }
    // Rowids are the passages' ids, 1 to n; anything else is not indexed
    // here and FTS5 answers for it (-1).
    if (rowid < 0 || rowid > passage_count_ || total > INT32_MAX) continue;
    if (tokens.size() <= static_cast<size_t>(rowid))
      tokens.resize(rowid + 1, -1);
    tokens[static_cast<size_t>(rowid)] = static_cast<int32_t>(total);
  }
  // Connections read passage_tokens_ from now on; none ranks before Open
  // returns.
  passage_tokens_ = std::move(tokens);
  return absl::OkStatus();
}

absl::Status Store::LoadVocabulary() {
  // fts5vocab needs a (temporary) virtual table, which query_only forbids:
  // a separate short-lived connection reads the vocabulary. Its main
  // database is as read-only as every other; only its temp schema changes.
  CITEKB_ASSIGN_OR_RETURN(Database db, OpenImage(image_.bytes(), nullptr));
  CITEKB_RETURN_IF_ERROR(Exec(db.get(), "PRAGMA query_only = OFF"));
  CITEKB_RETURN_IF_ERROR(Exec(db.get(),
                              "CREATE VIRTUAL TABLE temp.passage_vocab USING "
                              "fts5vocab(main, 'passage_fts', 'col')"));
  CITEKB_ASSIGN_OR_RETURN(
      Statement terms,
      Statement::Prepare(
          db.get(),
          "SELECT term, doc FROM temp.passage_vocab WHERE col = 'body'"));
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, terms.Step());
    if (!row) break;
    vocabulary_[Str(terms.ColumnText(0))] = terms.ColumnInt(1);
  }
  return absl::OkStatus();
}

namespace {

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

}  // namespace

std::string Store::CorrectSpelling(const std::string& word) const {
  if (word.size() < 5 || vocabulary_.contains(word)) return "";
  for (const std::string& stem :
       {word.substr(0, word.size() - 1), word.substr(0, word.size() - 2)}) {
    if (vocabulary_.contains(stem)) return "";  // "bones" is "bone".
  }
  const size_t limit = word.size() >= 8 ? 2 : 1;
  std::string best;
  int64_t best_count = 0;
  for (const auto& [term, count] : vocabulary_) {
    if (term.size() < 4 || count <= best_count) continue;
    if (EditDistance(word, term, limit) <= limit) {
      best = term;
      best_count = count;
    }
  }
  return best;
}

Store::Store(std::string path, MappedFile image)
    : path_(std::move(path)),
      image_(std::move(image)),
      max_connections_(static_cast<int>(
          std::max(2u, 2 * std::thread::hardware_concurrency()))) {}
Store::~Store() = default;

bool Store::CanAcquire() const {
  return !idle_.empty() || open_connections_ < max_connections_;
}

absl::StatusOr<Store::Lease> Store::Acquire() const {
  // A call past its deadline, cancelled or over its budget starts no query.
  if (QueryBudget* budget = QueryBudget::Current();
      budget != nullptr && !budget->Charge(0)) {
    return budget->status();
  }
  {
    absl::MutexLock lock(&mutex_);
    mutex_.Await(absl::Condition(this, &Store::CanAcquire));
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    ++open_connections_;
  }
  // One connection per concurrently running query, up to the limit; they
  // stay open for reuse.
  auto connection = std::make_unique<Connection>();
  absl::StatusOr<Database> db = OpenImage(image_.bytes(), &passage_tokens_);
  if (!db.ok()) {
    absl::MutexLock lock(&mutex_);
    --open_connections_;
    return db.status();
  }
  connection->db = *std::move(db);
  return Lease(this, std::move(connection));
}

void Store::Release(std::unique_ptr<Connection> connection) const {
  // The progress handler charges whole kProgressSteps; the rest of each
  // statement's steps is charged here, so that a call made of many short
  // statements is metered too.
  if (QueryBudget* budget = QueryBudget::Current(); budget != nullptr) {
    int64_t steps = 0;
    for (auto& [sql, statement] : connection->statements) {
      steps +=
          sqlite3_stmt_status(statement->get(), SQLITE_STMTSTATUS_VM_STEP, 1);
    }
    budget->Charge(steps % kProgressSteps);
  }
  absl::MutexLock lock(&mutex_);
  idle_.push_back(std::move(connection));
}

namespace {

absl::Status ReadCitationIds(Store::Connection& c, int64_t passage_rowid,
                             v1::Passage& passage) {
  CITEKB_ASSIGN_OR_RETURN(
      Statement * sources,
      c.Prepare(
          "SELECT ss.source_id, min(s.id) AS first FROM sentences s "
          "JOIN sentence_sources ss ON ss.sentence_id = s.id "
          "WHERE s.passage_id = ?1 GROUP BY ss.source_id ORDER BY first"));
  sources->Bind(1, passage_rowid);
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, sources->Step());
    if (!row) break;
    passage.add_citation_ids(Str(sources->ColumnText(0)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<PassageHit>> Store::SearchPassages(
    const std::string& match, const PassageFilter& filter, int limit,
    int offset, int64_t* total, const SearchOptions& options) const {
  const char* kind = PassageKindName(filter.kind);
  if (total != nullptr) {
    if (*kind == '\0' && filter.section_id.empty()) {
      // Every passage has a section: without filters the count needs no
      // join, and it is the same count Ask asks for.
      CITEKB_ASSIGN_OR_RETURN(*total, CountIn("passage_fts", match));
    } else {
      CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
      CITEKB_ASSIGN_OR_RETURN(
          Statement * count,
          c->Prepare(
              "SELECT count(*) FROM passage_fts JOIN passages p ON p.id = "
              "passage_fts.rowid JOIN sections sec ON sec.id = p.section_id "
              "WHERE passage_fts MATCH ?1 AND (?2 = '' OR p.kind = ?2) "
              "AND (?3 = '' OR sec.public_id = ?3)"));
      count->Bind(1, match).Bind(2, kind).Bind(3, filter.section_id);
      CITEKB_ASSIGN_OR_RETURN(bool row, count->Step());
      *total = row ? count->ColumnInt(0) : 0;
    }
  }
  std::vector<int64_t> phrase_rows;
  int64_t rows_to_score = 0;
  for (const std::string& phrase : options.match_phrases) {
    CITEKB_ASSIGN_OR_RETURN(phrase_rows.emplace_back(),
                            CountIn("passage_fts", phrase));
    rows_to_score += phrase_rows.back();
  }
  const RankedQuery query{.match = match,
                          .kind = kind,
                          .section_id = filter.section_id,
                          .limit = limit,
                          .offset = offset,
                          .phrases = options.phrases,
                          .phrase_rows = phrase_rows};
  CITEKB_ASSIGN_OR_RETURN(std::vector<PassageHit> hits,
                          rows_to_score >= kMinRowsForBoundedSort
                              ? RankByBoundedSort(query)
                              : RankByFts5(query, options.match_phrases));
  if (options.citation_ids) {
    CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
    for (PassageHit& hit : hits) {
      CITEKB_RETURN_IF_ERROR(ReadCitationIds(*c, hit.rowid, hit.passage));
    }
  }
  return hits;
}

absl::StatusOr<std::vector<PassageHit>> Store::RankByFts5(
    const RankedQuery& query,
    const std::vector<std::string>& match_phrases) const {
  CITEKB_ASSIGN_OR_RETURN(
      const std::string rank,
      RankFunction("passage_fts",
                   absl::StrCat(kSectionTitleWeight, ", ", kBodyWeight, ", ",
                                kCompoundWeight),
                   match_phrases));
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  // Ordered by FTS5's rank column (set to the weighted bm25) rather than by
  // a bm25() expression: FTS5 then sorts rowids by score itself and the
  // query stops after LIMIT rows, so the snippet and the joined columns are
  // computed for the passages returned, not for every passage that matches.
  // The scores, and their order, are the same.
  CITEKB_ASSIGN_OR_RETURN(
      Statement * ranked,
      c->Prepare(absl::StrCat(
          "SELECT ", kPassageColumns,
          ", snippet(passage_fts, 1, '[', ']', '…', 24), -rank, "
          "CASE WHEN ?6 THEN citekb_phrases(passage_fts) END "
          "FROM passage_fts JOIN passages p ON p.id = passage_fts.rowid "
          "JOIN sections sec ON sec.id = p.section_id "
          "WHERE passage_fts MATCH ?1 AND rank MATCH ?7 "
          "AND (?2 = '' OR p.kind = ?2) AND (?3 = '' OR sec.public_id = ?3) "
          "ORDER BY rank LIMIT ?4 OFFSET ?5")));
  ranked->Bind(1, query.match)
      .Bind(2, query.kind)
      .Bind(3, query.section_id)
      .Bind(4, query.limit)
      .Bind(5, query.offset)
      .Bind(6, query.phrases ? 1 : 0)
      .Bind(7, rank);
  std::vector<PassageHit> hits;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, ranked->Step());
    if (!row) break;
    PassageHit hit = ReadPassage(*ranked);
    hit.passage.set_snippet(Str(ranked->ColumnText(9)));
    hit.passage.set_score(ranked->ColumnDouble(10));
    if (query.phrases) hit.phrases = Str(ranked->ColumnText(11));
    hits.push_back(std::move(hit));
  }
  return hits;
}

absl::StatusOr<std::vector<PassageHit>> Store::RankByBoundedSort(
    const RankedQuery& query) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  // FTS5's rank ordering sorts every match before the first row comes out.
  // SQLite's own ORDER BY ... LIMIT keeps only the best `offset + limit` as
  // rows come. Without a filter there is no join either: it would look up
  // every matching passage, not only the ones kept. Equal scores keep rowid
  // order, as FTS5's sort does.
  const bool filtered = *query.kind != '\0' || !query.section_id.empty();
  std::string score = "citekb_passage_bm25(passage_fts, ?6, ?7, ?8";
  for (size_t i = 0; i < query.phrase_rows.size(); ++i)
    absl::StrAppend(&score, ", ?", i + 9);
  score += ")";
  CITEKB_ASSIGN_OR_RETURN(
      Statement * ranked,
      c->Prepare(absl::StrCat(
          "SELECT passage_fts.rowid, ", score, " AS score FROM passage_fts ",
          filtered ? "JOIN passages p ON p.id = passage_fts.rowid "
                     "JOIN sections sec ON sec.id = p.section_id "
                   : "",
          "WHERE passage_fts MATCH ?1 ",
          filtered ? "AND (?2 = '' OR p.kind = ?2) AND (?3 = '' OR "
                     "sec.public_id = ?3) "
                   : "AND ?2 = '' AND ?3 = '' ",
          "ORDER BY score, passage_fts.rowid LIMIT ?4 OFFSET ?5")));
  ranked->Bind(1, query.match)
      .Bind(2, query.kind)
      .Bind(3, query.section_id)
      .Bind(4, query.limit)
      .Bind(5, query.offset)
      .Bind(6, kSectionTitleWeight)
      .Bind(7, kBodyWeight)
      .Bind(8, kCompoundWeight);
  for (size_t i = 0; i < query.phrase_rows.size(); ++i) {
    ranked->Bind(static_cast<int>(i) + 9, query.phrase_rows[i]);
  }
  std::vector<std::pair<int64_t, double>> best;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, ranked->Step());
    if (!row) break;
    best.emplace_back(ranked->ColumnInt(0), -ranked->ColumnDouble(1));
  }
  // Then the passage, its snippet and phrase flags for the rows kept.
  CITEKB_ASSIGN_OR_RETURN(
      Statement * passage,
      c->Prepare(absl::StrCat(
          "SELECT ", kPassageColumns,
          ", snippet(passage_fts, 1, '[', ']', '…', 24), "
          "CASE WHEN ?3 THEN citekb_phrases(passage_fts) END "
          "FROM passage_fts JOIN passages p ON p.id = passage_fts.rowid "
          "JOIN sections sec ON sec.id = p.section_id "
          "WHERE passage_fts MATCH ?1 AND passage_fts.rowid = ?2")));
  std::vector<PassageHit> hits;
  for (const auto& [rowid, passage_score] : best) {
    passage->Reset();
    passage->Bind(1, query.match).Bind(2, rowid).Bind(3, query.phrases ? 1 : 0);
    CITEKB_ASSIGN_OR_RETURN(bool row, passage->Step());
    if (!row) {
      return absl::InternalError(
          absl::StrCat("ranked passage ", rowid, " vanished"));
    }
    PassageHit hit = ReadPassage(*passage);
    hit.passage.set_snippet(Str(passage->ColumnText(9)));
    hit.passage.set_score(passage_score);
    if (query.phrases) hit.phrases = Str(passage->ColumnText(10));
    hits.push_back(std::move(hit));
  }
  return hits;
}

absl::Status Store::AddCitationIds(PassageHit& hit) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  return ReadCitationIds(*c, hit.rowid, hit.passage);
}

absl::StatusOr<int64_t> Store::CountMatching(const std::string& match) const {
  return CountIn("passage_fts", match);
}

absl::StatusOr<int64_t> Store::CountIn(const char* table,
                                       const std::string& match) const {
  const std::string key = absl::StrCat(table, "\x1f", match);
  {
    absl::MutexLock lock(&counts_mutex_);
    auto it = counts_.find(key);
    if (it != counts_.end()) return it->second;
  }
  // Counting walks every matching row (a few ms for a common word at
  // 10,000 articles) while the answer never changes, and questions share
  // their words: remember it.
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", table,
                              " MATCH ?1")));
  query->Bind(1, match);
  CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
  const int64_t count = row ? query->ColumnInt(0) : 0;
  absl::MutexLock lock(&counts_mutex_);
  if (counts_.size() < kMaxCachedCounts) counts_.emplace(key, count);
  return count;
}

absl::StatusOr<std::string> Store::RankFunction(
    const char* table, absl::string_view weights,
    const std::vector<std::string>& phrases) const {
  if (phrases.empty()) return absl::StrCat("bm25(", weights, ")");
  std::string rank = absl::StrCat(absl::string_view(table) == "passage_fts"
                                      ? "citekb_passage_bm25("
                                      : "citekb_bm25(",
                                  weights);
  for (const std::string& phrase : phrases) {
    CITEKB_ASSIGN_OR_RETURN(int64_t hits, CountIn(table, phrase));
    absl::StrAppend(&rank, ", ", hits);
  }
  return absl::StrCat(rank, ")");
}

absl::StatusOr<std::vector<int64_t>> Store::FilterMatching(
    const std::string& match, const std::vector<int64_t>& rowids) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(Statement * query,
                          c->Prepare("SELECT 1 FROM passage_fts WHERE "
                                     "passage_fts MATCH ?1 AND rowid = ?2"));
  std::vector<int64_t> matching;
  for (int64_t rowid : rowids) {
    query->Reset();
    query->Bind(1, match).Bind(2, rowid);
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (row) matching.push_back(rowid);
  }
  return matching;
}

absl::StatusOr<std::vector<StoredSentence>> Store::Sentences(
    int64_t passage_rowid) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(
          "SELECT s.text, s.anecdotal, (SELECT group_concat(source_id, ' ') "
          "FROM sentence_sources WHERE sentence_id = s.id) "
          "FROM sentences s WHERE s.passage_id = ?1 ORDER BY s.ordinal"));
  query->Bind(1, passage_rowid);
  std::vector<StoredSentence> sentences;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) break;
    StoredSentence sentence;
    sentence.text = Str(query->ColumnText(0));
    sentence.anecdotal = query->ColumnInt(1) != 0;
    for (absl::string_view id :
         absl::StrSplit(query->ColumnText(2), ' ', absl::SkipEmpty())) {
      sentence.source_ids.emplace_back(id);
    }
    sentences.push_back(std::move(sentence));
  }
  return sentences;
}

namespace {

constexpr char kFaqColumns[] =
    "f.public_id, f.question, f.answer, f.answer_incomplete, p.public_id, p.id";

}  // namespace

absl::StatusOr<std::vector<FaqHit>> Store::MatchFaqs(
    const std::string& match, int limit,
    const std::vector<std::string>& match_phrases) const {
  // bm25(faq_fts) (one column, weight 1), or the same with each phrase's
  // remembered row count (see Bm25Function) bound as ?3, ?4, ...
  std::string score = "bm25(faq_fts)";
  std::vector<int64_t> hits_per_phrase;
  if (!match_phrases.empty()) {
    score = "citekb_bm25(faq_fts, 1.0";
    for (size_t i = 0; i < match_phrases.size(); ++i) {
      CITEKB_ASSIGN_OR_RETURN(int64_t hits,
                              CountIn("faq_fts", match_phrases[i]));
      hits_per_phrase.push_back(hits);
      absl::StrAppend(&score, ", ?", i + 3);
    }
    score += ")";
  }
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  // Two steps. Only rowids and scores in the ranking query, ordered by
  // SQLite's bounded sort: LIMIT keeps `limit` rows as they come instead of
  // sorting every match, and there is no per-query sort statement as with
  // FTS5's rank column. Then the FAQ rows for the few kept. Equal scores
  // keep rowid order either way.
  CITEKB_ASSIGN_OR_RETURN(
      Statement * ranked,
      c->Prepare(absl::StrCat("SELECT rowid, ", score,
                              " AS score FROM faq_fts WHERE faq_fts MATCH ?1 "
                              "ORDER BY score LIMIT ?2")));
  ranked->Bind(1, match).Bind(2, limit);
  for (size_t i = 0; i < hits_per_phrase.size(); ++i) {
    ranked->Bind(static_cast<int>(i) + 3, hits_per_phrase[i]);
  }
  std::vector<std::pair<int64_t, double>> best;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, ranked->Step());
    if (!row) break;
    best.emplace_back(ranked->ColumnInt(0), -ranked->ColumnDouble(1));
  }
  CITEKB_ASSIGN_OR_RETURN(
      Statement * faq,
      c->Prepare(
          absl::StrCat("SELECT ", kFaqColumns,
                       " FROM faqs f JOIN passages p ON p.id = f.passage_id "
                       "WHERE f.id = ?1")));
  std::vector<FaqHit> hits;
  for (const auto& [rowid, faq_score] : best) {
    faq->Reset();
    faq->Bind(1, rowid);
    CITEKB_ASSIGN_OR_RETURN(bool row, faq->Step());
    if (!row) continue;  // Every faq_fts row has its faqs row.
    FaqHit hit;
    hit.faq.set_id(Str(faq->ColumnText(0)));
    hit.faq.set_question(Str(faq->ColumnText(1)));
    hit.faq.set_answer(Str(faq->ColumnText(2)));
    hit.faq.set_answer_incomplete(faq->ColumnInt(3) != 0);
    hit.faq.set_passage_id(Str(faq->ColumnText(4)));
    hit.passage_rowid = faq->ColumnInt(5);
    hit.score = faq_score;
    hits.push_back(std::move(hit));
  }
  return hits;
}

absl::StatusOr<PassageHit> Store::PassageByRowid(int64_t rowid) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(absl::StrCat("SELECT ", kPassageColumns,
                              " FROM passages p JOIN sections sec ON sec.id = "
                              "p.section_id WHERE p.id = ?1")));
  query->Bind(1, rowid);
  CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no passage ", rowid));
  PassageHit hit = ReadPassage(*query);
  CITEKB_RETURN_IF_ERROR(ReadCitationIds(*c, hit.rowid, hit.passage));
  return hit;
}

absl::StatusOr<bool> Store::HasSections() const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(Statement * query,
                          c->Prepare("SELECT 1 FROM sections LIMIT 1"));
  return query->Step();
}

absl::StatusOr<std::vector<v1::Section>> Store::ListSections(
    const std::string& article_id) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(
          "SELECT sec.public_id, sec.article_id, sec.anchor, sec.title, "
          "sec.ordinal, (SELECT count(*) FROM passages p WHERE p.section_id "
          "= sec.id) FROM sections sec WHERE (?1 = '' OR sec.article_id = ?1) "
          "ORDER BY sec.id"));
  query->Bind(1, article_id);
  std::vector<v1::Section> sections;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) break;
    v1::Section& s = sections.emplace_back();
    s.set_id(Str(query->ColumnText(0)));
    s.set_article_id(Str(query->ColumnText(1)));
    s.set_anchor(Str(query->ColumnText(2)));
    s.set_title(Str(query->ColumnText(3)));
    s.set_ordinal(static_cast<int32_t>(query->ColumnInt(4)));
    s.set_passage_count(static_cast<int32_t>(query->ColumnInt(5)));
  }
  return sections;
}

absl::StatusOr<v1::GetSectionResponse> Store::GetSection(
    const std::string& section_id) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * header,
      c->Prepare(
          "SELECT sec.id, sec.article_id, sec.anchor, sec.title, sec.ordinal, "
          "(SELECT count(*) FROM passages p WHERE p.section_id = sec.id) "
          "FROM sections sec WHERE sec.public_id = ?1"));
  header->Bind(1, section_id);
  CITEKB_ASSIGN_OR_RETURN(bool found, header->Step());
  if (!found) {
    return absl::NotFoundError(absl::StrCat("id: no section \"", section_id,
                                            "\" (ListSections gives the ids)"));
  }
  const int64_t section_rowid = header->ColumnInt(0);
  v1::GetSectionResponse response;
  v1::Section& section = *response.mutable_section();
  section.set_id(section_id);
  section.set_article_id(Str(header->ColumnText(1)));
  section.set_anchor(Str(header->ColumnText(2)));
  section.set_title(Str(header->ColumnText(3)));
  section.set_ordinal(static_cast<int32_t>(header->ColumnInt(4)));
  section.set_passage_count(static_cast<int32_t>(header->ColumnInt(5)));

  // Blocks in document order: paragraphs and FAQ entries as passages, each
  // table once (its rows point at their passages), figures as captions.
  CITEKB_ASSIGN_OR_RETURN(
      Statement * passages,
      c->Prepare(
          absl::StrCat("SELECT ", kPassageColumns,
                       ", p.block, p.table_id, p.row_index FROM passages p "
                       "JOIN sections sec ON sec.id = p.section_id "
                       "WHERE p.section_id = ?1 ORDER BY p.ordinal")));
  passages->Bind(1, section_rowid);
  struct Block {
    int64_t position;
    v1::SectionBlock block;
  };
  std::vector<Block> blocks;
  absl::flat_hash_map<int64_t, size_t> table_blocks;  // table rowid -> index.
  std::vector<std::pair<size_t, int64_t>> passage_rowids;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, passages->Step());
    if (!row) break;
    PassageHit hit = ReadPassage(*passages);
    const int64_t position = passages->ColumnInt(9);
    if (passages->ColumnIsNull(10)) {
      passage_rowids.emplace_back(blocks.size(), hit.rowid);
      Block& block = blocks.emplace_back(Block{position, {}});
      *block.block.mutable_passage() = std::move(hit.passage);
      continue;
    }
    const int64_t table_rowid = passages->ColumnInt(10);
    auto [it, inserted] = table_blocks.try_emplace(table_rowid, blocks.size());
    if (inserted) blocks.push_back(Block{position, {}});
    v1::TableRow* table_row =
        blocks[it->second].block.mutable_table()->add_rows();
    table_row->set_passage_id(hit.passage.id());
  }
  for (auto& [index, rowid] : passage_rowids) {
    CITEKB_RETURN_IF_ERROR(
        ReadCitationIds(*c, rowid, *blocks[index].block.mutable_passage()));
  }
  for (auto& [table_rowid, index] : table_blocks) {
    v1::Table& table = *blocks[index].block.mutable_table();
    CITEKB_ASSIGN_OR_RETURN(
        Statement * meta,
        c->Prepare("SELECT public_id FROM tables WHERE id = ?1"));
    meta->Bind(1, table_rowid);
    CITEKB_ASSIGN_OR_RETURN(bool row, meta->Step());
    if (row) table.set_id(Str(meta->ColumnText(0)));
    CITEKB_ASSIGN_OR_RETURN(
        Statement * columns,
        c->Prepare(
            "SELECT header, anecdotal FROM table_columns WHERE table_id = ?1 "
            "ORDER BY ordinal"));
    columns->Bind(1, table_rowid);
    while (true) {
      CITEKB_ASSIGN_OR_RETURN(bool more, columns->Step());
      if (!more) break;
      v1::TableColumn* column = table.add_columns();
      column->set_header(Str(columns->ColumnText(0)));
      column->set_anecdotal(columns->ColumnInt(1) != 0);
    }
    CITEKB_ASSIGN_OR_RETURN(
        Statement * cells,
        c->Prepare(
            "SELECT row_index, text FROM table_cells WHERE table_id = ?1 "
            "ORDER BY row_index, column_index"));
    cells->Bind(1, table_rowid);
    while (true) {
      CITEKB_ASSIGN_OR_RETURN(bool more, cells->Step());
      if (!more) break;
      const int64_t r = cells->ColumnInt(0);
      if (r < table.rows_size()) {
        table.mutable_rows(static_cast<int>(r))
            ->add_cells(Str(cells->ColumnText(1)));
      }
    }
  }
  CITEKB_ASSIGN_OR_RETURN(
      Statement * figures,
      c->Prepare(
          "SELECT public_id, caption, block FROM figures WHERE section_id = ?1 "
          "ORDER BY block"));
  figures->Bind(1, section_rowid);
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, figures->Step());
    if (!row) break;
    Block block{figures->ColumnInt(2), {}};
    block.block.mutable_figure()->set_id(Str(figures->ColumnText(0)));
    block.block.mutable_figure()->set_caption(Str(figures->ColumnText(1)));
    blocks.push_back(std::move(block));
  }
  std::stable_sort(
      blocks.begin(), blocks.end(),
      [](const Block& a, const Block& b) { return a.position < b.position; });
  for (Block& block : blocks) *response.add_blocks() = std::move(block.block);
  return response;
}

absl::StatusOr<std::vector<v1::Faq>> Store::ListFaqs(
    const std::string& article_id) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(
          absl::StrCat("SELECT ", kFaqColumns,
                       " FROM faqs f JOIN passages p ON p.id = f.passage_id "
                       "WHERE (?1 = '' OR f.article_id = ?1) ORDER BY f.id")));
  query->Bind(1, article_id);
  std::vector<std::pair<v1::Faq, int64_t>> rows;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) break;
    v1::Faq faq;
    faq.set_id(Str(query->ColumnText(0)));
    faq.set_question(Str(query->ColumnText(1)));
    faq.set_answer(Str(query->ColumnText(2)));
    faq.set_answer_incomplete(query->ColumnInt(3) != 0);
    faq.set_passage_id(Str(query->ColumnText(4)));
    rows.emplace_back(std::move(faq), query->ColumnInt(5));
  }
  std::vector<v1::Faq> faqs;
  for (auto& [faq, passage_rowid] : rows) {
    v1::Passage passage;
    CITEKB_RETURN_IF_ERROR(ReadCitationIds(*c, passage_rowid, passage));
    *faq.mutable_citation_ids() = passage.citation_ids();
    faqs.push_back(std::move(faq));
  }
  return faqs;
}

absl::Status Store::LoadLeadingFaqs() {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  // ListFaqs("")'s order and columns, complete answers only.
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(absl::StrCat(
          "SELECT ", kFaqColumns,
          " FROM faqs f JOIN passages p ON p.id = f.passage_id "
          "WHERE f.answer_incomplete = 0 ORDER BY f.id LIMIT ?1")));
  query->Bind(1, kLeadingFaqs);
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) break;
    v1::Faq& faq = leading_faqs_.emplace_back();
    faq.set_id(Str(query->ColumnText(0)));
    faq.set_question(Str(query->ColumnText(1)));
    faq.set_answer(Str(query->ColumnText(2)));
    faq.set_answer_incomplete(query->ColumnInt(3) != 0);
    faq.set_passage_id(Str(query->ColumnText(4)));
  }
  return absl::OkStatus();
}

absl::Status Store::FillCitation(Connection& c, v1::Citation& citation) const {
  CITEKB_ASSIGN_OR_RETURN(
      Statement * source,
      c.Prepare(
          "SELECT kind, identifier, url, label FROM sources WHERE id = ?1"));
  source->Bind(1, citation.id());
  CITEKB_ASSIGN_OR_RETURN(bool found, source->Step());
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("no citation \"", citation.id(), "\""));
  }
  citation.set_kind(CitationKindFromName(source->ColumnText(0)));
  const std::string identifier = Str(source->ColumnText(1));
  switch (citation.kind()) {
    case v1::CITATION_KIND_PUBMED:
      citation.set_pmid(identifier);
      break;
    case v1::CITATION_KIND_PMC:
      citation.set_pmcid(identifier);
      break;
    case v1::CITATION_KIND_DOI:
      citation.set_doi(identifier);
      break;
    default:
      break;
  }
  citation.set_url(Str(source->ColumnText(2)));
  citation.set_label(Str(source->ColumnText(3)));

  CITEKB_ASSIGN_OR_RETURN(
      Statement * citing,
      c.Prepare(
          "SELECT s.text, p.public_id, sec.public_id FROM sentence_sources ss "
          "JOIN sentences s ON s.id = ss.sentence_id "
          "JOIN passages p ON p.id = s.passage_id "
          "JOIN sections sec ON sec.id = p.section_id "
          "WHERE ss.source_id = ?1 ORDER BY s.id"));
  citing->Bind(1, citation.id());
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, citing->Step());
    if (!row) break;
    v1::CitingSentence* sentence = citation.add_citing_sentences();
    sentence->set_text(Str(citing->ColumnText(0)));
    sentence->set_passage_id(Str(citing->ColumnText(1)));
    sentence->set_section_id(Str(citing->ColumnText(2)));
    if (citation.passage_ids().empty() ||
        *citation.passage_ids().rbegin() != sentence->passage_id()) {
      citation.add_passage_ids(sentence->passage_id());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Citation>> Store::ListCitations(
    const CitationFilter& filter, int limit, int offset, int64_t* total) const {
  // Fixed SQL; every filter value is bound. An empty value disables its
  // condition.
  static constexpr char kWhere[] =
      "(?1 = '' OR src.kind = ?1) "
      "AND (?2 = '' OR (src.kind = 'pubmed' AND src.identifier = ?2)) "
      "AND (?3 = '' OR (src.kind = 'doi' AND src.identifier = ?3)) "
      "AND (?4 = '' AND ?5 = '' OR EXISTS (SELECT 1 FROM sentence_sources ss "
      "JOIN sentences s ON s.id = ss.sentence_id "
      "JOIN passages p ON p.id = s.passage_id "
      "JOIN sections sec ON sec.id = p.section_id "
      "WHERE ss.source_id = src.id AND (?4 = '' OR sec.public_id = ?4) "
      "AND (?5 = '' OR p.id IN (SELECT rowid FROM passage_fts WHERE "
      "passage_fts MATCH ?5))))";
  const char* kind = CitationKindName(filter.kind);
  auto bind = [&](Statement& statement) {
    statement.Bind(1, kind)
        .Bind(2, filter.pmid)
        .Bind(3, filter.doi)
        .Bind(4, filter.section_id)
        .Bind(5, filter.cited_text_match);
  };
  if (total != nullptr) {
    // The total is the same for every page of a listing (and the index
    // never changes): count once per filter. With 200,000 sources that is
    // the difference between reading one page and reading them all.
    const std::string key = absl::StrCat(
        "sources\x1f", kind, "\x1f", filter.pmid, "\x1f", filter.doi, "\x1f",
        filter.section_id, "\x1f", filter.cited_text_match);
    bool known = false;
    {
      absl::MutexLock lock(&counts_mutex_);
      auto it = counts_.find(key);
      if (it != counts_.end()) {
        *total = it->second;
        known = true;
      }
    }
    if (!known) {
      CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
      CITEKB_ASSIGN_OR_RETURN(
          Statement * count,
          c->Prepare(
              absl::StrCat("SELECT count(*) FROM sources src WHERE ", kWhere)));
      bind(*count);
      CITEKB_ASSIGN_OR_RETURN(bool row, count->Step());
      *total = row ? count->ColumnInt(0) : 0;
      absl::MutexLock lock(&counts_mutex_);
      if (counts_.size() < kMaxCachedCounts) counts_.emplace(key, *total);
    }
  }
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(absl::StrCat("SELECT src.id FROM sources src WHERE ", kWhere,
                              " ORDER BY src.rowid LIMIT ?6 OFFSET ?7")));
  bind(*query);
  query->Bind(6, limit).Bind(7, offset);
  std::vector<std::string> ids;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) break;
    ids.emplace_back(query->ColumnText(0));
  }
  std::vector<v1::Citation> citations;
  for (const std::string& id : ids) {
    v1::Citation& citation = citations.emplace_back();
    citation.set_id(id);
    CITEKB_RETURN_IF_ERROR(FillCitation(*c, citation));
  }
  return citations;
}

absl::StatusOr<v1::Citation> Store::CitationById(const std::string& id) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  v1::Citation citation;
  if (absl::StartsWith(id, kArticleCitationPrefix)) {
    const std::string article_id =
        id.substr(sizeof(kArticleCitationPrefix) - 1);
    CITEKB_ASSIGN_OR_RETURN(
        Statement * article,
        c->Prepare("SELECT title FROM articles WHERE id = ?1"));
    article->Bind(1, article_id);
    CITEKB_ASSIGN_OR_RETURN(bool found, article->Step());
    if (!found)
      return absl::NotFoundError(absl::StrCat("no citation \"", id, "\""));
    citation.set_id(id);
    citation.set_kind(v1::CITATION_KIND_ARTICLE);
    citation.set_label(Str(article->ColumnText(0)));
    return citation;
  }
  citation.set_id(id);
  CITEKB_RETURN_IF_ERROR(FillCitation(*c, citation));
  return citation;
}

absl::StatusOr<v1::Citation> Store::CitationByUrl(
    const std::string& url) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(Statement * query,
                          c->Prepare("SELECT id FROM sources WHERE url = ?1"));
  query->Bind(1, url);
  CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
  if (!row)
    return absl::NotFoundError(
        absl::StrCat("no citation with url \"", url, "\""));
  v1::Citation citation;
  citation.set_id(Str(query->ColumnText(0)));
  CITEKB_RETURN_IF_ERROR(FillCitation(*c, citation));
  return citation;
}

absl::StatusOr<std::vector<v1::RelatedLink>> Store::ListRelatedLinks(
    const std::string& article_id, v1::RelatedLinkKind kind) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  const char* kind_name = kind == v1::RELATED_LINK_KIND_ARTICLE ? "article"
                          : kind == v1::RELATED_LINK_KIND_TOOL  ? "tool"
                                                                : "";
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(
          "SELECT l.path, l.kind, l.anchor_text, p.public_id FROM "
          "related_links l JOIN passages p ON p.id = l.passage_id "
          "WHERE (?1 = '' OR l.article_id = ?1) AND (?2 = '' OR l.kind = ?2) "
          "ORDER BY l.id"));
  query->Bind(1, article_id).Bind(2, kind_name);
  std::vector<v1::RelatedLink> links;
  absl::flat_hash_map<std::string, size_t> by_path;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) break;
    const std::string path = Str(query->ColumnText(0));
    auto [it, inserted] = by_path.try_emplace(path, links.size());
    if (inserted) {
      v1::RelatedLink& link = links.emplace_back();
      link.set_path(path);
      link.set_kind(query->ColumnText(1) == "tool"
                        ? v1::RELATED_LINK_KIND_TOOL
                        : v1::RELATED_LINK_KIND_ARTICLE);
      link.set_anchor_text(Str(query->ColumnText(2)));
    }
    v1::RelatedLink& link = links[it->second];
    const std::string passage_id = Str(query->ColumnText(3));
    if (link.passage_ids().empty() ||
        *link.passage_ids().rbegin() != passage_id) {
      link.add_passage_ids(passage_id);
    }
  }
  return links;
}

}  // namespace citekb
