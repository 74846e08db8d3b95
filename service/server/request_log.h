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
//   RequestLog log(&std::cerr, {.log_questions = false});
//   log.Record({.start = absl::Now(), .method = "Ask", ...});
//
// The server owns one RequestLog and hands it to the service; there is no
// global logger. Turning request logging off (--log_requests=false) means
// the server simply creates none.
//
// Writing: each line is formatted by the calling thread, outside any lock,
// and appended whole to a batch, so lines never interleave. A thread of the
// log's own writes the batch, in one write and one flush, at most
// `flush_interval` after its first line arrived (sooner once kBatchBytes
// wait). Record() and WriteLine() only append to the batch and return, so
// no call waits for the stream or for another thread; under load that is
// one system call per batch instead of one per line or two (measured in
// bench/RESULTS.md). Only when `max_pending_bytes` are waiting (the stream
// is slow or has stalled) does a line wait for room: memory stays bounded,
// and the calls behind the stream slow down with it. The destructor writes
// whatever is left, so nothing is lost when a server drains its calls and
// stops; a crash can lose the lines of the last interval.
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

struct RequestLogOptions {
  // Allows the "question" field; by default it is never written.
  bool log_questions = false;
  // How long a line may wait in the batch before the log's thread writes
  // it. Must be positive.
  absl::Duration flush_interval = absl::Milliseconds(10);
  // Bytes of lines that may wait for the log's thread, about 5,000 lines at
  // the default; a line arriving when this many wait waits for room. Must
  // be positive. (A server's tests set it small, so that a stalled stream
  // holds calls in flight.)
  size_t max_pending_bytes = 1 << 20;
};

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
  // wait for a worker thread (call_scheduler.h).
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
  // Bytes that start a write before the interval is up.
  static constexpr size_t kBatchBytes = 64 << 10;

  // Writes to `*out`, which must outlive the log (or be null for a log that
  // only formats lines), and starts the log's writing thread.
  RequestLog(std::ostream* out, const RequestLogOptions& options);
  // Writes the lines still waiting, and stops the writing thread.
  ~RequestLog();

  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Writes one line for `entry`: WriteLine(Format(entry)).
  void Record(const RequestLogEntry& entry) ABSL_LOCKS_EXCLUDED(mu_);

  // The line Record() would write, without the trailing newline.
  std::string Format(const RequestLogEntry& entry) const;

  // Appends `line` (from Format()) and a newline to the batch, and returns;
  // waits first for room while `max_pending_bytes` are waiting.
  void WriteLine(std::string line) ABSL_LOCKS_EXCLUDED(mu_);

  // Returns once every line appended before the call is written and
  // flushed, without waiting for the interval. The server calls it when its
  // calls have drained.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_);

  bool log_questions() const { return options_.log_questions; }

 private:
  // The writing thread's loop, until stopping_.
  void WriteBatches() ABSL_LOCKS_EXCLUDED(mu_);

  const RequestLogOptions options_;
  // Only the writing thread writes to it, outside mu_.
  std::ostream* const out_;
  absl::Mutex mu_;
  // Lines (newline-terminated) waiting to be written.
  std::string pending_ ABSL_GUARDED_BY(mu_);
  // Lines appended and lines written since the log was created.
  uint64_t appended_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  // Wake the writer (a first line, a full batch, a flush, stopping), the
  // lines waiting for room and the flushes waiting for written_.
  absl::CondVar wake_writer_;
  absl::CondVar room_;
  absl::CondVar written_more_;
  bool flush_now_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;  // Last: started once the rest is.
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_REQUEST_LOG_H_
