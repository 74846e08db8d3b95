// WorkerPool (service/server/worker_pool.h): admission up to the bound,
// refusal beyond it, order of arrival, idle(), and the destructor running
// what was admitted. Work is held with Notifications, so nothing waits on
// timing.

#include "service/server/worker_pool.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace citekb {
namespace {

using ::testing::ElementsAre;

TEST(WorkerPoolTest, RefusesBeyondTheBoundAndAdmitsAgainOnceWorkReturns) {
  WorkerPool pool({.threads = 2, .max_admitted = 3});
  absl::Notification release;
  std::atomic<int> ran{0};
  auto held = [&] {
    release.WaitForNotification();
    ++ran;
  };
  // Two run (and block), one waits for a thread; the fourth is refused.
  EXPECT_TRUE(pool.TrySubmit(held));
  EXPECT_TRUE(pool.TrySubmit(held));
  EXPECT_TRUE(pool.TrySubmit(held));
  EXPECT_EQ(pool.admitted(), 3);
  while (pool.queued() != 1) std::this_thread::yield();  // Two were taken.
  bool refused_ran = false;
  EXPECT_FALSE(pool.TrySubmit([&] { refused_ran = true; }));

  release.Notify();
  while (pool.admitted() > 0) std::this_thread::yield();
  EXPECT_EQ(pool.queued(), 0);
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(refused_ran);
  absl::Notification done;
  EXPECT_TRUE(pool.TrySubmit([&] { done.Notify(); }));
  done.WaitForNotification();
}

TEST(WorkerPoolTest, RunsQueuedWorkInOrderOfArrival) {
  WorkerPool pool({.threads = 1, .max_admitted = 10});
  absl::Notification release;
  absl::Mutex mu;
  std::vector<int> order;
  ASSERT_TRUE(pool.TrySubmit([&] { release.WaitForNotification(); }));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pool.TrySubmit([&, i] {
      absl::MutexLock lock(&mu);
      order.push_back(i);
    }));
  }
  release.Notify();
  while (pool.admitted() > 0) std::this_thread::yield();
  absl::MutexLock lock(&mu);
  EXPECT_THAT(order, ElementsAre(0, 1, 2, 3, 4));
}

TEST(WorkerPoolTest, DestructorRunsEverythingAdmitted) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool({.threads = 1, .max_admitted = 100});
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(pool.TrySubmit([&] { ++ran; }));
    }
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkerPoolTest, WorkOnTheCallersThreadCountsAgainstTheBound) {
  WorkerPool pool({.threads = 1, .max_admitted = 2});
  ASSERT_TRUE(pool.TryAdmit());
  ASSERT_TRUE(pool.TryAdmit());
  EXPECT_EQ(pool.admitted(), 2);
  EXPECT_FALSE(pool.TryAdmit());
  bool refused_ran = false;
  EXPECT_FALSE(pool.TrySubmit([&] { refused_ran = true; }));

  pool.Release();
  EXPECT_EQ(pool.admitted(), 1);
  // The other admission moves to a worker with its work, and ends when the
  // work returns.
  absl::Notification release;
  absl::Notification done;
  pool.Submit([&] {
    release.WaitForNotification();
    done.Notify();
  });
  EXPECT_EQ(pool.admitted(), 1);
  EXPECT_TRUE(pool.TryAdmit());
  EXPECT_FALSE(pool.TryAdmit());
  pool.Release();
  release.Notify();
  done.WaitForNotification();
  while (pool.admitted() > 0) std::this_thread::yield();
  EXPECT_FALSE(refused_ran);
}

TEST(WorkerPoolTest, IdleWhenNothingWaitsAndAThreadIsFree) {
  WorkerPool pool({.threads = 1, .max_admitted = 3});
  while (!pool.idle()) std::this_thread::yield();  // The thread is waiting.
  absl::Notification release;
  absl::Notification running;
  ASSERT_TRUE(pool.TrySubmit([&] {
    running.Notify();
    release.WaitForNotification();
  }));
  running.WaitForNotification();
  EXPECT_FALSE(pool.idle());  // Its only thread is busy.
  ASSERT_TRUE(pool.TrySubmit([] {}));
  EXPECT_FALSE(pool.idle());
  release.Notify();
  while (!pool.idle()) std::this_thread::yield();
  EXPECT_EQ(pool.queued(), 0);
}

TEST(WorkerPoolTest, MoveOnlyWorkIsAccepted) {
  WorkerPool pool({.threads = 1, .max_admitted = 1});
  absl::Notification done;
  auto value = std::make_unique<int>(7);
  std::atomic<int> seen{0};
  ASSERT_TRUE(pool.TrySubmit([&, value = std::move(value)] {
    seen = *value;
    done.Notify();
  }));
  done.WaitForNotification();
  EXPECT_EQ(seen.load(), 7);
}

}  // namespace
}  // namespace citekb
