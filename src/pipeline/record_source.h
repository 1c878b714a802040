#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/raw_message.h"

namespace lf::pipeline {

// Told about partitions this process gains and loses. Called on the polling thread, from inside
// RecordSource::Poll, so the listener may flush synchronously before a partition is given away.
class PartitionListener {
 public:
  virtual ~PartitionListener() = default;
  // The partitions just assigned; returns the offset to start each one from (absent: the
  // source's own default, the earliest offset).
  virtual absl::StatusOr<std::map<int32_t, int64_t>> OnAssigned(
      const std::vector<int32_t>& partitions) = 0;
  // The partitions about to be taken away; state for them must be flushed or dropped.
  virtual void OnRevoked(const std::vector<int32_t>& partitions) = 0;
  // The broker no longer holds offsets [from, to) of `partition`; the source skips to `to`.
  virtual void OnDataLoss(int32_t partition, int64_t from, int64_t to) = 0;
  // The offset needed for `partition` is beyond the broker's end (the topic was recreated); the
  // source restarts the partition at `offset`, below what was already applied.
  virtual void OnOffsetReset(int32_t partition, int64_t offset) = 0;
};

// A pull-based stream of raw messages: Kafka in production, a vector in tests.
// Not thread-safe; one pipeline thread owns it.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Up to `max` messages, waiting at most `timeout`. Empty means "nothing yet", never end of
  // stream. Payloads stay valid until the next Poll.
  virtual absl::StatusOr<std::span<const RawMessage>> Poll(size_t max,
                                                           std::chrono::milliseconds timeout) = 0;
  // Restarts `partition` at `offset` (after another process advanced it).
  virtual absl::Status Seek(int32_t partition, int64_t offset) = 0;
  // Mirrors committed progress to the source (Kafka group offsets, for lag tools). Advisory.
  virtual void MirrorCommit(const std::map<int32_t, int64_t>& next_offsets) {}
  // Messages still to read per assigned partition, when known (-1 unknown). May ask the broker
  // (briefly) for a partition not fetched yet.
  virtual std::map<int32_t, int64_t> Lag() { return {}; }
  // Whether "nothing to read" can be believed: an error when the source cannot reach its broker
  // (then an empty Poll means "broker away", not "no input").
  virtual absl::Status CheckReachable() { return absl::OkStatus(); }
  // Leaves the group cleanly; no further Poll.
  virtual absl::Status Close() { return absl::OkStatus(); }
};

}  // namespace lf::pipeline
