// Hot reload and per-call query limits without a network: ServingIndex swaps
// snapshots only for files that pass every check, a snapshot never changes
// under the calls holding it, and QueryBudget stops the store's statements.
// The same behaviour through a real server under load is in
// reliability_test.cc.

#include "service/server/serving_index.h"

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/format/file_checksum.h"
#include "indexer/format/sqlite.h"
#include "service/knowledge_base/knowledge_base.h"
#include "service/store/query_budget.h"
#include "tests/support/server_test_support.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::HasSubstr;

constexpr char kSeedArticle[] =
    "d3-k2-protocol-how-to-route-calcium-to-bones-not-arteries";
constexpr char kMagnesiumArticle[] =
    "magnesium-forms-glycinate-malate-and-citrate-compared";

std::string MagnesiumArticlePath() {
  return testing::SourcePath("tests/fixtures/knowledge/magnesium-forms.txt");
}

// The article ids the snapshot's sections belong to, in order, deduplicated.
std::vector<std::string> ArticlesOf(const KnowledgeBase& kb) {
  absl::StatusOr<v1::ListSectionsResponse> sections =
      kb.ListSections(v1::ListSectionsRequest());
  EXPECT_TRUE(sections.ok()) << sections.status();
  std::vector<std::string> articles;
  if (!sections.ok()) return articles;
  for (const v1::Section& section : sections->sections()) {
    if (articles.empty() || articles.back() != section.article_id()) {
      articles.push_back(section.article_id());
    }
  }
  return articles;
}

absl::StatusOr<v1::SearchResponse> SearchCalcium(const KnowledgeBase& kb) {
  v1::SearchRequest request;
  request.set_query("calcium arteries bones vitamin");
  request.set_page_size(20);
  return kb.Search(request);
}

// ---------------------------------------------------------------------------
// QueryBudget.
// ---------------------------------------------------------------------------

TEST(QueryBudgetTest, StopsForTheFirstReasonAndStaysStopped) {
  const struct {
    const char* name;
    QueryLimits limits;
    int64_t charge;
    absl::StatusCode code;
  } kCases[] = {
      {"no limits", {}, 1'000'000'000, absl::StatusCode::kOk},
      {"under the step limit", {.max_steps = 100}, 100, absl::StatusCode::kOk},
      {"over the step limit",
       {.max_steps = 100},
       101,
       absl::StatusCode::kResourceExhausted},
      {"deadline passed",
       {.deadline = absl::Now() - absl::Seconds(1)},
       1,
       absl::StatusCode::kDeadlineExceeded},
      {"deadline ahead",
       {.deadline = absl::Now() + absl::Hours(1)},
       1,
       absl::StatusCode::kOk},
      {"cancelled",
       {.cancelled = [] { return true; }},
       1,
       absl::StatusCode::kCancelled},
      {"steps win over the deadline",
       {.max_steps = 10, .deadline = absl::Now() - absl::Seconds(1)},
       11,
       absl::StatusCode::kResourceExhausted},
  };
  for (const auto& c : kCases) {
    QueryBudget budget(c.limits);
    EXPECT_EQ(budget.Charge(c.charge), c.code == absl::StatusCode::kOk)
        << c.name;
    EXPECT_EQ(budget.status().code(), c.code) << c.name;
    EXPECT_EQ(budget.steps_used(), c.charge) << c.name;
    if (c.code != absl::StatusCode::kOk) {
      EXPECT_FALSE(budget.Charge(0)) << c.name << ": must stay stopped";
      EXPECT_FALSE(budget.status().message().empty()) << c.name;
    }
  }
}

TEST(QueryBudgetTest, StepLimitMessageSaysWhatToDo) {
  QueryBudget budget({.max_steps = 5});
  budget.Charge(6);
  EXPECT_THAT(budget.status().message(),
              AllOf(HasSubstr("more than 5"), HasSubstr("narrower question")));
}

TEST(QueryBudgetTest, ScopesNestAndRestore) {
  EXPECT_EQ(QueryBudget::Current(), nullptr);
  QueryBudget outer({}), inner({});
  {
    QueryBudget::Scope outer_scope(&outer);
    EXPECT_EQ(QueryBudget::Current(), &outer);
    {
      QueryBudget::Scope inner_scope(&inner);
      EXPECT_EQ(QueryBudget::Current(), &inner);
      // Other threads have their own (none).
      std::thread([] { EXPECT_EQ(QueryBudget::Current(), nullptr); }).join();
    }
    EXPECT_EQ(QueryBudget::Current(), &outer);
  }
  EXPECT_EQ(QueryBudget::Current(), nullptr);
}

// ---------------------------------------------------------------------------
// Snapshots and reloads.
// ---------------------------------------------------------------------------

class ServingIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("kb.sqlite");
    ASSERT_TRUE(
        testing::BuildIndexOf({testing::SeedArticlePath()}, path_).ok());
    absl::StatusOr<std::unique_ptr<ServingIndex>> index =
        ServingIndex::Open(path_);
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
  }

  // Writes a file with `contents` next to the index and renames it over the
  // index, as a build would.
  void RenameIntoPlace(const std::string& contents) {
    const std::string staged = dir_.File("staged.tmp");
    testing::WriteFileOrDie(staged, contents);
    std::filesystem::rename(staged, path_);
  }

  // A valid index of the seed article changed by `sql` (run with foreign
  // keys off), renamed into place.
  // `sql` run on a fresh seed index, which then gets a valid checksum
  // again when `restamp` (as if citekb-index had written it so).
  void RenameModifiedIndexIntoPlace(const std::string& sql,
                                    bool restamp = true) {
    const std::string staged = dir_.File("staged.sqlite");
    ASSERT_TRUE(
        testing::BuildIndexOf({testing::SeedArticlePath()}, staged).ok());
    {
      absl::StatusOr<Database> db = OpenDatabase(staged, SQLITE_OPEN_READWRITE);
      ASSERT_TRUE(db.ok()) << db.status();
      ASSERT_TRUE(Exec(db->get(), "PRAGMA foreign_keys = OFF").ok());
      const absl::Status changed = Exec(db->get(), sql);
      ASSERT_TRUE(changed.ok()) << changed;
    }
    if (restamp) {
      ASSERT_TRUE(StampChecksum(staged).ok());
    }
    std::filesystem::rename(staged, path_);
  }

  std::string SeedIndexBytes() {
    const std::string staged = dir_.File("bytes.sqlite");
    EXPECT_TRUE(
        testing::BuildIndexOf({testing::SeedArticlePath()}, staged).ok());
    return testing::ReadFileOrDie(staged);
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<ServingIndex> index_;
};

TEST_F(ServingIndexTest, OpensTheFileAsGenerationOne) {
  EXPECT_EQ(index_->generation(), 1);
  EXPECT_EQ(index_->path(), path_);
  EXPECT_THAT(ArticlesOf(*index_->Current()),
              ::testing::ElementsAre(kSeedArticle));
}

TEST_F(ServingIndexTest, OpenRefusesWhatStartWouldServeBadly) {
  EXPECT_EQ(ServingIndex::Open(dir_.File("missing.sqlite")).status().code(),
            absl::StatusCode::kNotFound);
  testing::WriteFileOrDie(dir_.File("garbage.sqlite"), std::string(4096, 'x'));
  const absl::Status garbage =
      ServingIndex::Open(dir_.File("garbage.sqlite")).status();
  EXPECT_EQ(garbage.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(garbage.message(), HasSubstr("garbage.sqlite"));
}

TEST_F(ServingIndexTest, ReloadSwapsInTheNewFileAndPinnedSnapshotsStayOld) {
  std::shared_ptr<const KnowledgeBase> old = index_->Current();
  ASSERT_TRUE(testing::BuildIndexOf(
                  {testing::SeedArticlePath(), MagnesiumArticlePath()}, path_)
                  .ok());
  // Nothing changes until the reload.
  EXPECT_THAT(ArticlesOf(*index_->Current()),
              ::testing::ElementsAre(kSeedArticle));

  ASSERT_TRUE(index_->Reload().ok());
  EXPECT_EQ(index_->generation(), 2);
  EXPECT_THAT(ArticlesOf(*index_->Current()),
              ::testing::ElementsAre(kSeedArticle, kMagnesiumArticle));

  // The old snapshot, still held, answers from the old file only, even from
  // many threads at once (which makes its store open more connections after
  // the file was replaced).
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        absl::StatusOr<v1::SearchResponse> found = SearchCalcium(*old);
        if (!found.ok()) {
          ++failures;
          continue;
        }
        for (const v1::Passage& passage : found->passages()) {
          if (passage.article_id() != kSeedArticle) ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(ArticlesOf(*old), ::testing::ElementsAre(kSeedArticle));
}

TEST_F(ServingIndexTest, RefusesBadFilesAndKeepsServingTheOldIndex) {
  const std::string seed = SeedIndexBytes();
  ASSERT_GT(seed.size(), 16u * 4096);
  std::string damaged = seed;
  // A whole page in the middle overwritten: b-tree pages get an invalid
  // type and child pointers past the end.
  std::fill(damaged.begin() + 10 * 4096, damaged.begin() + 11 * 4096, '\xff');

  const struct {
    const char* name;
    std::function<void()> install;
    absl::StatusCode code;
    const char* message;
  } kCases[] = {
      {"garbage", [&] { RenameIntoPlace(std::string(8192, 'x')); },
       absl::StatusCode::kDataLoss, "not a citekb index"},
      {"empty file", [&] { RenameIntoPlace(""); }, absl::StatusCode::kDataLoss,
       "not a citekb index"},
      {"truncated to half",
       [&] { RenameIntoPlace(seed.substr(0, seed.size() / 2)); },
       absl::StatusCode::kDataLoss, "damaged or truncated"},
      {"truncated to the first page",
       [&] { RenameIntoPlace(seed.substr(0, 4096)); },
       absl::StatusCode::kDataLoss, "damaged or truncated"},
      {"a damaged page", [&] { RenameIntoPlace(damaged); },
       absl::StatusCode::kDataLoss, "damaged"},
      {"another schema version",
       [&] {
         RenameModifiedIndexIntoPlace(
             "UPDATE meta SET value = '999' WHERE key = 'schema_version'");
       },
       absl::StatusCode::kFailedPrecondition, "schema version 999"},
      {"a foreign SQLite database",
       [&] {
         RenameModifiedIndexIntoPlace(
             "DROP TABLE meta; CREATE TABLE notes(text TEXT)");
       },
       absl::StatusCode::kDataLoss, "not a citekb index"},
      {"an index changed after it was written",
       [&] {
         RenameModifiedIndexIntoPlace("UPDATE passages SET text = 'forged'",
                                      /*restamp=*/false);
       },
       absl::StatusCode::kDataLoss, "damaged"},
      {"an index of nothing",
       [&] { RenameModifiedIndexIntoPlace("DELETE FROM sections"); },
       absl::StatusCode::kDataLoss, "no sections"},
      {"no file", [&] { std::filesystem::remove(path_); },
       absl::StatusCode::kNotFound, "kb.sqlite"},
      {"a directory", [&] { std::filesystem::create_directory(path_); },
       absl::StatusCode::kNotFound, "kb.sqlite"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    c.install();
    const absl::Status reloaded = index_->Reload();
    EXPECT_EQ(reloaded.code(), c.code) << reloaded;
    EXPECT_THAT(reloaded.message(), HasSubstr(c.message));
    EXPECT_THAT(reloaded.message(), HasSubstr(path_));
    EXPECT_EQ(index_->generation(), 1);
    EXPECT_THAT(ArticlesOf(*index_->Current()),
                ::testing::ElementsAre(kSeedArticle));
    EXPECT_TRUE(SearchCalcium(*index_->Current()).ok());
  }

  // A good file after all that is taken.
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
  ASSERT_TRUE(testing::BuildIndexOf(
                  {testing::SeedArticlePath(), MagnesiumArticlePath()}, path_)
                  .ok());
  ASSERT_TRUE(index_->Reload().ok());
  EXPECT_EQ(index_->generation(), 2);
}

TEST_F(ServingIndexTest, ReloadIfChangedActsOncePerChange) {
  absl::StatusOr<bool> reloaded = index_->ReloadIfChanged();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_FALSE(*reloaded) << "the file has not changed";

  ASSERT_TRUE(testing::BuildIndexOf(
                  {testing::SeedArticlePath(), MagnesiumArticlePath()}, path_)
                  .ok());
  reloaded = index_->ReloadIfChanged();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE(*reloaded);
  EXPECT_EQ(index_->generation(), 2);
  reloaded = index_->ReloadIfChanged();
  ASSERT_TRUE(reloaded.ok());
  EXPECT_FALSE(*reloaded);

  // A refused file is reported once, not on every poll.
  RenameIntoPlace("not an index");
  EXPECT_EQ(index_->ReloadIfChanged().status().code(),
            absl::StatusCode::kDataLoss);
  reloaded = index_->ReloadIfChanged();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_FALSE(*reloaded);
  EXPECT_EQ(index_->generation(), 2);

  ASSERT_TRUE(testing::BuildIndexOf({testing::SeedArticlePath()}, path_).ok());
  reloaded = index_->ReloadIfChanged();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_TRUE(*reloaded);
  EXPECT_EQ(index_->generation(), 3);
  EXPECT_THAT(ArticlesOf(*index_->Current()),
              ::testing::ElementsAre(kSeedArticle));
}

// ---------------------------------------------------------------------------
// The budget reaches the store's statements.
// ---------------------------------------------------------------------------

TEST_F(ServingIndexTest, QueriesRunUnboundedWithoutABudget) {
  EXPECT_TRUE(SearchCalcium(*index_->Current()).ok());
}

TEST_F(ServingIndexTest, AStepLimitInterruptsTheQuery) {
  QueryBudget budget({.max_steps = 1});
  absl::StatusOr<v1::SearchResponse> found;
  {
    QueryBudget::Scope scope(&budget);
    found = SearchCalcium(*index_->Current());
  }
  EXPECT_FALSE(found.ok());
  EXPECT_EQ(budget.status().code(), absl::StatusCode::kResourceExhausted)
      << budget.status();
  EXPECT_GT(budget.steps_used(), 1);
}

TEST_F(ServingIndexTest, APassedDeadlineInterruptsTheQuery) {
  QueryBudget budget({.deadline = absl::Now() - absl::Seconds(1)});
  absl::StatusOr<v1::AskResponse> answer;
  {
    QueryBudget::Scope scope(&budget);
    v1::AskRequest request;
    request.set_question("why K2 with D3?");
    answer = index_->Current()->Ask(request);
  }
  EXPECT_FALSE(answer.ok());
  EXPECT_EQ(budget.status().code(), absl::StatusCode::kDeadlineExceeded)
      << budget.status();
}

TEST_F(ServingIndexTest, AGenerousBudgetChangesNothing) {
  QueryBudget budget({.max_steps = 25'000'000,
                      .deadline = absl::Now() + absl::Hours(1),
                      .cancelled = [] { return false; }});
  absl::StatusOr<v1::SearchResponse> found;
  {
    QueryBudget::Scope scope(&budget);
    found = SearchCalcium(*index_->Current());
  }
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(budget.status().ok());
  EXPECT_GT(found->passages_size(), 0);
}

}  // namespace
}  // namespace citekb
