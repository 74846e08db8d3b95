#include "indexer/writer/early_writeback.h"

#include <fcntl.h>
#include <unistd.h>

namespace citekb {

EarlyWriteback::EarlyWriteback(const std::string& path, absl::Duration interval)
    : interval_(interval), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
  if (fd_ >= 0) thread_ = std::thread([this] { Run(); });
}

EarlyWriteback::~EarlyWriteback() {
  Stop();
  if (fd_ >= 0) ::close(fd_);
}

void EarlyWriteback::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int EarlyWriteback::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

void EarlyWriteback::Run() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) {
    mu_.Unlock();
    // Offset 0, length 0: the whole file, however long it has grown. Pages
    // already under writeback are skipped, not waited for.
    const bool accepted =
        ::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE) == 0;
    mu_.Lock();
    if (!accepted) return;  // Not supported here: the final fsync does it all.
    ++requests_;
  }
}

}  // namespace citekb
