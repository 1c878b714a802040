#include "speed/speed_job.h"

#include <algorithm>
#include <map>

#include "common/shutdown.h"
#include "common/status.h"
#include "common/time.h"
#include "lake/layout.h"
#include "spdlog/spdlog.h"

namespace lf::speed {

using Clock = std::chrono::steady_clock;

namespace {

// The smaller start offset; kNoOffset (from the beginning) is the smallest.
int64_t EarlierStart(int64_t a, int64_t b) {
  if (a == pipeline::kNoOffset || b == pipeline::kNoOffset) return pipeline::kNoOffset;
  return std::min(a, b);
}

bool Applies(int64_t next, int64_t offset) { return next == pipeline::kNoOffset || offset >= next; }

// Retries `commit` on transient errors (backing off) until it succeeds, fails for good
// (Aborted: compare-and-set lost) or shutdown is requested.
absl::Status CommitWithRetry(Env* env, const std::function<absl::Status()>& commit,
                             const char* what) {
  auto backoff = std::chrono::milliseconds(500);
  while (true) {
    absl::Status st = commit();
    if (st.ok() || absl::IsAborted(st) || ShutdownRequested()) return st;
    spdlog::error("speed: {}: {}; retrying in {}", what, Message(st), FormatDuration(backoff));
    env->SleepUnlessShutdown(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
}

}  // namespace

SpeedJob::SpeedJob(SpeedOptions options, pipeline::SpeedCommitSink* sink,
                   lake::LakeWriter* lake_writer, pipeline::LakeCommitSink* lake_sink,
                   std::unique_ptr<SpeedEngine> engine)
    : options_(std::move(options)),
      env_(Env::Or(options_.env)),
      sink_(sink),
      lake_writer_(lake_writer && lake_sink ? lake_writer : nullptr),
      lake_sink_(lake_writer && lake_sink ? lake_sink : nullptr),
      engine_(engine ? std::move(engine) : std::make_unique<TelecomEngine>(options_.windows)) {}

SpeedJob::Partition& SpeedJob::PartitionState(int32_t p) {
  if (static_cast<size_t>(p) >= partitions_.size()) {
    partitions_.resize(p + 1);
    late_.resize(p + 1);
  }
  return partitions_[p];
}

absl::Status SpeedJob::LoadCommitted(const std::vector<int32_t>& partitions) {
  LF_ASSIGN_OR_RETURN(auto committed, sink_->Load(partitions));
  std::map<int32_t, pipeline::CommittedPartition> lake;
  if (lake_sink_) {
    LF_ASSIGN_OR_RETURN(lake, lake_sink_->Load(partitions));
  }
  const auto now = env_->SteadyNow();
  for (int32_t p : partitions) {
    Partition& s = PartitionState(p);
    s = Partition{};
    s.assigned = true;
    s.last_active = now;
    late_[p] = 0;
    if (auto it = committed.find(p); it != committed.end()) {
      s.committed = s.next = it->second.next_offset;
      s.max_event_time_s = it->second.max_event_time_s;
    }
    if (auto it = lake.find(p); it != lake.end()) {
      s.lake_committed = s.lake_next = it->second.next_offset;
      s.lake_max_event_time_s = it->second.max_event_time_s;
    } else if (!lake_sink_) {
      s.lake_committed = s.lake_next = s.committed;  // no lake: never holds the start back
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<int32_t, int64_t>> SpeedJob::OnAssigned(
    const std::vector<int32_t>& partitions) {
  ever_assigned_ = true;
  // The sink is this thread's again before loading from it.
  if (absl::Status st = FinishFlush(); !st.ok()) {
    spdlog::error("speed: commit before the new assignment failed: {}", Message(st));
  }
  auto backoff = std::chrono::milliseconds(500);
  while (true) {
    absl::Status st = LoadCommitted(partitions);
    if (st.ok()) break;
    if (ShutdownRequested()) return st;
    spdlog::error("{}; retrying in {}", Message(st), FormatDuration(backoff));
    env_->SleepUnlessShutdown(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
  // The watermark belonged to the partitions owned before: computed afresh from these (their
  // committed event times) before the next batch, so a partition taken over from a process that
  // lagged behind this one does not make its backlog late (as a Flink task restarts its own).
  engine_->ResetWatermark();
  // Each sink skips what it already has; the source starts at the earlier of the two.
  std::map<int32_t, int64_t> start;
  for (int32_t p : partitions) {
    const Partition& s = partitions_[p];
    start[p] = EarlierStart(s.committed, s.lake_committed);
  }
  // Idleness counts from here: time spent waiting for PostgreSQL above is not idle time. Never
  // earlier than a settling time already granted: after a broker outage the group reassigns
  // while fetching has not restarted yet (an independent run finished 3 s after such a
  // reassignment with 53 000 events still on the broker).
  last_activity_ = std::max(last_activity_, env_->SteadyNow());
  return start;
}

bool SpeedJob::BrokerConfirmsIdle(pipeline::RecordSource* source) {
  // Nothing to read only means "no input" when the broker answers: while it is away, wait for it
  // instead of finishing with input still on it.
  if (absl::Status reach = source->CheckReachable(); !reach.ok()) {
    spdlog::warn("speed: no input for {}, but {}; waiting for the broker",
                 FormatDuration(*options_.exit_when_idle), Message(reach));
    broker_was_away_ = true;
    last_activity_ = std::max(last_activity_, env_->SteadyNow());
    return false;
  }
  if (!broker_was_away_) return true;
  // Back: the group may have to settle (a lost session rejoins) and fetching restarts, so
  // idleness counts afresh, for at least settle_after_outage.
  spdlog::info("speed: the broker answers again");
  broker_was_away_ = false;
  last_activity_ =
      env_->SteadyNow() + std::max(std::chrono::milliseconds(0),
                                   options_.settle_after_outage - *options_.exit_when_idle);
  return false;
}

void SpeedJob::OnRevoked(const std::vector<int32_t>& partitions) {
  absl::Status st = Flush();
  if (st.ok()) st = RollLake();
  if (!st.ok()) {
    // Nothing is lost: the new owner starts from the committed offsets.
    spdlog::error("speed: could not commit before giving up partitions: {}", Message(st));
    engine_->DiscardDeltas();
    dead_letters_.clear();
    losses_.clear();
    if (lake_writer_) lake_writer_->DiscardAll();
  }
  for (int32_t p : partitions) PartitionState(p) = Partition{};
  // After the commit: time spent on it is not idle time (nor is a settling time granted).
  last_activity_ = std::max(last_activity_, env_->SteadyNow());
}

void SpeedJob::OnDataLoss(int32_t partition, int64_t from, int64_t to) {
  Partition& s = PartitionState(partition);
  s.lost += to - from;
  s.next = std::max(s.next, to);
  s.lake_next = std::max(s.lake_next, to);
  s.dirty = s.lake_dirty = true;
  losses_.push_back(pipeline::DataLoss{partition, from, to});
}

void SpeedJob::OnOffsetReset(int32_t partition, int64_t offset) {
  // Offsets went backwards: apply from `offset` again. The compare-and-set still expects the
  // committed offset, so the next commit replaces it.
  Partition& s = PartitionState(partition);
  s.next = offset;
  s.lake_next = offset;
  s.dirty = s.lake_dirty = true;
}

void SpeedJob::Process(std::span<const pipeline::RawMessage> messages) {
  const auto now = env_->SteadyNow();
  bool pg_all = true, lake_all = true;
  // While the lake is paused after a failed write, only the metrics take input.
  const bool lake_open = lake_writer_ != nullptr && !lake_resume_at_;
  pg_keep_.clear();
  lake_keep_.clear();
  // Which messages some sink still applies; then one decode call for all of them.
  wanted_.assign(messages.size(), 0);
  if (decoded_.size() < messages.size()) decoded_.resize(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const pipeline::RawMessage& m = messages[i];
    Partition& s = PartitionState(m.partition);
    if (!s.assigned) continue;
    s.last_active = now;
    wanted_[i] = Applies(s.next, m.offset) || (lake_open && Applies(s.lake_next, m.offset));
  }
  engine_->Decode(messages, wanted_, &decoded_);
  size_t row = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!wanted_[i]) continue;
    const pipeline::RawMessage& m = messages[i];
    Partition& s = PartitionState(m.partition);
    const bool to_pg = Applies(s.next, m.offset);
    const bool to_lake = lake_open && Applies(s.lake_next, m.offset);
    DecodeResult& r = decoded_[i];
    if (r.ok) {
      // Keep masks only once some row goes to one sink but not the other (after a restart where
      // the sinks committed different offsets); normally both take everything.
      if (!to_pg && pg_all) {
        pg_all = false;
        pg_keep_.assign(row, 1);
      }
      if (lake_open && !to_lake && lake_all) {
        lake_all = false;
        lake_keep_.assign(row, 1);
      }
      if (!pg_all) pg_keep_.push_back(to_pg);
      if (!lake_all) lake_keep_.push_back(to_lake);
      if (to_pg) {
        ++s.events;
        s.max_event_time_s = std::max(s.max_event_time_s, r.event_time_s);
      }
      if (to_lake) {
        ++s.lake_rows;
        s.lake_max_event_time_s = std::max(s.lake_max_event_time_s, r.event_time_s);
      }
      ++row;
    } else if (to_pg) {
      ++s.bad;
      dead_letters_.push_back(
          pipeline::DeadLetter{m.partition, m.offset, std::string(m.payload), std::move(r.error)});
    }
    r.error.clear();
    if (to_pg) {
      s.next = m.offset + 1;
      s.dirty = true;
    }
    if (to_lake) {
      s.lake_next = m.offset + 1;
      s.lake_dirty = true;
    }
  }
  engine_->Aggregate(pg_all ? std::span<const uint8_t>() : std::span<const uint8_t>(pg_keep_),
                     &late_);
  if (lake_open && engine_->pending_rows() > 0) {
    absl::Status st = engine_->AppendToLake(
        lake_writer_, lake_all ? std::span<const uint8_t>() : std::span<const uint8_t>(lake_keep_));
    if (!st.ok()) PauseLake(st);
  }
  events_since_status_ += static_cast<int64_t>(messages.size());
  engine_->ClearBatch();
}

void SpeedJob::UpdateWatermark(Clock::time_point now) {
  std::vector<int64_t> active;
  int64_t newest = pipeline::kNoEventTime;
  std::optional<std::map<int32_t, int64_t>> lag;  // asked once, only when needed
  for (size_t p = 0; p < partitions_.size(); ++p) {
    const Partition& s = partitions_[p];
    if (!s.assigned) continue;
    newest = std::max(newest, s.max_event_time_s);
    if (now - s.last_active >= options_.partition_idle) continue;
    if (s.max_event_time_s == pipeline::kNoEventTime) {
      // A partition that never held an event holds nothing back once the broker says there is
      // nothing in it to read (a topic keyed by a few keys leaves partitions empty for good).
      if (!lag) lag = source_->Lag();
      auto it = lag->find(static_cast<int32_t>(p));
      if (it != lag->end() && it->second == 0) continue;
    }
    active.push_back(s.max_event_time_s);
  }
  if (!active.empty()) {
    engine_->AdvanceWatermark(engine_->WatermarkFor(active));
  } else if (newest != pipeline::kNoEventTime) {
    engine_->AdvanceWatermark(engine_->WatermarkFor({newest}));  // everything idle
  }
}

absl::Status SpeedJob::Flush() {
  LF_RETURN_IF_ERROR(FinishFlush());
  LF_RETURN_IF_ERROR(StartFlush());
  return FinishFlush();
}

absl::Status SpeedJob::StartFlush() {
  pipeline::SpeedFlush flush;
  for (size_t p = 0; p < partitions_.size(); ++p) {
    Partition& s = partitions_[p];
    if (!s.assigned || !s.dirty) continue;
    flush.progress.push_back(pipeline::PartitionProgress{static_cast<int32_t>(p), s.committed,
                                                         s.next, s.max_event_time_s, s.events,
                                                         s.bad, late_[p], s.lost});
  }
  if (flush.progress.empty()) return absl::OkStatus();
  if (source_) {
    auto lag = source_->Lag();
    for (auto& pr : flush.progress) {
      auto it = lag.find(pr.partition);
      if (it != lag.end()) pr.lag = it->second;
    }
  }
  engine_->TakeDeltas(&flush);
  flush.dead_letters = std::move(dead_letters_);
  dead_letters_.clear();
  flush.losses = std::move(losses_);
  losses_.clear();
  // The next flush continues from this one: its expected offsets are this one's new offsets. If
  // this one fails, FinishFlush resyncs (or the job stops), reloading the committed state.
  for (const auto& pr : flush.progress) {
    Partition& s = partitions_[pr.partition];
    s.committed = pr.next_offset;
    s.events = s.bad = s.lost = 0;
    late_[pr.partition] = 0;
    s.dirty = false;
  }
  inflight_ = std::make_unique<InFlight>();
  inflight_->flush = std::move(flush);
  const pipeline::SpeedFlush* f = &inflight_->flush;
  inflight_->done = std::async(std::launch::async, [this, f] {
    return CommitWithRetry(
        env_, [&] { return sink_->Commit(*f); }, "flush");
  });
  return absl::OkStatus();
}

absl::Status SpeedJob::WaitInFlight() {
  if (!inflight_) return absl::OkStatus();
  absl::Status st = inflight_->done.get();
  if (st.ok()) Committed(inflight_->flush);
  inflight_.reset();
  return st;
}

absl::Status SpeedJob::FinishFlush() {
  absl::Status st = WaitInFlight();
  if (absl::IsAborted(st)) {
    spdlog::warn("speed: {}; dropping uncommitted work and resuming from committed offsets",
                 Message(st));
    return Resync();
  }
  return st;
}

void SpeedJob::Committed(const pipeline::SpeedFlush& flush) {
  std::map<int32_t, int64_t> mirror;
  for (const auto& pr : flush.progress) {
    summary_.events += pr.events;
    summary_.bad += pr.bad;
    summary_.late += pr.late;
    summary_.lost += pr.lost;
    mirror[pr.partition] = pr.next_offset;
  }
  summary_.rows_written += static_cast<int64_t>(flush.rows.size() + flush.metric_rows.size());
  ++summary_.flushes;
  if (source_) source_->MirrorCommit(mirror);
}

bool SpeedJob::LakeShouldRoll(Clock::time_point now) const {
  if (!lake_writer_ || lake_writer_->empty()) return false;
  if (now - lake_writer_->oldest_open() >= options_.lake_roll_interval) return true;
  if (lake_writer_->bytes() >= options_.lake_roll_bytes) return true;
  // An hour the watermark has passed is complete: close its file now so it gets few, large files
  // and its _SUCCESS marker without waiting for the roll interval.
  const int64_t wm = engine_->watermark_s();
  if (wm == window::kNoWatermark) return false;
  for (int64_t h : lake_writer_->open_hours())
    if (h + 3600 <= wm) return true;
  return false;
}

absl::Status SpeedJob::RollLake() {
  if (!lake_writer_) return absl::OkStatus();
  pipeline::LakeFlush flush;
  for (size_t p = 0; p < partitions_.size(); ++p) {
    Partition& s = partitions_[p];
    if (!s.assigned || !s.lake_dirty) continue;
    pipeline::PartitionProgress pr;
    pr.partition = static_cast<int32_t>(p);
    pr.expected_offset = s.lake_committed;
    pr.next_offset = s.lake_next;
    pr.max_event_time_s = s.lake_max_event_time_s;
    pr.events = s.lake_rows;
    flush.progress.push_back(pr);
  }
  if (flush.progress.empty() && lake_writer_->empty()) return absl::OkStatus();
  auto closed = lake_writer_->CloseAll();
  if (!closed.ok()) {
    PauseLake(closed.status());
    return absl::OkStatus();
  }
  flush.files = *std::move(closed);
  // The offsets committed below must cover exactly the rows in these files: a lake offset that
  // moved past rows no file holds would lose them for good.
  int64_t progress_rows = 0, file_rows = 0;
  for (const auto& pr : flush.progress) progress_rows += pr.events;
  for (const auto& f : flush.files) file_rows += f.rows;
  if (progress_rows != file_rows) {
    lake::LakeWriter::Discard(lake_writer_->root(), flush.files, lake_writer_->env());
    PauseLake(
        Internal("lake: {} row(s) to commit but the files hold {}", progress_rows, file_rows));
    return absl::OkStatus();
  }

  absl::Status st = CommitWithRetry(
      env_, [&] { return lake_sink_->Commit(flush); }, "lake commit");
  if (!st.ok()) {
    lake::LakeWriter::Discard(lake_writer_->root(), flush.files, lake_writer_->env());
    if (absl::IsAborted(st)) {
      spdlog::warn("speed: {}; dropping uncommitted lake files and resuming from committed offsets",
                   Message(st));
      return Resync();
    }
    return st;
  }
  for (const auto& pr : flush.progress) {
    Partition& s = partitions_[pr.partition];
    s.lake_committed = pr.next_offset;
    s.lake_rows = 0;
    s.lake_dirty = false;
    summary_.lake_rows += pr.events;
  }
  summary_.lake_files += static_cast<int64_t>(flush.files.size());
  lake_backoff_ = std::chrono::milliseconds(0);
  // Committed: make the files visible. A crash before this point is rolled forward at start-up.
  if (absl::Status pub =
          lake::LakeWriter::Publish(lake_writer_->root(), flush.files, lake_writer_->env());
      !pub.ok()) {
    spdlog::error("{} (will be retried at the next start)", Message(pub));
  } else if (absl::Status mark = lake_sink_->MarkPublished(flush.files); !mark.ok()) {
    spdlog::warn("{}", Message(mark));
  }
  if (!flush.files.empty()) {
    int64_t rows = 0;
    for (const auto& f : flush.files) rows += f.rows;
    spdlog::info("lake: committed {} file(s), {} events", flush.files.size(), rows);
  }
  return MarkCompleteHours();
}

absl::Status SpeedJob::MarkCompleteHours() {
  if (!lake_sink_) return absl::OkStatus();
  auto hours = lake_sink_->CompleteHours(
      options_.windows.lateness.count(),
      std::chrono::duration_cast<std::chrono::seconds>(options_.partition_idle).count());
  if (!hours.ok()) {
    spdlog::warn("{}", Message(hours.status()));
    return absl::OkStatus();  // retried at the next roll
  }
  for (int64_t h : *hours) {
    if (absl::Status st = lake::LakeWriter::MarkSuccess(
            lake_writer_->root(), lake_writer_->dataset(), h, lake_writer_->env());
        !st.ok()) {
      spdlog::error("{}", Message(st));
    } else {
      spdlog::info("lake: hour {} complete (_SUCCESS)", FormatTime(FromUnixSeconds(h)));
    }
  }
  return absl::OkStatus();
}

absl::Status SpeedJob::RecoverLake() {
  if (!lake_writer_) return absl::OkStatus();
  const std::string& root = lake_writer_->root();
  Env* lake_env = lake_writer_->env();
  LF_ASSIGN_OR_RETURN(auto pending, lake_sink_->Unpublished());
  std::vector<pipeline::LakeFile> published;
  std::vector<std::string> keep;
  for (const auto& f : pending) {
    if (lake_env->FileExists(root + "/" + f.path) ||
        lake_env->FileExists(root + "/" + f.temp_path)) {
      if (absl::Status st = lake::LakeWriter::Publish(root, {f}, lake_env); st.ok()) {
        published.push_back(f);
        continue;
      } else {
        spdlog::error("{}", Message(st));
      }
    } else {
      // The manifest lists a file that is under neither name: its root changed, or it was
      // deleted by hand. Say so; the batch layer will report it too.
      spdlog::error("lake: committed file {} is missing from {}", f.path, root);
    }
    keep.push_back(f.temp_path);
  }
  if (!published.empty()) {
    spdlog::info("lake: published {} committed file(s) left unrenamed by an earlier run",
                 published.size());
    LF_RETURN_IF_ERROR(lake_sink_->MarkPublished(published));
  }
  lake::LakeWriter::RemoveOrphanTemps(root, lake_writer_->dataset(), keep, lake_env);
  LF_ASSIGN_OR_RETURN(auto complete, lake_sink_->CompletedHours());
  for (int64_t h : complete)
    LF_RETURN_IF_ERROR(lake::LakeWriter::MarkSuccess(root, lake_writer_->dataset(), h, lake_env));
  return absl::OkStatus();
}

void SpeedJob::PauseLake(const absl::Status& cause) {
  // A failure that persists (a full disk) would otherwise fail again at once, in a loop.
  lake_backoff_ = std::min(std::max(lake_backoff_ * 2, std::chrono::milliseconds(500)),
                           std::chrono::milliseconds(10000));
  spdlog::error(
      "speed: lake write failed: {}; nothing of it was committed; the lake tries again from its "
      "committed offsets in {} (the metrics go on meanwhile)",
      Message(cause), FormatDuration(lake_backoff_));
  lake_writer_->DiscardAll();
  for (Partition& s : partitions_) {
    if (!s.assigned) continue;
    s.lake_next = s.lake_committed;
    s.lake_rows = 0;
    s.lake_dirty = false;
  }
  lake_resume_at_ = env_->SteadyNow() + lake_backoff_;
}

absl::Status SpeedJob::ResumeLake() {
  lake_resume_at_.reset();
  // Reading again from the lake's offsets: the metrics skip what they have already applied.
  for (size_t p = 0; p < partitions_.size(); ++p) {
    const Partition& s = partitions_[p];
    if (!s.assigned || !source_) continue;
    if (absl::Status st = source_->Seek(static_cast<int32_t>(p), EarlierStart(s.next, s.lake_next));
        !st.ok()) {
      return Internal("speed: cannot go back to partition {}'s lake offset {}: {}", p, s.lake_next,
                      Message(st));
    }
  }
  return absl::OkStatus();
}

absl::Status SpeedJob::Resync() {
  resynced_ = true;
  // Only this thread may use the sink below; a commit that still succeeded is counted.
  (void)WaitInFlight();
  engine_->DiscardDeltas();
  dead_letters_.clear();
  losses_.clear();
  if (lake_writer_) lake_writer_->DiscardAll();
  std::vector<int32_t> assigned;
  for (size_t p = 0; p < partitions_.size(); ++p)
    if (partitions_[p].assigned) assigned.push_back(static_cast<int32_t>(p));
  LF_RETURN_IF_ERROR(LoadCommitted(assigned));
  for (int32_t p : assigned) {
    const Partition& s = partitions_[p];
    if (source_) LF_RETURN_IF_ERROR(source_->Seek(p, EarlierStart(s.committed, s.lake_committed)));
  }
  return absl::OkStatus();
}

void SpeedJob::LogStatus() {
  auto now = env_->SteadyNow();
  double secs = std::chrono::duration<double>(now - last_status_).count();
  if (secs <= 0) return;
  int64_t lag = 0;
  if (source_) {
    for (const auto& [p, l] : source_->Lag()) lag += std::max<int64_t>(0, l);
  }
  int64_t wm = engine_->watermark_s();
  spdlog::info(
      "speed: {:.0f} msg/s, committed events {}, bad {}, late {}, lost {}, lag {}, watermark {}",
      events_since_status_ / secs, summary_.events, summary_.bad, summary_.late, summary_.lost, lag,
      wm == window::kNoWatermark ? "none" : FormatTime(FromUnixSeconds(wm)));
  events_since_status_ = 0;
  last_status_ = now;
}

absl::StatusOr<SpeedSummary> SpeedJob::Run(pipeline::RecordSource* source) {
  LF_RETURN_IF_ERROR(RecoverLake());
  source_ = source;
  const auto started = env_->SteadyNow();
  auto last_flush = started;
  last_activity_ = last_status_ = started;
  absl::Status failure;
  while (!ShutdownRequested()) {
    auto polled = source->Poll(options_.poll_batch, std::chrono::milliseconds(100));
    if (!polled.ok()) {
      failure = polled.status();
      break;
    }
    auto now = env_->SteadyNow();
    if (lake_resume_at_ && now >= *lake_resume_at_) {
      if (absl::Status st = ResumeLake(); !st.ok()) {
        failure = st;
        break;
      }
    }
    if (!polled->empty()) {
      last_activity_ = now;
      // Judged against the watermark from before this batch, which after a restart is the one
      // the committed event times give.
      UpdateWatermark(now);
      Process(*polled);
      UpdateWatermark(now);
    } else if (options_.exit_when_idle && now - last_activity_ >= *options_.exit_when_idle) {
      // Joining a group takes seconds; idleness counts from the first assignment (or, when the
      // group never assigns anything, after a minute).
      if (ever_assigned_) {
        // Commit what is done first: a lost compare-and-set rewinds, leaving more to read.
        resynced_ = false;
        absl::Status st = Flush();
        if (st.ok()) st = RollLake();
        if (!st.ok()) {
          failure = st;
          break;
        }
        if (resynced_ || lake_resume_at_) continue;  // more to read, or the lake's part again
        if (!BrokerConfirmsIdle(source)) continue;
        spdlog::info("speed: no input for {}; finishing", FormatDuration(*options_.exit_when_idle));
        break;
      }
      if (now - started >= std::chrono::minutes(1) + *options_.exit_when_idle) {
        spdlog::warn(
            "speed: no partition was assigned within a minute (is the topic there?); finishing");
        break;
      }
    }
    // Commits run beside consumption, one at a time: a flush starts at the interval once the
    // previous one is done, so slow commits make larger, fewer ones instead of stalling reads.
    if (inflight_ &&
        inflight_->done.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      if (absl::Status st = FinishFlush(); !st.ok()) {
        failure = st;
        break;
      }
    }
    if (!inflight_ && now - last_flush >= options_.flush_interval) {
      if (absl::Status st = StartFlush(); !st.ok()) {
        failure = st;
        break;
      }
      last_flush = now;
    }
    if (LakeShouldRoll(now)) {
      if (absl::Status st = RollLake(); !st.ok()) {
        failure = st;
        break;
      }
    }
    if (now - last_status_ >= options_.status_interval) {
      UpdateWatermark(now);
      LogStatus();
      if (lake_writer_ && lake_writer_->empty()) (void)MarkCompleteHours();
    }
  }
  // Commit what is done. On the way out the windows are as final as this process will make them.
  absl::Status st = failure;
  if (!st.ok()) (void)WaitInFlight();
  if (st.ok()) st = Flush();
  if (st.ok()) st = RollLake();
  absl::Status closed = source->Close();  // leaves the group; the revocation flushes (no-op now)
  source_ = nullptr;
  if (!st.ok()) return st;
  if (!closed.ok()) spdlog::warn("{}", Message(closed));
  summary_.watermark_s = engine_->watermark_s();
  return summary_;
}

}  // namespace lf::speed
