// CallScheduler (service/server/call_scheduler.h): admission up to
// max_calls, and placement: the caller's thread only with a worker idle and
// the blocking slot free, a worker otherwise. Calls are held with
// Notifications, so nothing waits on timing.

#include "service/server/call_scheduler.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace citekb {
namespace {

// Waits until `scheduler` has `n` calls in flight.
void AwaitCallsInFlight(const CallScheduler& scheduler, int n) {
  while (scheduler.calls_in_flight() != n) std::this_thread::yield();
}

// Runs a call on this thread that notifies `running`, then waits for
// `release`; returns once it has. Until a worker waits for work (just after
// the scheduler starts, or while one is on its way back), calls go to a
// worker, so it tries again until one runs here.
void HoldHere(CallScheduler& scheduler, absl::Notification& running,
              absl::Notification& release) {
  const std::thread::id me = std::this_thread::get_id();
  while (true) {
    absl::Notification attempt_done;
    bool here = false;
    ASSERT_TRUE(scheduler.TryRun([&] {
      here = std::this_thread::get_id() == me;
      if (here) {
        running.Notify();
        release.WaitForNotification();
      }
      attempt_done.Notify();
    }));
    attempt_done.WaitForNotification();
    if (here) return;
  }
}

TEST(CallSchedulerTest, RunsOnTheCallersThreadWhenAWorkerIsIdle) {
  CallScheduler scheduler({.worker_threads = 1, .max_calls = 4});
  absl::Notification running;
  absl::Notification release;
  release.Notify();
  HoldHere(scheduler, running, release);
  EXPECT_TRUE(running.HasBeenNotified());
  EXPECT_EQ(scheduler.calls_in_flight(), 0);
}

TEST(CallSchedulerTest, OnlyOneCallersThreadAtATimeRunsACall) {
  CallScheduler scheduler({.worker_threads = 2, .max_calls = 4});
  absl::Notification holding;
  absl::Notification release;
  std::thread holder([&] { HoldHere(scheduler, holding, release); });
  holding.WaitForNotification();

  // With the slot taken, this call goes to a worker, idle or not.
  absl::Notification done;
  std::thread::id ran_on;
  ASSERT_TRUE(scheduler.TryRun([&] {
    ran_on = std::this_thread::get_id();
    done.Notify();
  }));
  done.WaitForNotification();
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_NE(ran_on, holder.get_id());
  release.Notify();
  holder.join();
}

TEST(CallSchedulerTest, CallsWaitForABusyWorkerInsteadOfRunningHere) {
  CallScheduler scheduler({.worker_threads = 1, .max_calls = 4});
  absl::Notification release_holder;
  absl::Notification holding;
  // One call holds the slot on another thread, so the next one goes to the
  // only worker, where it blocks.
  std::thread holder([&] { HoldHere(scheduler, holding, release_holder); });
  holding.WaitForNotification();
  absl::Notification release_worker;
  absl::Notification worker_busy;
  ASSERT_TRUE(scheduler.TryRun([&] {
    worker_busy.Notify();
    release_worker.WaitForNotification();
  }));
  worker_busy.WaitForNotification();
  release_holder.Notify();
  holder.join();
  AwaitCallsInFlight(scheduler, 1);

  // The slot is free but no worker is: the call waits for the worker, in
  // order, rather than running here.
  absl::Notification done;
  std::thread::id ran_on;
  ASSERT_TRUE(scheduler.TryRun([&] {
    ran_on = std::this_thread::get_id();
    done.Notify();
  }));
  EXPECT_EQ(scheduler.calls_in_flight(), 2);
  EXPECT_FALSE(done.HasBeenNotified());
  release_worker.Notify();
  done.WaitForNotification();
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(CallSchedulerTest, RefusesBeyondMaxCallsWithoutKeepingTheCall) {
  CallScheduler scheduler({.worker_threads = 1, .max_calls = 2});
  absl::Notification release;
  absl::Notification holding;
  std::thread holder([&] { HoldHere(scheduler, holding, release); });
  holding.WaitForNotification();
  ASSERT_TRUE(scheduler.TryRun([&] { release.WaitForNotification(); }));
  EXPECT_EQ(scheduler.calls_in_flight(), 2);

  auto kept = std::make_shared<int>(0);
  bool refused_ran = false;
  EXPECT_FALSE(scheduler.TryRun([&, kept] { refused_ran = true; }));
  EXPECT_EQ(kept.use_count(), 1);

  release.Notify();
  holder.join();
  AwaitCallsInFlight(scheduler, 0);
  EXPECT_FALSE(refused_ran);
  EXPECT_TRUE(scheduler.TryRun([] {}));
}

TEST(CallSchedulerTest, DestructorRunsEveryAdmittedCall) {
  std::atomic<int> ran{0};
  {
    CallScheduler scheduler({.worker_threads = 1, .max_calls = 100});
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(scheduler.TryRun([&] { ++ran; }));
    }
  }
  EXPECT_EQ(ran.load(), 100);
}

}  // namespace
}  // namespace citekb
