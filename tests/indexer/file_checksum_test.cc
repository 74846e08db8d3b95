// The index's own checksum: a built index verifies; any changed, missing
// or added byte, or a file citekb-index did not write, is refused.

#include "indexer/format/file_checksum.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "indexer/corpus_indexer.h"
#include "indexer/format/sqlite.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

using ::testing::HasSubstr;

absl::Status VerifyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0);
  absl::Status status = VerifyChecksum(fd, path);
  ::close(fd);
  return status;
}

class FileChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(BuildIndex({.knowledge_dir = testing::SourcePath("knowledge"),
                            .out_path = dir_.File("kb.sqlite")})
                    .ok());
    bytes_ = testing::ReadFileOrDie(dir_.File("kb.sqlite"));
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    testing::WriteFileOrDie(dir_.File(name), bytes);
    return dir_.File(name);
  }
  testing::TempDir dir_;
  std::string bytes_;
};

TEST_F(FileChecksumTest, ABuiltIndexVerifies) {
  EXPECT_TRUE(VerifyFile(dir_.File("kb.sqlite")).ok());
  // The application id is SQLite's own field: the sqlite3 tool shows it.
  auto db = OpenDatabase(dir_.File("kb.sqlite"), SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.ok());
  auto id = Statement::Prepare(db->get(), "PRAGMA application_id");
  ASSERT_TRUE(id.ok() && *id->Step());
  EXPECT_EQ(id->ColumnInt(0), kIndexApplicationId);
}

TEST_F(FileChecksumTest, AnyChangedByteIsDamage) {
  for (size_t at :
       {size_t{0}, size_t{100}, bytes_.size() / 2, bytes_.size() - 1}) {
    std::string changed = bytes_;
    changed[at] = static_cast<char>(changed[at] ^ 0x01);
    const absl::Status status = VerifyFile(Write("changed.sqlite", changed));
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << at;
  }
  absl::Status truncated =
      VerifyFile(Write("cut.sqlite", bytes_.substr(0, bytes_.size() - 4096)));
  EXPECT_EQ(truncated.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(truncated.message(), HasSubstr("damaged or truncated"));
  EXPECT_EQ(VerifyFile(Write("longer.sqlite", bytes_ + "x")).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(FileChecksumTest, FilesCitekbDidNotWriteAreNamedSo) {
  EXPECT_THAT(VerifyFile(Write("empty.sqlite", "")).message(),
              HasSubstr("cannot be read"));
  EXPECT_THAT(VerifyFile(Write("short.sqlite", "SQLite format 3")).message(),
              HasSubstr("cannot be read"));
  const std::string plain = dir_.File("plain.sqlite");
  {
    auto db = OpenDatabase(plain, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Exec(db->get(), "CREATE TABLE t(x)").ok());
  }
  const absl::Status foreign = VerifyFile(plain);
  EXPECT_EQ(foreign.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(foreign.message(), HasSubstr("not written by citekb-index"));
  EXPECT_THAT(foreign.message(), HasSubstr(plain));
}

}  // namespace
}  // namespace citekb
