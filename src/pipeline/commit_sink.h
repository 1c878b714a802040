#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/event_batch.h"

namespace lf::pipeline {

inline constexpr int64_t kNoOffset = -1;  // nothing committed yet: start at the earliest
inline constexpr int64_t kNoEventTime = INT64_MIN;

// What a sink has durably committed for one source partition.
struct CommittedPartition {
  int64_t next_offset = kNoOffset;          // the first offset not yet applied
  int64_t max_event_time_s = kNoEventTime;  // the largest event time applied so far
};

// Progress of one partition within a flush: the sink applies the flush only if its committed
// offset still equals `expected_offset` (compare-and-set), then stores `next_offset`.
struct PartitionProgress {
  int32_t partition = 0;
  int64_t expected_offset = kNoOffset;
  int64_t next_offset = kNoOffset;
  int64_t max_event_time_s = kNoEventTime;
  int64_t events = 0;  // valid events in the flushed range
  int64_t bad = 0;
  int64_t late = 0;
  int64_t lost = 0;  // offsets the broker no longer had (data loss) skipped in this range
  int64_t lag = -1;  // messages on the broker after next_offset when known, else -1
};

// One windowed total to add to the window table. Views stay valid until Commit returns.
struct WindowRow {
  int64_t window_start_s;
  std::string_view metric;
  std::string_view key;
  int64_t value;
};

// The change of one window of a definition-driven metric (SPEC §4): its group field values as
// text, the partial aggregate (window/aggregate.h: count, integer or float sum/min/max, avg's sum
// and count), and for count_distinct the members this process had not sent before.
struct MetricRow {
  uint32_t metric = 0;  // index into Definition::metrics
  int64_t window_start_s = 0;
  std::vector<std::string> group;
  int64_t count = 0;
  int64_t i = 0;
  double d = 0;
  std::vector<std::string> members;
};

// A range of offsets that was lost before it could be read (retention, topic recreated).
struct DataLoss {
  int32_t partition = 0;
  int64_t from_offset = 0;
  int64_t to_offset = 0;  // exclusive
};

// Everything one flush of the speed layer makes durable, atomically.
struct SpeedFlush {
  std::vector<WindowRow> rows;         // the telecom pipeline's long-layout rows
  std::vector<MetricRow> metric_rows;  // a definition's wide-layout deltas
  std::vector<DeadLetter> dead_letters;
  std::vector<DataLoss> losses;
  std::vector<PartitionProgress> progress;
};

// A lake file closed by the speed layer: written and fsynced under `temp_path`, visible to readers
// only once renamed to `path` after its commit. Paths are relative to the lake root.
struct LakeFile {
  int64_t hour_s = 0;  // the event-time hour it belongs to (Unix seconds)
  std::string path;
  std::string temp_path;
  int64_t rows = 0;
  int64_t bytes = 0;
};

// What one lake commit makes durable, atomically: the files (a manifest entry each) and the lake's
// offsets (compare-and-set as in SpeedFlush).
struct LakeFlush {
  std::vector<LakeFile> files;
  std::vector<PartitionProgress> progress;
};

// The durable side of the lake's exactly-once contract (PostgreSQL in production). One thread.
class LakeCommitSink {
 public:
  virtual ~LakeCommitSink() = default;
  virtual absl::StatusOr<std::map<int32_t, CommittedPartition>> Load(
      const std::vector<int32_t>& partitions) = 0;
  // Records the files and advances the lake's offsets iff every partition's committed offset
  // still equals expected_offset (else Aborted, nothing changed). Files for an hour already
  // marked complete mark that hour for a batch re-run.
  virtual absl::Status Commit(const LakeFlush& flush) = 0;
  // Records that `files` (committed) now have their final names.
  virtual absl::Status MarkPublished(const std::vector<LakeFile>& files) = 0;
  // Committed files not yet known to be published (roll forward after a crash).
  virtual absl::StatusOr<std::vector<LakeFile>> Unpublished() = 0;
  // Marks complete every hour that ends at or before the lake-wide watermark (the slowest
  // active partition's committed event time minus `lateness_s`) and returns those hours; each
  // hour is returned to exactly one caller. `idle_s`: partitions with nothing pending and no
  // input for that long do not hold the watermark back.
  virtual absl::StatusOr<std::vector<int64_t>> CompleteHours(int64_t lateness_s,
                                                             int64_t idle_s) = 0;
  // Every hour marked complete (to re-create missing _SUCCESS markers).
  virtual absl::StatusOr<std::vector<int64_t>> CompletedHours() = 0;
};

// The durable side of the speed layer's exactly-once contract (PostgreSQL in production, a map in
// tests). Used from one thread.
class SpeedCommitSink {
 public:
  virtual ~SpeedCommitSink() = default;
  // The committed state of `partitions`; partitions never committed get kNoOffset.
  virtual absl::StatusOr<std::map<int32_t, CommittedPartition>> Load(
      const std::vector<int32_t>& partitions) = 0;
  // Applies `flush` in one transaction iff every partition in `flush.progress` still has
  // committed offset == expected_offset; otherwise changes nothing and returns an Aborted status
  // (another process took the partition over). A partition must have been loaded (Load) before
  // its first commit; one that was not is Aborted too. Other errors leave the sink unchanged and
  // may be retried.
  virtual absl::Status Commit(const SpeedFlush& flush) = 0;
};

}  // namespace lf::pipeline
