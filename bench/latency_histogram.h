// A latency histogram for the load generator: fixed memory, O(1) recording,
// percentiles within 1% of the true value, and exact count, min, max and
// mean.
//
//   LatencyHistogram h;
//   h.Record(absl::Microseconds(420));
//   ...
//   absl::Duration p99 = h.Percentile(99);
//
// Buckets are log-linear (as in HdrHistogram): each power of two from 1 ns
// up is split into kSubBuckets equal parts, so a bucket is never wider than
// 1/kSubBuckets of the values in it. Percentile() answers the upper edge of
// the bucket holding the requested rank, clamped to the exact maximum; it
// never reports a latency below the true percentile by more than a bucket.
// Values above about 18 minutes land in the last bucket.
//
// Not thread-safe: the load generator keeps one histogram per outstanding
// call slot (whose calls run one after another) and merges them at the end.

#ifndef CITEKB_BENCH_LATENCY_HISTOGRAM_H_
#define CITEKB_BENCH_LATENCY_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace citekb {

class LatencyHistogram {
 public:
  // 2^7 parts per power of two: a bucket spans < 0.8% of its values.
  static constexpr int kSubBucketBits = 7;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  // Values up to 2^40 ns (about 18 minutes) are resolved.
  static constexpr int kMaxBits = 40;

  LatencyHistogram();

  // Negative durations count as zero.
  void Record(absl::Duration latency);
  // Adds every value recorded in `other`.
  void Merge(const LatencyHistogram& other);

  int64_t count() const { return count_; }
  // Zero when nothing was recorded.
  absl::Duration min() const;
  absl::Duration max() const;
  absl::Duration mean() const;

  // The latency at or below which `percent` (0..100) of the values lie;
  // zero when nothing was recorded. Percentile(100) is max().
  absl::Duration Percentile(double percent) const;

 private:
  static int BucketOf(uint64_t nanos);
  static uint64_t UpperEdgeOf(int bucket);

  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  uint64_t min_ns_ = UINT64_MAX;
  uint64_t max_ns_ = 0;
  long double sum_ns_ = 0;
};

}  // namespace citekb

#endif  // CITEKB_BENCH_LATENCY_HISTOGRAM_H_
