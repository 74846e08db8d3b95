// An index file held open for as long as the object lives: one version of
// the file, whatever is renamed over its path later.
//
//   CITEKB_ASSIGN_OR_RETURN(IndexFile file, IndexFile::Open(path));
//   sqlite3_open_v2(file.sqlite_uri().c_str(), ..., SQLITE_OPEN_URI | ...);
//
// The descriptor holds the file's inode, and sqlite_uri() names that
// descriptor, not the path: SQLite reads it with pread(2) through a small
// read-only VFS (index_file.cc). Every connection opened from it reads the
// same version of the file from start to end, even while a new index is
// renamed into place or the file is deleted (citekb's builds never write
// an index in place). The file is `immutable` to SQLite: no locks, no
// journal, which is right for a file nobody writes.
//
// Unlike a memory map, reading through SQLite's own page cache keeps the
// process's resident memory to the caches' bounds however much of the
// file is read: a check of every page at open, or a scan, costs the OS's
// page cache, not ours.

#ifndef CITEKB_SERVICE_STORE_INDEX_FILE_H_
#define CITEKB_SERVICE_STORE_INDEX_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "indexer/base/status_macros.h"

namespace citekb {

class IndexFile {
 public:
  // NOT_FOUND when `path` is missing or not a regular file,
  // PERMISSION_DENIED when it cannot be opened.
  static absl::StatusOr<IndexFile> Open(const std::string& path);

  IndexFile(IndexFile&& other) noexcept;
  IndexFile& operator=(IndexFile&& other) noexcept;
  IndexFile(const IndexFile&) = delete;
  IndexFile& operator=(const IndexFile&) = delete;
  ~IndexFile();

  // What sqlite3_open_v2 (with SQLITE_OPEN_URI) opens to read this version
  // of the file; valid while this IndexFile lives.
  std::string sqlite_uri() const;
  int64_t size() const { return size_; }
  // Up to `n` bytes from the start of the file (fewer for a shorter file,
  // none if it cannot be read).
  std::string Prefix(size_t n) const;
  // Whether the file is exactly what citekb-index wrote (file_checksum.h):
  // DATA_LOSS naming `path` otherwise.
  absl::Status VerifyChecksum(const std::string& path) const;

 private:
  IndexFile(int fd, int64_t size) : fd_(fd), size_(size) {}
  int fd_ = -1;
  int64_t size_ = 0;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_STORE_INDEX_FILE_H_
