// speed_vs_librdkafka_bench: the speed layer's events/s next to a bare librdkafka consumer's, on
// the same broker and the same data, in one run, with the peak RSS of each.
//
//   speed_vs_librdkafka_bench --brokers HOST:PORT --topic T --events N --pg URI
//                             [--rounds 3] [--phases bare,speed-pg,speed-null,...]
//                             [-X librdkafka.consumer.property=value ...]   (every phase)
//
// The topic must already hold exactly N events (bench/run_speed_bench.sh fills it with
// `lambdaflow simulate`); the benchmark first checks that every partition still starts at offset
// 0 (the embedded broker drops old data beyond its retention) and that the high watermarks add up
// to N. Then, for each round, every phase runs once in a child process of its own (so peak RSS is
// the phase's: ru_maxrss from wait4), the order rotated from round to round to cancel drift:
//
//   bare        librdkafka high-level consumer, KafkaSource's configuration, a new group,
//               rd_kafka_consumer_poll one message at a time, summing every payload byte
//   bare-batch  the same, but draining the queue with rd_kafka_consume_batch_queue
//   speed-pg    KafkaSource + SpeedJob + PgSpeedSink (a new group and a new window table)
//   speed-null  KafkaSource + SpeedJob + a sink that accepts every flush (no PostgreSQL)
//   (the batch-draining source prototyped here earlier is now KafkaSource itself)
//
// Timing: from the first message received to the moment the N-th message was consumed (bare) or
// committed (speed: the source wrapper requests shutdown once N messages were handed out; SpeedJob
// then flushes, and the sink wrapper stamps the end of the commit that covers the N-th). Group
// join and assignment come before the first message and are reported apart ("start s"), so no
// idle wait is in the rate.
//
// BENCH_DEBUG=1 in the environment logs each phase at debug level (with -X debug=fetch that shows
// librdkafka's fetch decisions, e.g. "is not fetchable: queued.max.messages.kbytes exceeded").

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/shutdown.h"
#include "common/status.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_source.h"
#include "pipeline/commit_sink.h"
#include "pipeline/record_source.h"
#include "postgres/conninfo.h"
#include "postgres/speed_sink.h"
#include "spdlog/spdlog.h"
#include "speed/speed_job.h"

namespace lf::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string brokers;
  std::string topic = "devices";
  std::string pg;
  int64_t events = 0;
  int rounds = 3;
  std::vector<std::string> phases = {"bare", "speed-pg", "speed-null"};
  int idle_timeout_s = 60;       // a phase fails when no message arrives for this long
  kafka::ConfigPairs overrides;  // -X key=value: consumer properties for every phase
  int broker_pid = 0;            // when set, the broker process's CPU per phase is reported
};

// What a child reports to the parent through a pipe (plain bytes: same binary on both ends).
struct PhaseResult {
  bool ok = false;
  int64_t messages = 0;  // consumed (bare) or committed as events + bad (speed)
  double start_s = 0;    // from the start of the phase to the first message
  double run_s = 0;      // from the first message to the last consumed / committed
  int64_t rows = 0;      // window rows written (speed)
  int64_t flushes = 0;
  int64_t polls = 0;      // non-empty polls: consumer_poll batches (bare) or RecordSource::Poll
  uint64_t checksum = 0;  // sum of payload bytes (bare), so the loop cannot be optimized away
  char error[400] = {};
};

void SetError(PhaseResult* r, const std::string& text) {
  std::snprintf(r->error, sizeof r->error, "%s", text.c_str());
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// KafkaSource::Open's consumer settings (src/kafka/kafka_source.cc), repeated here so the bare
// consumer is configured exactly like the speed layer's. Keep in sync.
kafka::ConfigPairs ConsumerConfig(const Flags& f, const std::string& group) {
  kafka::ConfigPairs pairs = {
      {"bootstrap.servers", f.brokers},      {"group.id", group},
      {"client.id", "lambdaflow-bench"},     {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"}, {"auto.offset.reset", "error"},
      {"enable.partition.eof", "false"},     {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "1000"},     {"fetch.wait.max.ms", "100"},
      {"queued.min.messages", "500000"},     {"max.partition.fetch.bytes", "4194304"},
      {"fetch.max.bytes", "67108864"},
  };
  for (const auto& kv : f.overrides) pairs.push_back(kv);
  return pairs;
}

std::string UniqueName(const std::string& phase, int round) {
  std::string name = fmt::format("bench_{}_{}_r{}", getpid(), phase, round);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// --- the bare consumer ------------------------------------------------------------------------

// Assigns every partition from its beginning (a new group has no committed offsets, and
// auto.offset.reset=error, as in KafkaSource).
void AssignFromBeginning(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* partitions, void*) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < partitions->cnt; ++i)
      partitions->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, partitions);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

void RunBare(const Flags& f, int round, bool batch, PhaseResult* r) {
  auto conf =
      kafka::MakeConfig(ConsumerConfig(f, UniqueName(batch ? "bare-batch" : "bare", round)));
  if (!conf.ok()) return SetError(r, Message(conf.status()));
  rd_kafka_conf_set_rebalance_cb(conf->get(), &AssignFromBeginning);
  auto rk = kafka::NewClient(RD_KAFKA_CONSUMER, std::move(*conf), "bench consumer");
  if (!rk.ok()) return SetError(r, Message(rk.status()));
  rd_kafka_poll_set_consumer(rk->get());
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, f.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const auto started = Clock::now();
  rd_kafka_subscribe(rk->get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk->get());
  std::vector<rd_kafka_message_t*> messages(20000);

  Clock::time_point first{}, last = started;
  int64_t count = 0;
  uint64_t sum = 0;
  auto take = [&](rd_kafka_message_t* m) {
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        spdlog::warn("bench: bare consumer: {}", rd_kafka_message_errstr(m));
    } else {
      const auto* p = static_cast<const unsigned char*>(m->payload);
      for (size_t i = 0; i < m->len; ++i) sum += p[i];
      ++count;
    }
    rd_kafka_message_destroy(m);
  };
  while (count < f.events) {
    size_t got = 0;
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk->get(), 100)) {
      messages[0] = m;
      got = 1;
      if (batch) {
        ssize_t n =
            rd_kafka_consume_batch_queue(queue, 0, messages.data() + 1, messages.size() - 1);
        if (n > 0) got += static_cast<size_t>(n);
      }
    }
    const auto now = Clock::now();
    if (got > 0) {
      ++r->polls;
      if (count == 0) first = now;
      for (size_t i = 0; i < got; ++i) take(messages[i]);
      last = Clock::now();
    } else if (now - last > std::chrono::seconds(f.idle_timeout_s)) {
      SetError(r, fmt::format("bare consumer: only {} of {} messages after {} s idle", count,
                              f.events, f.idle_timeout_s));
      break;
    }
  }
  rd_kafka_queue_destroy(queue);
  r->ok = count == f.events;
  if (r->ok) r->error[0] = 0;
  r->messages = count;
  r->start_s = Seconds(first - started);
  r->run_s = Seconds(last - first);
  r->checksum = sum;
  rd_kafka_consumer_close(rk->get());
}

// --- the speed layer ----------------------------------------------------------------------------

// Accepts every flush (remembering offsets, so a rebalance would resume correctly).
class NullSink : public pipeline::SpeedCommitSink {
 public:
  absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> Load(
      const std::vector<int32_t>& partitions) override {
    std::map<int32_t, pipeline::CommittedPartition> out;
    for (int32_t p : partitions) out[p] = committed_[p];
    return out;
  }
  absl::Status Commit(const pipeline::SpeedFlush& flush) override {
    for (const auto& p : flush.progress) committed_[p.partition].next_offset = p.next_offset;
    return absl::OkStatus();
  }

 private:
  std::map<int32_t, pipeline::CommittedPartition> committed_;
};

// Stamps the end of the commit that makes the N-th message durable.
class TimingSink : public pipeline::SpeedCommitSink {
 public:
  TimingSink(pipeline::SpeedCommitSink* inner, int64_t target) : inner_(inner), target_(target) {}
  absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> Load(
      const std::vector<int32_t>& partitions) override {
    return inner_->Load(partitions);
  }
  absl::Status Commit(const pipeline::SpeedFlush& flush) override {
    absl::Status st = inner_->Commit(flush);
    if (!st.ok()) return st;
    for (const auto& p : flush.progress) committed_ += p.events + p.bad;
    if (committed_ >= target_ && done_ == Clock::time_point{}) done_ = Clock::now();
    return st;
  }
  int64_t committed() const { return committed_; }
  Clock::time_point done() const { return done_; }

 private:
  pipeline::SpeedCommitSink* inner_;
  int64_t target_;
  int64_t committed_ = 0;
  Clock::time_point done_{};
};

// Stamps the first message and asks the job to finish (flush, close) once N were handed out.
class CountingSource : public pipeline::RecordSource {
 public:
  CountingSource(pipeline::RecordSource* inner, int64_t target) : inner_(inner), target_(target) {}
  absl::StatusOr<std::span<const pipeline::RawMessage>> Poll(
      size_t max, std::chrono::milliseconds timeout) override {
    auto polled = inner_->Poll(max, timeout);
    if (polled.ok() && !polled->empty()) {
      if (seen_ == 0) first_ = Clock::now();
      seen_ += static_cast<int64_t>(polled->size());
      ++polls_;
      if (seen_ >= target_) RequestShutdown();
    }
    return polled;
  }
  absl::Status Seek(int32_t partition, int64_t offset) override {
    return inner_->Seek(partition, offset);
  }
  void MirrorCommit(const std::map<int32_t, int64_t>& next) override { inner_->MirrorCommit(next); }
  std::map<int32_t, int64_t> Lag() override { return inner_->Lag(); }
  absl::Status Close() override { return inner_->Close(); }
  Clock::time_point first() const { return first_; }
  int64_t polls() const { return polls_; }

 private:
  pipeline::RecordSource* inner_;
  int64_t target_;
  int64_t seen_ = 0;
  int64_t polls_ = 0;
  Clock::time_point first_{};
};

void RunSpeed(const Flags& f, const std::string& phase, int round, PhaseResult* r) {
  const bool use_pg = phase.ends_with("-pg");
  const std::string name = UniqueName(phase, round);
  std::unique_ptr<pipeline::SpeedCommitSink> inner;
  if (use_pg) {
    auto target = postgres::ParseConnTarget(f.pg);
    if (!target.ok()) return SetError(r, Message(target.status()));
    postgres::SpeedSinkOptions o;
    o.target = *target;
    o.table = name;  // a new window table per run: every run upserts into an empty table
    o.pipeline = name;
    o.topic = f.topic;
    auto sink = postgres::PgSpeedSink::Open(o);
    if (!sink.ok()) return SetError(r, Message(sink.status()));
    inner = std::move(*sink);
  } else {
    inner = std::make_unique<NullSink>();
  }
  TimingSink sink(inner.get(), f.events);
  speed::SpeedOptions options;
  options.topic = f.topic;
  options.exit_when_idle = std::chrono::seconds(f.idle_timeout_s);  // a backstop only
  speed::SpeedJob job(options, &sink);
  kafka::SourceOptions so;
  so.brokers = f.brokers;
  so.topic = f.topic;
  so.group = name;
  so.overrides = f.overrides;
  std::unique_ptr<pipeline::RecordSource> source;
  {
    auto s = kafka::KafkaSource::Open(so, &job);
    if (!s.ok()) return SetError(r, Message(s.status()));
    source = std::move(*s);
  }
  CountingSource counting(source.get(), f.events);
  const auto started = Clock::now();
  auto summary = job.Run(&counting);
  if (!summary.ok()) return SetError(r, Message(summary.status()));
  r->messages = sink.committed();
  r->rows = summary->rows_written;
  r->flushes = summary->flushes;
  r->polls = counting.polls();
  r->start_s = Seconds(counting.first() - started);
  r->run_s = Seconds(sink.done() - counting.first());
  r->ok = sink.committed() == f.events && summary->events + summary->bad == f.events &&
          summary->lost == 0;
  if (!r->ok) {
    SetError(r, fmt::format("committed {} (events {}, bad {}, lost {}) of {}", sink.committed(),
                            summary->events, summary->bad, summary->lost, f.events));
  }
}

// --- the topic check ----------------------------------------------------------------------------

// Every partition must start at offset 0 and the high watermarks must add up to N: nothing was
// dropped by the broker's retention and nothing else is in the topic.
void RunCheck(const Flags& f, PhaseResult* r) {
  auto conf = kafka::MakeConfig({{"bootstrap.servers", f.brokers}});
  if (!conf.ok()) return SetError(r, Message(conf.status()));
  auto rk = kafka::NewClient(RD_KAFKA_PRODUCER, std::move(*conf), "bench check client");
  if (!rk.ok()) return SetError(r, Message(rk.status()));
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk->get(), f.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  if (auto err = rd_kafka_metadata(rk->get(), 0, topic, &md, 10000); err) {
    rd_kafka_topic_destroy(topic);
    return SetError(r, fmt::format("metadata of {}: {}", f.topic, rd_kafka_err2str(err)));
  }
  int partitions = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(topic);
  int64_t total = 0;
  std::string problems;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = -1, high = -1;
    if (auto err =
            rd_kafka_query_watermark_offsets(rk->get(), f.topic.c_str(), p, &low, &high, 10000);
        err)
      return SetError(r,
                      fmt::format("watermarks of {}[{}]: {}", f.topic, p, rd_kafka_err2str(err)));
    if (low != 0)
      problems += fmt::format(" [{}] low watermark {} (retention dropped data);", p, low);
    total += high - low;
  }
  r->messages = total;
  r->rows = partitions;
  if (partitions == 0) return SetError(r, fmt::format("topic {} has no partitions", f.topic));
  if (!problems.empty()) return SetError(r, fmt::format("topic check:{}", problems));
  if (total != f.events)
    return SetError(
        r, fmt::format("topic {} holds {} messages, expected {}", f.topic, total, f.events));
  r->ok = true;
}

// --- the parent ---------------------------------------------------------------------------------

struct Run {
  PhaseResult result;
  long max_rss_kb = 0;
  double cpu_s = 0;  // user + system CPU of the child, all threads
};

// Runs `body` in a child process; returns its result and its peak RSS.
template <typename Body>
Run InChild(Body body) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    PhaseResult r;
    body(&r);
    ssize_t w = write(fds[1], &r, sizeof r);
    _exit(w == static_cast<ssize_t>(sizeof r) ? 0 : 1);
  }
  close(fds[1]);
  Run run;
  size_t got = 0;
  while (got < sizeof run.result) {
    ssize_t n = read(fds[0], reinterpret_cast<char*>(&run.result) + got, sizeof run.result - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  run.max_rss_kb = ru.ru_maxrss;
  run.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
              static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  if (got != sizeof run.result) {
    run.result = PhaseResult{};
    SetError(&run.result, fmt::format("child exited without a result (status {})", status));
  }
  return run;
}

// User + system CPU seconds of process `pid` so far (0 when unknown).
double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return 0;
  FILE* f = std::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "r");
  if (!f) return 0;
  char buf[1024] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  // Fields after the ")" closing the command name: state is field 3; utime, stime are 14, 15.
  const char* p = std::strrchr(buf, ')');
  if (!p) return 0;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
      2)
    return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int Main(const Flags& f) {
  Run check = InChild([&](PhaseResult* r) { RunCheck(f, r); });
  if (!check.result.ok) {
    std::fprintf(stderr, "speed_vs_librdkafka_bench: %s\n", check.result.error);
    return 1;
  }
  Run idle = InChild([](PhaseResult* r) { r->ok = true; });
  std::printf("topic %s: %lld messages in %lld partitions, all from offset 0\n", f.topic.c_str(),
              static_cast<long long>(check.result.messages),
              static_cast<long long>(check.result.rows));
  std::printf("%-6s %-11s %12s %8s %8s %8s %12s %8s %9s %8s %7s %9s\n", "round", "phase",
              "events/s", "run s", "start s", "CPU s", "ev/CPU-s", "broker s", "RSS MB", "rows",
              "flushes", "ev/poll");
  std::map<std::string, std::vector<double>> rates, rss, ratio, cpu_rates, broker_cpu;
  bool failed = false;
  const size_t k = f.phases.size();
  for (int round = 0; round < f.rounds; ++round) {
    std::map<std::string, double> this_round;
    for (size_t i = 0; i < k; ++i) {
      // Rotate the order each round so no phase always runs first (or right after another).
      const std::string& phase = f.phases[(i + static_cast<size_t>(round)) % k];
      const double broker_before = ProcessCpuSeconds(f.broker_pid);
      Run run = InChild([&](PhaseResult* r) {
        spdlog::set_level(std::getenv("BENCH_DEBUG") ? spdlog::level::debug : spdlog::level::warn);
        if (phase == "bare" || phase == "bare-batch") {
          RunBare(f, round, phase == "bare-batch", r);
        } else {
          RunSpeed(f, phase, round, r);
        }
      });
      const double broker_s = ProcessCpuSeconds(f.broker_pid) - broker_before;
      const PhaseResult& r = run.result;
      if (!r.ok) {
        std::printf("%-6d %-11s FAILED: %s\n", round + 1, phase.c_str(), r.error);
        failed = true;
        continue;
      }
      const double rate = r.run_s > 0 ? static_cast<double>(r.messages) / r.run_s : 0;
      const double cpu_rate = run.cpu_s > 0 ? static_cast<double>(r.messages) / run.cpu_s : 0;
      std::printf(
          "%-6d %-11s %12.0f %8.3f %8.3f %8.3f %12.0f %8.3f %9.1f %8lld %7lld %9.0f\n", round + 1,
          phase.c_str(), rate, r.run_s, r.start_s, run.cpu_s, cpu_rate, broker_s,
          run.max_rss_kb / 1024.0, static_cast<long long>(r.rows),
          static_cast<long long>(r.flushes),
          r.polls > 0 ? static_cast<double>(r.messages) / static_cast<double>(r.polls) : 0.0);
      std::fflush(stdout);
      rates[phase].push_back(rate);
      rss[phase].push_back(run.max_rss_kb / 1024.0);
      cpu_rates[phase].push_back(cpu_rate);
      broker_cpu[phase].push_back(broker_s);
      this_round[phase] = rate;
    }
    if (this_round.count("bare")) {
      for (const auto& [phase, rate] : this_round)
        ratio[phase].push_back(rate / this_round["bare"]);
    }
  }
  std::printf("\nsummary over %d round(s), %lld events (idle child process: %.1f MB RSS)\n",
              f.rounds, static_cast<long long>(f.events), idle.max_rss_kb / 1024.0);
  std::printf("%-11s %12s %12s %12s %10s %12s %12s %12s\n", "phase", "median ev/s", "min ev/s",
              "max ev/s", "÷ bare", "ev/CPU-s", "broker CPU s", "peak RSS MB");
  for (const std::string& phase : f.phases) {
    const auto& v = rates[phase];
    if (v.empty()) continue;
    std::printf("%-11s %12.0f %12.0f %12.0f %10.3f %12.0f %12.3f %12.1f\n", phase.c_str(),
                Median(v), *std::min_element(v.begin(), v.end()),
                *std::max_element(v.begin(), v.end()), Median(ratio[phase]),
                Median(cpu_rates[phase]), Median(broker_cpu[phase]),
                *std::max_element(rss[phase].begin(), rss[phase].end()));
  }
  std::printf(
      "(÷ bare: median over rounds of the phase's rate divided by the bare consumer's in the same "
      "round;\n ev/CPU-s: events per CPU second of the phase's whole process, all threads, "
      "start-up "
      "included;\n broker CPU s: CPU the broker process used during the phase, when --broker-pid "
      "is "
      "given)\n");
  return failed ? 1 : 0;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace
}  // namespace lf::bench

int main(int argc, char** argv) {
  lf::bench::Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "speed_vs_librdkafka_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--brokers")
      f.brokers = value();
    else if (a == "--topic")
      f.topic = value();
    else if (a == "--pg")
      f.pg = value();
    else if (a == "--events")
      f.events = std::stoll(value());
    else if (a == "--rounds")
      f.rounds = std::stoi(value());
    else if (a == "--phases")
      f.phases = lf::bench::Split(value());
    else if (a == "--idle-timeout")
      f.idle_timeout_s = std::stoi(value());
    else if (a == "--broker-pid")
      f.broker_pid = std::stoi(value());
    else if (a == "-X") {
      std::string kv = value();
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "speed_vs_librdkafka_bench: -X %s: want key=value\n", kv.c_str());
        return 2;
      }
      f.overrides.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else {
      std::fprintf(
          stderr,
          "usage: speed_vs_librdkafka_bench --brokers HOST:PORT --topic T --events N --pg URI\n"
          "         [--rounds 3] [--phases "
          "bare,bare-batch,speed-pg,speed-null]\n"
          "         [--idle-timeout 60] [--broker-pid PID] [-X consumer.property=value ...]\n");
      return 2;
    }
  }
  if (f.brokers.empty() || f.events <= 0) {
    std::fprintf(stderr, "speed_vs_librdkafka_bench: --brokers and --events are required\n");
    return 2;
  }
  for (const auto& p : f.phases) {
    if (p.ends_with("-pg") && f.pg.empty()) {
      std::fprintf(stderr, "speed_vs_librdkafka_bench: phase %s needs --pg\n", p.c_str());
      return 2;
    }
  }
  return lf::bench::Main(f);
}
