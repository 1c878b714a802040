// decode_aggregate_bench: the speed layer's hot path in memory, without Kafka or PostgreSQL.
//
//   decode_aggregate_bench [--benchmark_filter=REGEX] [google benchmark flags]
//
// Payloads come from the simulator's own EventGenerator (SPEC §1.1, byte for byte what
// `lambdaflow simulate --start 2026-11-22T00:00:00Z --seed 1` sends), for two shapes:
//   small: 20 devices, 5 antennas (the default simulation; few keys, hash maps stay in L1)
//   large: 100 000 devices, 1 000 antennas (hash maps and dictionaries beyond L2)
// Each iteration handles one batch of 20 000 payloads (SpeedOptions::poll_batch), walking a ring
// of kRingEvents pre-generated payloads. items/s is events/s of one core.
//
//   BM_Decode          EventDecoder::Decode into an EventBatch
//   BM_Aggregate       WindowAggregator::Add of a decoded batch (TakeDeltas every kFlushEvery)
//   BM_DecodeAggregate both, as SpeedJob::Process does
//   BM_SpeedJob        SpeedJob::Run over an in-memory RecordSource and a null sink: Process plus
//                      the per-message partition bookkeeping, the watermark and the final Flush
//   BM_Proto*          the prototypes of bench/proto/ (see bench/README.md), next to the above
//
// For a stable instruction count run it under callgrind, e.g.
//   valgrind --tool=callgrind --callgrind-out-file=cg.out ./decode_aggregate_bench
//     --benchmark_filter='BM_DecodeAggregate/0' --benchmark_min_time=0.05   (one line)

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "json/event_decoder.h"
#include "pipeline/commit_sink.h"
#include "pipeline/event_batch.h"
#include "pipeline/raw_message.h"
#include "pipeline/record_source.h"
#include "proto/fast_event_decoder.h"
#include "sim/event_generator.h"
#include "spdlog/spdlog.h"
#include "speed/speed_job.h"
#include "window/window_aggregator.h"

namespace lf::bench {
namespace {

constexpr size_t kBatch = 20'000;
constexpr size_t kRingEvents = 400'000;  // 20 batches; ~60 MB of payloads
constexpr size_t kFlushEvery = 100;      // batches between TakeDeltas (2 M events ~ 1 s at target)
constexpr int kPartitions = 64;

struct Shape {
  int64_t devices;
  int64_t antennas;
};
constexpr Shape kShapes[] = {{20, 5}, {100'000, 1'000}};

// kRingEvents simulator payloads in one buffer, as RawMessages spread round-robin over
// kPartitions partitions with increasing offsets (as a consumer of a 64-partition topic sees them).
class Corpus {
 public:
  explicit Corpus(Shape shape) {
    sim::GeneratorOptions o;
    o.devices = shape.devices;
    o.antennas = shape.antennas;
    o.seed = 1;
    o.start = *ParseTime("2026-11-22T00:00:00Z");
    auto gen = sim::EventGenerator::Create(o);
    std::vector<size_t> ends;
    ends.reserve(kRingEvents);
    for (size_t i = 0; i < kRingEvents; ++i) {
      (*gen)->Next();
      text_.append((*gen)->payload());
      ends.push_back(text_.size());
    }
    messages_.reserve(kRingEvents);
    size_t begin = 0;
    for (size_t i = 0; i < kRingEvents; ++i) {
      messages_.push_back(pipeline::RawMessage{
          static_cast<int32_t>(i % kPartitions), static_cast<int64_t>(i / kPartitions),
          std::string_view(text_).substr(begin, ends[i] - begin)});
      begin = ends[i];
    }
  }
  std::span<const pipeline::RawMessage> Batch(size_t n) const {
    return std::span<const pipeline::RawMessage>(messages_).subspan(
        (n % (kRingEvents / kBatch)) * kBatch, kBatch);
  }
  const std::vector<pipeline::RawMessage>& messages() const { return messages_; }
  size_t bytes() const { return text_.size(); }

 private:
  std::string text_;
  std::vector<pipeline::RawMessage> messages_;
};

const Corpus& CorpusFor(int shape) {
  static std::map<int, std::unique_ptr<Corpus>> corpora;
  auto& c = corpora[shape];
  if (!c) c = std::make_unique<Corpus>(kShapes[shape]);
  return *c;
}

void Label(benchmark::State& state, int shape) {
  state.SetLabel(
      fmt::format("{} devices, {} antennas", kShapes[shape].devices, kShapes[shape].antennas));
}

template <typename Decoder>
void DecodeBatch(Decoder& decoder, std::span<const pipeline::RawMessage> batch,
                 pipeline::EventBatch* out, std::string* error) {
  for (const pipeline::RawMessage& m : batch) {
    if (!decoder.Decode(m.payload, m.partition, m.offset, out, error)) std::abort();
  }
}

template <typename Decoder>
void RunDecode(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const Corpus& corpus = CorpusFor(shape);
  pipeline::KeyDictionaries dictionaries;
  Decoder decoder(&dictionaries);
  pipeline::EventBatch batch;
  std::string error;
  size_t n = 0;
  for (auto _ : state) {
    batch.clear();
    DecodeBatch(decoder, corpus.Batch(n++), &batch, &error);
    benchmark::DoNotOptimize(batch.bytes.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * kBatch * corpus.bytes() / kRingEvents));
  Label(state, shape);
}

// Decoded batches of the ring, for the aggregation-only benchmarks.
std::vector<pipeline::EventBatch> DecodeRing(int shape) {
  const Corpus& corpus = CorpusFor(shape);
  pipeline::KeyDictionaries dictionaries;
  json::EventDecoder decoder(&dictionaries);
  std::string error;
  std::vector<pipeline::EventBatch> batches(kRingEvents / kBatch);
  for (size_t b = 0; b < batches.size(); ++b)
    DecodeBatch(decoder, corpus.Batch(b), &batches[b], &error);
  return batches;
}

template <typename Aggregator>
void RunAggregate(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const std::vector<pipeline::EventBatch> batches = DecodeRing(shape);
  Aggregator aggregator(window::WindowOptions{}, window::DeviceMetrics());
  std::vector<int64_t> late(kPartitions);
  size_t n = 0;
  for (auto _ : state) {
    aggregator.Add(batches[n % batches.size()], &late);
    if (++n % kFlushEvery == 0) benchmark::DoNotOptimize(aggregator.TakeDeltas());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  Label(state, shape);
}

template <typename Decoder, typename Aggregator>
void RunDecodeAggregate(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const Corpus& corpus = CorpusFor(shape);
  pipeline::KeyDictionaries dictionaries;
  Decoder decoder(&dictionaries);
  Aggregator aggregator(window::WindowOptions{}, window::DeviceMetrics());
  std::vector<int64_t> late(kPartitions);
  pipeline::EventBatch batch;
  std::string error;
  size_t n = 0;
  for (auto _ : state) {
    batch.clear();
    DecodeBatch(decoder, corpus.Batch(n), &batch, &error);
    aggregator.Add(batch, &late);
    if (++n % kFlushEvery == 0) benchmark::DoNotOptimize(aggregator.TakeDeltas());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  Label(state, shape);
}

void BM_Decode(benchmark::State& state) { RunDecode<json::EventDecoder>(state); }
void BM_Aggregate(benchmark::State& state) { RunAggregate<window::WindowAggregator>(state); }
void BM_DecodeAggregate(benchmark::State& state) {
  RunDecodeAggregate<json::EventDecoder, window::WindowAggregator>(state);
}
void BM_ProtoDecode(benchmark::State& state) { RunDecode<proto::FastEventDecoder>(state); }
void BM_ProtoDecodeAggregate(benchmark::State& state) {
  RunDecodeAggregate<proto::FastEventDecoder, window::WindowAggregator>(state);
}

// Hands out the corpus `rounds` times in batches of `max`, with offsets continuing per partition,
// then nothing (SpeedJob's exit_when_idle of 0 ends the run).
class VectorSource : public pipeline::RecordSource {
 public:
  VectorSource(const Corpus& corpus, size_t rounds) : corpus_(corpus), rounds_(rounds) {}
  absl::StatusOr<std::span<const pipeline::RawMessage>> Poll(size_t max,
                                                             std::chrono::milliseconds) override {
    const auto& all = corpus_.messages();
    if (round_ == rounds_) return std::span<const pipeline::RawMessage>();
    size_t n = std::min(max, all.size() - next_);
    out_.assign(all.begin() + static_cast<ptrdiff_t>(next_),
                all.begin() + static_cast<ptrdiff_t>(next_ + n));
    const int64_t shift = static_cast<int64_t>(round_ * (kRingEvents / kPartitions));
    for (auto& m : out_) m.offset += shift;
    next_ += n;
    if (next_ == all.size()) next_ = 0, ++round_;
    return std::span<const pipeline::RawMessage>(out_);
  }
  absl::Status Seek(int32_t, int64_t) override { return absl::OkStatus(); }

 private:
  const Corpus& corpus_;
  size_t rounds_, round_ = 0, next_ = 0;
  std::vector<pipeline::RawMessage> out_;
};

// Accepts every flush; remembers offsets so Load after a rebalance would be right.
class NullSink : public pipeline::SpeedCommitSink {
 public:
  absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> Load(
      const std::vector<int32_t>&) override {
    return committed_;
  }
  absl::Status Commit(const pipeline::SpeedFlush& flush) override {
    for (const auto& p : flush.progress) committed_[p.partition].next_offset = p.next_offset;
    rows_ += static_cast<int64_t>(flush.rows.size());
    return absl::OkStatus();
  }
  int64_t rows() const { return rows_; }

 private:
  std::map<int32_t, pipeline::CommittedPartition> committed_;
  int64_t rows_ = 0;
};

void BM_SpeedJob(benchmark::State& state) {
  const int shape = static_cast<int>(state.range(0));
  const Corpus& corpus = CorpusFor(shape);
  constexpr size_t kRounds = 5;  // 2 M events per iteration
  std::vector<int32_t> partitions;
  for (int p = 0; p < kPartitions; ++p) partitions.push_back(p);
  int64_t rows = 0;
  for (auto _ : state) {
    NullSink sink;
    speed::SpeedOptions options;
    options.exit_when_idle = std::chrono::milliseconds(0);
    speed::SpeedJob job(options, &sink);
    VectorSource source(corpus, kRounds);
    (void)job.OnAssigned(partitions);
    auto summary = job.Run(&source);
    if (!summary.ok() || summary->events != static_cast<int64_t>(kRounds * kRingEvents))
      std::abort();
    rows += summary->rows_written;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRounds * kRingEvents));
  state.counters["rows_per_run"] =
      static_cast<double>(rows) / static_cast<double>(state.iterations());
  Label(state, shape);
}

BENCHMARK(BM_Decode)->DenseRange(0, 1);
BENCHMARK(BM_ProtoDecode)->DenseRange(0, 1);
BENCHMARK(BM_Aggregate)->DenseRange(0, 1);
BENCHMARK(BM_DecodeAggregate)->DenseRange(0, 1);
BENCHMARK(BM_ProtoDecodeAggregate)->DenseRange(0, 1);
BENCHMARK(BM_SpeedJob)->DenseRange(0, 1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lf::bench

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);  // SpeedJob logs every run
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
