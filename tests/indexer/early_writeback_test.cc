#include "indexer/writer/early_writeback.h"

#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace citekb {
namespace {

// Waits (up to 10 s, never on a healthy machine) for `done`.
template <typename Done>
bool Eventually(const Done& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

TEST(EarlyWritebackTest, AsksForWritebackWhileTheFileGrows) {
  testing::TempDir dir;
  const std::string path = dir.File("growing.bin");
  std::ofstream out(path, std::ios::binary);
  EarlyWriteback writeback(path, absl::Milliseconds(1));
  for (int round = 0; round < 3; ++round) {
    out << std::string(1 << 20, static_cast<char>('a' + round));
    out.flush();
    const int before = writeback.requests();
    EXPECT_TRUE(Eventually([&] { return writeback.requests() > before; }));
  }
  writeback.Stop();
  const int stopped = writeback.requests();
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(writeback.requests(), stopped);  // No request after Stop().
  writeback.Stop();                          // Idempotent.
  out.close();
  EXPECT_EQ(testing::ReadFileOrDie(path).size(), size_t{3} << 20);
}

TEST(EarlyWritebackTest, AMissingFileIsLeftToTheFinalSync) {
  testing::TempDir dir;
  EarlyWriteback writeback(dir.File("missing.bin"), absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(writeback.requests(), 0);
}  // The destructor stops it.

}  // namespace
}  // namespace citekb
