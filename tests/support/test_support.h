// Helpers shared by citekb's tests: repository paths, temporary folders and
// a built seed index.

#ifndef CITEKB_TESTS_SUPPORT_TEST_SUPPORT_H_
#define CITEKB_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace citekb::testing {

// Absolute path of `relative` inside the source tree ("knowledge/...").
std::string SourcePath(absl::string_view relative);

// The seed article's path and its contents.
std::string SeedArticlePath();
std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, absl::string_view contents);

// A fresh folder under the test's temporary directory, removed on scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(absl::string_view name) const;

 private:
  std::string path_;
};

}  // namespace citekb::testing

#endif  // CITEKB_TESTS_SUPPORT_TEST_SUPPORT_H_
