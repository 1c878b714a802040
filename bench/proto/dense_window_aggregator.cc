#include "proto/dense_window_aggregator.h"

namespace lf::bench::proto {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

DenseWindowAggregator::DenseWindowAggregator(window::WindowOptions options,
                                             std::vector<window::MetricSpec> metrics)
    : size_s_(std::max<int64_t>(1, options.size.count())), metrics_(std::move(metrics)) {}

DenseWindowAggregator::Slot* DenseWindowAggregator::SlotFor(int64_t index) {
  auto [it, inserted] = slot_of_.try_emplace(index, static_cast<uint32_t>(used_));
  if (inserted) {
    if (used_ == slots_.size()) slots_.emplace_back();
    slots_[used_].index = index;
    ++used_;
  }
  cached_index_ = index;
  cached_ = &slots_[it->second];
  return cached_;
}

void DenseWindowAggregator::Add(const pipeline::EventBatch& batch,
                                std::vector<int64_t>* late_by_partition) {
  const size_t n = batch.size();
  const int64_t* ts = batch.timestamp_s.data();
  const int64_t* bytes = batch.bytes.data();
  const size_t metric_count = std::min<size_t>(metrics_.size(), pipeline::kKeyColumns);
  const uint32_t* key_columns[pipeline::kKeyColumns];
  for (size_t m = 0; m < metric_count; ++m)
    key_columns[m] = batch.keys[static_cast<int>(metrics_[m].key)].data();
  for (size_t i = 0; i < n; ++i) {
    const int64_t index = FloorDiv(ts[i], size_s_);
    if (watermark_s_ != window::kNoWatermark && (index + 1) * size_s_ <= watermark_s_) {
      ++late_events_;
      if (late_by_partition) ++(*late_by_partition)[batch.partition[i]];
    }
    Slot* slot = index == cached_index_ ? cached_ : SlotFor(index);
    const int64_t b = bytes[i];
    for (size_t m = 0; m < metric_count; ++m) {
      const uint32_t key = key_columns[m][i];
      std::vector<int64_t>& sums = slot->sums[m];
      if (key >= sums.size()) sums.resize(std::max<size_t>(key + 1, sums.size() * 2), 0);
      int64_t& sum = sums[key];
      // Sums only grow (bytes >= 0), so "was zero, now not" records each key once.
      if (sum == 0 && b != 0) slot->touched[m].push_back(key);
      sum += b;
    }
  }
}

std::vector<window::Delta> DenseWindowAggregator::TakeDeltas() {
  std::vector<window::Delta> out;
  for (size_t s = 0; s < used_; ++s) {
    Slot& slot = slots_[s];
    for (size_t m = 0; m < pipeline::kKeyColumns; ++m) {
      for (uint32_t key : slot.touched[m]) {
        out.push_back(
            window::Delta{slot.index * size_s_, static_cast<uint32_t>(m), key, slot.sums[m][key]});
        slot.sums[m][key] = 0;
      }
      slot.touched[m].clear();
    }
  }
  used_ = 0;
  slot_of_.clear();
  cached_index_ = INT64_MIN;
  cached_ = nullptr;
  return out;
}

}  // namespace lf::bench::proto
