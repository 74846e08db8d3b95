#include "indexer/format/file_checksum.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace citekb {
namespace {

// Where SQLite's header keeps the user version and the application id.
constexpr size_t kChecksumOffset = 60;
constexpr size_t kApplicationIdOffset = 68;
constexpr size_t kHeaderBytes = 100;
constexpr size_t kChunkBytes = 1 << 20;

uint32_t BigEndian(const unsigned char* bytes) {
  return uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 |
         uint32_t{bytes[2]} << 8 | uint32_t{bytes[3]};
}

// The CRC-32 of the file with the checksum field zeroed, and the header's
// stored checksum and application id. False on a read error or a file
// shorter than SQLite's header.
bool Compute(int fd, uint32_t* crc, uint32_t* stored,
             uint32_t* application_id) {
  std::vector<unsigned char> chunk(kChunkBytes);
  uLong sum = crc32(0L, Z_NULL, 0);
  off_t offset = 0;
  while (true) {
    const ssize_t got = ::pread(fd, chunk.data(), chunk.size(), offset);
    if (got < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (got == 0) break;
    if (offset == 0) {
      if (static_cast<size_t>(got) < kHeaderBytes) return false;
      *stored = BigEndian(&chunk[kChecksumOffset]);
      *application_id = BigEndian(&chunk[kApplicationIdOffset]);
      std::memset(&chunk[kChecksumOffset], 0, 4);
    }
    sum = crc32_z(sum, chunk.data(), static_cast<size_t>(got));
    offset += got;
  }
  if (offset == 0) return false;
  *crc = static_cast<uint32_t>(sum);
  return true;
}

}  // namespace

absl::Status StampChecksum(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  uint32_t crc = 0, stored = 0, application_id = 0;
  bool ok = Compute(fd, &crc, &stored, &application_id);
  const unsigned char bytes[4] = {static_cast<unsigned char>(crc >> 24),
                                  static_cast<unsigned char>(crc >> 16),
                                  static_cast<unsigned char>(crc >> 8),
                                  static_cast<unsigned char>(crc)};
  ok = ok && ::pwrite(fd, bytes, 4, kChecksumOffset) == 4;
  const int error = errno;
  ::close(fd);
  if (!ok) {
    return absl::UnavailableError(absl::StrCat(
        "cannot stamp the checksum of ", path, ": ", std::strerror(error)));
  }
  if (application_id != kIndexApplicationId) {
    return absl::InternalError(
        absl::StrCat(path, " has no citekb application id"));
  }
  return absl::OkStatus();
}

absl::Status VerifyChecksum(int fd, const std::string& path) {
  uint32_t crc = 0, stored = 0, application_id = 0;
  if (!Compute(fd, &crc, &stored, &application_id)) {
    return absl::DataLossError(absl::StrCat(
        path, " cannot be read in full: rebuild it with citekb-index"));
  }
  if (application_id != kIndexApplicationId) {
    return absl::DataLossError(absl::StrCat(
        path, " was not written by citekb-index (no citekb application id)"));
  }
  if (crc != stored) {
    return absl::DataLossError(
        absl::StrCat(path,
                     " is damaged or truncated (its checksum does not match): "
                     "rebuild it with "
                     "citekb-index"));
  }
  return absl::OkStatus();
}

}  // namespace citekb
