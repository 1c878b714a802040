#include "speed/speed_job.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <thread>
#include <tuple>

#include "common/mem_env.h"
#include "fmt/format.h"

namespace lf::speed {
namespace {

using pipeline::CommittedPartition;
using pipeline::RawMessage;

// The window table, dead letters and offsets of a sink, in memory, with the compare-and-set.
class FakeSink : public pipeline::SpeedCommitSink {
 public:
  absl::StatusOr<std::map<int32_t, CommittedPartition>> Load(
      const std::vector<int32_t>& ps) override {
    if (load_failures > 0) {
      --load_failures;
      return absl::UnavailableError("fake: PostgreSQL is down");
    }
    std::map<int32_t, CommittedPartition> out;
    for (int32_t p : ps) out[p] = committed[p];
    return out;
  }
  absl::Status Commit(const pipeline::SpeedFlush& f) override {
    if (before_commit) before_commit();
    for (const auto& pr : f.progress)
      if (committed[pr.partition].next_offset != pr.expected_offset)
        return absl::AbortedError("offset moved");
    for (const auto& r : f.rows)
      rows[{r.window_start_s, std::string(r.metric), std::string(r.key)}] += r.value;
    for (const auto& d : f.dead_letters) dead[{d.partition, d.offset}] = d.payload;
    for (const auto& pr : f.progress) {
      committed[pr.partition].next_offset = pr.next_offset;
      committed[pr.partition].max_event_time_s =
          std::max(committed[pr.partition].max_event_time_s, pr.max_event_time_s);
      late += pr.late;
    }
    ++commits;
    return absl::OkStatus();
  }

  std::map<int32_t, CommittedPartition> committed;
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> rows;
  std::map<std::pair<int32_t, int64_t>, std::string> dead;
  int64_t late = 0;
  int commits = 0;
  int load_failures = 0;  // Load fails this many times first
  std::function<void()> before_commit;
};

// Partitions of payloads; assigns them all on the first Poll, honouring the listener's offsets.
class FakeSource : public pipeline::RecordSource {
 public:
  FakeSource(std::map<int32_t, std::vector<std::string>> data, pipeline::PartitionListener* l,
             size_t limit = SIZE_MAX)
      : data_(std::move(data)), listener_(l), limit_(limit) {}
  absl::StatusOr<std::span<const RawMessage>> Poll(size_t max,
                                                   std::chrono::milliseconds timeout) override {
    if (on_poll) on_poll();
    out_.clear();
    if (!assigned_) {
      assigned_ = true;
      std::vector<int32_t> ps;
      for (auto& [p, v] : data_) ps.push_back(p);
      auto start = listener_->OnAssigned(ps);
      if (!start.ok()) return start.status();
      for (auto& [p, off] : *start) pos_[p] = off < 0 ? 0 : off;
      if (after_assign) after_assign(pos_);
    }
    if (empty_polls > 0) {  // fetching has not started yet
      --empty_polls;
      if (env) env->Advance(timeout);
      return std::span<const RawMessage>(out_);
    }
    if (away_polls > 0) {
      std::this_thread::sleep_for(timeout);
      --away_polls;
      return std::span<const RawMessage>(out_);
    }
    if (back_) {  // the group rebalances once the broker is back, as a lost session rejoins
      back_ = false;
      std::vector<int32_t> ps;
      for (auto& [p, v] : data_) ps.push_back(p);
      listener_->OnRevoked(ps);
      auto start = listener_->OnAssigned(ps);
      if (!start.ok()) return start.status();
      for (auto& [p, off] : *start) pos_[p] = off < 0 ? 0 : off;
    }
    if (slow_restart_polls > 0) {  // reassigned, but fetching has not restarted yet
      std::this_thread::sleep_for(timeout);
      --slow_restart_polls;
      return std::span<const RawMessage>(out_);
    }
    for (auto& [p, v] : data_) {
      while (pos_[p] < static_cast<int64_t>(v.size()) && out_.size() < max && delivered_ < limit_) {
        out_.push_back(RawMessage{p, pos_[p], v[pos_[p]]});
        ++pos_[p];
        ++delivered_;
      }
    }
    if (env != nullptr) {
      if (out_.empty()) {
        env->Advance(timeout);  // waited in vain
      } else {
        last_delivery = env->SteadyNow();
      }
    }
    return std::span<const RawMessage>(out_);
  }
  absl::Status Seek(int32_t p, int64_t off) override {
    pos_[p] = off < 0 ? 0 : off;
    return absl::OkStatus();
  }
  std::function<void(std::map<int32_t, int64_t>&)> after_assign;
  std::function<void()> on_poll;
  int empty_polls = 0;  // polls after the assignment that return nothing
  // While > 0 the broker is "away": each Poll waits its timeout, returns nothing and counts
  // down, and CheckReachable fails (counted in unreachable_reports).
  int away_polls = 0;
  int unreachable_reports = 0;
  // Once the job has seen the broker answer again: revoke and reassign everything, then return
  // nothing for slow_restart_polls polls of `timeout` each.
  bool reassign_after_away = false;
  int slow_restart_polls = 0;
  // With an in-memory environment, a poll that finds nothing waits its timeout on its clock.
  MemEnv* env = nullptr;
  std::chrono::steady_clock::time_point last_delivery;
  absl::Status CheckReachable() override {
    if (away_polls == 0) {
      // The job has just seen the broker answer again: the group rebalances next.
      if (reassign_after_away && unreachable_reports > 0 && !reassigned_)
        back_ = reassigned_ = true;
      return absl::OkStatus();
    }
    ++unreachable_reports;
    return absl::UnavailableError("fake: broker away");
  }
  absl::Status Close() override {
    std::vector<int32_t> ps;
    for (auto& [p, v] : data_) ps.push_back(p);
    listener_->OnRevoked(ps);
    return absl::OkStatus();
  }

 private:
  std::map<int32_t, std::vector<std::string>> data_;
  pipeline::PartitionListener* listener_;
  size_t limit_;
  size_t delivered_ = 0;
  bool assigned_ = false;
  bool back_ = false;
  bool reassigned_ = false;
  std::map<int32_t, int64_t> pos_;
  std::vector<RawMessage> out_;
};

std::string Event(int64_t bytes, int64_t ts, const std::string& app, const std::string& id,
                  const std::string& antenna) {
  return fmt::format(R"({{"bytes":{},"timestamp":{},"app":"{}","id":"{}","antenna_id":"{}"}})",
                     bytes, ts, app, id, antenna);
}

struct Dataset {
  std::map<int32_t, std::vector<std::string>> partitions;
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> expected;
  std::map<std::pair<int32_t, int64_t>, std::string> bad;
};

// Three partitions of events over about two hours, with a bad message every 37th.
Dataset MakeDataset() {
  Dataset d;
  const char* apps[] = {"SKYPE", "FACEBOOK", "TELEGRAM"};
  int64_t base = 1795305600;
  for (int i = 0; i < 3000; ++i) {
    int32_t p = i % 3;
    auto& v = d.partitions[p];
    if (i % 37 == 5) {
      std::string junk = i % 2 ? "{\"bytes\":\"x\"}" : "not json";
      d.bad[{p, static_cast<int64_t>(v.size())}] = junk;
      v.push_back(junk);
      continue;
    }
    int64_t ts = base + i * 2 + (i % 11 == 0 ? -400 : 0);  // some late arrivals
    int64_t bytes = 100 + i % 97;
    std::string app = apps[i % 3], dev = fmt::format("dev{}", i % 7),
                ant = fmt::format("ant{}", i % 2);
    v.push_back(Event(bytes, ts, app, dev, ant));
    int64_t w = ts / 300 * 300;
    d.expected[{w, "antenna_bytes_total", ant}] += bytes;
    d.expected[{w, "user_bytes_total", dev}] += bytes;
    d.expected[{w, "app_bytes_total", app}] += bytes;
  }
  return d;
}

SpeedOptions Options() {
  SpeedOptions o;
  o.flush_interval = std::chrono::milliseconds(0);  // flush after every poll
  o.exit_when_idle = std::chrono::milliseconds(0);
  o.poll_batch = 100;
  return o;
}

TEST(SpeedJobTest, TotalsDeadLettersAndOffsetsAreExact) {
  Dataset d = MakeDataset();
  FakeSink sink;
  SpeedJob job(Options(), &sink);
  FakeSource source(d.partitions, &job);
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(sink.rows, d.expected);
  EXPECT_EQ(sink.dead, d.bad);
  EXPECT_EQ(summary->bad, static_cast<int64_t>(d.bad.size()));
  EXPECT_EQ(summary->events, 3000 - static_cast<int64_t>(d.bad.size()));
  EXPECT_GT(summary->late, 0);
  EXPECT_EQ(summary->late, sink.late);
  for (auto& [p, v] : d.partitions)
    EXPECT_EQ(sink.committed[p].next_offset, static_cast<int64_t>(v.size()));
}

TEST(SpeedJobTest, RestartResumesFromCommittedOffsetsWithoutDoubleCounting) {
  Dataset d = MakeDataset();
  FakeSink sink;
  {
    SpeedJob first(Options(), &sink);
    FakeSource partial(d.partitions, &first, /*limit=*/1234);  // then "crashes" (goes idle)
    ASSERT_TRUE(first.Run(&partial).ok());
  }
  EXPECT_NE(sink.rows, d.expected);
  SpeedJob second(Options(), &sink);
  FakeSource all(d.partitions, &second);
  auto summary = second.Run(&all);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(sink.rows, d.expected);
  EXPECT_EQ(sink.dead, d.bad);
  EXPECT_LT(summary->events, 3000 - 1234 + 1);
}

TEST(SpeedJobTest, LosingTheCompareAndSetDropsStateAndResumes) {
  Dataset d = MakeDataset();
  FakeSink sink;
  SpeedJob job(Options(), &sink);
  FakeSource source(d.partitions, &job);
  // Just before the job's 3rd commit, "another process" applies the first 10 messages of
  // partition 0 itself (exactly what a new owner after a rebalance would do).
  sink.before_commit = [&] {
    if (sink.commits != 2) return;
    sink.before_commit = nullptr;
    SpeedJob other(Options(), &sink);
    std::map<int32_t, std::vector<std::string>> p0 = {{0, d.partitions[0]}};
    FakeSource src(p0, &other, /*limit=*/static_cast<size_t>(sink.committed[0].next_offset) + 10);
    ASSERT_TRUE(other.Run(&src).ok());
  };
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(sink.rows, d.expected);
  EXPECT_EQ(sink.dead, d.bad);
}

TEST(SpeedJobTest, SlowCommitsRunBesideReadingAndStayExact) {
  Dataset d = MakeDataset();
  FakeSink sink;
  std::atomic<bool> committing{false};
  std::atomic<int> polls_while_committing{0};
  sink.before_commit = [&] {
    committing = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    committing = false;
  };
  SpeedOptions o = Options();
  o.poll_batch = 10;
  SpeedJob job(o, &sink);
  FakeSource source(d.partitions, &job);
  source.on_poll = [&] {
    if (committing) ++polls_while_committing;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_GT(polls_while_committing.load(), 0) << "reading waited for every commit";
  EXPECT_LT(sink.commits, 300) << "one commit per poll: commits did not batch up";
  EXPECT_EQ(sink.rows, d.expected);
  EXPECT_EQ(sink.dead, d.bad);
  EXPECT_EQ(summary->events, 3000 - static_cast<int64_t>(d.bad.size()));
  EXPECT_EQ(summary->late, sink.late);
  for (auto& [p, v] : d.partitions)
    EXPECT_EQ(sink.committed[p].next_offset, static_cast<int64_t>(v.size()));
}

TEST(SpeedJobTest, DataLossIsCountedAndSkipped) {
  FakeSink sink;
  SpeedJob job(Options(), &sink);
  std::vector<std::string> messages;
  for (int i = 0; i < 10; ++i) messages.push_back(Event(1, 1795305600, "A", "d", "a"));
  FakeSource source({{0, messages}}, &job);
  source.after_assign = [&](std::map<int32_t, int64_t>& pos) {
    job.OnDataLoss(0, 0, 5);  // the broker no longer has offsets 0..4
    pos[0] = 5;
  };
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->lost, 5);
  EXPECT_EQ(summary->events, 5);
  EXPECT_EQ(sink.committed[0].next_offset, 10);
  EXPECT_EQ((sink.rows[{1795305600, "app_bytes_total", "A"}]), 5);
}

// Found by an independent run: PostgreSQL was away while the job loaded its offsets at the
// assignment; the retries took longer than --exit-when-idle, and the job finished at once with
// nothing read. Time blocked on PostgreSQL is not idle time.
TEST(SpeedJobTest, TimeSpentRetryingPostgresIsNotIdleTime) {
  Dataset d = MakeDataset();
  FakeSink sink;
  sink.load_failures = 2;  // retried after 0.5 s and 1 s
  SpeedOptions o = Options();
  o.exit_when_idle = std::chrono::milliseconds(800);
  SpeedJob job(o, &sink);
  FakeSource source(d.partitions, &job);
  source.empty_polls = 1;
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(sink.load_failures, 0);
  EXPECT_EQ(summary->events, 3000 - static_cast<int64_t>(d.bad.size()));
  EXPECT_EQ(sink.rows, d.expected);
}

// An empty poll while the broker is away is not "no input": the job waits for the broker
// instead of finishing with input still on it.
TEST(SpeedJobTest, AnUnreachableBrokerIsNotIdleness) {
  Dataset d = MakeDataset();
  FakeSink sink;
  SpeedOptions o = Options();
  o.exit_when_idle = std::chrono::milliseconds(200);
  o.settle_after_outage = std::chrono::milliseconds(400);
  SpeedJob job(o, &sink);
  FakeSource source(d.partitions, &job);
  source.away_polls = 12;  // ~1.2 s away: the idle time passes several times over
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_GT(source.unreachable_reports, 0) << "the job never asked whether the broker answers";
  EXPECT_EQ(summary->events, 3000 - static_cast<int64_t>(d.bad.size()));
  EXPECT_EQ(sink.rows, d.expected);
}

// Found by a fresh-machine run of kafka_restart: the broker came back, the group reassigned the
// partitions 3 s later, and the job finished 3 s after that (--exit-when-idle 3s), before the
// 10 s settling time and before fetching had restarted, with 53 000 events still on the broker.
// The reassignment must not cut the settling time short.
TEST(SpeedJobTest, AReassignmentAfterAnOutageDoesNotCutTheSettlingTimeShort) {
  Dataset d = MakeDataset();
  FakeSink sink;
  SpeedOptions o = Options();
  o.exit_when_idle = std::chrono::milliseconds(300);
  o.settle_after_outage = std::chrono::milliseconds(1500);
  SpeedJob job(o, &sink);
  FakeSource source(d.partitions, &job);
  source.away_polls = 5;
  source.reassign_after_away = true;
  source.slow_restart_polls = 6;  // 0.6 s: past the idle time, within the settling time
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(source.slow_restart_polls, 0);
  EXPECT_EQ(summary->events, 3000 - static_cast<int64_t>(d.bad.size()));
  EXPECT_EQ(sink.rows, d.expected);
}

// The bug an independent run found, on the environment's clock: PostgreSQL away for 15.5 s
// while the offsets load at start-up, with --exit-when-idle 8s. The retries are not idle time:
// every event is read, and the job finishes only after 8 s of polling with nothing to read.
TEST(SpeedJobTest, IdlenessCountsOnlyEmptyPollingOnTheEnvironmentsClock) {
  MemEnv env;
  Dataset d = MakeDataset();
  FakeSink sink;
  sink.load_failures = 5;  // retried after 0.5, 1, 2, 4 and 8 s
  SpeedOptions o = Options();
  o.exit_when_idle = std::chrono::seconds(8);
  o.env = &env;
  SpeedJob job(o, &sink);
  FakeSource source(d.partitions, &job);
  source.env = &env;
  source.empty_polls = 3;  // fetching starts 0.3 s after the assignment
  const auto started = env.SteadyNow();
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(env.slept(), std::chrono::milliseconds(15500));
  EXPECT_EQ(summary->events, 3000 - static_cast<int64_t>(d.bad.size()));
  EXPECT_EQ(sink.rows, d.expected);
  EXPECT_GE(env.SteadyNow() - source.last_delivery, std::chrono::seconds(8));
  EXPECT_LT(env.SteadyNow() - source.last_delivery, std::chrono::milliseconds(8200));
  EXPECT_GE(source.last_delivery - started, std::chrono::milliseconds(15800));
}

// A commit that keeps failing is retried with a growing backoff (capped at 10 s) on the
// environment's clock, and the events are committed once it succeeds.
TEST(SpeedJobTest, CommitRetriesBackOffOnTheEnvironmentsClock) {
  // Fails the first `failures` commits as a PostgreSQL that is down would.
  struct FailingSink : FakeSink {
    int failures = 7;
    absl::Status Commit(const pipeline::SpeedFlush& f) override {
      if (failures > 0) {
        --failures;
        return absl::UnavailableError("fake: PostgreSQL is down");
      }
      return FakeSink::Commit(f);
    }
  };
  MemEnv env;
  Dataset d = MakeDataset();
  FailingSink sink;
  SpeedOptions o = Options();
  o.exit_when_idle = std::chrono::seconds(1);
  o.env = &env;
  SpeedJob job(o, &sink);
  FakeSource source(d.partitions, &job);
  source.env = &env;
  auto summary = job.Run(&source);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(sink.failures, 0);
  EXPECT_EQ(env.slept(),
            std::chrono::milliseconds(500 + 1000 + 2000 + 4000 + 8000 + 10000 + 10000));
  EXPECT_EQ(summary->events, 3000 - static_cast<int64_t>(d.bad.size()));
  EXPECT_EQ(sink.rows, d.expected);
}

}  // namespace
}  // namespace lf::speed
