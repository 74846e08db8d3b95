#include "service/server/serving_index.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "indexer/base/status_macros.h"

namespace citekb {

ServingIndex::FileIdentity ServingIndex::Identify(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) return {};
  return {
      .exists = true,
      .device = static_cast<uint64_t>(info.st_dev),
      .inode = static_cast<uint64_t>(info.st_ino),
      .size = static_cast<int64_t>(info.st_size),
      .modified_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                     info.st_mtim.tv_nsec};
}

absl::StatusOr<std::unique_ptr<KnowledgeBase>> ServingIndex::OpenChecked(
    const std::string& path) {
  absl::StatusOr<std::unique_ptr<KnowledgeBase>> kb = KnowledgeBase::Open(path);
  if (!kb.ok()) {
    // Keep the code (NOT_FOUND, DATA_LOSS, ...) and make sure the message
    // names the file whatever the store's message says.
    const absl::string_view message = kb.status().message();
    return absl::Status(
        kb.status().code(),
        absl::StrContains(message, path)
            ? absl::StrCat("cannot open index: ", message)
            : absl::StrCat("cannot open index ", path, ": ", message));
  }
  // A well-formed file of the right version can still be an index of
  // nothing (a build that went wrong upstream); serving it would answer
  // every question with "not covered", which is worse than the old index.
  absl::StatusOr<bool> has_sections = (*kb)->HasSections();
  if (!has_sections.ok()) {
    return absl::DataLossError(absl::StrCat("cannot read index ", path, ": ",
                                            has_sections.status().message()));
  }
  if (!*has_sections) {
    return absl::DataLossError(
        absl::StrCat("index ", path,
                     " has no sections: refusing to serve an "
                     "empty index"));
  }
  return kb;
}

absl::StatusOr<std::unique_ptr<ServingIndex>> ServingIndex::Open(
    const std::string& path) {
  std::unique_ptr<ServingIndex> index(new ServingIndex(path));
  absl::MutexLock reload_lock(&index->reload_mu_);
  CITEKB_RETURN_IF_ERROR(index->ReloadLocked());
  return index;
}

std::shared_ptr<const KnowledgeBase> ServingIndex::Current() const {
  absl::MutexLock lock(&current_mu_);
  return current_;
}

int64_t ServingIndex::generation() const {
  absl::MutexLock lock(&current_mu_);
  return generation_;
}

absl::Status ServingIndex::Reload() {
  absl::MutexLock lock(&reload_mu_);
  return ReloadLocked();
}

absl::StatusOr<bool> ServingIndex::ReloadIfChanged() {
  absl::MutexLock lock(&reload_mu_);
  if (Identify(path_) == last_seen_) return false;
  CITEKB_RETURN_IF_ERROR(ReloadLocked());
  return true;
}

absl::Status ServingIndex::ReloadLocked() {
  // The identity is taken before the file is read: if the file changes
  // while it is being read, the next ReloadIfChanged() sees a difference
  // and reads it again, rather than missing the change.
  last_seen_ = Identify(path_);
  // Opening and checking reads the whole file; calls keep using the current
  // snapshot meanwhile (only current_mu_ guards it, briefly).
  CITEKB_ASSIGN_OR_RETURN(std::unique_ptr<KnowledgeBase> kb,
                          OpenChecked(path_));
  std::shared_ptr<const KnowledgeBase> previous;
  {
    absl::MutexLock lock(&current_mu_);
    previous = std::exchange(current_, std::move(kb));
    ++generation_;
  }
  // `previous` is released here, outside the lock; calls still holding it
  // keep it alive until they return.
  return absl::OkStatus();
}

}  // namespace citekb
