#include "indexer/writer/index_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "indexer/base/status_macros.h"
#include "indexer/format/compound_terms.h"
#include "indexer/format/file_checksum.h"
#include "indexer/format/index_schema.h"
#include "indexer/writer/postings_builder.h"

namespace citekb {
namespace {

const char* KindName(PassageKind kind) {
  switch (kind) {
    case PassageKind::kParagraph:
      return "paragraph";
    case PassageKind::kTableRow:
      return "table_row";
    case PassageKind::kFaq:
      return "faq";
  }
  return "paragraph";
}

const char* KindName(SourceKind kind) {
  switch (kind) {
    case SourceKind::kPubMed:
      return "pubmed";
    case SourceKind::kPmc:
      return "pmc";
    case SourceKind::kDoi:
      return "doi";
    case SourceKind::kWeb:
      return "web";
    case SourceKind::kSafetyReference:
      return "safety_reference";
  }
  return "web";
}

absl::Status AlreadyCommittedError() {
  return absl::FailedPreconditionError("index writer already committed");
}

// Runs an INSERT; the new row's rowid.
absl::StatusOr<int64_t> Insert(Statement& insert) {
  CITEKB_RETURN_IF_ERROR(insert.Run());
  return sqlite3_last_insert_rowid(sqlite3_db_handle(insert.get()));
}

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// SQLite ran with synchronous=OFF while building; flush once, at the end,
// before the rename makes the file visible.
absl::Status SyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot sync", path);
  return absl::OkStatus();
}

}  // namespace

struct IndexWriter::Statements {
  Statement source_file, article, section, passage, sentence, sentence_source,
      table, table_column, table_cell, figure, faq, related_link, warning;
};

IndexWriter::IndexWriter(std::string target_path, std::string temp_path,
                         Database db)
    : target_path_(std::move(target_path)),
      temp_path_(std::move(temp_path)),
      db_(std::move(db)) {}

IndexWriter::~IndexWriter() {
  transaction_.reset();
  statements_.reset();
  db_.reset();
  if (!committed_) std::remove(temp_path_.c_str());
}

absl::StatusOr<std::unique_ptr<IndexWriter>> IndexWriter::Create(
    const std::string& target_path) {
  namespace fs = std::filesystem;
  const fs::path target(target_path);
  if (target.filename().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--out: \"", target_path, "\" names no file"));
  }
  std::error_code error;
  const fs::path folder =
      target.parent_path().empty() ? "." : target.parent_path();
  if (!fs::is_directory(folder, error)) {
    return absl::NotFoundError(
        absl::StrCat("--out: folder ", folder.string(), " does not exist"));
  }
  // mkstemp reserves a unique name; SQLite then writes into that file.
  std::string temp =
      (folder / absl::StrCat(".", target.filename().string(), ".XXXXXX.tmp"))
          .string();
  const int fd = ::mkstemps(temp.data(), 4);
  if (fd < 0)
    return ErrnoError("cannot create a temporary file in", folder.string());
  ::close(fd);

  absl::StatusOr<Database> db =
      OpenDatabase(temp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) {
    std::remove(temp.c_str());
    return db.status();
  }
  std::unique_ptr<IndexWriter> writer(
      new IndexWriter(target_path, std::move(temp), *std::move(db)));
  CITEKB_RETURN_IF_ERROR(writer->Prepare());
  return writer;
}

absl::Status IndexWriter::Prepare() {
  sqlite3* db = db_.get();
  // The file is private until renamed: no journal, no syncs (SyncFile does
  // one at the end), so a bulk build runs at the speed of the B-trees.
  // Foreign keys stay unchecked (SQLite's default): every reference the
  // writer stores is a rowid or id it has just written itself, and checking
  // them would cost a B-tree lookup per reference (6% of the build). The
  // tests run PRAGMA foreign_key_check on built indexes instead.
  // A 128 MiB page cache (the default is 2 MiB) keeps the growing edges of
  // the dozen B-trees in memory: with the default, pages are spilled and
  // read back, twice the writes and one read per page written.
  CITEKB_RETURN_IF_ERROR(Exec(db,
                              "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                              "PRAGMA page_size=4096; PRAGMA foreign_keys=OFF;"
                              "PRAGMA cache_size=-131072;"));
  // The secondary indexes of keys in no order come after the bulk load
  // (Commit).
  CITEKB_RETURN_IF_ERROR(Exec(db, kSchemaSql));
  CITEKB_RETURN_IF_ERROR(Exec(db, kInOrderIndexSql));
  CITEKB_ASSIGN_OR_RETURN(tokenizer_, FtsTokenizer::Create(kFtsTokenizer));
  passage_postings_ =
      std::make_unique<PostingsBuilder>("passages", 3, *tokenizer_);
  faq_postings_ = std::make_unique<PostingsBuilder>("faqs", 1, *tokenizer_);
  background_postings_ =
      std::make_unique<BackgroundPostings>(std::vector<PostingsBuilder*>{
          passage_postings_.get(), faq_postings_.get()});

  CITEKB_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(db));
  transaction_ = std::make_unique<Transaction>(std::move(transaction));

  auto statements = std::make_unique<Statements>();
  Statements& s = *statements;
  const std::pair<Statement*, const char*> sql_for[] = {
      {&s.source_file, "INSERT INTO source_files VALUES(?1, ?2, ?3, ?4)"},
      {&s.article, "INSERT INTO articles VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&s.section,
       "INSERT INTO sections(public_id, article_id, ordinal, anchor, title) "
       "VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&s.passage,
       "INSERT INTO passages(public_id, article_id, section_id, ordinal, "
       "block, kind, text, anecdotal, table_id, row_index) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
      {&s.sentence,
       "INSERT INTO sentences(passage_id, ordinal, start, length, anecdotal) "
       "VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&s.sentence_source, "INSERT INTO sentence_sources VALUES(?1, ?2)"},
      {&s.table,
       "INSERT INTO tables(public_id, section_id, block) VALUES(?1, ?2, ?3)"},
      {&s.table_column, "INSERT INTO table_columns VALUES(?1, ?2, ?3, ?4)"},
      {&s.table_cell, "INSERT INTO table_cells VALUES(?1, ?2, ?3, ?4)"},
      {&s.figure,
       "INSERT INTO figures(public_id, section_id, block, caption) "
       "VALUES(?1, ?2, ?3, ?4)"},
      {&s.faq,
       "INSERT INTO faqs(public_id, article_id, passage_id, ordinal, "
       "question, answer, answer_incomplete) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&s.related_link,
       "INSERT INTO related_links(article_id, passage_id, path, kind, "
       "anchor_text) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&s.warning, "INSERT INTO warnings(message) VALUES(?1)"},
  };
  for (const auto& [statement, sql] : sql_for) {
    CITEKB_ASSIGN_OR_RETURN(*statement, Statement::Prepare(db, sql));
  }
  statements_ = std::move(statements);
  return absl::OkStatus();
}

// The rowids of one article's rows, by their index in the Article: later
// steps store references to earlier rows by these.
struct IndexWriter::ArticleRows {
  std::vector<int64_t> sections;
  std::vector<int64_t> tables;
  std::vector<int64_t> passages;
  std::vector<int64_t> faqs;
};

absl::Status IndexWriter::Add(Article article_to_add,
                              const SourceFileInfo& file) {
  if (statements_ == nullptr) return AlreadyCommittedError();
  // The sources are kept (AddSource); the rest is shared with the postings
  // thread, which frees it.
  for (Source& source : article_to_add.sources) AddSource(std::move(source));
  article_to_add.sources.clear();
  const auto shared =
      std::make_shared<const Article>(std::move(article_to_add));
  const Article& article = *shared;
  // Text is bound without a copy (BindView) wherever it lives in `article`
  // or `file`, which outlive every statement run by these steps; built ids
  // are temporaries, copied (Bind).
  ArticleRows rows;
  CITEKB_RETURN_IF_ERROR(WriteArticle(article, file));
  CITEKB_ASSIGN_OR_RETURN(rows.sections, WriteSections(article));
  CITEKB_ASSIGN_OR_RETURN(rows.tables, WriteTables(article, rows.sections));
  CITEKB_RETURN_IF_ERROR(WriteFigures(article, rows.sections));
  CITEKB_ASSIGN_OR_RETURN(rows.passages, WritePassages(article, file, rows));
  CITEKB_ASSIGN_OR_RETURN(rows.faqs, WriteFaqs(article, rows.passages));
  CITEKB_RETURN_IF_ERROR(WriteRelatedLinks(article, rows.passages));
  CITEKB_RETURN_IF_ERROR(WriteWarnings(article));
  ++counts_.articles;
  QueuePostings(shared, std::move(rows));
  return absl::OkStatus();
}

absl::Status IndexWriter::WriteArticle(const Article& article,
                                       const SourceFileInfo& file) {
  Statements& s = *statements_;
  absl::Status status = s.article.BindView(1, article.id)
                            .BindView(2, article.category)
                            .BindView(3, article.title)
                            .BindView(4, article.description)
                            .BindView(5, article.summary)
                            .BindView(6, file.path)
                            .Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat(file.path, ": article id \"", article.id,
                     "\" (from its title) is already used by another article"));
  }
  CITEKB_RETURN_IF_ERROR(status);
  status = s.source_file.BindView(1, file.path)
               .BindView(2, file.sha256)
               .Bind(3, file.bytes)
               .BindView(4, article.id)
               .Run();
  if (absl::IsAlreadyExists(status)) {
    return absl::AlreadyExistsError(
        absl::StrCat(file.path, ": file added to the index twice"));
  }
  return status;
}

absl::StatusOr<std::vector<int64_t>> IndexWriter::WriteSections(
    const Article& article) {
  Statement& insert = statements_->section;
  std::vector<int64_t> rowids;
  for (size_t i = 0; i < article.sections.size(); ++i) {
    const Section& section = article.sections[i];
    CITEKB_ASSIGN_OR_RETURN(
        const int64_t rowid,
        Insert(insert.Bind(1, absl::StrCat(article.id, "#", section.anchor))
                   .BindView(2, article.id)
                   .Bind(3, static_cast<int64_t>(i))
                   .BindView(4, section.anchor)
                   .BindView(5, section.title)));
    rowids.push_back(rowid);
  }
  counts_.sections += static_cast<int64_t>(rowids.size());
  return rowids;
}

absl::StatusOr<std::vector<int64_t>> IndexWriter::WriteTables(
    const Article& article, absl::Span<const int64_t> section_rowids) {
  Statements& s = *statements_;
  std::vector<int64_t> rowids;
  for (size_t t = 0; t < article.tables.size(); ++t) {
    const Table& table = article.tables[t];
    CITEKB_ASSIGN_OR_RETURN(
        const int64_t table_rowid,
        Insert(s.table.Bind(1, absl::StrCat(article.id, "/t", t))
                   .Bind(2, section_rowids[table.section_index])
                   .Bind(3, table.block_index)));
    rowids.push_back(table_rowid);
    for (size_t c = 0; c < table.columns.size(); ++c) {
      CITEKB_RETURN_IF_ERROR(s.table_column.Bind(1, table_rowid)
                                 .Bind(2, static_cast<int64_t>(c))
                                 .BindView(3, table.columns[c].header)
                                 .Bind(4, table.columns[c].anecdotal ? 1 : 0)
                                 .Run());
    }
    for (size_t r = 0; r < table.rows.size(); ++r) {
      for (size_t c = 0; c < table.rows[r].size(); ++c) {
        CITEKB_RETURN_IF_ERROR(s.table_cell.Bind(1, table_rowid)
                                   .Bind(2, static_cast<int64_t>(r))
                                   .Bind(3, static_cast<int64_t>(c))
                                   .BindView(4, table.rows[r][c])
                                   .Run());
      }
    }
  }
  counts_.tables += static_cast<int64_t>(rowids.size());
  return rowids;
}

absl::Status IndexWriter::WriteFigures(
    const Article& article, absl::Span<const int64_t> section_rowids) {
  Statement& insert = statements_->figure;
  for (size_t f = 0; f < article.figures.size(); ++f) {
    const Figure& figure = article.figures[f];
    CITEKB_RETURN_IF_ERROR(insert.Bind(1, absl::StrCat(article.id, "/f", f))
                               .Bind(2, section_rowids[figure.section_index])
                               .Bind(3, figure.block_index)
                               .BindView(4, figure.caption)
                               .Run());
  }
  counts_.figures += static_cast<int64_t>(article.figures.size());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> IndexWriter::WritePassages(
    const Article& article, const SourceFileInfo& file,
    const ArticleRows& rows) {
  Statement& insert = statements_->passage;
  std::vector<int64_t> rowids;
  for (size_t p = 0; p < article.passages.size(); ++p) {
    const Passage& passage = article.passages[p];
    insert.Bind(1, absl::StrCat(article.id, "/p", p))
        .BindView(2, article.id)
        .Bind(3, rows.sections[passage.section_index])
        .Bind(4, static_cast<int64_t>(p))
        .Bind(5, passage.block_index)
        .BindView(6, KindName(passage.kind))
        .BindView(7, passage.text)
        .Bind(8, passage.anecdotal ? 1 : 0);
    if (passage.table_index >= 0) {
      insert.Bind(9, rows.tables[passage.table_index])
          .Bind(10, passage.row_index);
    }
    CITEKB_ASSIGN_OR_RETURN(const int64_t passage_rowid, Insert(insert));
    rowids.push_back(passage_rowid);
    CITEKB_RETURN_IF_ERROR(WriteSentences(passage, passage_rowid, file, p));
  }
  if (!rowids.empty()) {
    article_passages_[article.id] = {rowids.front(), rowids.back()};
  }
  counts_.passages += static_cast<int64_t>(rowids.size());
  return rowids;
}

absl::Status IndexWriter::WriteSentences(const Passage& passage,
                                         int64_t passage_rowid,
                                         const SourceFileInfo& file,
                                         size_t passage_index) {
  Statements& s = *statements_;
  // Sentences are stored as where they stand in the passage's text; the
  // parser cuts them from it, in order.
  size_t from = 0;
  for (size_t n = 0; n < passage.sentences.size(); ++n) {
    const Sentence& sentence = passage.sentences[n];
    const size_t start = passage.text.find(sentence.text, from);
    if (start == std::string::npos) {
      return absl::InternalError(absl::StrCat(
          file.path, ": a sentence of passage ", passage_index,
          " is not in the passage's text: \"", sentence.text, "\""));
    }
    from = start + sentence.text.size();
    CITEKB_ASSIGN_OR_RETURN(
        const int64_t sentence_rowid,
        Insert(s.sentence.Bind(1, passage_rowid)
                   .Bind(2, static_cast<int64_t>(n))
                   .Bind(3, static_cast<int64_t>(start))
                   .Bind(4, static_cast<int64_t>(sentence.text.size()))
                   .Bind(5, sentence.anecdotal ? 1 : 0)));
    for (const std::string& source_id : sentence.source_ids) {
      CITEKB_RETURN_IF_ERROR(s.sentence_source.Bind(1, sentence_rowid)
                                 .BindView(2, source_id)
                                 .Run());
    }
    counts_.citations += static_cast<int64_t>(sentence.source_ids.size());
  }
  counts_.sentences += static_cast<int64_t>(passage.sentences.size());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> IndexWriter::WriteFaqs(
    const Article& article, absl::Span<const int64_t> passage_rowids) {
  Statement& insert = statements_->faq;
  std::vector<int64_t> rowids;
  for (size_t q = 0; q < article.faqs.size(); ++q) {
    const Faq& faq = article.faqs[q];
    CITEKB_ASSIGN_OR_RETURN(
        const int64_t rowid,
        Insert(insert.Bind(1, absl::StrCat(article.id, "/faq", q))
                   .BindView(2, article.id)
                   .Bind(3, passage_rowids[faq.passage_index])
                   .Bind(4, static_cast<int64_t>(q))
                   .BindView(5, faq.question)
                   .BindView(6, faq.answer)
                   .Bind(7, faq.answer_incomplete ? 1 : 0)));
    rowids.push_back(rowid);
  }
  counts_.faqs += static_cast<int64_t>(rowids.size());
  return rowids;
}

absl::Status IndexWriter::WriteRelatedLinks(
    const Article& article, absl::Span<const int64_t> passage_rowids) {
  Statement& insert = statements_->related_link;
  for (const RelatedLink& link : article.related_links) {
    CITEKB_RETURN_IF_ERROR(insert.BindView(1, article.id)
                               .Bind(2, passage_rowids[link.passage_index])
                               .BindView(3, link.path)
                               .BindView(4, link.kind == RelatedLinkKind::kTool
                                                ? "tool"
                                                : "article")
                               .BindView(5, link.anchor_text)
                               .Run());
  }
  counts_.related_links += static_cast<int64_t>(article.related_links.size());
  return absl::OkStatus();
}

absl::Status IndexWriter::WriteWarnings(const Article& article) {
  Statement& insert = statements_->warning;
  for (const std::string& warning : article.warnings) {
    CITEKB_RETURN_IF_ERROR(insert.BindView(1, warning).Run());
  }
  counts_.warnings += static_cast<int64_t>(article.warnings.size());
  return absl::OkStatus();
}

void IndexWriter::QueuePostings(std::shared_ptr<const Article> article,
                                ArticleRows rows) {
  // The ranked columns: a passage's section title, text and joined
  // compounds (index_schema.h), an FAQ entry's question.
  background_postings_->Add(
      [article = std::move(article), rows = std::move(rows)](
          absl::Span<PostingsBuilder* const> builders) -> absl::Status {
        for (size_t p = 0; p < article->passages.size(); ++p) {
          const Passage& passage = article->passages[p];
          CITEKB_RETURN_IF_ERROR(builders[0]->AddRow(
              rows.passages[p], {article->sections[passage.section_index].title,
                                 passage.text, CompoundTerms(passage.text)}));
        }
        for (size_t q = 0; q < article->faqs.size(); ++q) {
          CITEKB_RETURN_IF_ERROR(
              builders[1]->AddRow(rows.faqs[q], {article->faqs[q].question}));
        }
        return absl::OkStatus();
      });
}

void IndexWriter::AddSource(Source source) {
  const auto [it, inserted] =
      source_rows_.try_emplace(source.id, sources_.size());
  if (inserted) {
    sources_.push_back(std::move(source));
    return;
  }
  // The same source cited by two articles is one row; keep the first
  // author-year label anyone gave it.
  Source& known = sources_[it->second];
  if (known.label.empty()) known.label = source.label;
  // A source that is also a safety reference is listed as one.
  if (source.kind == SourceKind::kSafetyReference) known.kind = source.kind;
}

absl::Status IndexWriter::WriteSources() {
  CITEKB_ASSIGN_OR_RETURN(
      Statement insert,
      Statement::Prepare(db_.get(),
                         "INSERT INTO sources VALUES(?1, ?2, ?3, ?4, ?5)"));
  // First-seen order, so that rowids are what row-by-row inserts gave.
  for (const Source& source : sources_) {
    CITEKB_RETURN_IF_ERROR(insert.Bind(1, source.id)
                               .Bind(2, KindName(source.kind))
                               .Bind(3, source.identifier)
                               .Bind(4, source.url)
                               .Bind(5, source.label)
                               .Run());
  }
  return absl::OkStatus();
}

absl::Status IndexWriter::SetMeta(const std::string& key,
                                  const std::string& value) {
  if (statements_ == nullptr) return AlreadyCommittedError();
  CITEKB_ASSIGN_OR_RETURN(
      Statement meta,
      Statement::Prepare(db_.get(), "INSERT INTO meta VALUES(?1, ?2)"));
  return meta.Bind(1, key).Bind(2, value).Run();
}

absl::StatusOr<std::vector<IndexWriter::StoredSentence>>
IndexWriter::ArticleSentences(const std::string& article_id) {
  if (statements_ == nullptr) return AlreadyCommittedError();
  const auto passages = article_passages_.find(article_id);
  if (passages == article_passages_.end()) return std::vector<StoredSentence>{};
  // group_concat with a separator no source id contains ('\n').
  CITEKB_ASSIGN_OR_RETURN(
      Statement query,
      Statement::Prepare(
          db_.get(),
          "SELECT p.public_id, s.text, "
          "  (SELECT group_concat(source_id, char(10)) FROM sentence_sources "
          "   WHERE sentence_id = s.id) "
          "FROM passages p JOIN sentence_texts s ON s.passage_id = p.id "
          "WHERE p.id BETWEEN ?1 AND ?2 ORDER BY p.ordinal, s.ordinal"));
  query.Bind(1, passages->second.first).Bind(2, passages->second.second);
  std::vector<StoredSentence> sentences;
  while (true) {
    CITEKB_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    StoredSentence& sentence = sentences.emplace_back();
    sentence.passage_id = std::string(query.ColumnText(0));
    sentence.text = std::string(query.ColumnText(1));
    const std::string sources(query.ColumnText(2));
    if (!sources.empty()) sentence.source_ids = absl::StrSplit(sources, '\n');
  }
  return sentences;
}

absl::Status IndexWriter::Commit() {
  if (statements_ == nullptr) return AlreadyCommittedError();
  statements_.reset();
  sqlite3* db = db_.get();
  {
    CITEKB_RETURN_IF_ERROR(WriteSources());
    counts_.sources = static_cast<int64_t>(sources_.size());
    // Sorting a finished table is cheaper than updating these indexes for
    // every row (kSecondaryIndexSql).
    CITEKB_RETURN_IF_ERROR(Exec(db, kSecondaryIndexSql));
    CITEKB_RETURN_IF_ERROR(background_postings_->Finish());
    CITEKB_RETURN_IF_ERROR(passage_postings_->Write(db));
    CITEKB_RETURN_IF_ERROR(faq_postings_->Write(db));
    CITEKB_ASSIGN_OR_RETURN(
        Statement meta,
        Statement::Prepare(db, "INSERT INTO meta VALUES(?1, ?2)"));
    const std::pair<const char*, std::string> entries[] = {
        {"schema_version", absl::StrCat(kSchemaVersion)},
        {"tokenizer", kFtsTokenizer},
        {"built_at",
         absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone())},
        {"articles", absl::StrCat(counts_.articles)},
        {"passages", absl::StrCat(counts_.passages)},
    };
    for (const auto& [key, value] : entries) {
      CITEKB_RETURN_IF_ERROR(meta.Bind(1, key).Bind(2, value).Run());
    }
  }
  absl::Status status = transaction_->Commit();
  transaction_.reset();
  CITEKB_RETURN_IF_ERROR(status);
  CITEKB_RETURN_IF_ERROR(
      Exec(db, absl::StrCat("PRAGMA application_id = ", kIndexApplicationId)));
  db_.reset();  // Closes the file before it is stamped, synced and renamed.
  CITEKB_RETURN_IF_ERROR(StampChecksum(temp_path_));
  CITEKB_RETURN_IF_ERROR(SyncFile(temp_path_));
  if (std::rename(temp_path_.c_str(), target_path_.c_str()) != 0) {
    return ErrnoError("cannot rename the new index onto", target_path_);
  }
  committed_ = true;
  return absl::OkStatus();
}

}  // namespace citekb
