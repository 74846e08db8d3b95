// Helpers for the end-to-end tests that talk to a real server: health and
// reflection calls without generated stubs, log streams that tests can read
// while the server writes them, a stalled log that holds RPC handlers in
// flight,
// child processes running the citekb-server binary, and index builds from a
// chosen set of articles.
//
// The health and reflection protos have no installed C++ stubs, so those
// services are called through grpc::GenericStub with hand-encoded messages
// (both are a few fields of protobuf wire format).

#ifndef CITEKB_TESTS_SUPPORT_SERVER_TEST_SUPPORT_H_
#define CITEKB_TESTS_SUPPORT_SERVER_TEST_SUPPORT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/status.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace citekb::testing {

// Every wait in the end-to-end tests is bounded by this.
inline constexpr auto kWait = std::chrono::seconds(10);

// A client context whose deadline is `timeout` from now.
std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    std::chrono::milliseconds timeout = kWait);

// grpc.health.v1 ServingStatus numbers.
inline constexpr int kServing = 1;
inline constexpr int kNotServing = 2;

// grpc.health.v1.Health/Check for `service` with a `timeout` deadline: the
// call's status and the ServingStatus number (0 UNKNOWN, 1 SERVING,
// 2 NOT_SERVING; -1 when the call failed).
struct HealthResult {
  grpc::Status status;
  int serving_status = -1;
};
HealthResult CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                         const std::string& service,
                         std::chrono::milliseconds timeout = kWait);

// Polls health until `service` is SERVING; false after kWait.
bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                      const std::string& service);

// A grpc.health.v1.Health/Watch stream: the server sends the status when
// the stream starts and again whenever it changes.
class HealthWatch {
 public:
  HealthWatch(const std::shared_ptr<grpc::Channel>& channel,
              const std::string& service);
  ~HealthWatch();  // Cancels the stream.
  HealthWatch(const HealthWatch&) = delete;
  HealthWatch& operator=(const HealthWatch&) = delete;

  // The next status sent; -1 when the stream ended or failed, or after
  // kWait.
  int Next();

 private:
  bool Await(intptr_t tag);

  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericStub> stub_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  bool open_ = false;
};

// Services listed by grpc.reflection.v1alpha.ServerReflection, or the
// failure.
absl::StatusOr<std::vector<std::string>> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel);

// An std::ostream that several threads may write (each write is locked) and
// a test may read meanwhile with str().
class LockedStringStream : public std::ostream {
 public:
  LockedStringStream() : std::ostream(&buf_) {}
  std::string str() const { return buf_.str(); }
  // Polls until str() contains `text`; false after kWait.
  bool WaitFor(absl::string_view text) const;

 private:
  class Buf : public std::streambuf {
   public:
    std::string str() const;

   protected:
    std::streamsize xsputn(const char* s, std::streamsize n) override;
    int overflow(int c) override;

   private:
    mutable std::mutex mu_;
    std::string data_;
  };
  Buf buf_;
};

// A stream buffer whose writers block until Open() (or kWait), and which
// keeps what they wrote: a request log's stream that has stalled.
class GateBuf : public std::streambuf {
 public:
  // True once a writer is blocked (or has written); false after kWait.
  bool WaitForWriter();
  void Open();
  // What was written so far.
  std::string written() const;

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int overflow(int c) override;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
  std::string written_;
};

// Holds every later KnowledgeBase call of the server at `channel` in flight
// until `gate` opens, through the server's own request log: the log must
// write to the closed `gate`, with ServerOptions::log_max_pending_bytes 1.
// A first ListSections call's line stalls the log's writer on the gate, and
// a second's fills the room for lines waiting; every call after them waits
// for room, in its handler, before it finishes. True once both calls have
// finished OK and the writer is stuck; false, with a test failure, when not
// within kWait.
bool StallRequestLog(GateBuf& gate,
                     const std::shared_ptr<grpc::Channel>& channel);

// A child process with stdout and stderr captured in a file; killed and
// reaped on destruction if still running.
class Child {
 public:
  Child(std::vector<std::string> args, std::string output_path);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Sends `signal`; false if the child is gone.
  bool Signal(int signal);

  // The wait status once the child has exited; -1 after `timeout`.
  int WaitForExit(std::chrono::milliseconds timeout = kWait);

  std::string Output() const;

  // Polls the output until it contains a whole line with `text`; the
  // output, or "" after kWait.
  std::string WaitForLine(absl::string_view text) const;

 private:
  std::string output_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// The port from "citekb-server: serving <index> on 127.0.0.1:<port>", or 0.
int ServingPort(const std::string& output);

// Builds an index of exactly `articles` (paths of article files) at
// `out_path`, replacing any file there atomically (as citekb-index does).
absl::Status BuildIndexOf(const std::vector<std::string>& articles,
                          const std::string& out_path);

}  // namespace citekb::testing

#endif  // CITEKB_TESTS_SUPPORT_SERVER_TEST_SUPPORT_H_
