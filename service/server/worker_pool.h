// A fixed set of threads that run the work of admitted calls, first come
// first served, and a bound on how many calls may be admitted at once
// (running on one of its threads, waiting for one, or running elsewhere).
//
//   WorkerPool pool({.threads = 4, .max_admitted = 128});
//   if (!pool.TrySubmit([&] { ... the call's work ... })) {
//     // Full: refuse the call (RESOURCE_EXHAUSTED) instead of queueing it.
//   }
//
// Admitted work may instead run on the caller's thread, and still count
// against the bound:
//
//   if (!pool.TryAdmit()) { /* refuse */ }
//   if (pool.idle()) {
//     ... the work, on this thread ...
//     pool.Release();
//   } else {
//     pool.Submit(work);  // the admission ends when the work returns
//   }
//
// CallScheduler (call_scheduler.h) runs the KnowledgeBase service's calls on
// one, and says why the service needs threads of its own.
//
// Thread-safe. The destructor runs all work already submitted, then joins
// the threads; work admitted with TryAdmit must have been released or
// submitted by then.

#ifndef CITEKB_SERVICE_SERVER_WORKER_POOL_H_
#define CITEKB_SERVICE_SERVER_WORKER_POOL_H_

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace citekb {

struct WorkerPoolOptions {
  // Threads running work. Must be positive.
  int threads = 1;
  // Work admitted at once, running or queued; TrySubmit and TryAdmit refuse
  // beyond it. Must be positive. Below `threads`, it is also the number
  // running.
  int max_admitted = 1;
};

class WorkerPool {
 public:
  // Starts the threads. Options that are not positive count as 1.
  explicit WorkerPool(const WorkerPoolOptions& options);
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `work` to run on one of the threads and returns true, or returns
  // false without running (or destroying) anything else when
  // `max_admitted` pieces of work are admitted already. Work stays admitted
  // until it returns. Same as TryAdmit() followed by Submit(work).
  bool TrySubmit(absl::AnyInvocable<void() &&> work) ABSL_LOCKS_EXCLUDED(mu_);

  // Admits one piece of work that the caller runs itself, or returns false
  // when `max_admitted` are admitted already. Each true must be matched by
  // exactly one Release() or Submit().
  bool TryAdmit();

  // Ends the admission of work admitted by TryAdmit() that has returned.
  void Release();

  // Queues `work`, admitted by TryAdmit() and not yet released, to run on
  // one of the threads; its admission ends when it returns. Never refuses.
  void Submit(absl::AnyInvocable<void() &&> work) ABSL_LOCKS_EXCLUDED(mu_);

  // Work admitted and not yet returned: running (here or on the caller's
  // thread) or queued.
  int admitted() const;

  // Work submitted and not yet taken by a thread.
  int queued() const ABSL_LOCKS_EXCLUDED(mu_);

  // True when no work is queued and a thread is waiting for some: work
  // submitted now would start at once, so a caller may as well run it on
  // its own thread, overtaking no one and saving the wake-up.
  bool idle() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const int max_admitted_;
  // Admitted work: not under mu_, because admission is on the path of every
  // call, including those that never touch the queue.
  std::atomic<int> admitted_{0};
  mutable absl::Mutex mu_;
  absl::CondVar work_ready_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Threads waiting for work.
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_SERVER_WORKER_POOL_H_
