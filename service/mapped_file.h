// A file mapped read-only into memory for as long as the object lives.
//
//   CITEKB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
//   absl::string_view bytes = file.bytes();  // valid until `file` goes
//
// The mapping holds the file's inode: renaming another file over `path`
// does not change what `bytes()` reads, so a reader sees one version of
// the file from start to end. Writing to the same file in place would
// (citekb's index builds never do: they rename a new file into place).
//
// Pages are read from the OS page cache on first touch and count in the
// process's resident memory from then on; ReleaseResidentPages() hands them
// back after a one-off full read.

#ifndef CITEKB_SERVICE_MAPPED_FILE_H_
#define CITEKB_SERVICE_MAPPED_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace citekb {

class MappedFile {
 public:
  // NOT_FOUND when `path` is missing or not a regular file,
  // PERMISSION_DENIED when it cannot be opened or mapped.
  static absl::StatusOr<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // The whole file; empty (but not null) for an empty file.
  absl::string_view bytes() const;

  // Drops the mapped pages from this process's resident set. They stay in
  // the page cache and are mapped again when next read.
  void ReleaseResidentPages() const;

 private:
  MappedFile(void* data, size_t size) : data_(data), size_(size) {}

  void* data_ = nullptr;  // null for an empty file
  size_t size_ = 0;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_MAPPED_FILE_H_
