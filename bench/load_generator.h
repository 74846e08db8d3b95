// A closed-loop gRPC load generator: `concurrency` calls are always
// outstanding, spread over `channels` channels (each its own TCP
// connection); when a call completes, its slot starts the next one. Calls go
// through grpc::GenericStub's callback API with requests serialized before
// the run, so the generator's own cost per call is one copy of a byte buffer
// plus bookkeeping, the same for every RPC.
//
//   LoadOptions options{.target = "127.0.0.1:50051", .concurrency = 32};
//   CITEKB_ASSIGN_OR_RETURN(RequestMix mix,
//                           BuildRequestMix(Rpc::kAsk, questions));
//   CITEKB_ASSIGN_OR_RETURN(LoadResult result, RunLoad(options, mix));
//   // result.qps, result.latency.Percentile(99), result.errors_by_code
//
// Timeline: warm-up calls run for `warmup` and are not measured (their
// errors are counted apart); after it, every call *started* is measured,
// until `duration` has passed or `requests` calls have started. Calls in
// flight at the end are waited for, so QPS is measured calls divided by
// the time from the end of warm-up to the last measured completion.
// Requests rotate through the mix in order, across all slots.
//
// Errors: the run itself fails (UNAVAILABLE) only when a channel cannot
// connect within `connect_timeout`; failed calls are results, counted by
// status code.

#ifndef CITEKB_BENCH_LOAD_GENERATOR_H_
#define CITEKB_BENCH_LOAD_GENERATOR_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/latency_histogram.h"
#include "bench/request_mix.h"
#include "indexer/base/status_macros.h"

namespace citekb {

struct LoadOptions {
  std::string target;  // "host:port", as for grpc::CreateChannel.
  Rpc rpc = Rpc::kHealth;
  int concurrency = 1;  // Outstanding calls; >= 1.
  int channels = 1;     // >= 1; slots are dealt to channels in turn.
  absl::Duration duration = absl::Seconds(10);
  int64_t requests = 0;  // When > 0, stop after this many measured calls.
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration deadline = absl::Seconds(10);  // Per call.
  // For a soak: when positive, each call's deadline is drawn uniformly from
  // [min_deadline, deadline] instead of being `deadline`.
  absl::Duration min_deadline = absl::ZeroDuration();
  // For a soak: this share of calls (0 to 1) is cancelled by the client at a
  // random moment before its deadline (ClientContext::TryCancel from a
  // separate thread); they end CANCELLED, or OK when the answer came first.
  double cancel_fraction = 0;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Parse every OK response (request_mix.h VerifyResponse); one that does
  // not verify counts as an error under "BAD_RESPONSE".
  bool verify = false;
  // When positive, the server's process id: its CPU time over the measured
  // window is reported too.
  int server_pid = 0;
};

struct LoadResult {
  int64_t requests = 0;  // Measured calls, failed ones included.
  int64_t errors = 0;
  // Status code name ("UNIMPLEMENTED", "BAD_RESPONSE") -> count, and the
  // first message seen for each.
  std::map<std::string, int64_t> errors_by_code;
  std::map<std::string, std::string> error_messages;
  int64_t warmup_requests = 0;
  int64_t warmup_errors = 0;
  absl::Duration elapsed;  // End of warm-up to the last measured completion.
  double qps = 0;
  LatencyHistogram latency;        // Of every measured call.
  double client_cpu_seconds = 0;   // This process, over `elapsed`.
  double server_cpu_seconds = -1;  // -1 when no server_pid was given.
};

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options,
                                   const RequestMix& mix);

}  // namespace citekb

#endif  // CITEKB_BENCH_LOAD_GENERATOR_H_
