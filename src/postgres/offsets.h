#pragma once

// lf_offsets access shared by the speed and lake sinks (internal to this module).

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/commit_sink.h"
#include "postgres/connection.h"

namespace lf::postgres {

struct OffsetsKey {
  std::string pipeline;
  std::string sink;
  std::string topic;
};

// Creates missing rows (next_offset -1) for `partitions` and returns their committed state.
absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> LoadOffsets(
    PGconn* conn, const OffsetsKey& key, const std::vector<int32_t>& partitions);

// Inside an open transaction: locks the rows of `progress`'s partitions (in partition order) and
// checks each still holds expected_offset. Returns Aborted naming the first mismatch.
absl::Status LockAndCheckOffsets(PGconn* conn, const OffsetsKey& key,
                                 const std::vector<pipeline::PartitionProgress>& progress);

// Inside an open transaction: stores next offsets, raises max event times, adds the counters.
absl::Status AdvanceOffsets(PGconn* conn, const OffsetsKey& key,
                            const std::vector<pipeline::PartitionProgress>& progress);

// Inside an open transaction: the flush's dead letters into dead_letters (a message already there
// is left as it is).
absl::Status InsertDeadLetters(PGconn* conn, const std::string& topic,
                               const std::vector<pipeline::DeadLetter>& letters);

// Inside an open transaction: one lf_data_loss row per range.
absl::Status RecordLosses(PGconn* conn, const std::string& pipeline, const std::string& topic,
                          const std::vector<pipeline::DataLoss>& losses);

// Inside an open transaction: wakes dashboards listening on channel lf_speed, on commit only.
absl::Status NotifySpeed(PGconn* conn, const std::string& pipeline);

}  // namespace lf::postgres
