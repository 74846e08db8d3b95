#include "service/store/store.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/store/query_budget.h"

namespace citekb {

struct Store::Connection {
  Database db;
  absl::flat_hash_map<std::string, std::unique_ptr<Statement>> statements;

  // The statement for `sql`, prepared on first use, reset and unbound.
  absl::StatusOr<Statement*> Prepare(absl::string_view sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      CITEKB_ASSIGN_OR_RETURN(Statement statement,
                              Statement::Prepare(db.get(), sql));
      it = statements
               .emplace(std::string(sql),
                        std::make_unique<Statement>(std::move(statement)))
               .first;
    }
    it->second->Reset();
    return it->second.get();
  }
};

namespace {

// A C++ object bound as a query parameter, which SQL sees as NULL and only
// an application function reads (Statement::BindPointer).
struct PointerParam {
  const void* pointer;
  const char* type;
};

void BindParam(Statement& statement, int index, const PointerParam& param) {
  statement.BindPointer(index, param.pointer, param.type);
}
template <typename Value>
void BindParam(Statement& statement, int index, const Value& value) {
  statement.Bind(index, value);
}

// The rows of one query, read through a statement of a leased connection
// (Store::Lease::Query):
//
//   Rows rows = lease.Query("SELECT a, b FROM t WHERE c = ?1", c);
//   while (rows.Next()) Use(rows.Text(0), rows.Int(1));
//   CITEKB_RETURN_IF_ERROR(rows.status());
//
// Next() is false at the end and on an error (preparing the statement or
// stepping it); status() says which. Valid while the lease is held and no
// other Rows runs the same SQL on it: a connection keeps one statement per
// SQL text.
class Rows {
 public:
  explicit Rows(absl::StatusOr<Statement*> statement)
      : statement_(statement.ok() ? *statement : nullptr),
        status_(statement.status()) {}

  bool Next() {
    if (statement_ == nullptr) return false;
    absl::StatusOr<bool> row = statement_->Step();
    if (!row.ok()) status_ = row.status();
    if (!row.ok() || !*row) statement_ = nullptr;
    return statement_ != nullptr;
  }
  const absl::Status& status() const { return status_; }

  // The current row's columns (0-based).
  int64_t Int(int column) const { return statement_->ColumnInt(column); }
  bool Bool(int column) const { return Int(column) != 0; }
  absl::string_view Text(int column) const {
    return statement_->ColumnText(column);
  }
  std::string String(int column) const { return std::string(Text(column)); }
  bool IsNull(int column) const { return statement_->ColumnIsNull(column); }

 private:
  Statement* statement_;  // Null once the rows are done.
  absl::Status status_;
};

// For a lookup of one row that found none: the error that stopped `rows`,
// or NOT_FOUND with `message` when there simply was no row.
absl::Status NoRow(const Rows& rows, absl::string_view message) {
  return rows.status().ok() ? absl::NotFoundError(message) : rows.status();
}

}  // namespace

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

  // Runs `sql` with `params` bound as ?1, ?2, ... in order.
  template <typename... Params>
  Rows Query(absl::string_view sql, const Params&... params) {
    absl::StatusOr<Statement*> statement = connection_->Prepare(sql);
    if (statement.ok()) {
      int index = 0;
      (BindParam(**statement, ++index, params), ...);
    }
    return Rows(std::move(statement));
  }

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

// Names in the index's kind columns (index_schema.h).
StoredPassage::Kind PassageKindFromName(absl::string_view name) {
  using Kind = StoredPassage::Kind;
  if (name == "paragraph") return Kind::kParagraph;
  if (name == "table_row") return Kind::kTableRow;
  if (name == "faq") return Kind::kFaq;
  return Kind::kUnknown;
}

StoredCitation::Kind CitationKindFromName(absl::string_view name) {
  using Kind = StoredCitation::Kind;
  if (name == "pubmed") return Kind::kPubMed;
  if (name == "pmc") return Kind::kPmc;
  if (name == "doi") return Kind::kDoi;
  if (name == "web") return Kind::kWeb;
  if (name == "safety_reference") return Kind::kSafetyReference;
  return Kind::kUnknown;
}

// For a filter: kinds that no source has get names that no row has.
const char* CitationKindName(StoredCitation::Kind kind) {
  using Kind = StoredCitation::Kind;
  switch (kind) {
    case Kind::kPubMed:
      return "pubmed";
    case Kind::kPmc:
      return "pmc";
    case Kind::kDoi:
      return "doi";
    case Kind::kWeb:
      return "web";
    case Kind::kSafetyReference:
      return "safety_reference";
    case Kind::kArticle:
      return "article";
    case Kind::kUnknown:
      break;
  }
  return "unknown";
}

const char* LinkKindName(StoredLink::Kind kind) {
  return kind == StoredLink::Kind::kTool ? "tool" : "article";
}

// Columns 0..8 of every passage query, in this order.
constexpr char kPassageColumns[] =
    "p.id, p.public_id, p.article_id, sec.public_id, sec.title, p.kind, "
    "p.text, p.anecdotal, "
    "(SELECT answer_incomplete FROM faqs WHERE faqs.passage_id = p.id)";

StoredPassage PassageFromRow(const Rows& row) {
  StoredPassage passage;
  passage.rowid = row.Int(0);
  passage.id = row.String(1);
  passage.article_id = row.String(2);
  passage.section_id = row.String(3);
  passage.section_title = row.String(4);
  passage.kind = PassageKindFromName(row.Text(5));
  passage.text = row.String(6);
  passage.anecdotal = row.Bool(7);
  passage.incomplete_faq = row.Bool(8);
  return passage;
}

// Columns 0..5 of every FAQ query, in this order.
constexpr char kFaqColumns[] =
    "f.public_id, f.question, f.answer, f.answer_incomplete, p.public_id, p.id";

StoredFaq FaqFromRow(const Rows& row) {
  StoredFaq faq;
  faq.id = row.String(0);
  faq.question = row.String(1);
  faq.answer = row.String(2);
  faq.answer_incomplete = row.Bool(3);
  faq.passage_id = row.String(4);
  faq.passage_rowid = row.Int(5);
  return faq;
}

// Columns 0..5 of every section query, in this order.
constexpr char kSectionColumns[] =
    "sec.public_id, sec.article_id, sec.anchor, sec.title, sec.ordinal, "
    "(SELECT count(*) FROM passages p WHERE p.section_id = sec.id)";

StoredSection SectionFromRow(const Rows& row) {
  StoredSection section;
  section.id = row.String(0);
  section.article_id = row.String(1);
  section.anchor = row.String(2);
  section.title = row.String(3);
  section.ordinal = static_cast<int>(row.Int(4));
  section.passage_count = static_cast<int>(row.Int(5));
  return section;
}

// What a cached row costs: its bytes, near enough.
size_t Cost(const std::vector<std::string>& strings) {
  size_t bytes = 0;
  for (const std::string& s : strings) bytes += sizeof(s) + s.size();
  return bytes;
}

size_t Cost(const StoredPassage& passage) {
  size_t bytes = sizeof(passage) + passage.id.size() +
                 passage.article_id.size() + passage.section_id.size() +
                 passage.section_title.size() + passage.text.size() +
                 Cost(passage.source_ids) + Cost(passage.table_headers);
  for (const StoredSentence& sentence : passage.sentences) {
    bytes +=
        sizeof(sentence) + sentence.text.size() + Cost(sentence.source_ids);
  }
  return bytes;
}

size_t Cost(const StoredFaq& faq) {
  return sizeof(faq) + faq.id.size() + faq.question.size() + faq.answer.size() +
         faq.passage_id.size() + Cost(faq.source_ids);
}

size_t Cost(const StoredCitation& citation) {
  size_t bytes = sizeof(citation) + citation.id.size() +
                 citation.identifier.size() + citation.url.size() +
                 citation.label.size() + Cost(citation.passage_ids);
  for (const StoredCitation::CitingSentence& sentence :
       citation.citing_sentences) {
    bytes += sizeof(sentence) + sentence.text.size() +
             sentence.passage_id.size() + sentence.section_id.size();
  }
  return bytes;
}

// The sources a passage's sentences cite, each once, in order of first
// citation (the order ListFaqs and GetSection give).
absl::StatusOr<std::vector<std::string>> ReadSourceIds(Store::Lease& lease,
                                                       int64_t passage_rowid) {
  Rows rows = lease.Query(
      "SELECT ss.source_id, min(s.id) AS first FROM sentences s "
      "JOIN sentence_sources ss ON ss.sentence_id = s.id "
      "WHERE s.passage_id = ?1 GROUP BY ss.source_id ORDER BY first",
      passage_rowid);
  std::vector<std::string> ids;
  while (rows.Next()) ids.push_back(rows.String(0));
  CITEKB_RETURN_IF_ERROR(rows.status());
  return ids;
}

// A passage's sentences, cut from its text where the index places them
// (sentence_texts), with their sources; then the passage's sources in order
// of first citation: sentence by sentence, and within a sentence in source
// id order (sentence_sources' key). DATA_LOSS naming `path` for a sentence
// outside the text.
absl::Status ReadSentences(Store::Lease& lease, const std::string& path,
                           StoredPassage& passage) {
  Rows rows = lease.Query(
      "SELECT s.start, s.length, s.anecdotal, (SELECT "
      "group_concat(source_id, ' ') FROM sentence_sources WHERE "
      "sentence_id = s.id) FROM sentences s WHERE s.passage_id = ?1 "
      "ORDER BY s.ordinal",
      passage.rowid);
  const std::string& text = passage.text;
  while (rows.Next()) {
    const int64_t start = rows.Int(0);
    const int64_t length = rows.Int(1);
    if (start < 0 || length < 0 ||
        start + length > static_cast<int64_t>(text.size())) {
      return absl::DataLossError(
          absl::StrCat(path, " is damaged (a sentence outside passage ",
                       passage.rowid, "): rebuild it with citekb-index"));
    }
    StoredSentence& sentence = passage.sentences.emplace_back();
    sentence.text =
        text.substr(static_cast<size_t>(start), static_cast<size_t>(length));
    sentence.anecdotal = rows.Bool(2);
    for (absl::string_view id :
         absl::StrSplit(rows.Text(3), ' ', absl::SkipEmpty())) {
      sentence.source_ids.emplace_back(id);
    }
  }
  CITEKB_RETURN_IF_ERROR(rows.status());
  absl::flat_hash_set<absl::string_view> cited;
  for (const StoredSentence& sentence : passage.sentences) {
    for (const std::string& id : sentence.source_ids) {
      if (cited.insert(id).second) passage.source_ids.push_back(id);
    }
  }
  return absl::OkStatus();
}

// The column headers of a table row's table, the label column's first.
absl::Status ReadTableHeaders(Store::Lease& lease, StoredPassage& passage) {
  Rows rows = lease.Query(
      "SELECT c.header FROM passages p JOIN table_columns c "
      "ON c.table_id = p.table_id WHERE p.id = ?1 ORDER BY c.ordinal",
      passage.rowid);
  while (rows.Next()) passage.table_headers.emplace_back(rows.Text(0));
  return rows.status();
}

// The source `citation.id` names, with the sentences citing it.
absl::Status ReadSource(Store::Lease& lease, StoredCitation& citation) {
  Rows source = lease.Query(
      "SELECT kind, identifier, url, label FROM sources WHERE id = ?1",
      citation.id);
  if (!source.Next()) {
    return NoRow(source, absl::StrCat("no citation \"", citation.id, "\""));
  }
  citation.kind = CitationKindFromName(source.Text(0));
  citation.identifier = source.String(1);
  citation.url = source.String(2);
  citation.label = source.String(3);

  Rows citing = lease.Query(
      "SELECT s.text, p.public_id, sec.public_id FROM sentence_sources ss "
      "JOIN sentence_texts s ON s.id = ss.sentence_id "
      "JOIN passages p ON p.id = s.passage_id "
      "JOIN sections sec ON sec.id = p.section_id "
      "WHERE ss.source_id = ?1 ORDER BY s.id",
      citation.id);
  while (citing.Next()) {
    StoredCitation::CitingSentence& sentence =
        citation.citing_sentences.emplace_back();
    sentence.text = citing.String(0);
    sentence.passage_id = citing.String(1);
    sentence.section_id = citing.String(2);
    if (citation.passage_ids.empty() ||
        citation.passage_ids.back() != sentence.passage_id) {
      citation.passage_ids.push_back(sentence.passage_id);
    }
  }
  return citing.status();
}

// A whole article as a citation: `id` is "article:<article id>".
absl::StatusOr<StoredCitation> ReadArticleCitation(Store::Lease& lease,
                                                   const std::string& id) {
  const std::string article_id = id.substr(sizeof(kArticleCitationPrefix) - 1);
  Rows article =
      lease.Query("SELECT title FROM articles WHERE id = ?1", article_id);
  if (!article.Next()) {
    return NoRow(article, absl::StrCat("no citation \"", id, "\""));
  }
  StoredCitation citation;
  citation.id = id;
  citation.kind = StoredCitation::Kind::kArticle;
  citation.label = article.String(0);
  return citation;
}

// GetSection's steps. Blocks are read table by table and kind by kind, then
// put in document order by their position in the section.
struct PlacedBlock {
  int64_t position;
  SectionContents::Block block;
};

// The section's header, and its rowid.
absl::StatusOr<int64_t> ReadSectionHeader(Store::Lease& lease,
                                          const std::string& section_id,
                                          StoredSection& section) {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kSectionColumns,
                   ", sec.id FROM sections sec WHERE sec.public_id = ?1"));
  Rows header = lease.Query(*kSql, section_id);
  if (!header.Next()) {
    return NoRow(header, absl::StrCat("no section \"", section_id, "\""));
  }
  section = SectionFromRow(header);
  return header.Int(6);
}

// Paragraphs and FAQ entries become passage blocks; each table row is added
// to its table's block (made at the table's first row), which `tables`
// finds by the table's rowid.
absl::Status ReadSectionPassages(Store::Lease& lease, int64_t section_rowid,
                                 std::vector<PlacedBlock>& blocks,
                                 absl::flat_hash_map<int64_t, size_t>& tables) {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kPassageColumns,
                   ", p.block, p.table_id, p.row_index FROM passages p "
                   "JOIN sections sec ON sec.id = p.section_id "
                   "WHERE p.section_id = ?1 ORDER BY p.ordinal"));
  Rows rows = lease.Query(*kSql, section_rowid);
  while (rows.Next()) {
    StoredPassage passage = PassageFromRow(rows);
    const int64_t position = rows.Int(9);
    if (rows.IsNull(10)) {
      blocks.push_back({position, std::move(passage)});
      continue;
    }
    auto [it, inserted] = tables.try_emplace(rows.Int(10), blocks.size());
    if (inserted) blocks.push_back({position, StoredTable()});
    std::get<StoredTable>(blocks[it->second].block)
        .rows.push_back({std::move(passage.id), {}});
  }
  return rows.status();
}

absl::Status AddPassageSources(Store::Lease& lease,
                               std::vector<PlacedBlock>& blocks) {
  for (PlacedBlock& block : blocks) {
    if (auto* passage = std::get_if<StoredPassage>(&block.block)) {
      CITEKB_ASSIGN_OR_RETURN(passage->source_ids,
                              ReadSourceIds(lease, passage->rowid));
    }
  }
  return absl::OkStatus();
}

// A table's id, columns and cells; its rows are there already.
absl::Status ReadTable(Store::Lease& lease, int64_t table_rowid,
                       StoredTable& table) {
  Rows meta =
      lease.Query("SELECT public_id FROM tables WHERE id = ?1", table_rowid);
  if (meta.Next()) table.id = meta.String(0);
  CITEKB_RETURN_IF_ERROR(meta.status());
  Rows columns = lease.Query(
      "SELECT header, anecdotal FROM table_columns WHERE table_id = ?1 "
      "ORDER BY ordinal",
      table_rowid);
  while (columns.Next()) {
    table.columns.push_back({columns.String(0), columns.Bool(1)});
  }
  CITEKB_RETURN_IF_ERROR(columns.status());
  Rows cells = lease.Query(
      "SELECT row_index, text FROM table_cells WHERE table_id = ?1 "
      "ORDER BY row_index, column_index",
      table_rowid);
  while (cells.Next()) {
    const int64_t row = cells.Int(0);
    if (row >= 0 && row < static_cast<int64_t>(table.rows.size())) {
      table.rows[static_cast<size_t>(row)].cells.push_back(cells.String(1));
    }
  }
  return cells.status();
}

absl::Status ReadFigures(Store::Lease& lease, int64_t section_rowid,
                         std::vector<PlacedBlock>& blocks) {
  Rows figures = lease.Query(
      "SELECT public_id, caption, block FROM figures WHERE section_id = ?1 "
      "ORDER BY block",
      section_rowid);
  while (figures.Next()) {
    blocks.push_back(
        {figures.Int(2), StoredFigure{figures.String(0), figures.String(1)}});
  }
  return figures.status();
}

std::vector<SectionContents::Block> InDocumentOrder(
    std::vector<PlacedBlock> blocks) {
  std::stable_sort(blocks.begin(), blocks.end(),
                   [](const PlacedBlock& a, const PlacedBlock& b) {
                     return a.position < b.position;
                   });
  std::vector<SectionContents::Block> ordered;
  ordered.reserve(blocks.size());
  for (PlacedBlock& block : blocks) ordered.push_back(std::move(block.block));
  return ordered;
}

// A file that is not SQLite fails as the first connection reads its header
// (DATA_LOSS), and so does an SQLite file cut short; which one it is shows
// in its first bytes.
absl::Status NotSqlite(const std::string& path, const IndexFile& file) {
  constexpr absl::string_view kSqliteMagic("SQLite format 3\0", 16);
  return absl::DataLossError(absl::StrCat(
      path, absl::StartsWith(file.Prefix(kSqliteMagic.size()), kSqliteMagic)
                ? " is damaged or truncated: rebuild it with citekb-index"
                : " is not a citekb index (not an SQLite database)"));
}

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
  absl::StatusOr<Lease> lease = store->Acquire();
  if (!lease.ok()) {
    if (absl::IsDataLoss(lease.status())) return NotSqlite(path, store->file_);
    return lease.status();
  }
  CITEKB_RETURN_IF_ERROR(store->CheckSchemaVersion(*lease));
  // A truncated or damaged file can still have a readable first page and
  // the right schema version; the checksum the indexer stamped into the
  // header covers every byte (file_checksum.h), so such a file is refused
  // here rather than failing calls later.
  CITEKB_RETURN_IF_ERROR(store->file_.VerifyChecksum(path));
  CITEKB_RETURN_IF_ERROR(store->ReadIndexFacts(*lease));
  CITEKB_RETURN_IF_ERROR(store->LoadLeadingFaqs(*lease));
  return store;
}

absl::Status Store::CheckSchemaVersion(Lease& lease) const {
  // Not through Query: which step fails says what the file is. A file
  // whose header SQLite cannot read fails to prepare with DATA_LOSS; one
  // without our meta table fails to prepare otherwise; a damaged one fails
  // to step.
  absl::StatusOr<Statement*> version =
      lease->Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
  if (!version.ok()) {
    if (absl::IsDataLoss(version.status())) return NotSqlite(path_, file_);
    return absl::DataLossError(absl::StrCat(
        path_, " is not a citekb index: ", version.status().message()));
  }
  absl::StatusOr<bool> has_row = (*version)->Step();
  if (!has_row.ok()) {
    return absl::DataLossError(absl::StrCat(
        path_,
        " is not a readable citekb index: ", has_row.status().message()));
  }
  const std::string found =
      *has_row ? std::string((*version)->ColumnText(0)) : "none";
  if (found != absl::StrCat(kSchemaVersion)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " has index schema version ", found,
                     "; this server reads version ", kSchemaVersion,
                     ": rebuild it with citekb-index"));
  }
  return absl::OkStatus();
}

absl::Status Store::ReadIndexFacts(Lease& lease) {
  Rows count = lease.Query("SELECT count(*) FROM passages");
  passage_count_ = count.Next() ? count.Int(0) : 0;
  CITEKB_RETURN_IF_ERROR(count.status());
  Rows rules =
      lease.Query("SELECT value FROM meta WHERE key = ?1", kStackRulesMetaKey);
  if (rules.Next()) stack_rules_text_ = rules.String(0);
  CITEKB_RETURN_IF_ERROR(rules.status());
  Rows vocabulary =
      lease.Query("SELECT value FROM meta WHERE key = ?1", kVocabularyMetaKey);
  if (vocabulary.Next()) vocabulary_text_ = vocabulary.String(0);
  return vocabulary.status();
}

absl::Status Store::LoadLeadingFaqs(Lease& lease) {
  // ListFaqs("")'s order and columns, complete answers only.
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kFaqColumns,
                   " FROM faqs f JOIN passages p ON p.id = f.passage_id "
                   "WHERE f.answer_incomplete = 0 ORDER BY f.id LIMIT ?1"));
  Rows rows = lease.Query(*kSql, kLeadingFaqs);
  while (rows.Next()) leading_faqs_.push_back(FaqFromRow(rows));
  return rows.status();
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

absl::StatusOr<std::unique_ptr<RetrievalIndex>> Store::LoadRetrievalIndex(
    absl::string_view ranked_table, std::vector<double> column_weights) const {
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  absl::StatusOr<std::unique_ptr<RetrievalIndex>> index = RetrievalIndex::Load(
      lease->db.get(), ranked_table, std::move(column_weights));
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
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  CITEKB_ASSIGN_OR_RETURN(StoredPassage passage, ReadPassage(lease, rowid));
  const size_t cost = Cost(passage);
  return passages_.Insert(
      rowid, std::make_shared<const StoredPassage>(std::move(passage)), cost);
}

absl::StatusOr<StoredPassage> Store::ReadPassage(Lease& lease,
                                                 int64_t rowid) const {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kPassageColumns,
                   " FROM passages p JOIN sections sec ON sec.id = "
                   "p.section_id WHERE p.id = ?1"));
  Rows row = lease.Query(*kSql, rowid);
  if (!row.Next()) return NoRow(row, absl::StrCat("no passage ", rowid));
  StoredPassage passage = PassageFromRow(row);
  CITEKB_RETURN_IF_ERROR(ReadSentences(lease, path_, passage));
  if (passage.kind == StoredPassage::Kind::kTableRow) {
    CITEKB_RETURN_IF_ERROR(ReadTableHeaders(lease, passage));
  }
  return passage;
}

absl::StatusOr<std::vector<PassageRow>> Store::PassageRows() const {
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows rows =
      lease.Query("SELECT id, kind, section_id FROM passages ORDER BY id");
  std::vector<PassageRow> passages(static_cast<size_t>(passage_count_) + 1);
  while (rows.Next()) {
    const int64_t rowid = rows.Int(0);
    if (rowid < 1 || rowid > passage_count_) {
      return absl::DataLossError(
          absl::StrCat(path_, " has a passage with rowid ", rowid,
                       " beyond its count: rebuild it with citekb-index"));
    }
    passages[static_cast<size_t>(rowid)] = {PassageKindFromName(rows.Text(1)),
                                            rows.Int(2)};
  }
  CITEKB_RETURN_IF_ERROR(rows.status());
  return passages;
}

absl::StatusOr<std::vector<StoredSection>> Store::ListSections(
    const std::string& article_id) const {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kSectionColumns,
                   " FROM sections sec WHERE (?1 = '' OR sec.article_id = ?1) "
                   "ORDER BY sec.id"));
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows rows = lease.Query(*kSql, article_id);
  std::vector<StoredSection> sections;
  while (rows.Next()) sections.push_back(SectionFromRow(rows));
  CITEKB_RETURN_IF_ERROR(rows.status());
  return sections;
}

absl::StatusOr<bool> Store::HasSections() const {
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows rows = lease.Query("SELECT 1 FROM sections LIMIT 1");
  const bool any = rows.Next();
  CITEKB_RETURN_IF_ERROR(rows.status());
  return any;
}

absl::StatusOr<SectionContents> Store::GetSection(
    const std::string& section_id) const {
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  SectionContents contents;
  CITEKB_ASSIGN_OR_RETURN(
      const int64_t section_rowid,
      ReadSectionHeader(lease, section_id, contents.section));
  std::vector<PlacedBlock> blocks;
  absl::flat_hash_map<int64_t, size_t> tables;  // Table rowid -> block.
  CITEKB_RETURN_IF_ERROR(
      ReadSectionPassages(lease, section_rowid, blocks, tables));
  CITEKB_RETURN_IF_ERROR(AddPassageSources(lease, blocks));
  for (const auto& [table_rowid, index] : tables) {
    CITEKB_RETURN_IF_ERROR(ReadTable(
        lease, table_rowid, std::get<StoredTable>(blocks[index].block)));
  }
  CITEKB_RETURN_IF_ERROR(ReadFigures(lease, section_rowid, blocks));
  contents.blocks = InDocumentOrder(std::move(blocks));
  return contents;
}

absl::StatusOr<int64_t> Store::SectionRowid(
    const std::string& section_id) const {
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows row =
      lease.Query("SELECT id FROM sections WHERE public_id = ?1", section_id);
  if (!row.Next()) {
    return NoRow(row, absl::StrCat("no section \"", section_id, "\""));
  }
  return row.Int(0);
}

absl::StatusOr<std::vector<StoredFaq>> Store::ListFaqs(
    const std::string& article_id) const {
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kFaqColumns,
                   " FROM faqs f JOIN passages p ON p.id = f.passage_id "
                   "WHERE (?1 = '' OR f.article_id = ?1) ORDER BY f.id"));
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows rows = lease.Query(*kSql, article_id);
  std::vector<StoredFaq> faqs;
  while (rows.Next()) faqs.push_back(FaqFromRow(rows));
  CITEKB_RETURN_IF_ERROR(rows.status());
  for (StoredFaq& faq : faqs) {
    CITEKB_ASSIGN_OR_RETURN(faq.source_ids,
                            ReadSourceIds(lease, faq.passage_rowid));
  }
  return faqs;
}

absl::StatusOr<std::shared_ptr<const StoredFaq>> Store::Faq(
    int64_t rowid) const {
  if (std::shared_ptr<const StoredFaq> cached = faqs_.Find(rowid)) {
    return cached;
  }
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT ", kFaqColumns,
                   " FROM faqs f JOIN passages p ON p.id = f.passage_id "
                   "WHERE f.id = ?1"));
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows row = lease.Query(*kSql, rowid);
  if (!row.Next()) return NoRow(row, absl::StrCat("no FAQ entry ", rowid));
  auto faq = std::make_shared<const StoredFaq>(FaqFromRow(row));
  const size_t cost = Cost(*faq);
  return faqs_.Insert(rowid, std::move(faq), cost);
}

namespace {

// ListCitations' condition. Fixed SQL; every filter value is bound (?1 to
// ?6, in CitationFilterParams' order). An empty value disables its
// condition.
constexpr char kCitationWhere[] =
    "(?1 = '' OR src.kind = ?1) "
    "AND (?2 = '' OR (src.kind = 'pubmed' AND src.identifier = ?2)) "
    "AND (?3 = '' OR (src.kind = 'doi' AND src.identifier = ?3)) "
    "AND (?4 = '' AND ?5 = 0 OR EXISTS (SELECT 1 FROM sentence_sources ss "
    "JOIN sentences s ON s.id = ss.sentence_id "
    "JOIN passages p ON p.id = s.passage_id "
    "JOIN sections sec ON sec.id = p.section_id "
    "WHERE ss.source_id = src.id AND (?4 = '' OR sec.public_id = ?4) "
    "AND (?5 = 0 OR citekb_keeps_sentence(?6, p.id, p.text, s.start, "
    "s.length))))";

const char* KindCondition(const CitationFilter& filter) {
  return filter.kind.has_value() ? CitationKindName(*filter.kind) : "";
}

PointerParam SentenceFilterParam(const CitationFilter& filter) {
  return {filter.citing_sentence, kSentenceFilterPointerType};
}

}  // namespace

absl::StatusOr<std::vector<StoredCitation>> Store::ListCitations(
    const CitationFilter& filter, int limit, int offset, int64_t* total) const {
  if (total != nullptr) {
    CITEKB_ASSIGN_OR_RETURN(*total, CountCitations(filter));
  }
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT src.id FROM sources src WHERE ", kCitationWhere,
                   " ORDER BY src.rowid LIMIT ?7 OFFSET ?8"));
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows rows =
      lease.Query(*kSql, KindCondition(filter), filter.pmid, filter.doi,
                  filter.section_id, filter.citing_sentence != nullptr ? 1 : 0,
                  SentenceFilterParam(filter), limit, offset);
  std::vector<StoredCitation> citations;
  while (rows.Next()) citations.emplace_back().id = rows.String(0);
  CITEKB_RETURN_IF_ERROR(rows.status());
  for (StoredCitation& citation : citations) {
    CITEKB_RETURN_IF_ERROR(ReadSource(lease, citation));
  }
  return citations;
}

absl::StatusOr<int64_t> Store::CountCitations(
    const CitationFilter& filter) const {
  // The total is the same for every page of a listing (and the index never
  // changes): count once per filter. With 200,000 sources that is the
  // difference between reading one page and reading them all.
  const std::string key =
      absl::StrCat("sources\x1f", KindCondition(filter), "\x1f", filter.pmid,
                   "\x1f", filter.doi, "\x1f", filter.section_id, "\x1f",
                   filter.citing_sentence_key);
  {
    absl::MutexLock lock(&counts_mutex_);
    if (auto it = counts_.find(key); it != counts_.end()) return it->second;
  }
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT count(*) FROM sources src WHERE ", kCitationWhere));
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows count = lease.Query(
      *kSql, KindCondition(filter), filter.pmid, filter.doi, filter.section_id,
      filter.citing_sentence != nullptr ? 1 : 0, SentenceFilterParam(filter));
  const int64_t total = count.Next() ? count.Int(0) : 0;
  CITEKB_RETURN_IF_ERROR(count.status());
  absl::MutexLock lock(&counts_mutex_);
  if (counts_.size() < kMaxCachedCounts) counts_.emplace(key, total);
  return total;
}

absl::StatusOr<std::shared_ptr<const StoredCitation>> Store::CitationById(
    const std::string& id) const {
  if (std::shared_ptr<const StoredCitation> cached = citations_.Find(id)) {
    return cached;
  }
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  StoredCitation citation;
  if (absl::StartsWith(id, kArticleCitationPrefix)) {
    CITEKB_ASSIGN_OR_RETURN(citation, ReadArticleCitation(lease, id));
  } else {
    citation.id = id;
    CITEKB_RETURN_IF_ERROR(ReadSource(lease, citation));
  }
  const size_t cost = Cost(citation);
  return citations_.Insert(
      id, std::make_shared<const StoredCitation>(std::move(citation)), cost);
}

absl::StatusOr<StoredCitation> Store::CitationByUrl(
    const std::string& url) const {
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows row = lease.Query("SELECT id FROM sources WHERE url = ?1", url);
  if (!row.Next()) {
    return NoRow(row, absl::StrCat("no citation with url \"", url, "\""));
  }
  StoredCitation citation;
  citation.id = row.String(0);
  CITEKB_RETURN_IF_ERROR(ReadSource(lease, citation));
  return citation;
}

absl::StatusOr<std::vector<StoredLink>> Store::ListRelatedLinks(
    const std::string& article_id, std::optional<StoredLink::Kind> kind) const {
  CITEKB_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Rows rows = lease.Query(
      "SELECT l.path, l.kind, l.anchor_text, p.public_id FROM "
      "related_links l JOIN passages p ON p.id = l.passage_id "
      "WHERE (?1 = '' OR l.article_id = ?1) AND (?2 = '' OR l.kind = ?2) "
      "ORDER BY l.id",
      article_id, kind.has_value() ? LinkKindName(*kind) : "");
  std::vector<StoredLink> links;
  absl::flat_hash_map<std::string, size_t> by_path;
  while (rows.Next()) {
    auto [it, inserted] = by_path.try_emplace(rows.String(0), links.size());
    if (inserted) {
      links.push_back({it->first,
                       rows.Text(1) == "tool" ? StoredLink::Kind::kTool
                                              : StoredLink::Kind::kArticle,
                       rows.String(2),
                       {}});
    }
    std::vector<std::string>& passage_ids = links[it->second].passage_ids;
    const absl::string_view passage_id = rows.Text(3);
    if (passage_ids.empty() || passage_ids.back() != passage_id) {
      passage_ids.emplace_back(passage_id);
    }
  }
  CITEKB_RETURN_IF_ERROR(rows.status());
  return links;
}

}  // namespace citekb
