#pragma once

// PROTOTYPE (bench only): WindowAggregator::Add with dense per-window arrays indexed by key id
// instead of one hash map probe per event and metric. Proposed for src/window/; see
// bench/README.md "Proposed changes".

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "pipeline/event_batch.h"
#include "window/window_aggregator.h"

namespace lf::bench::proto {

// Same contract as window::WindowAggregator for Add/TakeDeltas/watermark. Key ids are dense
// (interned), so each open window holds, per metric, a vector of sums indexed by key id and the
// list of ids it touched; the window of the previous event is cached, so an in-order stream
// costs one compare per event to find its window and no hashing at all.
class DenseWindowAggregator {
 public:
  DenseWindowAggregator(window::WindowOptions options, std::vector<window::MetricSpec> metrics);

  void Add(const pipeline::EventBatch& batch, std::vector<int64_t>* late_by_partition = nullptr);
  void AdvanceWatermark(int64_t watermark_s) { watermark_s_ = std::max(watermark_s_, watermark_s); }
  std::vector<window::Delta> TakeDeltas();
  int64_t late_events() const { return late_events_; }

 private:
  struct Slot {
    int64_t index = 0;
    std::vector<int64_t> sums[pipeline::kKeyColumns];
    std::vector<uint32_t> touched[pipeline::kKeyColumns];
  };
  Slot* SlotFor(int64_t index);

  int64_t size_s_;
  std::vector<window::MetricSpec> metrics_;
  int64_t watermark_s_ = window::kNoWatermark;
  int64_t late_events_ = 0;
  std::vector<Slot> slots_;  // windows touched since the last TakeDeltas, in slots_[0, used_)
  size_t used_ = 0;
  absl::flat_hash_map<int64_t, uint32_t> slot_of_;  // window index -> slot
  int64_t cached_index_ = INT64_MIN;
  Slot* cached_ = nullptr;
};

}  // namespace lf::bench::proto
