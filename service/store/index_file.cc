#include "service/store/index_file.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "indexer/format/file_checksum.h"

namespace citekb {
namespace {

// A read-only SQLite VFS whose main database files are descriptors the
// process already holds, named "citekb-fd-<fd>": pages are read with
// pread(2) on that descriptor, so every connection reads the inode it
// holds, however the path has changed since. (SQLite's unix VFS cannot be
// pointed at /proc/self/fd/<fd>: it opens with O_NOFOLLOW.) Everything else
// (temporary files for sorting, time, randomness) is the default VFS's.
constexpr char kVfsName[] = "citekb-index-fd";
constexpr char kFilePrefix[] = "citekb-fd-";

struct FdFile {
  sqlite3_file base;  // First: SQLite sees an FdFile as a sqlite3_file.
  int fd;
};

int Close(sqlite3_file*) { return SQLITE_OK; }  // The IndexFile owns the fd.

int Read(sqlite3_file* file, void* out, int bytes, sqlite3_int64 offset) {
  const int fd = reinterpret_cast<FdFile*>(file)->fd;
  char* at = static_cast<char*>(out);
  int left = bytes;
  while (left > 0) {
    const ssize_t got = ::pread(fd, at, static_cast<size_t>(left), offset);
    if (got < 0) {
      if (errno == EINTR) continue;
      return SQLITE_IOERR_READ;
    }
    if (got == 0) {
      // SQLite wants the rest zeroed on a short read.
      std::memset(at, 0, static_cast<size_t>(left));
      return SQLITE_IOERR_SHORT_READ;
    }
    at += got;
    left -= static_cast<int>(got);
    offset += got;
  }
  return SQLITE_OK;
}

int Write(sqlite3_file*, const void*, int, sqlite3_int64) {
  return SQLITE_READONLY;
}
int Truncate(sqlite3_file*, sqlite3_int64) { return SQLITE_READONLY; }
int Sync(sqlite3_file*, int) { return SQLITE_OK; }

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  struct stat info {};
  if (::fstat(reinterpret_cast<FdFile*>(file)->fd, &info) != 0) {
    return SQLITE_IOERR_FSTAT;
  }
  *size = info.st_size;
  return SQLITE_OK;
}

// Nobody writes the file: no locks to take.
int Lock(sqlite3_file*, int) { return SQLITE_OK; }
int Unlock(sqlite3_file*, int) { return SQLITE_OK; }
int CheckReservedLock(sqlite3_file*, int* reserved) {
  *reserved = 0;
  return SQLITE_OK;
}
int FileControl(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int SectorSize(sqlite3_file*) { return 4096; }
int DeviceCharacteristics(sqlite3_file*) { return SQLITE_IOCAP_IMMUTABLE; }

const sqlite3_io_methods kFdMethods = {
    1,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
};

sqlite3_vfs* Base(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
         int* out_flags) {
  int fd = -1;
  if (name != nullptr && (flags & SQLITE_OPEN_MAIN_DB) != 0 &&
      absl::StartsWith(name, kFilePrefix) &&
      absl::SimpleAtoi(absl::string_view(name).substr(sizeof(kFilePrefix) - 1),
                       &fd) &&
      fd >= 0) {
    if ((flags & SQLITE_OPEN_READWRITE) != 0) return SQLITE_CANTOPEN;
    auto* own = reinterpret_cast<FdFile*>(file);
    own->base.pMethods = &kFdMethods;
    own->fd = fd;
    if (out_flags != nullptr) *out_flags = SQLITE_OPEN_READONLY;
    return SQLITE_OK;
  }
  return Base(vfs)->xOpen(Base(vfs), name, file, flags, out_flags);
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync) {
  return Base(vfs)->xDelete(Base(vfs), name, sync);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* result) {
  if (absl::StartsWith(name, kFilePrefix)) {  // No journal, no WAL: none.
    *result = 0;
    return SQLITE_OK;
  }
  return Base(vfs)->xAccess(Base(vfs), name, flags, result);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  if (absl::StartsWith(name, kFilePrefix)) {
    if (static_cast<int>(std::strlen(name)) >= size) return SQLITE_CANTOPEN;
    std::strcpy(out, name);
    return SQLITE_OK;
  }
  return Base(vfs)->xFullPathname(Base(vfs), name, size, out);
}
int Randomness(sqlite3_vfs* vfs, int bytes, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), bytes, out);
}
int Sleep(sqlite3_vfs* vfs, int microseconds) {
  return Base(vfs)->xSleep(Base(vfs), microseconds);
}
int CurrentTime(sqlite3_vfs* vfs, double* now) {
  return Base(vfs)->xCurrentTime(Base(vfs), now);
}
int GetLastError(sqlite3_vfs* vfs, int bytes, char* out) {
  return Base(vfs)->xGetLastError(Base(vfs), bytes, out);
}

// Registered once per process and never changed after: SQLite's list of
// VFSes is global by design. False if SQLite has no default VFS.
bool RegisterVfs() {
  static const bool registered = [] {
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    if (base == nullptr) return false;
    static sqlite3_vfs vfs{};
    vfs.iVersion = 1;  // No extension loading, no shared memory.
    vfs.szOsFile = std::max<int>(base->szOsFile, sizeof(FdFile));
    vfs.mxPathname = base->mxPathname;
    vfs.zName = kVfsName;
    vfs.pAppData = base;
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    return sqlite3_vfs_register(&vfs, /*makeDflt=*/0) == SQLITE_OK;
  }();
  return registered;
}

}  // namespace

absl::StatusOr<IndexFile> IndexFile::Open(const std::string& path) {
  if (!RegisterVfs()) return absl::InternalError("SQLite has no default VFS");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(
          absl::StrCat("index file ", path, " does not exist"));
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot read index file ", path, ": ", std::strerror(errno)));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::NotFoundError(
        absl::StrCat("index file ", path, " does not exist"));
  }
  return IndexFile(fd, static_cast<int64_t>(info.st_size));
}

IndexFile::IndexFile(IndexFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(std::exchange(other.size_, 0)) {}

IndexFile& IndexFile::operator=(IndexFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

IndexFile::~IndexFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string IndexFile::sqlite_uri() const {
  return absl::StrCat("file:", kFilePrefix, fd_,
                      "?mode=ro&immutable=1&vfs=", kVfsName);
}

absl::Status IndexFile::VerifyChecksum(const std::string& path) const {
  return citekb::VerifyChecksum(fd_, path);
}

std::string IndexFile::Prefix(size_t n) const {
  std::string bytes(n, '\0');
  const ssize_t got = ::pread(fd_, bytes.data(), n, 0);
  bytes.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return bytes;
}

}  // namespace citekb
