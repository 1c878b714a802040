#include "window/window_aggregator.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

#include "common/time.h"

namespace lf::window {
namespace {

using pipeline::EventBatch;

// Times as seconds within 2026-11-22 ("10:01:00" -> Unix seconds).
int64_t At(const char* hhmmss) {
  int h, m, s;
  std::sscanf(hhmmss, "%d:%d:%d", &h, &m, &s);
  return 1795305600 + h * 3600 + m * 60 + s;
}

void Push(EventBatch* b, int64_t ts, uint32_t antenna, int64_t bytes, uint32_t device = 0,
          uint32_t app = 0, int32_t partition = 0) {
  b->bytes.push_back(bytes);
  b->timestamp_s.push_back(ts);
  b->keys[0].push_back(antenna);
  b->keys[1].push_back(device);
  b->keys[2].push_back(app);
  b->partition.push_back(partition);
  b->offset.push_back(static_cast<int64_t>(b->offset.size()));
}

// (window start, metric, key) -> value
std::map<std::tuple<int64_t, uint32_t, uint32_t>, int64_t> Totals(WindowAggregator& w) {
  std::map<std::tuple<int64_t, uint32_t, uint32_t>, int64_t> out;
  for (const Delta& d : w.TakeDeltas()) out[{d.window_start_s, d.metric, d.key}] += d.value;
  return out;
}

TEST(WindowAggregatorTest, BoundariesAreHalfOpen) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch b;
  Push(&b, At("10:00:00"), 0, 1);  // first second of [10:00, 10:05)
  Push(&b, At("10:04:59"), 0, 2);  // last second of it
  Push(&b, At("10:05:00"), 0, 4);  // first of the next
  w.Add(b);
  auto t = Totals(w);
  EXPECT_EQ((t[{At("10:00:00"), 0, 0}]), 3);
  EXPECT_EQ((t[{At("10:05:00"), 0, 0}]), 4);
  EXPECT_EQ(t.size(), 6u);  // 2 windows x 3 metrics
}

TEST(WindowAggregatorTest, NegativeTimesFloorDown) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch b;
  Push(&b, -1, 0, 7);
  w.Add(b);
  auto t = Totals(w);
  EXPECT_EQ((t[{-300, 0, 0}]), 7);
}

TEST(WindowAggregatorTest, EachMetricGroupsByItsOwnKey) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch b;
  Push(&b, At("10:01:00"), /*antenna=*/1, 10, /*device=*/5, /*app=*/2);
  Push(&b, At("10:02:00"), /*antenna=*/1, 20, /*device=*/6, /*app=*/2);
  w.Add(b);
  auto t = Totals(w);
  int64_t win = At("10:00:00");
  EXPECT_EQ((t[{win, 0, 1}]), 30);  // antenna 1
  EXPECT_EQ((t[{win, 1, 5}]), 10);  // device 5
  EXPECT_EQ((t[{win, 1, 6}]), 20);  // device 6
  EXPECT_EQ((t[{win, 2, 2}]), 30);  // app 2
}

WindowAggregator FiveMinutes() {
  return WindowAggregator({.size = std::chrono::minutes(5), .lateness = std::chrono::minutes(1)},
                          DeviceMetrics());
}

TEST(WindowAggregatorTest, WatermarkIsTheSlowestPartitionMinusLateness) {
  WindowAggregator w = FiveMinutes();
  EXPECT_EQ(w.watermark_s(), kNoWatermark);
  EventBatch b;
  Push(&b, At("10:07:00"), 0, 1, 0, 0, /*partition=*/0);
  Push(&b, At("10:03:00"), 0, 1, 0, 0, /*partition=*/0);  // out of order: max stays 10:07
  Push(&b, At("10:04:00"), 0, 1, 0, 0, /*partition=*/1);
  w.Add(b);
  EXPECT_EQ(w.watermark_s(), kNoWatermark);  // Add never moves it by itself
  EXPECT_EQ(w.WatermarkFor({At("10:07:00"), At("10:04:00")}), At("10:03:00"));
  EXPECT_EQ(w.WatermarkFor({At("10:07:00"), kNoWatermark}), kNoWatermark);
  EXPECT_EQ(w.WatermarkFor({}), kNoWatermark);
  w.AdvanceWatermark(At("10:06:00"));
  EXPECT_TRUE(w.IsFinal(At("10:00:00")));
  EXPECT_FALSE(w.IsFinal(At("10:05:00")));
  w.AdvanceWatermark(At("10:01:00"));  // never lowers
  EXPECT_EQ(w.watermark_s(), At("10:06:00"));
}

TEST(WindowAggregatorTest, LateEventCorrectsItsWindow) {
  WindowAggregator w = FiveMinutes();
  EventBatch b;
  Push(&b, At("10:01:00"), 0, 100);
  w.Add(b);
  w.AdvanceWatermark(At("10:06:00"));  // the 10:00 window is final
  b.clear();
  Push(&b, At("10:02:00"), 0, 5, 0, 0, /*partition=*/2);  // late: still counted, flagged
  Push(&b, At("10:05:30"), 0, 1);                         // its window is still open
  std::vector<int64_t> late_by_partition(3);
  w.Add(b, &late_by_partition);
  auto t = Totals(w);
  EXPECT_EQ((t[{At("10:00:00"), 0, 0}]), 105);
  EXPECT_EQ(w.late_events(), 1);
  EXPECT_EQ(late_by_partition[2], 1);
  EXPECT_EQ(late_by_partition[0], 0);
}

TEST(WindowAggregatorTest, EventInAWindowEndingExactlyAtTheWatermarkIsLate) {
  WindowAggregator w = FiveMinutes();
  w.AdvanceWatermark(At("10:05:00"));  // exactly the end of the 10:00 window
  EventBatch b;
  Push(&b, At("10:04:59"), 0, 1);
  Push(&b, At("10:05:00"), 0, 1);
  w.Add(b);
  EXPECT_EQ(w.late_events(), 1);
}

TEST(WindowAggregatorTest, TotalsSaturateInsteadOfOverflowing) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch b;
  Push(&b, At("10:01:00"), 0, INT64_MAX);
  Push(&b, At("10:02:00"), 0, 5);
  w.Add(b);
  EXPECT_EQ((Totals(w)[{At("10:00:00"), 0, 0}]), INT64_MAX);
}

TEST(WindowAggregatorTest, ZeroByteEventsStillMakeAWindow) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch b;
  Push(&b, At("10:01:00"), 0, 0);
  w.Add(b);
  auto t = Totals(w);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ((t[{At("10:00:00"), 0, 0}]), 0);
}

TEST(WindowAggregatorTest, TakeDeltasResetsAndDiscardDrops) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch b;
  Push(&b, At("10:01:00"), 0, 1);
  w.Add(b);
  EXPECT_EQ(w.TakeDeltas().size(), 3u);
  EXPECT_TRUE(w.TakeDeltas().empty());
  w.Add(b);
  w.DiscardDeltas();
  EXPECT_TRUE(w.TakeDeltas().empty());
}

TEST(WindowAggregatorTest, MoreMetricsThanThePackedKeyHoldsAreAllCounted) {
  // Six metrics (two per key column): the packed key has room for four.
  std::vector<MetricSpec> metrics = DeviceMetrics();
  for (const MetricSpec& m : DeviceMetrics()) metrics.push_back({m.name + "_again", m.key});
  WindowAggregator w({}, metrics);
  EventBatch b;
  Push(&b, At("10:01:00"), 7, 10, /*device=*/8, /*app=*/9);
  Push(&b, At("10:02:00"), 7, 5, /*device=*/8, /*app=*/9);
  w.Add(b);
  auto t = Totals(w);
  ASSERT_EQ(t.size(), 6u);
  for (uint32_t m = 0; m < 6; ++m) EXPECT_EQ((t[{At("10:00:00"), m, 7 + m % 3}]), 15) << m;
}

TEST(WindowAggregatorTest, KeyIdsBeyond30BitsStayApart) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch b;
  const uint32_t big = (1u << 30) + 5;  // packed, it would read as key 5 of the next metric
  Push(&b, At("10:01:00"), big, 10, /*device=*/5, /*app=*/5);
  Push(&b, At("10:01:00"), 5, 1, /*device=*/5, /*app=*/5);
  w.Add(b);
  EXPECT_EQ(w.pending_keys(), 4u);
  auto t = Totals(w);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ((t[{At("10:00:00"), 0, big}]), 10);
  EXPECT_EQ((t[{At("10:00:00"), 0, 5}]), 1);
  EXPECT_EQ((t[{At("10:00:00"), 1, 5}]), 11);
  EXPECT_EQ((t[{At("10:00:00"), 2, 5}]), 11);
}

TEST(WindowAggregatorTest, OneSecondWindowsAfter2038AreNotWrapped) {
  WindowAggregator w({.size = std::chrono::seconds(1), .lateness = std::chrono::seconds(0)},
                     DeviceMetrics());
  EventBatch b;
  const int64_t far = int64_t{253402300799};  // 9999-12-31T23:59:59Z: window index > 2^31
  Push(&b, far, 0, 3);
  Push(&b, far - (int64_t{1} << 32), 0, 4);  // the same index modulo 2^32
  w.Add(b);
  auto t = Totals(w);
  EXPECT_EQ((t[{far, 0, 0}]), 3);
  EXPECT_EQ((t[{far - (int64_t{1} << 32), 0, 0}]), 4);
  EXPECT_EQ(t.size(), 6u);
}

// Every delta of a TakeDeltas, checking that no (window, metric, key) is sent twice (the sink's
// single upsert would refuse that).
std::map<std::tuple<int64_t, uint32_t, uint32_t>, int64_t> UniqueTotals(WindowAggregator& w) {
  std::map<std::tuple<int64_t, uint32_t, uint32_t>, int64_t> out;
  for (const Delta& d : w.TakeDeltas()) {
    const bool inserted =
        out.emplace(std::make_tuple(d.window_start_s, d.metric, d.key), d.value).second;
    EXPECT_TRUE(inserted) << "sent twice: window " << d.window_start_s << " metric " << d.metric
                          << " key " << d.key;
  }
  return out;
}

TEST(WindowAggregatorTest, ATotalSplitAcrossDenseAndHashedBatchesIsSentOnce) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch dense, hashed, wide;
  Push(&dense, At("10:01:00"), 1, 10, /*device=*/5, /*app=*/2);
  Push(&hashed, At("10:02:00"), kDenseKeyLimit + 3, 20, /*device=*/5, /*app=*/2);  // packed map
  Push(&wide, At("10:03:00"), (1u << 30) + 1, 40, /*device=*/5, /*app=*/2);        // wide map
  w.Add(dense);
  w.Add(hashed);
  w.Add(wide);
  EXPECT_EQ(w.pending_keys(), 9u);  // 3 dense + 3 packed + 3 wide, before merging
  auto t = UniqueTotals(w);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ((t[{At("10:00:00"), 0, 1}]), 10);
  EXPECT_EQ((t[{At("10:00:00"), 0, kDenseKeyLimit + 3}]), 20);
  EXPECT_EQ((t[{At("10:00:00"), 0, (1u << 30) + 1}]), 40);
  EXPECT_EQ((t[{At("10:00:00"), 1, 5}]), 70);
  EXPECT_EQ((t[{At("10:00:00"), 2, 2}]), 70);
}

TEST(WindowAggregatorTest, WindowsPastTheDenseBudgetAreHashedAndMergedLater) {
  WindowAggregator w({}, DeviceMetrics());
  EventBatch big, small;
  // An antenna id just below the dense limit: one slot's arrays take most of the budget, so only
  // the first window of this batch is dense and the next two are hashed.
  for (int k = 0; k < 3; ++k) Push(&big, At("10:00:00") + 300 * k, kDenseKeyLimit - 1, 1 + k, 7);
  // Small ids: the same three windows get slots now and must absorb the hashed totals.
  for (int k = 0; k < 3; ++k) Push(&small, At("10:00:00") + 300 * k, 3, 100, 7);
  w.Add(big);
  w.Add(small);
  auto t = UniqueTotals(w);
  for (int k = 0; k < 3; ++k) {
    const int64_t start = At("10:00:00") + 300 * k;
    EXPECT_EQ((t[{start, 0, kDenseKeyLimit - 1}]), 1 + k) << k;
    EXPECT_EQ((t[{start, 0, 3}]), 100) << k;
    EXPECT_EQ((t[{start, 1, 7}]), 101 + k) << k;
    EXPECT_EQ((t[{start, 2, 0}]), 101 + k) << k;
  }
  EXPECT_EQ(t.size(), 12u);
  EXPECT_TRUE(w.TakeDeltas().empty());
}

// Random batches over every path (dense, past the slot limit, packed, wide, one-second windows
// across 2038, zero bytes, saturation) against a plain map.
TEST(WindowAggregatorTest, MatchesAPlainMapOnRandomBatches) {
  for (int64_t size : {1, 60, 300}) {
    WindowAggregator w({.size = std::chrono::seconds(size), .lateness = std::chrono::seconds(0)},
                       DeviceMetrics());
    std::mt19937_64 rng(static_cast<uint64_t>(size));
    std::map<std::tuple<int64_t, uint32_t, uint32_t>, int64_t> expected;
    // Per batch, which ids it may hold: small ones only (dense slots), some past the dense limit
    // (the packed map) or some past 30 bits (the wide map).
    int mode = 0;
    auto key = [&]() -> uint32_t {
      if (mode > 0 && rng() % 16 == 0)
        return (mode == 1 ? kDenseKeyLimit : 1u << 30) + static_cast<uint32_t>(rng() % 3);
      return static_cast<uint32_t>(rng() % 50);
    };
    for (int flush = 0; flush < 6; ++flush) {
      for (int b = 0; b < 5; ++b) {
        EventBatch batch;
        mode = static_cast<int>(rng() % 4) % 3;
        const bool spread = rng() % 3 == 0;  // hundreds of windows: past the slot limit
        const int64_t base = rng() % 4 == 0 ? int64_t{2147483647} + 100 : At("10:00:00");
        for (int i = 0; i < 200; ++i) {
          const int64_t ts = base + static_cast<int64_t>(rng() % (spread ? 400000 : 900));
          int64_t bytes = static_cast<int64_t>(rng() % 1000);
          if (rng() % 50 == 0) bytes = 0;
          if (rng() % 500 == 0) bytes = INT64_MAX / 2;
          const uint32_t keys[3] = {key(), key(), key()};
          Push(&batch, ts, keys[0], bytes, keys[1], keys[2]);
          const int64_t start = FloorDiv(ts, size) * size;
          for (uint32_t m = 0; m < 3; ++m) {
            int64_t& total = expected[{start, m, keys[m]}];
            if (__builtin_add_overflow(total, bytes, &total)) total = INT64_MAX;
          }
        }
        w.Add(batch);
      }
      EXPECT_EQ(UniqueTotals(w), expected) << "window " << size << " s, flush " << flush;
      expected.clear();
    }
  }
}

}  // namespace
}  // namespace lf::window
