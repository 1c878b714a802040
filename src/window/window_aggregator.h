#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "pipeline/event_batch.h"

namespace lf::window {

// One windowed metric: SUM(bytes) grouped by window and one key column, stored under `name`.
struct MetricSpec {
  std::string name;
  pipeline::KeyColumn key;
};

// The telecom pipeline's three speed metrics (SPEC §1.3), in this order: antenna_bytes_total,
// user_bytes_total, app_bytes_total.
std::vector<MetricSpec> DeviceMetrics();

struct WindowOptions {
  std::chrono::seconds size{300};
  std::chrono::seconds lateness{60};
};

// The change of one window total since the last TakeDeltas().
struct Delta {
  int64_t window_start_s;  // Unix seconds UTC, a multiple of the window size
  uint32_t metric;         // index into the MetricSpec list
  uint32_t key;            // id in the metric's key-column dictionary
  int64_t value;
};

inline constexpr int64_t kNoWatermark = std::numeric_limits<int64_t>::min();

// Dense window arrays (WindowAggregator): at most this many metrics, key ids below the limit, and
// this many bytes of arrays in all (about 60 windows of 100 000 keys for three metrics); anything
// else is aggregated in a hash map.
inline constexpr size_t kDenseMetrics = 4;
inline constexpr uint32_t kDenseKeyLimit = 1u << 22;
inline constexpr size_t kDenseBudgetBytes = size_t{64} << 20;

// Aggregates event batches into per-window deltas and tracks the watermark. Not thread-safe.
class WindowAggregator {
 public:
  WindowAggregator(WindowOptions options, std::vector<MetricSpec> metrics);

  // Adds every event of `batch`. An event is late when its window ended at or before the
  // current watermark (it is still added: a correction). When `late_by_partition` is given, late
  // events are also counted there by source partition (indexes must be < its size). Does not move
  // the watermark: the caller knows which partitions are active (see AdvanceWatermark).
  void Add(const pipeline::EventBatch& batch, std::vector<int64_t>* late_by_partition = nullptr);

  // Raises the watermark to `watermark_s`; never lowers it.
  void AdvanceWatermark(int64_t watermark_s) { watermark_s_ = std::max(watermark_s_, watermark_s); }
  // Forgets the watermark (after a rebalance: it belonged to the partitions owned before).
  void ResetWatermark() { watermark_s_ = kNoWatermark; }

  // The watermark the SPEC defines for a set of partitions: the smallest of their largest event
  // times, minus the allowed lateness (a partition behind the others holds it back);
  // kNoWatermark when `max_event_times` is empty or holds kNoWatermark (a partition that has not
  // reported yet).
  int64_t WatermarkFor(const std::vector<int64_t>& max_event_times) const;

  // Every delta accumulated since the previous call (including zero ones: a window whose events
  // all carried 0 bytes still has a row), then forgets them. Totals saturate at 2^63-1.
  std::vector<Delta> TakeDeltas();
  // Drops uncommitted deltas (after another process took over a partition).
  void DiscardDeltas();
  // Window totals held since the last TakeDeltas().
  size_t pending_keys() const { return deltas_.size() + wide_deltas_.size() + dense_pending_; }

  // Unix seconds; kNoWatermark before any event.
  int64_t watermark_s() const { return watermark_s_; }
  int64_t late_events() const { return late_events_; }
  int64_t WindowStart(int64_t event_time_s) const;
  // True when the window starting at `window_start_s` is final under the current watermark.
  bool IsFinal(int64_t window_start_s) const {
    return watermark_s_ != kNoWatermark && window_start_s + size_s_ <= watermark_s_;
  }
  const std::vector<MetricSpec>& metrics() const { return metrics_; }

 private:
  // The totals of one window in dense arrays indexed by key id, one per metric: an in-order stream
  // finds its window with one compare per event and adds with no hashing at all. Arrays are kept
  // between flushes (only touched entries are reset), so a steady stream allocates nothing.
  struct DenseSlot {
    int64_t index = 0;
    std::vector<int64_t> sums[kDenseMetrics];
    std::vector<uint8_t> seen[kDenseMetrics];
    std::vector<uint32_t> touched[kDenseMetrics];  // ids with seen set, in first-seen order
  };
  // The slot of window `index`, sized for the batch being added; nullptr when the dense budget is
  // spent (the window's totals then go to the hash maps below for the rest of this flush).
  DenseSlot* DenseSlotFor(int64_t index);
  void ResetDense();

  int64_t size_s_;
  int64_t lateness_s_;
  std::vector<MetricSpec> metrics_;
  int64_t watermark_s_ = kNoWatermark;
  int64_t late_events_ = 0;
  std::vector<DenseSlot> slots_;  // windows of this flush in slots_[0, used_slots_)
  size_t used_slots_ = 0;
  size_t max_slots_ = 0;                            // for the batch being added
  size_t dense_sizes_[kDenseMetrics] = {};          // array sizes the batch being added needs
  absl::flat_hash_map<int64_t, uint32_t> slot_of_;  // window index -> slot
  size_t dense_pending_ = 0;
  // Totals of windows or keys the dense slots do not hold (past the budget, far-behind windows of
  // a backlog, key ids past kDenseKeyLimit, more metrics than kDenseMetrics), keyed by (window
  // index, metric, key) packed into one integer (32-bit window index, 2-bit metric, 30-bit key
  // id: one hash probe per event and metric) ...
  absl::flat_hash_map<uint64_t, int64_t> deltas_;
  // ... or, for a batch with anything that does not fit (a fifth metric, a key id of 2^30 or
  // more, a window index past 32 bits: 1-second windows after 2038), unpacked. TakeDeltas merges
  // all three, so no total is ever dropped, mixed up or sent twice.
  struct WideKey {
    int64_t index;
    uint32_t metric;
    uint32_t key;
    bool operator==(const WideKey&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const WideKey& k) {
      return H::combine(std::move(h), k.index, k.metric, k.key);
    }
  };
  absl::flat_hash_map<WideKey, int64_t> wide_deltas_;
  std::vector<const uint32_t*> key_columns_;  // per metric, for the batch being added
};

}  // namespace lf::window
