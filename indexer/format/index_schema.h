// The layout of a citekb index file, shared by the writer and every reader.
//
// One SQLite file holds ordinary tables (articles, sections, passages,
// sentences, sources and which sentence cites which source, tables, figures,
// FAQ entries, related links, the source files' checksums) and the postings
// citekb ranks with in memory (postings_format.h): `passages_terms` over
// each passage's section title, text and joined compound terms
// (compound_terms.h), `faqs_terms` over FAQ questions, and ranked_tables.
// Terms are FTS5's (its tokenizer, kFtsTokenizer) and so are the scores
// (bm25) and snippets the server computes from them; the file keeps no FTS5
// table of its own, which would hold the same postings a second time (the
// tests build one, to hold the ranking to FTS5's).
//
// The stack evaluator's rules (stack_knowledge.h) are stored resolved, in
// meta under kStackRulesMetaKey, so that an index carries the rules that
// match its text; the vocabulary questions are read with (vocabulary.h),
// under kVocabularyMetaKey, both in protobuf text format.
//
// The tables (kSchemaSql) and their secondary indexes (kInOrderIndexSql,
// kSecondaryIndexSql) together make the schema.
//
// Readers check meta.schema_version == kSchemaVersion and refuse any other:
// bump it whenever a table or column changes meaning.

#ifndef CITEKB_INDEXER_FORMAT_INDEX_SCHEMA_H_
#define CITEKB_INDEXER_FORMAT_INDEX_SCHEMA_H_

namespace citekb {

// Id of the article the safety references are indexed as, and the prefix of
// citation ids that stand for a whole article ("article:<id>").
inline constexpr char kSafetyReferencesArticleId[] = "safety-references";
inline constexpr char kArticleCitationPrefix[] = "article:";

inline constexpr int kSchemaVersion = 4;

inline constexpr char kStackRulesMetaKey[] = "stack_rules";
inline constexpr char kVocabularyMetaKey[] = "vocabulary";

// Porter stemming over unicode61 (diacritics folded) so that "arteries" finds
// "artery" and "calcified" finds "calcification"'s stem; `D3`, `K2` stay one
// token each because unicode61 keeps letters and digits together.
inline constexpr char kFtsTokenizer[] = "porter unicode61 remove_diacritics 2";

// Column weights for the passages' bm25: a match in the section title
// says more about a passage than one in its body; joined compounds count
// like body words.
inline constexpr double kSectionTitleWeight = 2.0;
inline constexpr double kBodyWeight = 1.0;
inline constexpr double kCompoundWeight = 1.0;

inline constexpr char kSchemaSql[] = R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY,            -- also 'stack_rules': the resolved
  value TEXT NOT NULL              -- StackRules in protobuf text format
);
CREATE TABLE source_files(
  path TEXT PRIMARY KEY,          -- as given to the indexer, relative to it
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  article_id TEXT NOT NULL
);
CREATE TABLE articles(
  id TEXT PRIMARY KEY,            -- slug of the title
  category TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  summary TEXT NOT NULL,
  source_path TEXT NOT NULL
);
CREATE TABLE sections(
  id INTEGER PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,  -- "<article id>#<anchor>"
  article_id TEXT NOT NULL REFERENCES articles(id),
  ordinal INTEGER NOT NULL,        -- 0-based, table-of-contents order
  anchor TEXT NOT NULL,
  title TEXT NOT NULL
);
CREATE TABLE passages(
  id INTEGER PRIMARY KEY,          -- the row passages_terms names
  public_id TEXT NOT NULL UNIQUE,  -- "<article id>/p<ordinal>"
  article_id TEXT NOT NULL REFERENCES articles(id),
  section_id INTEGER NOT NULL REFERENCES sections(id),
  ordinal INTEGER NOT NULL,        -- 0-based, document order in the article
  block INTEGER NOT NULL,          -- position of its block in the section
  kind TEXT NOT NULL,              -- 'paragraph' | 'table_row' | 'faq'
  text TEXT NOT NULL,
  anecdotal INTEGER NOT NULL,
  table_id INTEGER,                -- kind = 'table_row'
  row_index INTEGER
);
CREATE TABLE sentences(           -- text: see sentence_texts
  id INTEGER PRIMARY KEY,
  passage_id INTEGER NOT NULL REFERENCES passages(id),
  ordinal INTEGER NOT NULL,
  start INTEGER NOT NULL,          -- byte offset in passages.text
  length INTEGER NOT NULL,         -- in bytes
  anecdotal INTEGER NOT NULL
);
-- A sentence is a piece of its passage's text, stored once: sentences
-- hold where it is, this view what it says.
CREATE VIEW sentence_texts(id, passage_id, ordinal, text, anecdotal) AS
  SELECT s.id, s.passage_id, s.ordinal,
         CAST(substr(CAST(p.text AS BLOB), s.start + 1, s.length) AS TEXT),
         s.anecdotal
  FROM sentences s JOIN passages p ON p.id = s.passage_id;
CREATE TABLE sources(            -- rowid: order first cited
  id TEXT NOT NULL,                -- "pmid:…", "pmcid:…", "doi:…", "url:…";
                                   -- unique (sources_by_id)
  kind TEXT NOT NULL,              -- 'pubmed' | 'pmc' | 'doi' | 'web' |
                                   -- 'safety_reference'
  identifier TEXT NOT NULL,
  url TEXT NOT NULL,
  label TEXT NOT NULL              -- "Zhang 2025" or ''
);
CREATE TABLE sentence_sources(
  sentence_id INTEGER NOT NULL REFERENCES sentences(id),
  source_id TEXT NOT NULL REFERENCES sources(id),
  PRIMARY KEY(sentence_id, source_id)
) WITHOUT ROWID;
CREATE TABLE tables(
  id INTEGER PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,  -- "<article id>/t<n>"
  section_id INTEGER NOT NULL REFERENCES sections(id),
  block INTEGER NOT NULL
);
CREATE TABLE table_columns(
  table_id INTEGER NOT NULL REFERENCES tables(id),
  ordinal INTEGER NOT NULL,
  header TEXT NOT NULL,
  anecdotal INTEGER NOT NULL,
  PRIMARY KEY(table_id, ordinal)
) WITHOUT ROWID;
CREATE TABLE table_cells(
  table_id INTEGER NOT NULL REFERENCES tables(id),
  row_index INTEGER NOT NULL,
  column_index INTEGER NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY(table_id, row_index, column_index)
) WITHOUT ROWID;
CREATE TABLE figures(
  id INTEGER PRIMARY KEY,
  public_id TEXT NOT NULL UNIQUE,  -- "<article id>/f<n>"
  section_id INTEGER NOT NULL REFERENCES sections(id),
  block INTEGER NOT NULL,
  caption TEXT NOT NULL
);
CREATE TABLE faqs(
  id INTEGER PRIMARY KEY,          -- the row faqs_terms names
  public_id TEXT NOT NULL UNIQUE,  -- "<article id>/faq<n>"
  article_id TEXT NOT NULL REFERENCES articles(id),
  passage_id INTEGER NOT NULL REFERENCES passages(id),
  ordinal INTEGER NOT NULL,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,            -- '' when answer_incomplete
  answer_incomplete INTEGER NOT NULL
);
CREATE TABLE related_links(
  id INTEGER PRIMARY KEY,
  article_id TEXT NOT NULL REFERENCES articles(id),
  passage_id INTEGER NOT NULL REFERENCES passages(id),
  path TEXT NOT NULL,              -- "/en/research/…" or "/en/tools/…"
  kind TEXT NOT NULL,              -- 'article' | 'tool'
  anchor_text TEXT NOT NULL
);
CREATE TABLE ranked_tables(       -- postings_format.h
  name TEXT PRIMARY KEY,           -- 'passages' | 'faqs'
  columns INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  tokens INTEGER NOT NULL,         -- in all rows and columns
  row_tokens BLOB NOT NULL         -- varint per rowid 1..rows
);
CREATE TABLE passages_terms(
  id INTEGER PRIMARY KEY,
  term TEXT NOT NULL,              -- as FtsTokenizer gives it
  rows INTEGER NOT NULL,           -- passages with the term in any column
  postings BLOB NOT NULL,
  positions BLOB NOT NULL
);
CREATE TABLE faqs_terms(
  id INTEGER PRIMARY KEY,
  term TEXT NOT NULL,
  rows INTEGER NOT NULL,
  postings BLOB NOT NULL,
  positions BLOB NOT NULL
);
CREATE TABLE warnings(
  id INTEGER PRIMARY KEY,
  message TEXT NOT NULL            -- "file:line: reason"
);
)sql";

// Secondary indexes whose keys rise with the rowid, as a writer adds rows
// article by article, in document order: kept up to date row by row, each
// grows at its right edge, which costs less than sorting the finished table
// (that read the 141 MB passages table back in at 10,000 articles).
inline constexpr char kInOrderIndexSql[] = R"sql(
CREATE INDEX passages_by_section ON passages(section_id, ordinal);
CREATE INDEX sentences_by_passage ON sentences(passage_id, ordinal);
CREATE INDEX faqs_by_passage ON faqs(passage_id);
)sql";

// Secondary indexes whose keys arrive in no order, kept apart from kSchemaSql
// so that a writer can build them once, after the bulk load, instead of
// updating them row by row. sources_by_id is the sources' key: sorting
// their ids once took 0.3 s less than a B-tree search per row.
inline constexpr char kSecondaryIndexSql[] = R"sql(
CREATE INDEX sentence_sources_by_source ON sentence_sources(source_id, sentence_id);
CREATE UNIQUE INDEX sources_by_id ON sources(id);
)sql";

}  // namespace citekb

#endif  // CITEKB_INDEXER_FORMAT_INDEX_SCHEMA_H_
