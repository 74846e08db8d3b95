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
// Thread-safe: Record() may be called concurrently; each line is formatted
// outside the lock and written whole under it, so lines never interleave.

#ifndef CITEKB_SERVICE_REQUEST_LOG_H_
#define CITEKB_SERVICE_REQUEST_LOG_H_

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

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
  // Time from `start` to the status, including any wait for a worker
  // thread (knowledge_base_service.h).
  absl::Duration latency;
  // Serialized size of the request message.
  size_t request_bytes = 0;
  // The client address as gRPC reports it ("ipv4:127.0.0.1:5555").
  absl::string_view peer;
  // The question, for RPCs that carry one (Ask). Written only when the log
  // was created with `log_questions`; unset means "this RPC has none".
  std::optional<absl::string_view> question;
};

class RequestLog {
 public:
  // Writes to `*out`, which must outlive the log. `log_questions` allows the
  // "question" field; by default it is never written.
  RequestLog(std::ostream* out, bool log_questions);

  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Writes one line for `entry` and flushes it.
  void Record(const RequestLogEntry& entry) ABSL_LOCKS_EXCLUDED(mu_);

  // The line Record() would write, without the trailing newline.
  std::string Format(const RequestLogEntry& entry) const;

  bool log_questions() const { return log_questions_; }

 private:
  const bool log_questions_;
  absl::Mutex mu_;
  std::ostream* const out_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_REQUEST_LOG_H_
