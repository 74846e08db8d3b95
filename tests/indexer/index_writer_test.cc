// Builds real index files from the knowledge folder and fixtures, and checks
// what a reader finds in them; also that a failed or killed build leaves the
// previous index untouched.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/fts_tokenizer.h"
#include "indexer/format/index_schema.h"
#include "indexer/format/sqlite.h"
#include "service/search/retrieval_index.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

// Reads column 0 of every row of `sql` as text.
std::vector<std::string> Query(const std::string& index, const std::string& sql,
                               const std::string& parameter = "") {
  absl::StatusOr<Database> db = OpenDatabase(index, SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.ok()) << db.status();
  absl::StatusOr<Statement> statement = Statement::Prepare(db->get(), sql);
  EXPECT_TRUE(statement.ok()) << statement.status();
  if (!parameter.empty()) statement->Bind(1, parameter);
  std::vector<std::string> rows;
  while (true) {
    absl::StatusOr<bool> row = statement->Step();
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !*row) break;
    rows.emplace_back(statement->ColumnText(0));
  }
  return rows;
}

std::string Scalar(const std::string& index, const std::string& sql,
                   const std::string& parameter = "") {
  std::vector<std::string> rows = Query(index, sql, parameter);
  return rows.empty() ? "<no row>" : rows[0];
}

// The best rows of `ranked_table` (passages, faqs) for `words`, each word
// one phrase, ranked from the index's postings as the server ranks them
// (service/search/retrieval_index.h): the text (passages) or question (faqs) of
// the top 3.
std::vector<std::string> Search(const std::string& index,
                                const std::string& ranked_table,
                                const std::vector<std::string>& words) {
  absl::StatusOr<Database> db = OpenDatabase(index, SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.ok()) << db.status();
  const bool passages = ranked_table == "passages";
  absl::StatusOr<std::unique_ptr<RetrievalIndex>> ranking =
      RetrievalIndex::Load(
          db->get(), ranked_table,
          passages ? std::vector<double>{kSectionTitleWeight, kBodyWeight,
                                         kCompoundWeight}
                   : std::vector<double>{1.0});
  EXPECT_TRUE(ranking.ok()) << ranking.status();
  absl::StatusOr<std::unique_ptr<FtsTokenizer>> tokenizer =
      FtsTokenizer::Create(kFtsTokenizer);
  std::vector<std::vector<std::string>> phrases;
  for (const std::string& word : words) {
    phrases.push_back(*(*tokenizer)->Terms(word));
  }
  absl::StatusOr<std::vector<RankedRow>> best =
      (*ranking)->Rank(*(*ranking)->Compile(phrases), {.limit = 3});
  EXPECT_TRUE(best.ok()) << best.status();
  std::vector<std::string> texts;
  for (const RankedRow& row : best.value_or(std::vector<RankedRow>{})) {
    texts.push_back(Scalar(index,
                           passages ? "SELECT text FROM passages WHERE id = ?1"
                                    : "SELECT question FROM faqs WHERE id = ?1",
                           absl::StrCat(row.row)));
  }
  if (texts.empty()) texts.push_back("<no row>");
  return texts;
}

class SeedIndexTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    index_ = new std::string(dir_->File("citekb.sqlite"));
    absl::StatusOr<IndexSummary> summary =
        BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                    .out_path = *index_});
    ASSERT_TRUE(summary.ok()) << summary.status();
    summary_ = new IndexSummary(*summary);
  }
  static void TearDownTestSuite() {
    delete summary_;
    delete index_;
    delete dir_;
  }
  static TempDir* dir_;
  static std::string* index_;
  static IndexSummary* summary_;
};
TempDir* SeedIndexTest::dir_ = nullptr;
std::string* SeedIndexTest::index_ = nullptr;
IndexSummary* SeedIndexTest::summary_ = nullptr;

TEST_F(SeedIndexTest, SummaryCounts) {
  const IndexCounts& c = summary_->counts;
  // knowledge/ holds the seed article and the safety references (4 topics,
  // 5 facts, 9 references, 13 sentence-to-source links).
  EXPECT_EQ(c.articles, 1 + 1);
  EXPECT_EQ(c.sections, 7 + 4);
  EXPECT_EQ(c.passages, 34 + 5);
  EXPECT_EQ(c.tables, 4);
  EXPECT_EQ(c.figures, 3);
  EXPECT_EQ(c.faqs, 4);
  EXPECT_EQ(c.sources, 19 + 9);
  // The seed cites each source once, two in one sentence.
  EXPECT_EQ(c.citations, 19 + 13);
  EXPECT_EQ(c.related_links, 27);
  EXPECT_EQ(c.warnings, 1);
  ASSERT_EQ(summary_->warnings.size(), 1u);
  EXPECT_THAT(summary_->warnings[0],
              HasSubstr("d3-k2-calcium-routing.txt:49: FAQ answer"));
  EXPECT_GT(c.sentences, 100);
  EXPECT_EQ(Scalar(*index_, "SELECT count(*) FROM sentences"),
            absl::StrCat(c.sentences));
}

TEST_F(SeedIndexTest, MetaAndChecksums) {
  EXPECT_EQ(
      Scalar(*index_, "SELECT value FROM meta WHERE key = 'schema_version'"),
      absl::StrCat(kSchemaVersion));
  const std::string seed = testing::ReadFileOrDie(testing::SeedArticlePath());
  EXPECT_EQ(Scalar(*index_,
                   "SELECT sha256 FROM source_files WHERE path = "
                   "'d3-k2-calcium-routing.txt'"),
            Sha256Hex(seed));
  EXPECT_EQ(Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(SeedIndexTest, SentenceSourceLinks) {
  EXPECT_EQ(
      Scalar(*index_,
             "SELECT s.text FROM sentence_texts s JOIN sentence_sources c ON "
             "c.sentence_id = s.id WHERE c.source_id = ?1",
             "pmid:11684396"),
      "You absorb calcium, but it never reaches the bone matrix.");
  EXPECT_EQ(
      Scalar(*index_, "SELECT count(*) FROM sources WHERE kind = 'pubmed'"),
      "13");
  EXPECT_EQ(Scalar(*index_, "SELECT label FROM sources WHERE id = ?1",
                   "doi:10.3389/fendo.2025.1703116"),
            "Zhang 2025");
  EXPECT_EQ(Scalar(*index_, "SELECT count(DISTINCT path) FROM related_links"),
            "24");
}

// The writer leaves foreign keys unchecked and builds the secondary indexes
// last: the finished file must still satisfy both.
TEST_F(SeedIndexTest, ReferencesHoldAndSecondaryIndexesExist) {
  EXPECT_THAT(Query(*index_, "PRAGMA foreign_key_check"), ::testing::IsEmpty());
  EXPECT_THAT(Query(*index_,
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                    "sql IS NOT NULL ORDER BY name"),
              ::testing::ElementsAre("faqs_by_passage", "passages_by_section",
                                     "sentence_sources_by_source",
                                     "sentences_by_passage", "sources_by_id"));
  // sources_by_id is the sources' key (index_schema.h).
  EXPECT_EQ(Scalar(*index_,
                   "SELECT \"unique\" FROM pragma_index_list('sources') "
                   "WHERE name = 'sources_by_id'"),
            "1");
  EXPECT_EQ(Scalar(*index_, "PRAGMA integrity_check"), "ok");
}

TEST_F(SeedIndexTest, IncompleteFaqAnswerIsNotStored) {
  EXPECT_EQ(Scalar(*index_,
                   "SELECT answer_incomplete || '|' || answer FROM faqs WHERE "
                   "question LIKE 'What is the function of Matrix Gla%'"),
            "1|");
  EXPECT_EQ(
      Scalar(*index_,
             "SELECT count(*) FROM passages WHERE text LIKE '%Matrix Gl'"),
      "0");
}

TEST_F(SeedIndexTest, TheIndexsPostingsFindTheExpectedPassages) {
  EXPECT_THAT(
      Search(*index_, "passages", {"bone", "matrix", "calcium", "absorb"})[0],
      HasSubstr("it never reaches the bone matrix"));
  // Porter stemming: "arteries" finds "arterial"/"artery" forms.
  EXPECT_THAT(Search(*index_, "passages", {"stiff", "arteries", "heart"}),
              ::testing::Contains(HasSubstr("Stiff arteries force the heart")));
  // Joined compounds: MK7 and MK-7 are the same word, 10000 is "10,000+".
  EXPECT_THAT(Search(*index_, "passages", {"mk7"})[0],
              HasSubstr("Vitamin K2 (MK-7)"));
  EXPECT_THAT(Search(*index_, "passages", {"10000"}),
              ::testing::Contains(HasSubstr("10,000+ IU")));
  // Section titles carry weight: timing questions land in the timing section.
  EXPECT_THAT(Search(*index_, "passages", {"timing"})[0],
              HasSubstr("fat-soluble"));
  EXPECT_EQ(Search(*index_, "faqs", {"bone", "density"})[0],
            "Why is Vitamin K2 essential for bone density?");
}

TEST_F(SeedIndexTest, KeepsNoFts5TableOfItsOwn) {
  // The server ranks from the postings; an FTS5 table would hold the same
  // terms a second time (index_schema.h).
  EXPECT_EQ(Scalar(*index_,
                   "SELECT count(*) FROM sqlite_schema WHERE sql LIKE "
                   "'%VIRTUAL TABLE%'"),
            "0");
}

// A folder with the seed article and the fixture article.
class TwoArticleFolder {
 public:
  TwoArticleFolder() {
    fs::create_directory(knowledge());
    fs::copy_file(testing::SeedArticlePath(), knowledge() + "/a-seed.txt");
    fs::copy_file(
        testing::SourcePath("tests/fixtures/knowledge/magnesium-forms.txt"),
        knowledge() + "/b-magnesium.txt");
  }
  std::string knowledge() const { return dir_.File("knowledge"); }
  std::string index() const { return dir_.File("kb.sqlite"); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

TEST(BuildIndexTest, SecondArticleIndexesWithoutCodeChanges) {
  TwoArticleFolder folder;
  absl::StatusOr<IndexSummary> summary = BuildIndex(
      {.knowledge_dir = folder.knowledge(), .out_path = folder.index()});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->counts.articles, 2);
  EXPECT_EQ(summary->counts.sections, 10);
  EXPECT_EQ(
      Scalar(folder.index(), "SELECT group_concat(category) FROM articles"),
      "supplements,minerals");
  EXPECT_THAT(Search(folder.index(), "passages", {"glycinate", "night"})[0],
              HasSubstr("Glycinate is the usual choice for the evening"));
  EXPECT_EQ(Scalar(folder.index(), "SELECT count(*) FROM source_files"), "2");
}

TEST(BuildIndexTest, ReportsProgress) {
  TwoArticleFolder folder;
  std::vector<int64_t> done;
  absl::StatusOr<IndexSummary> summary =
      BuildIndex({.knowledge_dir = folder.knowledge(),
                  .out_path = folder.index(),
                  .on_progress = [&](const IndexProgress& p) {
                    EXPECT_EQ(p.files_total, 2);
                    done.push_back(p.files_done);
                  }});
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_THAT(done, ::testing::ElementsAre(1, 2));
}

TEST(BuildIndexTest, BadFolders) {
  TempDir dir;
  absl::StatusOr<IndexSummary> missing = BuildIndex(
      {.knowledge_dir = dir.File("nope"), .out_path = dir.File("kb")});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("nope: knowledge folder"));

  testing::WriteFileOrDie(dir.File("notes.md"), "not an article");
  absl::StatusOr<IndexSummary> empty =
      BuildIndex({.knowledge_dir = dir.path(), .out_path = dir.File("kb")});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("no articles"));

  fs::create_directory(dir.File("knowledge"));
  fs::create_directory_symlink("/nonexistent",
                               dir.File("knowledge/broken.txt"));
  absl::StatusOr<IndexSummary> unreadable = BuildIndex(
      {.knowledge_dir = dir.File("knowledge"), .out_path = dir.File("kb")});
  EXPECT_FALSE(unreadable.ok());
  EXPECT_THAT(std::string(unreadable.status().message()),
              HasSubstr("broken.txt: cannot be read"));

  absl::StatusOr<IndexSummary> bad_out =
      BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                  .out_path = dir.File("no/dir/kb")});
  EXPECT_EQ(bad_out.status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.File("kb")));
}

// Files in `dir` other than `keep`: leftovers of a failed build.
std::vector<std::string> OtherFiles(const std::string& dir,
                                    const std::string& keep) {
  std::vector<std::string> others;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename() != keep) {
      others.push_back(entry.path().filename().string());
    }
  }
  return others;
}

class FailedBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(BuildIndex({.knowledge_dir = folder_.knowledge(),
                            .out_path = folder_.index()})
                    .ok());
    before_ = testing::ReadFileOrDie(folder_.index());
  }
  void ExpectOldIndexUntouched() {
    EXPECT_EQ(testing::ReadFileOrDie(folder_.index()), before_);
    EXPECT_EQ(Scalar(folder_.index(), "SELECT count(*) FROM articles"), "2");
  }
  TwoArticleFolder folder_;
  std::string before_;
};

TEST_F(FailedBuildTest, MalformedArticleLeavesOldIndex) {
  testing::WriteFileOrDie(folder_.knowledge() + "/c-broken.txt",
                          "minerals\nBroken\nIn this article\n- Gone (#gone)\n"
                          "--- Category: minerals\nNo heading here.\n");
  absl::StatusOr<IndexSummary> summary = BuildIndex(
      {.knowledge_dir = folder_.knowledge(), .out_path = folder_.index()});
  ASSERT_FALSE(summary.ok());
  EXPECT_THAT(std::string(summary.status().message()),
              HasSubstr("c-broken.txt:4: section \"Gone\""));
  ExpectOldIndexUntouched();
  EXPECT_THAT(OtherFiles(folder_.dir().path(), "kb.sqlite"),
              ::testing::IsEmpty());
}

TEST_F(FailedBuildTest, DuplicateArticleFailsMidWriteAndLeavesOldIndex) {
  // Same title, so the same id: found only while writing the second copy.
  fs::copy_file(testing::SeedArticlePath(),
                folder_.knowledge() + "/c-copy.txt");
  absl::StatusOr<IndexSummary> summary = BuildIndex(
      {.knowledge_dir = folder_.knowledge(), .out_path = folder_.index()});
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(summary.status().message()),
              HasSubstr("c-copy.txt: article id \"d3-k2-protocol"));
  ExpectOldIndexUntouched();
  EXPECT_THAT(OtherFiles(folder_.dir().path(), "kb.sqlite"),
              ::testing::IsEmpty());
}

TEST_F(FailedBuildTest, KilledBuildLeavesOldIndex) {
  fs::copy_file(
      testing::SourcePath("tests/fixtures/knowledge/magnesium-forms.txt"),
      folder_.knowledge() + "/c-more.txt");
  // c-more.txt repeats b-magnesium's title; it never gets that far.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    BuildIndex({.knowledge_dir = folder_.knowledge(),
                .out_path = folder_.index(),
                .on_progress =
                    [](const IndexProgress& p) {
                      if (p.files_done == 1) raise(SIGKILL);  // Mid-build.
                    }})
        .IgnoreError();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  ExpectOldIndexUntouched();
  // The killed process could not clean up its private temporary file, but it
  // never touched the target.
  for (const std::string& leftover :
       OtherFiles(folder_.dir().path(), "kb.sqlite")) {
    EXPECT_THAT(leftover, ::testing::MatchesRegex(R"(\.kb\.sqlite\..*\.tmp)"));
  }
}

}  // namespace
}  // namespace citekb
