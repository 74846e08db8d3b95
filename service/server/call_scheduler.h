// Where the KnowledgeBase service's calls run, and how many it takes on at
// once.
//
//   CallScheduler scheduler({.worker_threads = 2, .max_calls = 128});
//   // On the gRPC thread that received a call:
//   if (!scheduler.TryRun([call] { ... the whole call, up to Finish ... })) {
//     // `max_calls` calls are in flight: refuse this one at once.
//   }
//
// Admission. At most `max_calls` calls are in flight: running, or waiting
// for a worker. TryRun() refuses one more at once instead of queueing it,
// so that an overloaded server answers quickly (RESOURCE_EXHAUSTED) and
// what it holds stays bounded.
//
// Placement. The service is served through gRPC's callback API, whose
// handlers run on a few gRPC threads shared with every other callback
// service, health checks among them. A call may block for a long time: its
// SQLite work on a large index, a connection to wait for, a request log
// whose stream has stalled (request_log.h). So an admitted call runs on the
// caller's (gRPC's) thread only when
//   - a worker is idle and no call waits for one: a worker would have
//     started it at once, so running it here overtakes no one, and
//   - no other caller's thread is running a call: that thread holds the
//     "blocking slot", and only one gRPC thread at a time may be held up by
//     a call. gRPC runs at least two callback threads (1.51: half the cores,
//     at least 2), so another is always free for health checks and
//     refusals.
// Otherwise it goes to one of `worker_threads` threads of the scheduler's
// own (worker_pool.h), in order of arrival. Under load the workers are busy
// and calls queue, so running on the caller's thread is what a lightly
// loaded server does. The policy is the same for every method.
//
// Why not always a worker: handing a call to a worker and finishing it from
// there costs thread wake-ups (the worker's, then a gRPC thread's to
// complete the call, often gRPC's executor's too) and preemptions between
// the two sets of threads. Measured on 2 cores at concurrency 32: 10-15 us
// of server CPU per EvaluateStack, as much as its logic (~11 us), and ~45 us
// per Ask; and tens of microseconds of latency one call at a time
// (bench/RESULTS.md). Why a fixed set of workers rather than a thread per
// call: it bounds how many calls run at once, which keeps latency even
// under load (calls wait in order instead of time-slicing dozens of threads
// on a few cores).
//
// Thread-safe. The destructor runs every call already admitted, then joins
// the workers; destroy the scheduler only once no call can arrive (after
// the grpc::Server it serves).

#ifndef CITEKB_SERVICE_SERVER_CALL_SCHEDULER_H_
#define CITEKB_SERVICE_SERVER_CALL_SCHEDULER_H_

#include <atomic>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "service/server/worker_pool.h"

namespace citekb {

struct CallSchedulerOptions {
  // Threads running the calls that do not run on the caller's thread. Must
  // be positive.
  int worker_threads = 1;
  // Calls in flight at once, running or waiting for a worker. Must be
  // positive.
  int max_calls = 1;
};

class CallScheduler {
 public:
  // Starts the workers. Options that are not positive count as 1.
  explicit CallScheduler(const CallSchedulerOptions& options);

  CallScheduler(const CallScheduler&) = delete;
  CallScheduler& operator=(const CallScheduler&) = delete;

  // Admits a call and runs `call` (a callable taking no arguments) for it,
  // on this thread or a worker as "Placement" above says, and returns true;
  // the call is in flight until `call` returns. Returns false, without
  // running or keeping `call`, when `max_calls` calls are in flight.
  template <typename Call>
  bool TryRun(Call call);

  // Calls admitted and not yet returned, including those waiting for a
  // worker. Refused calls never count.
  int calls_in_flight() const { return workers_.admitted(); }

 private:
  // True when an admitted call may run on this thread: a worker is idle and
  // this thread took the blocking slot, which it must then give back.
  bool TakeBlockingSlotIfAWorkerIsIdle();
  void GiveBackBlockingSlot() {
    blocking_slot_taken_.store(false, std::memory_order_release);
  }

  // Held by the one caller's thread, at most, that is running a call.
  std::atomic<bool> blocking_slot_taken_{false};
  WorkerPool workers_;
};

template <typename Call>
bool CallScheduler::TryRun(Call call) {
  if (!workers_.TryAdmit()) return false;
  if (TakeBlockingSlotIfAWorkerIsIdle()) {
    std::move(call)();
    workers_.Release();
    GiveBackBlockingSlot();
  } else {
    // The admission moves with the call; it ends when the call returns.
    workers_.Submit(std::move(call));
  }
  return true;
}

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_CALL_SCHEDULER_H_
