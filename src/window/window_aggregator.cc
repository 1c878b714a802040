#include "window/window_aggregator.h"

#include <algorithm>

#include "common/time.h"

namespace lf::window {
namespace {

// Window index (fits in 32 bits for event times within years 0001–9999 and windows >= 1 s... the
// decoder enforces that range), metric (2 bits) and key id (30 bits) in one integer: one hash
// probe per event and metric, no allocation.
constexpr int kMetricBits = 2;
constexpr int kKeyBits = 30;

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
  const int64_t* ts = batch.timestamp_s.data();
  const int64_t* bytes = batch.bytes.data();
  const size_t metric_count = std::min<size_t>(metrics_.size(), 1u << kMetricBits);
  const uint32_t* key_columns[1u << kMetricBits];
  for (size_t m = 0; m < metric_count; ++m)
    key_columns[m] = batch.keys[static_cast<int>(metrics_[m].key)].data();

  for (size_t i = 0; i < n; ++i) {
    const int64_t index = FloorDiv(ts[i], size_s_);
    if (watermark_s_ != kNoWatermark && (index + 1) * size_s_ <= watermark_s_) {
      ++late_events_;
      if (late_by_partition) ++(*late_by_partition)[batch.partition[i]];
    }
    for (size_t m = 0; m < metric_count; ++m) {
      int64_t& total = deltas_[Pack(index, static_cast<uint32_t>(m), key_columns[m][i])];
      // Totals saturate at 2^63-1 (the largest BIGINT) instead of wrapping.
      if (__builtin_add_overflow(total, bytes[i], &total)) total = INT64_MAX;
    }
  }
}

std::vector<Delta> WindowAggregator::TakeDeltas() {
  std::vector<Delta> out;
  out.reserve(deltas_.size());
  for (const auto& [packed, value] : deltas_) {
    auto index = static_cast<int32_t>(static_cast<uint32_t>(packed >> 32));
    out.push_back(Delta{static_cast<int64_t>(index) * size_s_,
                        static_cast<uint32_t>((packed >> kKeyBits) & ((1u << kMetricBits) - 1)),
                        static_cast<uint32_t>(packed & ((1u << kKeyBits) - 1)), value});
  }
  deltas_.clear();
  return out;
}

}  // namespace lf::window
