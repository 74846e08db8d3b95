// The index a server is serving: an immutable KnowledgeBase snapshot that
// can be replaced while calls are running ("hot reload").
//
//   CITEKB_ASSIGN_OR_RETURN(auto index,
//                           ServingIndex::Open("var/citekb.sqlite"));
//   std::shared_ptr<const KnowledgeBase> kb = index->Current();  // per call
//   ... kb->Ask(request) ...
//   absl::Status reloaded = index->Reload();  // e.g. on SIGHUP
//
// Each call takes the current snapshot once and keeps it to its end, so a
// swap never changes an answer midway; an old snapshot is freed when the
// last call holding it returns. A snapshot is a Store over the file it
// opened, held by descriptor (store.h, index_file.h), so it never sees a
// file renamed over it later.
//
// A new file must pass every check before it replaces the current snapshot:
// KnowledgeBase::Open (a citekb index, of this schema version, whose
// checksum of every byte matches, file_checksum.h), and it must hold at
// least one section. A file that fails is refused with the reason, naming
// the file, and the current snapshot keeps serving: the server never serves
// a corrupt, partial or foreign index, and never goes without one.
//
// Replace the file by renaming a complete one into place (citekb-index does
// exactly that). A file rewritten in place is picked up too, but a reload
// that reads it half-written is refused, and the finished file is loaded on
// the next change.
//
// Thread-safe: Current() may be called from any number of threads while
// Reload() or ReloadIfChanged() runs in another; reloads are serialized.

#ifndef CITEKB_SERVICE_SERVER_SERVING_INDEX_H_
#define CITEKB_SERVICE_SERVER_SERVING_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "indexer/base/status_macros.h"
#include "service/knowledge_base/knowledge_base.h"

namespace citekb {

class ServingIndex {
 public:
  // Opens `path` as the first snapshot (generation 1). Errors as
  // KnowledgeBase::Open (NOT_FOUND, DATA_LOSS, FAILED_PRECONDITION), or
  // DATA_LOSS for an index with no sections; messages name the file.
  static absl::StatusOr<std::unique_ptr<ServingIndex>> Open(
      const std::string& path);

  ServingIndex(const ServingIndex&) = delete;
  ServingIndex& operator=(const ServingIndex&) = delete;

  // The snapshot to answer one call from. Never null.
  std::shared_ptr<const KnowledgeBase> Current() const
      ABSL_LOCKS_EXCLUDED(current_mu_);

  // Opens and checks the file now at path(); on success it becomes the
  // current snapshot (the generation goes up by one). On failure the
  // current snapshot stays and the error (as Open) says why.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, current_mu_);

  // Reload(), but only when the file at path() is not the one last loaded
  // or refused (compared by device, inode, size and modification time), so
  // polling this costs one stat() and a refused file is reported once.
  // Returns false when nothing changed, true after a reload, or the error
  // of a refused reload. A missing file counts as a change and is refused.
  absl::StatusOr<bool> ReloadIfChanged()
      ABSL_LOCKS_EXCLUDED(reload_mu_, current_mu_);

  const std::string& path() const { return path_; }

  // 1 for the snapshot opened by Open(), plus one per successful reload.
  int64_t generation() const ABSL_LOCKS_EXCLUDED(current_mu_);

 private:
  // What stat() says about a file; equal identities mean "unchanged".
  struct FileIdentity {
    bool exists = false;
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t modified_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  static FileIdentity Identify(const std::string& path);
  // KnowledgeBase::Open plus the checks above.
  static absl::StatusOr<std::unique_ptr<KnowledgeBase>> OpenChecked(
      const std::string& path);

  explicit ServingIndex(std::string path) : path_(std::move(path)) {}
  absl::Status ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);

  const std::string path_;

  absl::Mutex reload_mu_;
  // The file last loaded or refused.
  FileIdentity last_seen_ ABSL_GUARDED_BY(reload_mu_);

  mutable absl::Mutex current_mu_;
  std::shared_ptr<const KnowledgeBase> current_ ABSL_GUARDED_BY(current_mu_);
  int64_t generation_ ABSL_GUARDED_BY(current_mu_) = 0;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_SERVING_INDEX_H_
