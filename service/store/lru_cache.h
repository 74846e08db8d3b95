// A bounded map from keys to shared, immutable values; when the values'
// total cost passes the bound, the least recently used go first.
//
//   LruCache<int64_t, StoredPassage> passages(/*max_cost=*/16 << 20);
//   std::shared_ptr<const StoredPassage> p = passages.Find(rowid);
//   if (p == nullptr) p = passages.Insert(rowid, Read(rowid), cost);
//
// Values are handed out as shared_ptr, so an evicted value lives on while a
// caller still holds it. The cost is the caller's estimate (bytes, say).
//
// Thread-safe: one mutex, held only for the map and list operations.

#ifndef CITEKB_SERVICE_STORE_LRU_CACHE_H_
#define CITEKB_SERVICE_STORE_LRU_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace citekb {

template <typename Key, typename Value>
class LruCache {
 public:
  explicit LruCache(size_t max_cost) : max_cost_(max_cost) {}

  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // The value under `key`, now the most recently used; null when absent.
  template <typename K>
  std::shared_ptr<const Value> Find(const K& key) const
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.end(), entries_, it->second);
    return it->second->value;
  }

  // Stores `value` under `key` (unless another thread stored one first:
  // then that one is kept) and returns what is stored. A value costing more
  // than the whole bound is returned but not kept.
  std::shared_ptr<const Value> Insert(Key key,
                                      std::shared_ptr<const Value> value,
                                      size_t cost) const
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (auto it = index_.find(key); it != index_.end())
      return it->second->value;
    if (cost > max_cost_) return value;
    entries_.push_back({key, value, cost});
    index_.emplace(std::move(key), std::prev(entries_.end()));
    cost_ += cost;
    while (cost_ > max_cost_) {
      cost_ -= entries_.front().cost;
      index_.erase(entries_.front().key);
      entries_.pop_front();
    }
    return value;
  }

  size_t size() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    Key key;
    std::shared_ptr<const Value> value;
    size_t cost;
  };
  const size_t max_cost_;
  mutable absl::Mutex mu_;
  // Least recently used first.
  mutable std::list<Entry> entries_ ABSL_GUARDED_BY(mu_);
  mutable absl::flat_hash_map<Key, typename std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
  mutable size_t cost_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace citekb

#endif  // CITEKB_SERVICE_STORE_LRU_CACHE_H_
