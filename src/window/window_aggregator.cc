#include "window/window_aggregator.h"

#include <algorithm>

#include "common/time.h"

namespace lf::window {
namespace {

// The packed key: window index (32 bits), metric (2 bits) and key id (30 bits).
constexpr int kMetricBits = 2;
constexpr int kKeyBits = 30;
constexpr uint32_t kPackedMetrics = 1u << kMetricBits;
constexpr uint32_t kPackedKeys = 1u << kKeyBits;
// Event times lie within years 0001-9999 (the decoders refuse others): from this window size on,
// every window index fits 32 bits (253 402 300 799 s / 2^31 < 118).
constexpr int64_t kAlwaysPackedWindowS = 118;
// Windows with dense slots per flush, at most: a backlog spanning more goes to the hash maps.
constexpr size_t kMaxDenseSlots = 256;

// The OR of `ids[0, n)`: at least the largest id, below twice it. Four independent ORs: about one
// instruction per id.
uint32_t OrAll(const uint32_t* ids, size_t n) {
  uint32_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a |= ids[i];
    b |= ids[i + 1];
    c |= ids[i + 2];
    d |= ids[i + 3];
  }
  for (; i < n; ++i) a |= ids[i];
  return a | b | c | d;
}

void AddSaturating(int64_t* total, int64_t bytes) {
  // Totals saturate at 2^63-1 (the largest BIGINT) instead of wrapping.
  if (__builtin_add_overflow(*total, bytes, total)) *total = INT64_MAX;
}

uint64_t Pack(int64_t window_index, uint32_t metric, uint32_t key) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(window_index))) << 32) |
         (static_cast<uint64_t>(metric) << kKeyBits) | key;
}

}  // namespace

std::vector<MetricSpec> DeviceMetrics() {
  return {{"antenna_bytes_total", pipeline::KeyColumn::kAntenna},
          {"user_bytes_total", pipeline::KeyColumn::kDevice},
          {"app_bytes_total", pipeline::KeyColumn::kApp}};
}

WindowAggregator::WindowAggregator(WindowOptions options, std::vector<MetricSpec> metrics)
    : size_s_(std::max<int64_t>(1, options.size.count())),
      lateness_s_(std::max<int64_t>(0, options.lateness.count())),
      metrics_(std::move(metrics)) {}

int64_t WindowAggregator::WindowStart(int64_t event_time_s) const {
  return FloorDiv(event_time_s, size_s_) * size_s_;
}

int64_t WindowAggregator::WatermarkFor(const std::vector<int64_t>& max_event_times) const {
  if (max_event_times.empty()) return kNoWatermark;
  int64_t low = *std::min_element(max_event_times.begin(), max_event_times.end());
  return low == kNoWatermark ? kNoWatermark : low - lateness_s_;
}

void WindowAggregator::Add(const pipeline::EventBatch& batch,
                           std::vector<int64_t>* late_by_partition) {
  const size_t n = batch.size();
  if (n == 0) return;
  const int64_t* ts = batch.timestamp_s.data();
  const int64_t* bytes = batch.bytes.data();
  const auto metric_count = static_cast<uint32_t>(metrics_.size());
  key_columns_.resize(metric_count);
  for (uint32_t m = 0; m < metric_count; ++m)
    key_columns_[m] = batch.keys[static_cast<int>(metrics_[m].key)].data();

  // Where the batch's totals can go, decided once per batch so that the per-event loops below are
  // free of checks: dense slots (few metrics, key ids below kDenseKeyLimit), the packed map (key
  // ids below 2^30, window indexes of 32 bits) or the wide map.
  bool packs = metric_count <= kPackedMetrics;
  bool dense = metric_count <= kDenseMetrics;
  size_t slot_bytes = 0;
  for (uint32_t m = 0; m < kDenseMetrics; ++m) dense_sizes_[m] = 0;
  for (uint32_t m = 0; m < metric_count && (packs || dense); ++m) {
    const uint32_t bound = OrAll(key_columns_[m], n);
    packs = packs && bound < kPackedKeys;
    dense = dense && bound < kDenseKeyLimit;
    if (dense) {
      dense_sizes_[m] = size_t{bound} + 1;
      slot_bytes += dense_sizes_[m] * (sizeof(int64_t) + sizeof(uint8_t));
    }
  }
  if (packs && size_s_ < kAlwaysPackedWindowS) {
    int64_t lo = ts[0], hi = ts[0];
    for (size_t i = 1; i < n; ++i) {
      lo = std::min(lo, ts[i]);
      hi = std::max(hi, ts[i]);
    }
    packs = FloorDiv(lo, size_s_) >= INT32_MIN && FloorDiv(hi, size_s_) <= INT32_MAX;
  }
  // At least one slot even for the largest keys: a steady stream has one or two open windows.
  max_slots_ = dense ? std::clamp<size_t>(kDenseBudgetBytes / std::max<size_t>(slot_bytes, 1), 1,
                                          kMaxDenseSlots)
                     : 0;

  auto count_late = [&](size_t i, int64_t index) {
    if (watermark_s_ != kNoWatermark && (index + 1) * size_s_ <= watermark_s_) {
      ++late_events_;
      if (late_by_partition) ++(*late_by_partition)[batch.partition[i]];
    }
  };
  auto add_hashed = [&](size_t i, int64_t index) {
    if (packs) {
      for (uint32_t m = 0; m < metric_count; ++m)
        AddSaturating(&deltas_[Pack(index, m, key_columns_[m][i])], bytes[i]);
    } else {
      for (uint32_t m = 0; m < metric_count; ++m)
        AddSaturating(&wide_deltas_[WideKey{index, m, key_columns_[m][i]}], bytes[i]);
    }
  };
  if (dense) [[likely]] {
    const uint32_t* columns[kDenseMetrics];
    for (uint32_t m = 0; m < metric_count; ++m) columns[m] = key_columns_[m];
    bool cached = false;
    int64_t cached_index = 0;
    DenseSlot* slot = nullptr;
    for (size_t i = 0; i < n; ++i) {
      const int64_t index = FloorDiv(ts[i], size_s_);
      count_late(i, index);
      if (!cached || index != cached_index) [[unlikely]] {
        slot = DenseSlotFor(index);
        cached = true;
        cached_index = index;
      }
      if (slot == nullptr) [[unlikely]] {
        add_hashed(i, index);
        continue;
      }
      for (uint32_t m = 0; m < metric_count; ++m) {
        const uint32_t key = columns[m][i];
        uint8_t& seen = slot->seen[m][key];
        if (!seen) [[unlikely]] {
          seen = 1;
          slot->touched[m].push_back(key);
          ++dense_pending_;
        }
        AddSaturating(&slot->sums[m][key], bytes[i]);
      }
    }
    return;
  }
  if (packs) [[likely]] {
    const uint32_t* columns[kPackedMetrics];
    for (uint32_t m = 0; m < metric_count; ++m) columns[m] = key_columns_[m];
    for (size_t i = 0; i < n; ++i) {
      const int64_t index = FloorDiv(ts[i], size_s_);
      count_late(i, index);
      for (uint32_t m = 0; m < metric_count; ++m)
        AddSaturating(&deltas_[Pack(index, m, columns[m][i])], bytes[i]);
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t index = FloorDiv(ts[i], size_s_);
    count_late(i, index);
    add_hashed(i, index);
  }
}

WindowAggregator::DenseSlot* WindowAggregator::DenseSlotFor(int64_t index) {
  DenseSlot* slot;
  if (auto it = slot_of_.find(index); it != slot_of_.end()) {
    slot = &slots_[it->second];
  } else {
    if (used_slots_ >= max_slots_) return nullptr;
    if (used_slots_ == slots_.size()) slots_.emplace_back();
    slot = &slots_[used_slots_];
    slot->index = index;
    slot_of_.emplace(index, static_cast<uint32_t>(used_slots_++));
  }
  for (size_t m = 0; m < kDenseMetrics; ++m) {
    if (slot->sums[m].size() < dense_sizes_[m]) {
      slot->sums[m].resize(dense_sizes_[m], 0);
      slot->seen[m].resize(dense_sizes_[m], 0);
    }
  }
  return slot;
}

void WindowAggregator::ResetDense() {
  for (size_t s = 0; s < used_slots_; ++s) {
    DenseSlot& slot = slots_[s];
    for (size_t m = 0; m < kDenseMetrics; ++m) {
      for (uint32_t key : slot.touched[m]) {
        slot.sums[m][key] = 0;
        slot.seen[m][key] = 0;
      }
      slot.touched[m].clear();
    }
  }
  used_slots_ = 0;
  dense_pending_ = 0;
  slot_of_.clear();
  // Slots past the last batch's budget would only hold memory (their arrays sized for other keys).
  if (slots_.size() > std::max<size_t>(max_slots_, 1))
    slots_.resize(std::max<size_t>(max_slots_, 1));
}

void WindowAggregator::DiscardDeltas() {
  ResetDense();
  deltas_.clear();
  wide_deltas_.clear();
}

std::vector<Delta> WindowAggregator::TakeDeltas() {
  // A window or key can have totals in more than one place (a batch that did not fit the dense
  // slots or the packed key, the slot budget of an earlier batch): fold them into one, so that
  // each (window, metric, key) is sent once. Packed into wide first, then both into the slots.
  auto unpack = [](uint64_t packed) {
    return WideKey{static_cast<int32_t>(static_cast<uint32_t>(packed >> 32)),
                   static_cast<uint32_t>((packed >> kKeyBits) & ((1u << kMetricBits) - 1)),
                   static_cast<uint32_t>(packed & ((1u << kKeyBits) - 1))};
  };
  if (!wide_deltas_.empty() && !deltas_.empty()) {
    for (const auto& [packed, value] : deltas_) AddSaturating(&wide_deltas_[unpack(packed)], value);
    deltas_.clear();
  }
  std::vector<Delta> out;
  out.reserve(deltas_.size() + wide_deltas_.size() + dense_pending_);
  auto merge_or_emit = [&](const WideKey& k, int64_t value) {
    if (k.metric < kDenseMetrics) {
      if (auto it = slot_of_.find(k.index); it != slot_of_.end()) {
        DenseSlot& slot = slots_[it->second];
        if (k.key < slot.sums[k.metric].size()) {
          if (!slot.seen[k.metric][k.key]) {
            slot.seen[k.metric][k.key] = 1;
            slot.touched[k.metric].push_back(k.key);
          }
          AddSaturating(&slot.sums[k.metric][k.key], value);
          return;
        }
      }
    }
    out.push_back(Delta{k.index * size_s_, k.metric, k.key, value});
  };
  for (const auto& [packed, value] : deltas_) merge_or_emit(unpack(packed), value);
  for (const auto& [k, value] : wide_deltas_) merge_or_emit(k, value);
  for (size_t s = 0; s < used_slots_; ++s) {
    const DenseSlot& slot = slots_[s];
    for (size_t m = 0; m < kDenseMetrics; ++m) {
      for (uint32_t key : slot.touched[m])
        out.push_back(
            Delta{slot.index * size_s_, static_cast<uint32_t>(m), key, slot.sums[m][key]});
    }
  }
  DiscardDeltas();
  return out;
}

}  // namespace lf::window
