#pragma once

#include <cstdint>
#include <map>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/event_batch.h"

namespace lf::pipeline {

inline constexpr int64_t kNoOffset = -1;        // nothing committed yet: start at the earliest
inline constexpr int64_t kNoEventTime = INT64_MIN;

// What a sink has durably committed for one source partition.
struct CommittedPartition {
  int64_t next_offset = kNoOffset;         // the first offset not yet applied
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
};

// One windowed total to add to the window table. Views stay valid until Commit returns.
struct WindowRow {
  int64_t window_start_s;
  std::string_view metric;
  std::string_view key;
  int64_t value;
};

// A range of offsets that was lost before it could be read (retention, topic recreated).
struct DataLoss {
  int32_t partition = 0;
  int64_t from_offset = 0;
  int64_t to_offset = 0;  // exclusive
};

// Everything one flush of the speed layer makes durable, atomically.
struct SpeedFlush {
  std::vector<WindowRow> rows;
  std::vector<DeadLetter> dead_letters;
  std::vector<DataLoss> losses;
  std::vector<PartitionProgress> progress;
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
  // (another process took the partition over). Other errors leave the sink unchanged too and may
  // be retried.
  virtual absl::Status Commit(const SpeedFlush& flush) = 0;
};

}  // namespace lf::pipeline
