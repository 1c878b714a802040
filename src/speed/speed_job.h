#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "lake/lake_writer.h"
#include "pipeline/commit_sink.h"
#include "pipeline/record_source.h"
#include "speed/engine.h"
#include "window/window_aggregator.h"

namespace lf::speed {

struct SpeedOptions {
  std::string topic = "devices";
  std::chrono::milliseconds flush_interval{2000};
  // Stop after this long without input (treating every window as final). Time blocked on
  // PostgreSQL does not count, nor time while the broker does not answer; after such an outage
  // idleness must last at least `settle_after_outage` (a lost group session rejoins first).
  std::optional<std::chrono::milliseconds> exit_when_idle;
  std::chrono::milliseconds settle_after_outage{10000};
  window::WindowOptions windows;
  size_t poll_batch = 20000;
  std::chrono::milliseconds status_interval{10000};
  // A partition without input for this long stops holding the watermark back.
  std::chrono::milliseconds partition_idle{10000};
  // Lake files roll (close, commit, publish) when the oldest is this old, when they hold this
  // many bytes, or when the watermark passes an open file's hour.
  std::chrono::milliseconds lake_roll_interval{300000};
  int64_t lake_roll_bytes = 256 << 20;
  // The clocks, sleeping and (with a lake) files; nullptr: Env::Default(). The lake writer's
  // own env is used for its files.
  Env* env = nullptr;
};

struct SpeedSummary {
  int64_t events = 0;  // valid events committed by this process
  int64_t bad = 0;
  int64_t late = 0;
  int64_t lost = 0;
  int64_t rows_written = 0;  // window rows upserted
  int64_t flushes = 0;
  int64_t lake_rows = 0;  // events committed to the lake by this process
  int64_t lake_files = 0;
  int64_t watermark_s = pipeline::kNoEventTime;
};

// The speed layer (see README.md). Also the source's PartitionListener. Single-threaded.
class SpeedJob : public pipeline::PartitionListener {
 public:
  // `sink` must outlive the job. With `lake_writer` and `lake_sink` (both or neither; they must
  // outlive the job) every valid event is also archived to the lake, exactly once. `engine`
  // decodes and aggregates; without one, the telecom pipeline's (options.windows).
  SpeedJob(SpeedOptions options, pipeline::SpeedCommitSink* sink,
           lake::LakeWriter* lake_writer = nullptr, pipeline::LakeCommitSink* lake_sink = nullptr,
           std::unique_ptr<SpeedEngine> engine = nullptr);

  // Consumes `source` until shutdown is requested (SIGINT/SIGTERM) or, with exit_when_idle, no
  // input arrived for that long; commits what is done and closes the source. Returns an error
  // only when progress cannot be committed (and then nothing uncommitted is lost: it is read
  // again on restart).
  absl::StatusOr<SpeedSummary> Run(pipeline::RecordSource* source);

  absl::StatusOr<std::map<int32_t, int64_t>> OnAssigned(
      const std::vector<int32_t>& partitions) override;
  void OnRevoked(const std::vector<int32_t>& partitions) override;
  void OnDataLoss(int32_t partition, int64_t from, int64_t to) override;
  void OnOffsetReset(int32_t partition, int64_t offset) override;

  const SpeedSummary& summary() const { return summary_; }

 private:
  struct Partition {
    bool assigned = false;
    int64_t committed = pipeline::kNoOffset;  // offset stored in the sink
    int64_t next = pipeline::kNoOffset;       // next offset to apply
    int64_t max_event_time_s = pipeline::kNoEventTime;
    int64_t events = 0, bad = 0, lost = 0;
    bool dirty = false;
    std::chrono::steady_clock::time_point last_active;  // assignment or last message
    // The lake's own progress (sink "lake"): it skips what it already committed.
    int64_t lake_committed = pipeline::kNoOffset;
    int64_t lake_next = pipeline::kNoOffset;
    int64_t lake_max_event_time_s = pipeline::kNoEventTime;
    int64_t lake_rows = 0;
    bool lake_dirty = false;
  };

  Partition& PartitionState(int32_t p);
  void Process(std::span<const pipeline::RawMessage> messages);
  // After the lake failed to write or close its files (a full disk): drops them and pauses the
  // lake, backing off, while the metrics go on; ResumeLake() then reads the lake's part again
  // from its committed offsets. Its offsets never move past rows it could not write.
  void PauseLake(const absl::Status& cause);
  absl::Status ResumeLake();
  // Watermark: the slowest active partition's largest event time minus the lateness (SPEC §1.3
  // and DESIGN.md); partitions idle longer than partition_idle do not hold it back, nor do those
  // that never held an event and have nothing to read.
  void UpdateWatermark(std::chrono::steady_clock::time_point now);
  // Commits everything pending and waits for it; retries transient errors until shutdown.
  absl::Status Flush();
  // With --exit-when-idle, once idle: true when the broker answers, so "nothing to read" means
  // "no input". Otherwise (away, or just back and the group settling) restarts the idle clock.
  bool BrokerConfirmsIdle(pipeline::RecordSource* source);
  // Hands everything pending to a committer thread and returns (at most one commit is in flight:
  // the next one's expected offsets are this one's new offsets). Call FinishFlush first.
  absl::Status StartFlush();
  // Waits for the commit in flight, if any; on success applies it (Committed). Returns its status.
  absl::Status WaitInFlight();
  // WaitInFlight, and a lost compare-and-set resyncs; other errors are returned.
  absl::Status FinishFlush();
  // After a commit succeeded.
  void Committed(const pipeline::SpeedFlush& flush);
  // Closes every open lake file, commits them with the lake's offsets, publishes them, and marks
  // hours complete. Retries transient errors until shutdown.
  absl::Status RollLake();
  bool LakeShouldRoll(std::chrono::steady_clock::time_point now) const;
  // Start-up: publish committed-but-unrenamed files, delete dead writers' temporary files,
  // re-create missing _SUCCESS markers.
  absl::Status RecoverLake();
  absl::Status MarkCompleteHours();
  // After a failed compare-and-set: forget uncommitted work and restart from committed offsets.
  absl::Status Resync();
  // Fills *start with the committed state of `partitions` in both sinks.
  absl::Status LoadCommitted(const std::vector<int32_t>& partitions);
  void LogStatus();

  // A flush being committed by a committer thread; only that thread uses sink_ meanwhile.
  struct InFlight {
    pipeline::SpeedFlush flush;
    std::future<absl::Status> done;
  };

  SpeedOptions options_;
  Env* env_;
  pipeline::SpeedCommitSink* sink_;
  std::unique_ptr<InFlight> inflight_;
  lake::LakeWriter* lake_writer_;
  pipeline::LakeCommitSink* lake_sink_;
  std::vector<uint8_t> pg_keep_, lake_keep_;  // per batch row, only when some sink skips rows
  std::vector<uint8_t> wanted_;               // per polled message: some sink applies it
  std::vector<DecodeResult> decoded_;         // per polled message
  pipeline::RecordSource* source_ = nullptr;
  std::unique_ptr<SpeedEngine> engine_;
  std::chrono::milliseconds lake_backoff_{0};  // after lake write failures; 0 after a lake commit
  std::vector<pipeline::DeadLetter> dead_letters_;
  std::vector<pipeline::DataLoss> losses_;
  std::vector<Partition> partitions_;  // indexed by partition id
  std::vector<int64_t> late_;          // late events by partition since the last flush
  std::string error_;
  SpeedSummary summary_;
  std::chrono::steady_clock::time_point last_activity_;
  bool ever_assigned_ = false;    // idleness only counts once the group gave us an assignment
  bool broker_was_away_ = false;  // the last idleness check found the broker unreachable
  bool resynced_ = false;         // set by Resync()
  std::optional<std::chrono::steady_clock::time_point>
      lake_resume_at_;  // set while the lake is paused
  int64_t events_since_status_ = 0;
  std::chrono::steady_clock::time_point last_status_;
};

}  // namespace lf::speed
