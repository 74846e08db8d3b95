#include "bench/latency_histogram.h"

#include <cstdint>
#include <random>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace citekb {
namespace {

int64_t Ns(absl::Duration d) { return absl::ToInt64Nanoseconds(d); }

TEST(LatencyHistogramTest, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0);
  EXPECT_EQ(h.min(), absl::ZeroDuration());
  EXPECT_EQ(h.max(), absl::ZeroDuration());
  EXPECT_EQ(h.mean(), absl::ZeroDuration());
  EXPECT_EQ(h.Percentile(50), absl::ZeroDuration());
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int ns = 1; ns <= 100; ++ns) h.Record(absl::Nanoseconds(ns));
  EXPECT_EQ(Ns(h.Percentile(50)), 50);
  EXPECT_EQ(Ns(h.Percentile(90)), 90);
  EXPECT_EQ(Ns(h.Percentile(99)), 99);
  EXPECT_EQ(Ns(h.Percentile(100)), 100);
  EXPECT_EQ(Ns(h.Percentile(0)), 1);
  EXPECT_EQ(Ns(h.min()), 1);
  EXPECT_EQ(Ns(h.mean()), 50);  // 50.5 truncated.
}

TEST(LatencyHistogramTest, PercentilesWithinOnePercent) {
  // 1..100000 µs in a shuffled order: the p-th percentile is p * 1000 µs.
  std::vector<int64_t> values;
  for (int64_t us = 1; us <= 100000; ++us) values.push_back(us);
  std::shuffle(values.begin(), values.end(), std::mt19937(7));
  LatencyHistogram h;
  for (int64_t us : values) h.Record(absl::Microseconds(us));
  ASSERT_EQ(h.count(), 100000);
  struct Case {
    double percent;
    int64_t expected_us;
  };
  for (const Case& c : std::vector<Case>{{50, 50000},
                                         {90, 90000},
                                         {99, 99000},
                                         {99.9, 99900},
                                         {100, 100000}}) {
    const double got = absl::ToDoubleMicroseconds(h.Percentile(c.percent));
    EXPECT_GE(got, c.expected_us) << "p" << c.percent;
    EXPECT_LE(got, c.expected_us * 1.01) << "p" << c.percent;
  }
  EXPECT_EQ(h.max(), absl::Microseconds(100000));
  EXPECT_EQ(h.min(), absl::Microseconds(1));
  EXPECT_NEAR(absl::ToDoubleMicroseconds(h.mean()), 50000.5, 0.01);
}

TEST(LatencyHistogramTest, PercentileNeverExceedsTheMaximum) {
  LatencyHistogram h;
  h.Record(absl::Microseconds(1001));  // In a bucket whose edge is higher.
  EXPECT_EQ(h.Percentile(50), absl::Microseconds(1001));
  EXPECT_EQ(h.Percentile(99.9), absl::Microseconds(1001));
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  for (int i = 0; i < 90; ++i) a.Record(absl::Milliseconds(1));
  for (int i = 0; i < 10; ++i) b.Record(absl::Milliseconds(100));
  a.Merge(b);
  EXPECT_EQ(a.count(), 100);
  EXPECT_LE(a.Percentile(90), absl::Microseconds(1010));
  EXPECT_GE(a.Percentile(91), absl::Milliseconds(100));
  EXPECT_EQ(a.max(), absl::Milliseconds(100));
  EXPECT_EQ(a.min(), absl::Milliseconds(1));
}

TEST(LatencyHistogramTest, OutOfRangeValuesAreClamped) {
  LatencyHistogram h;
  h.Record(-absl::Seconds(1));
  h.Record(absl::Hours(2));
  EXPECT_EQ(h.count(), 2);
  EXPECT_EQ(h.min(), absl::ZeroDuration());
  EXPECT_EQ(h.Percentile(50), absl::ZeroDuration());
  EXPECT_EQ(h.max(), absl::Hours(2));
  EXPECT_EQ(h.Percentile(100), absl::Hours(2));
}

}  // namespace
}  // namespace citekb
