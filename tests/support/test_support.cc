#include "tests/support/test_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace citekb::testing {
namespace fs = std::filesystem;

std::string SourcePath(absl::string_view relative) {
  return absl::StrCat(CITEKB_SOURCE_DIR, "/", relative);
}

std::string SeedArticlePath() {
  return SourcePath("knowledge/d3-k2-calcium-routing.txt");
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    std::abort();
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return std::move(contents).str();
}

void WriteFileOrDie(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) {
    ADD_FAILURE() << "cannot write " << path;
    std::abort();
  }
}

TempDir::TempDir() {
  const char* root = std::getenv("TEST_TMPDIR");
  std::string pattern = absl::StrCat(
      root ? root : fs::temp_directory_path().string(), "/citekb-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

std::string TempDir::File(absl::string_view name) const {
  return absl::StrCat(path_, "/", name);
}

}  // namespace citekb::testing
