#include "bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace citekb {

namespace {

constexpr int kBucketCount =
    (LatencyHistogram::kMaxBits - LatencyHistogram::kSubBucketBits + 1) *
    LatencyHistogram::kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

// Values below kSubBuckets have a bucket each. Above, a value whose highest
// set bit is h keeps its kSubBucketBits bits below h, so the group of
// buckets for [2^h, 2^(h+1)) is indexed by h and those bits.
int LatencyHistogram::BucketOf(uint64_t nanos) {
  if (nanos < kSubBuckets) return static_cast<int>(nanos);
  const int high_bit = std::bit_width(nanos) - 1;
  if (high_bit >= kMaxBits) return kBucketCount - 1;
  const int shift = high_bit - kSubBucketBits;
  return (shift + 1) * kSubBuckets +
         static_cast<int>((nanos >> shift) & (kSubBuckets - 1));
}

uint64_t LatencyHistogram::UpperEdgeOf(int bucket) {
  if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
  const int shift = bucket / kSubBuckets - 1;
  const uint64_t lower =
      static_cast<uint64_t>(kSubBuckets + bucket % kSubBuckets) << shift;
  return lower + (uint64_t{1} << shift) - 1;
}

void LatencyHistogram::Record(absl::Duration latency) {
  const int64_t signed_nanos = absl::ToInt64Nanoseconds(latency);
  const uint64_t nanos =
      signed_nanos < 0 ? 0 : static_cast<uint64_t>(signed_nanos);
  ++counts_[BucketOf(nanos)];
  ++count_;
  min_ns_ = std::min(min_ns_, nanos);
  max_ns_ = std::max(max_ns_, nanos);
  sum_ns_ += nanos;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ns_ = std::min(min_ns_, other.min_ns_);
  max_ns_ = std::max(max_ns_, other.max_ns_);
  sum_ns_ += other.sum_ns_;
}

absl::Duration LatencyHistogram::min() const {
  return count_ == 0 ? absl::ZeroDuration()
                     : absl::Nanoseconds(static_cast<int64_t>(min_ns_));
}

absl::Duration LatencyHistogram::max() const {
  return absl::Nanoseconds(static_cast<int64_t>(max_ns_));
}

absl::Duration LatencyHistogram::mean() const {
  if (count_ == 0) return absl::ZeroDuration();
  return absl::Nanoseconds(static_cast<int64_t>(sum_ns_ / count_));
}

absl::Duration LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return absl::ZeroDuration();
  percent = std::clamp(percent, 0.0, 100.0);
  // The rank (1-based) of the value asked for: the smallest that has at
  // least `percent` of the values at or below it.
  const int64_t rank = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(percent / 100.0 * count_)));
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The last bucket also holds everything beyond the resolved range.
      if (i + 1 == counts_.size()) return max();
      const uint64_t edge =
          std::clamp(UpperEdgeOf(static_cast<int>(i)), min_ns_, max_ns_);
      return absl::Nanoseconds(static_cast<int64_t>(edge));
    }
  }
  return max();
}

}  // namespace citekb
