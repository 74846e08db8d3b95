#include "service/server/worker_pool.h"

#include <algorithm>
#include <utility>

namespace citekb {

WorkerPool::WorkerPool(const WorkerPoolOptions& options)
    : max_admitted_(std::max(1, options.max_admitted)) {
  const int threads = std::max(1, options.threads);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  work_ready_.SignalAll();
  for (std::thread& thread : threads_) thread.join();
}

bool WorkerPool::TrySubmit(absl::AnyInvocable<void() &&> work) {
  if (!TryAdmit()) return false;
  Submit(std::move(work));
  return true;
}

bool WorkerPool::TryAdmit() {
  int admitted = admitted_.load(std::memory_order_relaxed);
  do {
    if (admitted >= max_admitted_) return false;
  } while (!admitted_.compare_exchange_weak(admitted, admitted + 1,
                                            std::memory_order_acq_rel));
  return true;
}

void WorkerPool::Release() {
  admitted_.fetch_sub(1, std::memory_order_acq_rel);
}

void WorkerPool::Submit(absl::AnyInvocable<void() &&> work) {
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(work));
  }
  // Outside the lock, so that the woken thread does not block on it at once.
  work_ready_.Signal();
}

int WorkerPool::admitted() const {
  return admitted_.load(std::memory_order_acquire);
}

int WorkerPool::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

bool WorkerPool::idle() const {
  absl::MutexLock lock(&mu_);
  return queue_.empty() && waiting_ > 0;
}

void WorkerPool::Run() {
  while (true) {
    absl::AnyInvocable<void() &&> work;
    {
      absl::MutexLock lock(&mu_);
      ++waiting_;
      while (queue_.empty() && !stopping_) work_ready_.Wait(&mu_);
      --waiting_;
      // Stopping still runs what was admitted: each piece is a call that
      // gRPC waits for, and the caller was promised it would run.
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(work)();
    work = nullptr;  // What it holds goes before it stops counting.
    Release();
  }
}

}  // namespace citekb
