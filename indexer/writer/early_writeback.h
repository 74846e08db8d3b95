// Has the kernel write a file's dirty pages to disk while the file is still
// being written, so that the fsync that makes it durable has little left to
// wait for.
//
// An index build writes a few hundred MB through SQLite with syncs off, then
// syncs once before the rename that publishes it (index_writer.h). Left to
// itself, Linux starts writing those pages back only after 30 s or once
// dirty memory passes a tenth of RAM, so for most builds all of it was
// written during that last fsync, with the CPU idle: 0.6 s of a
// 10,000-article build. A thread of this class asks for writeback of the
// whole file (sync_file_range, SYNC_FILE_RANGE_WRITE: start, do not wait)
// every kInterval, so the disk works while the build computes.
//
//   EarlyWriteback writeback(temp_path);   // while the file is written
//   ...
//   writeback.Stop();                      // then fsync, rename
//
// Best effort: if the file cannot be opened or the call is refused, nothing
// happens and the final fsync does all the work, as before. Durability
// still comes only from that fsync.

#ifndef CITEKB_INDEXER_WRITER_EARLY_WRITEBACK_H_
#define CITEKB_INDEXER_WRITER_EARLY_WRITEBACK_H_

#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace citekb {

class EarlyWriteback {
 public:
  static constexpr absl::Duration kInterval = absl::Milliseconds(250);

  explicit EarlyWriteback(const std::string& path,
                          absl::Duration interval = kInterval);
  ~EarlyWriteback();  // Stop()s.

  EarlyWriteback(const EarlyWriteback&) = delete;
  EarlyWriteback& operator=(const EarlyWriteback&) = delete;

  // Ends the writeback requests and joins the thread; idempotent.
  void Stop();

  // How many writeback requests the kernel accepted (for tests).
  int requests() const;

 private:
  void Run();

  const absl::Duration interval_;
  int fd_ = -1;
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace citekb

#endif  // CITEKB_INDEXER_WRITER_EARLY_WRITEBACK_H_
