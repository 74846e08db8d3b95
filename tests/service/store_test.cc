// The store's shortcuts must say exactly what the slow way says: passages,
// FAQ entries and citations read once and cached, the FAQ entries read at
// Open, and paged citation listings.

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
        (*passage)->passage.text(),
        Column(index, "SELECT text FROM passages WHERE id = ?1", rowid)[0]);
    // The sources in order of first citation, as SQL orders them.
    const std::vector<std::string> expected = Column(
        index,
        "SELECT ss.source_id FROM sentences s JOIN sentence_sources ss ON "
        "ss.sentence_id = s.id WHERE s.passage_id = ?1 GROUP BY ss.source_id "
        "ORDER BY min(s.id), ss.source_id",
        rowid);
    EXPECT_THAT((*passage)->passage.citation_ids(),
                ::testing::ElementsAreArray(expected));
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
  absl::StatusOr<std::vector<v1::Faq>> all = store_->ListFaqs("");
  ASSERT_TRUE(all.ok());
  ASSERT_FALSE(all->empty());
  for (size_t i = 0; i < all->size(); ++i) {
    absl::StatusOr<std::shared_ptr<const StoredFaq>> faq =
        store_->Faq(static_cast<int64_t>(i) + 1);
    ASSERT_TRUE(faq.ok()) << faq.status();
    v1::Faq listed = (*all)[i];
    listed.clear_citation_ids();
    EXPECT_EQ((*faq)->faq.SerializeAsString(), listed.SerializeAsString());
    absl::StatusOr<std::shared_ptr<const StoredPassage>> passage =
        store_->Passage((*faq)->passage_rowid);
    ASSERT_TRUE(passage.ok());
    EXPECT_EQ((*passage)->passage.id(), listed.passage_id());
  }
  EXPECT_TRUE(absl::IsNotFound(
      store_->Faq(static_cast<int64_t>(all->size()) + 1).status()));
}

TEST_F(StoreTest, CachedCitationsAreTheCitationsRead) {
  absl::StatusOr<std::vector<v1::Citation>> all =
      store_->ListCitations({}, 1000, 0, nullptr);
  ASSERT_TRUE(all.ok());
  for (const v1::Citation& listed : *all) {
    absl::StatusOr<v1::Citation> first = store_->CitationById(listed.id());
    absl::StatusOr<v1::Citation> again = store_->CitationById(listed.id());
    ASSERT_TRUE(first.ok() && again.ok());
    EXPECT_EQ(first->SerializeAsString(), listed.SerializeAsString());
    EXPECT_EQ(again->SerializeAsString(), listed.SerializeAsString());
  }
  EXPECT_TRUE(absl::IsNotFound(store_->CitationById("pmid:1").status()));
}

TEST_F(StoreTest, PassageRowsGiveKindAndSection) {
  absl::StatusOr<std::vector<PassageRow>> rows = store_->PassageRows();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), static_cast<size_t>(store_->passage_count()) + 1);
  for (int64_t rowid = 1; rowid <= store_->passage_count(); ++rowid) {
    const PassageRow& row = (*rows)[static_cast<size_t>(rowid)];
    EXPECT_EQ(row.kind, (*store_->Passage(rowid))->passage.kind());
    absl::StatusOr<int64_t> section =
        store_->SectionRowid((*store_->Passage(rowid))->passage.section_id());
    ASSERT_TRUE(section.ok());
    EXPECT_EQ(row.section_rowid, *section);
  }
  EXPECT_TRUE(absl::IsNotFound(store_->SectionRowid("no#such").status()));
}

TEST_F(StoreTest, LeadingFaqsAreTheFirstCompleteEntries) {
  absl::StatusOr<std::vector<v1::Faq>> all = store_->ListFaqs("");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> expected;
  for (const v1::Faq& faq : *all) {
    if (!faq.answer_incomplete() && expected.size() < Store::kLeadingFaqs) {
      expected.push_back(faq.id() + "|" + faq.question() + "|" +
                         faq.passage_id());
    }
  }
  std::vector<std::string> leading;
  for (const v1::Faq& faq : store_->leading_faqs()) {
    EXPECT_FALSE(faq.answer_incomplete());
    leading.push_back(faq.id() + "|" + faq.question() + "|" + faq.passage_id());
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
       {CitationFilter{}, CitationFilter{.kind = v1::CITATION_KIND_PUBMED},
        CitationFilter{.citing_sentence = &calcium,
        .citing_sentence_key = "calcium"}}) {
    int64_t total = -1;
    absl::StatusOr<std::vector<v1::Citation>> all =
        store_->ListCitations(filter, 1000, 0, &total);
    ASSERT_TRUE(all.ok()) << all.status();
    ASSERT_EQ(total, static_cast<int64_t>(all->size()));
    ASSERT_GT(total, 2);
    std::vector<std::string> paged;
    for (int offset = 0; offset < total + 3; offset += 3) {
      int64_t page_total = -1;
      absl::StatusOr<std::vector<v1::Citation>> page =
          store_->ListCitations(filter, 3, offset, &page_total);
      ASSERT_TRUE(page.ok());
      EXPECT_EQ(page_total, total);
      for (const v1::Citation& c : *page)
        paged.push_back(c.SerializeAsString());
    }
    std::vector<std::string> whole;
    for (const v1::Citation& c : *all) whole.push_back(c.SerializeAsString());
    EXPECT_EQ(paged, whole);
  }
}

TEST_F(StoreTest, SentenceFilterOfOnePassageListsItsCitations) {
  int checked = 0;
  for (int64_t rowid = 1; rowid <= store_->passage_count(); ++rowid) {
    const v1::Passage& passage = (*store_->Passage(rowid))->passage;
    RowSet only(store_->passage_count());
    only.Add(rowid);
    const KeepsPassages filter(std::move(only));
    int64_t total = -1;
    absl::StatusOr<std::vector<v1::Citation>> listed = store_->ListCitations(
        {.citing_sentence = &filter,
         .citing_sentence_key = absl::StrCat("row ", rowid)},
        1000, 0, &total);
    ASSERT_TRUE(listed.ok()) << listed.status();
    std::vector<std::string> ids;
    for (const v1::Citation& citation : *listed) ids.push_back(citation.id());
    EXPECT_THAT(ids,
                ::testing::UnorderedElementsAreArray(passage.citation_ids()))
        << passage.id();
    EXPECT_EQ(total, static_cast<int64_t>(ids.size()));
    checked += passage.citation_ids_size() > 0;
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
  absl::StatusOr<std::vector<v1::Citation>> listed = store_->ListCitations(
      {.citing_sentence = &calcium, .citing_sentence_key = "calcium"}, 1000, 0,
      &total);
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::set<std::string> ids;
  for (const v1::Citation& citation : *listed) {
    ids.insert(citation.id());
    EXPECT_TRUE(std::any_of(
        citation.citing_sentences().begin(), citation.citing_sentences().end(),
        [](const v1::CitingSentence& s) {
          return absl::StrContains(absl::AsciiStrToLower(s.text()), "calcium");
        }))
        << citation.id();
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
    if (absl::StartsWith((*passage)->passage.id(), "d3-k2-protocol"))
      ++seed_passages;
  }
  EXPECT_GT(seed_passages, 20);
  auto sections = (*store)->ListSections("");
  ASSERT_TRUE(sections.ok());
  EXPECT_GT(sections->size(), 5u);
}

}  // namespace
}  // namespace citekb
