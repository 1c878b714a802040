#include "speed/speed_job.h"

#include <algorithm>
#include <thread>

#include "common/shutdown.h"
#include "common/status.h"
#include "common/time.h"
#include "spdlog/spdlog.h"

namespace lf::speed {

using Clock = std::chrono::steady_clock;

SpeedJob::SpeedJob(SpeedOptions options, pipeline::SpeedCommitSink* sink)
    : options_(std::move(options)),
      sink_(sink),
      decoder_(&dictionaries_),
      aggregator_(options_.windows, window::DeviceMetrics()) {}

SpeedJob::Partition& SpeedJob::PartitionState(int32_t p) {
  if (static_cast<size_t>(p) >= partitions_.size()) {
    partitions_.resize(p + 1);
    late_.resize(p + 1);
  }
  return partitions_[p];
}

absl::StatusOr<std::map<int32_t, int64_t>> SpeedJob::OnAssigned(const std::vector<int32_t>& partitions) {
  last_activity_ = Clock::now();
  ever_assigned_ = true;
  auto backoff = std::chrono::milliseconds(500);
  while (true) {
    auto committed = sink_->Load(partitions);
    if (committed.ok()) {
      std::map<int32_t, int64_t> start;
      for (int32_t p : partitions) {
        Partition& s = PartitionState(p);
        s = Partition{};
        s.assigned = true;
        s.last_active = last_activity_;
        auto it = committed->find(p);
        if (it != committed->end()) {
          s.committed = s.next = it->second.next_offset;
          s.max_event_time_s = it->second.max_event_time_s;
        }
        start[p] = s.committed;
      }
      return start;
    }
    absl::Status st = committed.status();
    if (ShutdownRequested()) return st;
    spdlog::error("{}; retrying in {}", Message(st), FormatDuration(backoff));
    SleepUnlessShutdown(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
}

void SpeedJob::OnRevoked(const std::vector<int32_t>& partitions) {
  last_activity_ = Clock::now();
  absl::Status st = Flush();
  if (!st.ok()) {
    // Nothing is lost: the new owner starts from the committed offsets.
    spdlog::error("speed: could not commit before giving up partitions: {}", Message(st));
    aggregator_.DiscardDeltas();
    dead_letters_.clear();
    losses_.clear();
  }
  for (int32_t p : partitions) PartitionState(p) = Partition{};
}

void SpeedJob::OnDataLoss(int32_t partition, int64_t from, int64_t to) {
  Partition& s = PartitionState(partition);
  s.lost += to - from;
  s.next = to;
  s.dirty = true;
  losses_.push_back(pipeline::DataLoss{partition, from, to});
}

void SpeedJob::Process(std::span<const pipeline::RawMessage> messages) {
  const auto now = Clock::now();
  for (const pipeline::RawMessage& m : messages) {
    Partition& s = PartitionState(m.partition);
    if (!s.assigned) continue;
    s.last_active = now;
    if (decoder_.Decode(m.payload, m.partition, m.offset, &batch_, &error_)) {
      ++s.events;
    } else {
      ++s.bad;
      dead_letters_.push_back(
          pipeline::DeadLetter{m.partition, m.offset, std::string(m.payload), error_});
    }
    s.next = m.offset + 1;
    s.dirty = true;
  }
  const size_t n = batch_.size();
  for (size_t i = 0; i < n; ++i) {
    Partition& s = partitions_[batch_.partition[i]];
    s.max_event_time_s = std::max(s.max_event_time_s, batch_.timestamp_s[i]);
  }
  aggregator_.Add(batch_, &late_);
  events_since_status_ += static_cast<int64_t>(messages.size());
  batch_.clear();
}

void SpeedJob::UpdateWatermark(Clock::time_point now) {
  std::vector<int64_t> active;
  int64_t newest = pipeline::kNoEventTime;
  for (const Partition& s : partitions_) {
    if (!s.assigned) continue;
    newest = std::max(newest, s.max_event_time_s);
    if (now - s.last_active < options_.partition_idle) active.push_back(s.max_event_time_s);
  }
  if (!active.empty()) {
    aggregator_.AdvanceWatermark(aggregator_.WatermarkFor(active));
  } else if (newest != pipeline::kNoEventTime) {
    aggregator_.AdvanceWatermark(aggregator_.WatermarkFor({newest}));  // everything idle
  }
}

absl::Status SpeedJob::Flush() {
  pipeline::SpeedFlush flush;
  for (size_t p = 0; p < partitions_.size(); ++p) {
    Partition& s = partitions_[p];
    if (!s.assigned || !s.dirty) continue;
    flush.progress.push_back(pipeline::PartitionProgress{
        static_cast<int32_t>(p), s.committed, s.next, s.max_event_time_s, s.events, s.bad,
        late_[p], s.lost});
  }
  if (flush.progress.empty()) return absl::OkStatus();
  std::vector<window::Delta> deltas = aggregator_.TakeDeltas();
  const auto& metrics = aggregator_.metrics();
  flush.rows.reserve(deltas.size());
  for (const window::Delta& d : deltas) {
    if (d.value == 0) continue;
    flush.rows.push_back(pipeline::WindowRow{
        d.window_start_s, metrics[d.metric].name,
        dictionaries_[metrics[d.metric].key].Name(d.key), d.value});
  }
  flush.dead_letters = std::move(dead_letters_);
  dead_letters_.clear();
  flush.losses = std::move(losses_);
  losses_.clear();

  auto backoff = std::chrono::milliseconds(500);
  while (true) {
    absl::Status st = sink_->Commit(flush);
    if (st.ok()) break;
    if (absl::IsAborted(st)) {
      spdlog::warn("speed: {}; dropping uncommitted work and resuming from committed offsets",
                   Message(st));
      return Resync();
    }
    if (ShutdownRequested()) return st;
    spdlog::error("speed: {}; retrying in {}", Message(st), FormatDuration(backoff));
    SleepUnlessShutdown(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }

  std::map<int32_t, int64_t> mirror;
  for (const auto& pr : flush.progress) {
    Partition& s = partitions_[pr.partition];
    s.committed = pr.next_offset;
    s.events = s.bad = s.lost = 0;
    late_[pr.partition] = 0;
    s.dirty = s.next != pr.next_offset;
    summary_.events += pr.events;
    summary_.bad += pr.bad;
    summary_.late += pr.late;
    summary_.lost += pr.lost;
    mirror[pr.partition] = pr.next_offset;
  }
  summary_.rows_written += static_cast<int64_t>(flush.rows.size());
  ++summary_.flushes;
  if (source_) source_->MirrorCommit(mirror);
  return absl::OkStatus();
}

absl::Status SpeedJob::Resync() {
  aggregator_.DiscardDeltas();
  dead_letters_.clear();
  losses_.clear();
  std::vector<int32_t> assigned;
  for (size_t p = 0; p < partitions_.size(); ++p)
    if (partitions_[p].assigned) assigned.push_back(static_cast<int32_t>(p));
  LF_ASSIGN_OR_RETURN(auto committed, sink_->Load(assigned));
  for (int32_t p : assigned) {
    Partition& s = partitions_[p];
    s = Partition{};
    s.assigned = true;
    s.last_active = Clock::now();
    late_[p] = 0;
    auto it = committed.find(p);
    if (it != committed.end()) {
      s.committed = s.next = it->second.next_offset;
      s.max_event_time_s = it->second.max_event_time_s;
    }
    if (source_) LF_RETURN_IF_ERROR(source_->Seek(p, s.committed));
  }
  return absl::OkStatus();
}

void SpeedJob::LogStatus() {
  auto now = Clock::now();
  double secs = std::chrono::duration<double>(now - last_status_).count();
  if (secs <= 0) return;
  int64_t lag = 0;
  if (source_) {
    for (const auto& [p, l] : source_->Lag()) lag += std::max<int64_t>(0, l);
  }
  int64_t wm = aggregator_.watermark_s();
  spdlog::info("speed: {:.0f} msg/s, committed events {}, bad {}, late {}, lost {}, lag {}, watermark {}",
               events_since_status_ / secs, summary_.events, summary_.bad, summary_.late,
               summary_.lost, lag, wm == window::kNoWatermark ? "none" : FormatTime(FromUnixSeconds(wm)));
  events_since_status_ = 0;
  last_status_ = now;
}

absl::StatusOr<SpeedSummary> SpeedJob::Run(pipeline::RecordSource* source) {
  source_ = source;
  const auto started = Clock::now();
  auto last_flush = started;
  last_activity_ = last_status_ = started;
  absl::Status failure;
  while (!ShutdownRequested()) {
    auto polled = source->Poll(options_.poll_batch, std::chrono::milliseconds(100));
    if (!polled.ok()) {
      failure = polled.status();
      break;
    }
    auto now = Clock::now();
    if (!polled->empty()) {
      last_activity_ = now;
      Process(*polled);
      UpdateWatermark(now);
    } else if (options_.exit_when_idle && now - last_activity_ >= *options_.exit_when_idle) {
      // Joining a group takes seconds; idleness counts from the first assignment (or, when the
      // group never assigns anything, after a minute).
      if (ever_assigned_) {
        spdlog::info("speed: no input for {}; finishing", FormatDuration(*options_.exit_when_idle));
        break;
      }
      if (now - started >= std::chrono::minutes(1) + *options_.exit_when_idle) {
        spdlog::warn("speed: no partition was assigned within a minute (is the topic there?); finishing");
        break;
      }
    }
    if (now - last_flush >= options_.flush_interval) {
      if (absl::Status st = Flush(); !st.ok()) {
        failure = st;
        break;
      }
      last_flush = now;
    }
    if (now - last_status_ >= options_.status_interval) {
      UpdateWatermark(now);
      LogStatus();
    }
  }
  // Commit what is done. On the way out the windows are as final as this process will make them.
  absl::Status st = failure.ok() ? Flush() : failure;
  absl::Status closed = source->Close();  // leaves the group; the revocation flushes (no-op now)
  source_ = nullptr;
  if (!st.ok()) return st;
  if (!closed.ok()) spdlog::warn("{}", Message(closed));
  summary_.watermark_s = aggregator_.watermark_s();
  return summary_;
}

}  // namespace lf::speed
