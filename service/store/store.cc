#include "service/store/store.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/index_schema.h"
#include "service/store/query_budget.h"

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

// SQLite's page cache per connection, in KiB (its default): queries read
// rows by key, and what Ask reads again is cached above SQLite (store.h).
constexpr int kPageCacheKiB = 2048;

// citekb_keeps_sentence(filter, passage_rowid, passage_text, start,
// length): whether the SentenceFilter bound as `filter` (BindPointer with
// kSentenceFilterPointerType) keeps the sentence at byte `start`, `length`
// bytes, of the passage's text; 0 for anything else bound there, or a
// sentence outside its passage.
constexpr char kSentenceFilterPointerType[] = "citekb.SentenceFilter";

void KeepsSentence(sqlite3_context* context, int, sqlite3_value** arguments) {
  const auto* filter = static_cast<const SentenceFilter*>(
      sqlite3_value_pointer(arguments[0], kSentenceFilterPointerType));
  const int64_t passage = sqlite3_value_int64(arguments[1]);
  const auto* text =
      reinterpret_cast<const char*>(sqlite3_value_text(arguments[2]));
  const int64_t size = sqlite3_value_bytes(arguments[2]);
  const int64_t start = sqlite3_value_int64(arguments[3]);
  const int64_t length = sqlite3_value_int64(arguments[4]);
  const bool inside = filter != nullptr && text != nullptr && start >= 0 &&
                      length >= 0 && start <= size && length <= size - start;
  sqlite3_result_int(
      context,
      inside && filter->Keeps(passage, absl::string_view(text + start, length))
          ? 1
          : 0);
}

// A connection to the index `file`: read-only three times over
// (SQLITE_OPEN_READONLY, the immutable URI, and query_only refusing writes
// up front), defensive (no schema or page tricks from SQL), not trusting
// the schema (functions and virtual tables used by views or triggers in a
// hostile file refuse to run), with extension loading off (OpenDatabase)
// and the progress handler above.
absl::StatusOr<Database> OpenIndex(const IndexFile& file) {
  CITEKB_ASSIGN_OR_RETURN(
      Database db, OpenDatabase(file.sqlite_uri(), SQLITE_OPEN_READONLY |
                                                       SQLITE_OPEN_NOMUTEX |
                                                       SQLITE_OPEN_URI));
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  CITEKB_RETURN_IF_ERROR(
      Exec(db.get(), absl::StrCat("PRAGMA cache_size = -", kPageCacheKiB,
                                  ";"
                                  "PRAGMA query_only = ON")));
  sqlite3_progress_handler(db.get(), kProgressSteps, &ChargeCurrentBudget,
                           nullptr);
  // Direct-only: SQL in the file (views, triggers) cannot call it.
  if (sqlite3_create_function_v2(
          db.get(), "citekb_keeps_sentence", 5,
          SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
          &KeepsSentence, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(
        "cannot register citekb_keeps_sentence: ", sqlite3_errmsg(db.get())));
  }
  return db;
}

v1::PassageKind PassageKindFromName(absl::string_view name) {
  if (name == "paragraph") return v1::PASSAGE_KIND_PARAGRAPH;
  if (name == "table_row") return v1::PASSAGE_KIND_TABLE_ROW;
  if (name == "faq") return v1::PASSAGE_KIND_FAQ;
  return v1::PASSAGE_KIND_UNSPECIFIED;
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

StoredPassage ReadPassage(const Statement& row) {
  StoredPassage hit;
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
  CITEKB_ASSIGN_OR_RETURN(IndexFile file, IndexFile::Open(path));
  std::unique_ptr<Store> store(new Store(path, std::move(file)));
  {
    // A file that is not SQLite fails as the first connection reads its
    // header (DATA_LOSS); one without our meta table or with another
    // schema version is refused by name.
    auto not_sqlite = [&] {
      // SQLite says "not a database" also for its own files cut short.
      constexpr absl::string_view kSqliteMagic("SQLite format 3\0", 16);
      return absl::DataLossError(absl::StrCat(
          path, absl::StartsWith(store->file_.Prefix(kSqliteMagic.size()),
                                 kSqliteMagic)
                    ? " is damaged or truncated: rebuild it with citekb-index"
                    : " is not a citekb index (not an SQLite database)"));
    };
    absl::StatusOr<Lease> first = store->Acquire();
    if (!first.ok()) {
      if (absl::IsDataLoss(first.status())) return not_sqlite();
      return first.status();
    }
    Lease& lease = *first;
    absl::StatusOr<Statement*> version =
        lease->Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!version.ok()) {
      if (absl::IsDataLoss(version.status())) return not_sqlite();
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
    // A truncated or damaged file can still have a readable first page and
    // the right schema version; the checksum the indexer stamped into the
    // header covers every byte (file_checksum.h), so such a file is refused
    // here rather than failing calls later.
    CITEKB_RETURN_IF_ERROR(store->file_.VerifyChecksum(path));
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
  CITEKB_RETURN_IF_ERROR(store->LoadLeadingFaqs());
  return store;
}

Store::Store(std::string path, IndexFile file)
    : path_(std::move(path)),
      file_(std::move(file)),
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
  absl::StatusOr<Database> db = OpenIndex(file_);
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

constexpr char kFaqColumns[] =
    "f.public_id, f.question, f.answer, f.answer_incomplete, p.public_id, p.id";

}  // namespace

absl::StatusOr<std::unique_ptr<RetrievalIndex>> Store::LoadRetrievalIndex(
    absl::string_view ranked_table, std::vector<double> column_weights) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  absl::StatusOr<std::unique_ptr<RetrievalIndex>> index = RetrievalIndex::Load(
      c->db.get(), ranked_table, std::move(column_weights));
  if (!index.ok() && absl::IsDataLoss(index.status())) {
    return absl::DataLossError(
        absl::StrCat(path_, ": ", index.status().message()));
  }
  return index;
}

absl::StatusOr<std::shared_ptr<const StoredPassage>> Store::Passage(
    int64_t rowid) const {
  if (std::shared_ptr<const StoredPassage> cached = passages_.Find(rowid)) {
    return cached;
  }
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(absl::StrCat("SELECT ", kPassageColumns,
                              " FROM passages p JOIN sections sec ON sec.id = "
                              "p.section_id WHERE p.id = ?1")));
  query->Bind(1, rowid);
  CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no passage ", rowid));
  auto passage = std::make_shared<StoredPassage>(ReadPassage(*query));
  CITEKB_ASSIGN_OR_RETURN(
      Statement * sentences,
      c->Prepare("SELECT s.start, s.length, s.anecdotal, (SELECT "
                 "group_concat(source_id, ' ') FROM sentence_sources WHERE "
                 "sentence_id = s.id) FROM sentences s WHERE s.passage_id = ?1 "
                 "ORDER BY s.ordinal"));
  sentences->Bind(1, rowid);
  size_t bytes = sizeof(StoredPassage) + passage->passage.ByteSizeLong();
  // The passage's sources in order of first citation: sentence by sentence,
  // and within a sentence in source id order (sentence_sources' key).
  absl::flat_hash_set<absl::string_view> cited;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool more, sentences->Step());
    if (!more) break;
    // Where the sentence stands in the passage's text (sentence_texts).
    const std::string& text = passage->passage.text();
    const int64_t start = sentences->ColumnInt(0);
    const int64_t length = sentences->ColumnInt(1);
    if (start < 0 || length < 0 ||
        start + length > static_cast<int64_t>(text.size())) {
      return absl::DataLossError(
          absl::StrCat(path_, " is damaged (a sentence outside passage ", rowid,
                       "): rebuild it with citekb-index"));
    }
    StoredSentence& sentence = passage->sentences.emplace_back();
    sentence.text =
        text.substr(static_cast<size_t>(start), static_cast<size_t>(length));
    sentence.anecdotal = sentences->ColumnInt(2) != 0;
    for (absl::string_view id :
         absl::StrSplit(sentences->ColumnText(3), ' ', absl::SkipEmpty())) {
      sentence.source_ids.emplace_back(id);
    }
    bytes += sizeof(StoredSentence) + sentence.text.size();
  }
  for (const StoredSentence& sentence : passage->sentences) {
    for (const std::string& id : sentence.source_ids) {
      bytes += id.size();
      if (cited.insert(id).second) passage->passage.add_citation_ids(id);
    }
  }
  return passages_.Insert(rowid, std::move(passage), bytes);
}

absl::StatusOr<std::vector<PassageRow>> Store::PassageRows() const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare("SELECT id, kind, section_id FROM passages ORDER BY id"));
  std::vector<PassageRow> rows(static_cast<size_t>(passage_count_) + 1);
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
    if (!row) break;
    const int64_t rowid = query->ColumnInt(0);
    if (rowid < 1 || rowid > passage_count_) {
      return absl::DataLossError(
          absl::StrCat(path_, " has a passage with rowid ", rowid,
                       " beyond its count: rebuild it with citekb-index"));
    }
    rows[static_cast<size_t>(rowid)] = {
        PassageKindFromName(query->ColumnText(1)), query->ColumnInt(2)};
  }
  return rows;
}

absl::StatusOr<int64_t> Store::SectionRowid(
    const std::string& section_id) const {
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare("SELECT id FROM sections WHERE public_id = ?1"));
  query->Bind(1, section_id);
  CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
  if (!row)
    return absl::NotFoundError(absl::StrCat("no section \"", section_id, "\""));
  return query->ColumnInt(0);
}

absl::StatusOr<std::shared_ptr<const StoredFaq>> Store::Faq(
    int64_t rowid) const {
  if (std::shared_ptr<const StoredFaq> cached = faqs_.Find(rowid))
    return cached;
  CITEKB_ASSIGN_OR_RETURN(Lease c, Acquire());
  CITEKB_ASSIGN_OR_RETURN(
      Statement * query,
      c->Prepare(
          absl::StrCat("SELECT ", kFaqColumns,
                       " FROM faqs f JOIN passages p ON p.id = f.passage_id "
                       "WHERE f.id = ?1")));
  query->Bind(1, rowid);
  CITEKB_ASSIGN_OR_RETURN(bool row, query->Step());
  if (!row) return absl::NotFoundError(absl::StrCat("no FAQ entry ", rowid));
  auto faq = std::make_shared<StoredFaq>();
  faq->faq.set_id(Str(query->ColumnText(0)));
  faq->faq.set_question(Str(query->ColumnText(1)));
  faq->faq.set_answer(Str(query->ColumnText(2)));
  faq->faq.set_answer_incomplete(query->ColumnInt(3) != 0);
  faq->faq.set_passage_id(Str(query->ColumnText(4)));
  faq->passage_rowid = query->ColumnInt(5);
  const size_t bytes = sizeof(StoredFaq) + faq->faq.ByteSizeLong();
  return faqs_.Insert(rowid, std::move(faq), bytes);
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
    StoredPassage hit = ReadPassage(*passages);
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
          "JOIN sentence_texts s ON s.id = ss.sentence_id "
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
      "AND (?4 = '' AND ?5 = 0 OR EXISTS (SELECT 1 FROM sentence_sources ss "
      "JOIN sentences s ON s.id = ss.sentence_id "
      "JOIN passages p ON p.id = s.passage_id "
      "JOIN sections sec ON sec.id = p.section_id "
      "WHERE ss.source_id = src.id AND (?4 = '' OR sec.public_id = ?4) "
      "AND (?5 = 0 OR citekb_keeps_sentence(?8, p.id, p.text, s.start, "
      "s.length))))";
  const char* kind = CitationKindName(filter.kind);
  auto bind = [&](Statement& statement) {
    statement.Bind(1, kind)
        .Bind(2, filter.pmid)
        .Bind(3, filter.doi)
        .Bind(4, filter.section_id)
        .Bind(5, filter.citing_sentence != nullptr ? 1 : 0)
        .BindPointer(8, filter.citing_sentence, kSentenceFilterPointerType);
  };
  if (total != nullptr) {
    // The total is the same for every page of a listing (and the index
    // never changes): count once per filter. With 200,000 sources that is
    // the difference between reading one page and reading them all.
    const std::string key = absl::StrCat(
        "sources\x1f", kind, "\x1f", filter.pmid, "\x1f", filter.doi, "\x1f",
        filter.section_id, "\x1f", filter.citing_sentence_key);
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
  if (std::shared_ptr<const v1::Citation> cached = citations_.Find(id)) {
    return *cached;
  }
  CITEKB_ASSIGN_OR_RETURN(v1::Citation citation, ReadCitation(id));
  const size_t bytes = sizeof(v1::Citation) + citation.ByteSizeLong();
  return *citations_.Insert(
      id, std::make_shared<v1::Citation>(std::move(citation)), bytes);
}

absl::StatusOr<v1::Citation> Store::ReadCitation(const std::string& id) const {
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
