// The store's shortcuts must say exactly what the slow way says: passages,
// FAQ entries and citations read once and cached, the FAQ entries read at
// Open, and paged citation listings. Sections come with their blocks, and
// what is missing is NOT_FOUND in the store's own words.

#include "service/store/store.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/sqlite.h"
#include "service/search/row_set.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    ASSERT_TRUE(BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                            .out_path = dir_->File("kb.sqlite")})
                    .ok());
    auto store = Store::Open(dir_->File("kb.sqlite"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
  }
  static void TearDownTestSuite() {
    delete store_;
    delete dir_;
  }
  static testing::TempDir* dir_;
  static Store* store_;
};
testing::TempDir* StoreTest::dir_ = nullptr;
Store* StoreTest::store_ = nullptr;

// A row's fields as one string, to compare rows read different ways.
std::string Fields(const StoredFaq& faq) {
  return absl::StrJoin(
      {faq.id, faq.question, faq.answer,
       std::string(faq.answer_incomplete ? "1" : "0"), faq.passage_id,
       absl::StrCat(faq.passage_rowid), absl::StrJoin(faq.source_ids, ",")},
      "|");
}

std::string Fields(const StoredCitation& citation) {
  std::vector<std::string> fields = {
      citation.id,         absl::StrCat(static_cast<int>(citation.kind)),
      citation.identifier, citation.url,
      citation.label,      absl::StrJoin(citation.passage_ids, ",")};
  for (const StoredCitation::CitingSentence& sentence :
       citation.citing_sentences) {
    fields.push_back(absl::StrJoin(
        {sentence.text, sentence.passage_id, sentence.section_id}, "/"));
  }
  return absl::StrJoin(fields, "|");
}

// Column 0 of every row of `sql` with `rowid` bound as ?1.
std::vector<std::string> Column(const std::string& index,
                                const std::string& sql, int64_t rowid) {
  auto db = OpenDatabase(index, SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.ok());
  auto statement = Statement::Prepare(db->get(), sql);
  EXPECT_TRUE(statement.ok()) << statement.status();
  statement->Bind(1, rowid);
  std::vector<std::string> rows;
  while (*statement->Step()) rows.emplace_back(statement->ColumnText(0));
  return rows;
}

TEST_F(StoreTest, PassagesAreReadWithTheirSentencesAndSourcesInCitationOrder) {
  const std::string index = dir_->File("kb.sqlite");
  int cited = 0;
  for (int64_t rowid = 1; rowid <= store_->passage_count(); ++rowid) {
    absl::StatusOr<std::shared_ptr<const StoredPassage>> passage =
        store_->Passage(rowid);
    ASSERT_TRUE(passage.ok()) << passage.status();
    EXPECT_EQ((*passage)->rowid, rowid);
    EXPECT_EQ(
        (*passage)->text,
        Column(index, "SELECT text FROM passages WHERE id = ?1", rowid)[0]);
    // The sources in order of first citation, as SQL orders them.
    const std::vector<std::string> expected = Column(
        index,
        "SELECT ss.source_id FROM sentences s JOIN sentence_sources ss ON "
        "ss.sentence_id = s.id WHERE s.passage_id = ?1 GROUP BY ss.source_id "
        "ORDER BY min(s.id), ss.source_id",
        rowid);
    EXPECT_THAT((*passage)->source_ids, ::testing::ElementsAreArray(expected));
    cited += expected.empty() ? 0 : 1;
    std::vector<std::string> sentences;
    for (const StoredSentence& sentence : (*passage)->sentences)
      sentences.push_back(sentence.text);
    EXPECT_EQ(
        sentences,
        Column(index,
               "SELECT text FROM sentence_texts WHERE passage_id = ?1 ORDER BY "
               "ordinal",
               rowid));
    // Read once: the second time is the cached copy.
    EXPECT_EQ(store_->Passage(rowid)->get(), passage->get());
  }
  EXPECT_GT(cited, 10);
  EXPECT_TRUE(absl::IsNotFound(store_->Passage(0).status()));
  EXPECT_TRUE(
      absl::IsNotFound(store_->Passage(store_->passage_count() + 1).status()));
}

TEST_F(StoreTest, FaqEntriesByRowidAreListFaqsEntries) {
  absl::StatusOr<std::vector<StoredFaq>> all = store_->ListFaqs("");
  ASSERT_TRUE(all.ok());
  ASSERT_FALSE(all->empty());
  for (size_t i = 0; i < all->size(); ++i) {
    absl::StatusOr<std::shared_ptr<const StoredFaq>> faq =
        store_->Faq(static_cast<int64_t>(i) + 1);
    ASSERT_TRUE(faq.ok()) << faq.status();
    StoredFaq listed = (*all)[i];
    absl::StatusOr<std::shared_ptr<const StoredPassage>> passage =
        store_->Passage((*faq)->passage_rowid);
    ASSERT_TRUE(passage.ok());
    EXPECT_EQ((*passage)->id, listed.passage_id);
    // Listed with the sources of its passage; by rowid without them.
    EXPECT_EQ(listed.source_ids, (*passage)->source_ids);
    listed.source_ids.clear();
    EXPECT_EQ(Fields(**faq), Fields(listed));
  }
  EXPECT_TRUE(absl::IsNotFound(
      store_->Faq(static_cast<int64_t>(all->size()) + 1).status()));
}

TEST_F(StoreTest, CachedCitationsAreTheCitationsRead) {
  absl::StatusOr<std::vector<StoredCitation>> all =
      store_->ListCitations({}, 1000, 0, nullptr);
  ASSERT_TRUE(all.ok());
  ASSERT_FALSE(all->empty());
  for (const StoredCitation& listed : *all) {
    auto first = store_->CitationById(listed.id);
    auto again = store_->CitationById(listed.id);
    ASSERT_TRUE(first.ok() && again.ok());
    EXPECT_EQ(Fields(**first), Fields(listed));
    EXPECT_EQ(again->get(), first->get());
    if (listed.url.empty()) continue;
    absl::StatusOr<StoredCitation> by_url = store_->CitationByUrl(listed.url);
    ASSERT_TRUE(by_url.ok()) << listed.url;
    EXPECT_EQ(by_url->url, listed.url);
    if (by_url->id == listed.id) {
      EXPECT_EQ(Fields(*by_url), Fields(listed));
    }
  }
  EXPECT_EQ(store_->CitationById("pmid:1").status(),
            absl::NotFoundError("no citation \"pmid:1\""));
  EXPECT_EQ(
      store_->CitationByUrl("https://example.com/").status(),
      absl::NotFoundError("no citation with url \"https://example.com/\""));
}

TEST_F(StoreTest, ArticlesAreCitableAsAWhole) {
  const std::string id =
      "article:d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries";
  auto article = store_->CitationById(id);
  ASSERT_TRUE(article.ok()) << article.status();
  EXPECT_EQ((*article)->id, id);
  EXPECT_EQ((*article)->kind, StoredCitation::Kind::kArticle);
  EXPECT_EQ((*article)->label,
            "D3-K2 Protocol: How to Route Calcium to Bones, Not Arteries");
  EXPECT_TRUE((*article)->citing_sentences.empty());
  EXPECT_EQ(store_->CitationById("article:nope").status(),
            absl::NotFoundError("no citation \"article:nope\""));
}

TEST_F(StoreTest, PassageRowsGiveKindAndSection) {
  absl::StatusOr<std::vector<PassageRow>> rows = store_->PassageRows();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), static_cast<size_t>(store_->passage_count()) + 1);
  for (int64_t rowid = 1; rowid <= store_->passage_count(); ++rowid) {
    const PassageRow& row = (*rows)[static_cast<size_t>(rowid)];
    EXPECT_EQ(row.kind, (*store_->Passage(rowid))->kind);
    EXPECT_NE(row.kind, StoredPassage::Kind::kUnknown);
    absl::StatusOr<int64_t> section =
        store_->SectionRowid((*store_->Passage(rowid))->section_id);
    ASSERT_TRUE(section.ok());
    EXPECT_EQ(row.section_rowid, *section);
  }
  EXPECT_EQ(store_->SectionRowid("no#such").status(),
            absl::NotFoundError("no section \"no#such\""));
}

TEST_F(StoreTest, SectionsHoldTheirPassagesTablesAndFigures) {
  absl::StatusOr<std::vector<StoredSection>> sections =
      store_->ListSections("");
  ASSERT_TRUE(sections.ok());
  ASSERT_FALSE(sections->empty());
  int tables = 0;
  int figures = 0;
  for (const StoredSection& listed : *sections) {
    absl::StatusOr<SectionContents> contents = store_->GetSection(listed.id);
    ASSERT_TRUE(contents.ok()) << contents.status();
    EXPECT_EQ(contents->section.id, listed.id);
    EXPECT_EQ(contents->section.title, listed.title);
    EXPECT_EQ(contents->section.ordinal, listed.ordinal);
    // Every passage of the section once: as a block or as a table's row.
    int passages = 0;
    for (const SectionContents::Block& block : contents->blocks) {
      if (const auto* passage = std::get_if<StoredPassage>(&block)) {
        ++passages;
        EXPECT_EQ(passage->section_id, listed.id);
        EXPECT_TRUE(passage->sentences.empty());
        absl::StatusOr<std::shared_ptr<const StoredPassage>> stored =
            store_->Passage(passage->rowid);
        ASSERT_TRUE(stored.ok());
        EXPECT_EQ(passage->text, (*stored)->text);
        EXPECT_THAT(passage->source_ids, ::testing::UnorderedElementsAreArray(
                                             (*stored)->source_ids));
      } else if (const auto* table = std::get_if<StoredTable>(&block)) {
        ++tables;
        passages += static_cast<int>(table->rows.size());
        EXPECT_FALSE(table->id.empty());
        for (const StoredTable::Row& row : table->rows) {
          EXPECT_EQ(row.cells.size(), table->columns.size()) << table->id;
        }
      } else {
        ++figures;
      }
    }
    EXPECT_EQ(passages, listed.passage_count) << listed.id;
  }
  EXPECT_GT(tables, 0);
  EXPECT_GT(figures, 0);
  EXPECT_EQ(store_->GetSection("no#such").status(),
            absl::NotFoundError("no section \"no#such\""));
}

TEST_F(StoreTest, LeadingFaqsAreTheFirstCompleteEntries) {
  absl::StatusOr<std::vector<StoredFaq>> all = store_->ListFaqs("");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> expected;
  for (StoredFaq& faq : *all) {
    if (!faq.answer_incomplete && expected.size() < Store::kLeadingFaqs) {
      faq.source_ids.clear();
      expected.push_back(Fields(faq));
    }
  }
  std::vector<std::string> leading;
  for (const StoredFaq& faq : store_->leading_faqs()) {
    EXPECT_FALSE(faq.answer_incomplete);
    leading.push_back(Fields(faq));
  }
  EXPECT_EQ(leading, expected);
  EXPECT_FALSE(leading.empty());
}

// Keeps every sentence of some passages.
class KeepsPassages : public SentenceFilter {
 public:
  explicit KeepsPassages(RowSet passages) : passages_(std::move(passages)) {}
  bool Keeps(int64_t passage_rowid, absl::string_view) const override {
    return passages_.Has(passage_rowid);
  }

 private:
  const RowSet passages_;
};

// Keeps the sentences that have `word` (lower-case) in their text.
class KeepsSentencesWith : public SentenceFilter {
 public:
  explicit KeepsSentencesWith(std::string word) : word_(std::move(word)) {}
  bool Keeps(int64_t, absl::string_view text) const override {
    return absl::StrContains(absl::AsciiStrToLower(text), word_);
  }

 private:
  const std::string word_;
};

TEST_F(StoreTest, CitationPagesTileTheWholeListing) {
  const KeepsSentencesWith calcium("calcium");
  for (const CitationFilter& filter :
       {CitationFilter{}, CitationFilter{.kind = StoredCitation::Kind::kPubMed},
        CitationFilter{.citing_sentence = &calcium,
        .citing_sentence_key = "calcium"}}) {
    int64_t total = -1;
    absl::StatusOr<std::vector<StoredCitation>> all =
        store_->ListCitations(filter, 1000, 0, &total);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(total, static_cast<int64_t>(all->size()));
    ASSERT_GT(total, 2);
    std::vector<std::string> paged;
    for (int offset = 0; offset < total + 3; offset += 3) {
      int64_t page_total = -1;
      absl::StatusOr<std::vector<StoredCitation>> page =
          store_->ListCitations(filter, 3, offset, &page_total);
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(page_total, total);
      for (const StoredCitation& c : *page) paged.push_back(Fields(c));
    }
    std::vector<std::string> whole;
    for (const StoredCitation& c : *all) whole.push_back(Fields(c));
    EXPECT_EQ(paged, whole);
  }
}

TEST_F(StoreTest, SentenceFilterOfOnePassageListsItsCitations) {
  int checked = 0;
  for (int64_t rowid = 1; rowid <= store_->passage_count(); ++rowid) {
    const StoredPassage& passage = **store_->Passage(rowid);
    RowSet only(store_->passage_count());
    only.Add(rowid);
    const KeepsPassages filter(std::move(only));
    int64_t total = -1;
    absl::StatusOr<std::vector<StoredCitation>> listed = store_->ListCitations(
        {.citing_sentence = &filter,
         .citing_sentence_key = absl::StrCat("row ", rowid)},
        1000, 0, &total);
    ASSERT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> ids;
    for (const StoredCitation& citation : *listed) ids.push_back(citation.id);
    EXPECT_THAT(ids, ::testing::UnorderedElementsAreArray(passage.source_ids))
        << passage.id;
    EXPECT_EQ(total, static_cast<int64_t>(ids.size()));
    checked += !passage.source_ids.empty();
  }
  EXPECT_GT(checked, 10);
  // No passage: no source.
  const KeepsPassages none{RowSet(store_->passage_count())};
  int64_t total = -1;
  EXPECT_TRUE(store_
                  ->ListCitations(
                      {.citing_sentence = &none, .citing_sentence_key = "none"},
                      10, 0, &total)
                  ->empty());
  EXPECT_EQ(total, 0);
}

TEST_F(StoreTest, SentenceFilterSeesEachCitingSentencesOwnText) {
  // The sources cited by a sentence with "calcium", from the stored passages.
  std::set<std::string> expected;
  for (int64_t rowid = 1; rowid <= store_->passage_count(); ++rowid) {
    for (const StoredSentence& sentence :
         (*store_->Passage(rowid))->sentences) {
      if (absl::StrContains(absl::AsciiStrToLower(sentence.text), "calcium")) {
        expected.insert(sentence.source_ids.begin(), sentence.source_ids.end());
      }
    }
  }
  const KeepsSentencesWith calcium("calcium");
  int64_t total = -1;
  absl::StatusOr<std::vector<StoredCitation>> listed = store_->ListCitations(
      {.citing_sentence = &calcium, .citing_sentence_key = "calcium"}, 1000, 0,
      &total);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::set<std::string> ids;
  for (const StoredCitation& citation : *listed) {
    ids.insert(citation.id);
    EXPECT_TRUE(std::any_of(
        citation.citing_sentences.begin(), citation.citing_sentences.end(),
        [](const StoredCitation::CitingSentence& s) {
          return absl::StrContains(absl::AsciiStrToLower(s.text), "calcium");
        }))
        << citation.id;
  }
  EXPECT_EQ(ids, expected);
  EXPECT_GT(ids.size(), 2u);
  EXPECT_EQ(total, static_cast<int64_t>(ids.size()));
}

TEST(StoreSnapshotTest,
     KeepsReadingItsFileAfterAnotherIsRenamedOverItAndDeleted) {
  testing::TempDir dir;
  const std::string path = dir.File("kb.sqlite");
  ASSERT_TRUE(BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                          .out_path = path})
                  .ok());
  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  // Another index (one fixture article) renamed into place, then deleted:
  // nothing of the open store's file is read before this.
  const std::string other_dir = dir.File("other");
  std::filesystem::create_directory(other_dir);
  std::filesystem::copy_file(
      testing::SourcePath("tests/fixtures/knowledge/magnesium-forms.txt"),
      other_dir + "/magnesium-forms.txt");
  ASSERT_TRUE(BuildIndex({.knowledge_dir = other_dir,
                          .out_path = dir.File("other.sqlite")})
                  .ok());
  std::filesystem::rename(dir.File("other.sqlite"), path);
  std::filesystem::remove(path);
  int seed_passages = 0;
  for (int64_t rowid = 1; rowid <= (*store)->passage_count(); ++rowid) {
    auto passage = (*store)->Passage(rowid);
    ASSERT_TRUE(passage.ok()) << passage.status();
    if (absl::StartsWith((*passage)->id, "d3-k2-protocol")) ++seed_passages;
  }
  EXPECT_GT(seed_passages, 20);
  auto sections = (*store)->ListSections("");
  ASSERT_TRUE(sections.ok());
  EXPECT_GT(sections->size(), 5u);
}

}  // namespace
}  // namespace citekb
