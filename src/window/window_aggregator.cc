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

// True when every id of `ids[0, n)` is below kPackedKeys. Four independent ORs: about one
// instruction per id.
bool AllBelow(const uint32_t* ids, size_t n) {
  uint32_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a |= ids[i];
    b |= ids[i + 1];
    c |= ids[i + 2];
    d |= ids[i + 3];
  }
  for (; i < n; ++i) a |= ids[i];
  return ((a | b | c | d) & ~(kPackedKeys - 1)) == 0;
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

  // Whether every total of the batch fits the packed key, decided once per batch so that the
  // per-event loop below is free of checks.
  bool packs = metric_count <= kPackedMetrics;
  if (packs && size_s_ < kAlwaysPackedWindowS) {
    int64_t lo = ts[0], hi = ts[0];
    for (size_t i = 1; i < n; ++i) {
      lo = std::min(lo, ts[i]);
      hi = std::max(hi, ts[i]);
    }
    packs = FloorDiv(lo, size_s_) >= INT32_MIN && FloorDiv(hi, size_s_) <= INT32_MAX;
  }
  for (uint32_t m = 0; packs && m < metric_count; ++m) packs = AllBelow(key_columns_[m], n);

  auto count_late = [&](size_t i, int64_t index) {
    if (watermark_s_ != kNoWatermark && (index + 1) * size_s_ <= watermark_s_) {
      ++late_events_;
      if (late_by_partition) ++(*late_by_partition)[batch.partition[i]];
    }
  };
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
    for (uint32_t m = 0; m < metric_count; ++m)
      AddSaturating(&wide_deltas_[WideKey{index, m, key_columns_[m][i]}], bytes[i]);
  }
}

std::vector<Delta> WindowAggregator::TakeDeltas() {
  std::vector<Delta> out;
  out.reserve(deltas_.size() + wide_deltas_.size());
  for (const auto& [packed, value] : deltas_) {
    auto index = static_cast<int32_t>(static_cast<uint32_t>(packed >> 32));
    out.push_back(Delta{static_cast<int64_t>(index) * size_s_,
                        static_cast<uint32_t>((packed >> kKeyBits) & ((1u << kMetricBits) - 1)),
                        static_cast<uint32_t>(packed & ((1u << kKeyBits) - 1)), value});
  }
  for (const auto& [k, value] : wide_deltas_)
    out.push_back(Delta{k.index * size_s_, k.metric, k.key, value});
  deltas_.clear();
  wide_deltas_.clear();
  return out;
}

}  // namespace lf::window
