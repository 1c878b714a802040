#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "pipeline/commit_sink.h"
#include "pipeline/definition.h"
#include "pipeline/record_batch.h"
#include "window/aggregate.h"

namespace lf::window {

// The change of one metric's window and group since the last TakeDeltas().
struct MetricDelta {
  uint32_t metric = 0;  // index into Definition::metrics
  int64_t window_start_s = 0;
  uint32_t group = 0;  // see MetricAggregator::GroupValues
  AggregateState state;
  // count_distinct: members this process had not seen in the window (canonical text); the sink
  // adds only those it did not already hold, so replays and other processes count once.
  std::vector<std::string> members;
};

// Aggregates the metrics of any definition (SPEC §4) over record batches: tumbling event-time
// windows aligned to the epoch, `where` filters, 0-4 group fields (a row with a null group field
// is not counted in that metric), every aggregate of window/aggregate.h. Tracks the watermark as
// WindowAggregator does. Not thread-safe.
class MetricAggregator {
 public:
  // `def` must outlive the aggregator; `def.fields` is the schema of the batches given to Add.
  explicit MetricAggregator(const pipeline::Definition* def);

  // Adds the rows of `batch` whose keep byte is set (all rows when `keep` is empty). Rows of a
  // definition without event_time get `ingest_time_s`. A row is late when the window of the
  // finest metric it falls in had ended at or before the watermark; it still counts (a
  // correction) and is counted by partition in `late_by_partition` when given.
  void Add(const pipeline::RecordBatch& batch, std::span<const uint8_t> keep, int64_t ingest_time_s,
           std::vector<int64_t>* late_by_partition = nullptr);

  // Every delta since the previous call, then forgets them (the members seen stay known).
  std::vector<MetricDelta> TakeDeltas();
  // TakeDeltas as the rows sinks store: group ids resolved to their values, appended to `out`.
  void TakeRows(std::vector<pipeline::MetricRow>* out);
  // Drops uncommitted deltas and the members seen (after another process took a partition over).
  void DiscardDeltas();

  void AdvanceWatermark(int64_t watermark_s);
  // Forgets the watermark (after a rebalance: it belonged to the partitions owned before).
  void ResetWatermark();
  // As WindowAggregator::WatermarkFor, with the definition's lateness.
  int64_t WatermarkFor(const std::vector<int64_t>& max_event_times) const;
  int64_t watermark_s() const { return watermark_s_; }
  int64_t late_events() const { return late_events_; }

  // The event time of `row`, in seconds.
  int64_t EventTimeS(const pipeline::RecordBatch& batch, size_t row, int64_t ingest_time_s) const;
  // The values of `metric`'s group fields for `group`, as text PostgreSQL reads for their types.
  const std::vector<std::string>& GroupValues(uint32_t metric, uint32_t group) const {
    return metrics_[metric].group_text[group];
  }
  const AggregateFunction& function(uint32_t metric) const { return metrics_[metric].fn; }
  const pipeline::Definition& definition() const { return *def_; }

 private:
  struct Condition {
    int column = -1;
    pipeline::Condition::Kind kind = pipeline::Condition::Kind::kEquals;
    std::vector<std::string> text;  // as written (canonical)
    std::vector<int64_t> ints;      // int64, bool, timestamp (micros)
    std::vector<double> doubles;
    std::vector<int64_t> ids;  // string columns: ids of `text` in the batch's dictionary (-1)
    bool present = true;
  };
  struct WindowGroup {
    int64_t window_start_s;
    uint32_t group;
    bool operator==(const WindowGroup&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const WindowGroup& k) {
      return H::combine(std::move(h), k.window_start_s, k.group);
    }
  };
  struct Compiled {
    int64_t window_s = 0;
    std::vector<int> group_columns;
    int argument = -1;
    AggregateFunction fn{pipeline::AggregateKind::kCount, false};
    std::vector<Condition> where;
    absl::flat_hash_map<std::array<int64_t, 4>, uint32_t> group_ids;
    std::vector<std::vector<std::string>> group_text;
    absl::flat_hash_map<WindowGroup, uint32_t> delta_index;
    std::vector<MetricDelta> deltas;
    absl::flat_hash_map<WindowGroup, absl::flat_hash_set<int64_t>> seen;  // count_distinct
  };

  bool Matches(const Compiled& m, const pipeline::RecordBatch& batch, size_t row) const;
  uint32_t GroupId(Compiled* m, const pipeline::RecordBatch& batch, size_t row);
  // Text of a value of column `col` in `row` (for group values and members).
  std::string ValueText(const pipeline::RecordBatch& batch, int col, size_t row) const;

  const pipeline::Definition* def_;
  int event_time_column_ = -1;
  int64_t finest_window_s_ = 0;
  int64_t lateness_s_ = 0;
  std::vector<Compiled> metrics_;
  int64_t watermark_s_;
  int64_t late_events_ = 0;
};

}  // namespace lf::window
