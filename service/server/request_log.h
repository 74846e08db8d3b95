// One structured line per RPC, for operators: what was called, how it ended,
// how long it took and who called, as a single JSON object per line.
//
//   {"ts":"2025-11-25T08:01:02.345Z","method":"Ask","status":"OK",
//    "latency_ms":1.234,"request_bytes":52,"peer":"ipv4:127.0.0.1:5555"}
//
// (one line in the real output). What people ask is health information, so
// the question text is never written unless the log was created with
// `log_questions` (the server's --log_questions flag); then Ask lines carry a
// "question" field. Every string is JSON-escaped; bytes that are not valid
// UTF-8 become U+FFFD, so each line is always valid JSON.
//
//   RequestLog log(&std::cerr, /*log_questions=*/false);
//   log.Record({.start = absl::Now(), .method = "Ask", ...});
//
// The server owns one RequestLog and hands it to the service; there is no
// global logger. Turning request logging off (--log_requests=false) means
// the server simply creates none.
//
// Writing: each line is formatted by the calling thread, outside any lock,
// and written whole, so lines never interleave. How it reaches the stream
// depends on the log's flush interval:
//
//   * Buffered (an interval above zero; the server's default is 10 ms): a
//     thread of the log's own writes the lines in batches, at most one
//     interval after the first of them arrived (sooner once kBatchBytes
//     wait), in one write and one flush. Record(), WriteLine() and
//     TryWriteLine() only append to the batch and return, so no call waits
//     for the stream or for another thread; under load that is one system
//     call per batch instead of one per line or two (measured in
//     bench/RESULTS.md). Only when kMaxPendingBytes are waiting (the stream
//     has stalled) does WriteLine() wait for room and TryWriteLine()
//     refuse. The destructor writes whatever is left, so nothing is lost
//     when a server drains its calls and stops; a crash can lose the lines
//     of the last interval.
//
//   * Unbuffered (interval zero): one thread at a time writes to the
//     stream; lines recorded meanwhile wait in memory, and that thread
//     writes them too, in order and in one write, before it returns.
//     Record() and WriteLine() return once their own line is written,
//     waiting for the writing thread if need be (which is also how a test
//     holds calls in flight: by blocking the stream). TryWriteLine() is for
//     threads that must not block (gRPC's, which also answer health
//     checks): it only hands its line to a thread that is writing already,
//     and never writes itself.
//
// Thread-safe.

#ifndef CITEKB_SERVICE_SERVER_REQUEST_LOG_H_
#define CITEKB_SERVICE_SERVER_REQUEST_LOG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace citekb {

// What is known about one finished RPC. The views only need to live for the
// duration of Record().
struct RequestLogEntry {
  // When the call reached the service; written as "ts" (UTC, milliseconds).
  absl::Time start;
  // RPC method name without the service, e.g. "Ask".
  absl::string_view method;
  // The status returned to the client; written by name ("NOT_FOUND").
  absl::StatusCode code = absl::StatusCode::kOk;
  // Time from `start` to the status (response serialized), including any
  // wait for a worker thread (knowledge_base_service.h).
  absl::Duration latency;
  // Size of the request message as received (its serialized size).
  size_t request_bytes = 0;
  // The client address as gRPC reports it ("ipv4:127.0.0.1:5555").
  absl::string_view peer;
  // The question, for RPCs that carry one (Ask). Written only when the log
  // was created with `log_questions`; unset means "this RPC has none".
  std::optional<absl::string_view> question;
};

class RequestLog {
 public:
  // Lines left waiting for the writer, in bytes, before WriteLine() waits
  // and TryWriteLine() refuses: about 5,000 lines, when the stream has
  // stalled.
  static constexpr size_t kMaxPendingBytes = 1 << 20;
  // Buffered: bytes that start a write before the interval is up.
  static constexpr size_t kBatchBytes = 64 << 10;

  // Writes to `*out`, which must outlive the log. `log_questions` allows the
  // "question" field; by default it is never written. `flush_interval`
  // (not negative) picks buffered writing above zero, unbuffered at zero
  // (see above).
  RequestLog(std::ostream* out, bool log_questions,
             absl::Duration flush_interval);
  // Buffered: writes the lines still waiting, and stops the writer.
  ~RequestLog();

  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Writes one line for `entry`: WriteLine(Format(entry)).
  void Record(const RequestLogEntry& entry) ABSL_LOCKS_EXCLUDED(mu_);

  // The line Record() would write, without the trailing newline.
  std::string Format(const RequestLogEntry& entry) const;

  // Writes `line` (from Format()) and a newline, and flushes. Unbuffered,
  // returns once it is written, waiting for another thread's write if need
  // be; buffered, once it is in the batch (waiting only for room).
  void WriteLine(std::string line) ABSL_LOCKS_EXCLUDED(mu_);

  // WriteLine() without ever waiting or writing: leaves `*line` (moved out)
  // to the thread that writes, and returns true. Returns false, with
  // `*line` untouched, when kMaxPendingBytes are waiting already (the
  // stream has stalled) or, unbuffered, when no thread is writing: then
  // write it with WriteLine() from a thread that may wait.
  bool TryWriteLine(std::string* line) ABSL_LOCKS_EXCLUDED(mu_);

  // Returns once every line recorded before the call is written (buffered,
  // without waiting for the interval); unbuffered, they already are. The
  // server calls it when its calls have drained.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_);

  bool log_questions() const { return log_questions_; }

 private:
  bool buffered() const { return flush_interval_ > absl::ZeroDuration(); }
  // Unbuffered. With `wait` (WriteLine): queues `*line` and returns once it
  // is written, writing it and whatever else is waiting if no other thread
  // is writing. Without (TryWriteLine): queues it only for a thread that is
  // writing.
  bool Write(std::string* line, bool wait) ABSL_LOCKS_EXCLUDED(mu_);
  // Buffered: appends `*line` to the batch; with `wait`, waits for room.
  bool Buffer(std::string* line, bool wait) ABSL_LOCKS_EXCLUDED(mu_);
  // Buffered: the writer thread's loop, until stopping_.
  void WriteBatches() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes and flushes `*batch` (then empties it) with mu_ released, by
  // the one thread allowed to write; then counts lines up to `upto` as
  // written.
  void WriteOutsideLock(std::string* batch, uint64_t upto)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WrittenUpTo(uint64_t line) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return written_ >= line;
  }

  const bool log_questions_;
  const absl::Duration flush_interval_;
  // Only the thread that set writing_ (buffered: writer_) writes to it,
  // outside mu_.
  std::ostream* const out_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // Lines (newline-terminated) waiting to be written. Unbuffered, empty
  // whenever writing_ is false.
  std::string pending_ ABSL_GUARDED_BY(mu_);
  // Lines queued and lines written since the log was created.
  uint64_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  // Buffered: wakes the writer (a first line, a full batch, a flush,
  // stopping), the lines waiting for room and the flushes waiting for
  // written_.
  absl::CondVar wake_writer_;
  absl::CondVar room_;
  absl::CondVar written_more_;
  bool flush_now_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;  // Buffered only; last, started once the rest is.
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_REQUEST_LOG_H_
