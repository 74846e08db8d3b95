#include "service/server/call_scheduler.h"

namespace citekb {

CallScheduler::CallScheduler(const CallSchedulerOptions& options)
    : workers_({.threads = options.worker_threads,
                .max_admitted = options.max_calls}) {}

bool CallScheduler::TakeBlockingSlotIfAWorkerIsIdle() {
  // The relaxed look first, so that a taken slot costs no write to the
  // shared cache line.
  return workers_.idle() &&
         !blocking_slot_taken_.load(std::memory_order_relaxed) &&
         !blocking_slot_taken_.exchange(true, std::memory_order_acquire);
}

}  // namespace citekb
