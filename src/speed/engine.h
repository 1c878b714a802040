#pragma once

// The pipeline-specific half of the speed layer: decoding messages into a batch, aggregating the
// batch into window deltas, handing rows to the lake, and the watermark. SpeedJob owns the rest
// (partitions, offsets, exactly-once commits, lake commits, idleness) for every pipeline. Calls
// are per poll, never per message. TelecomEngine runs SPEC §1's pipeline on its specialised
// columns; MetricEngine runs any definition (SPEC §4).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "json/event_decoder.h"
#include "json/record_decoder.h"
#include "lake/lake_writer.h"
#include "pipeline/commit_sink.h"
#include "pipeline/raw_message.h"
#include "pipeline/record_batch.h"
#include "window/metric_aggregator.h"
#include "window/window_aggregator.h"

namespace lf::speed {

struct DecodeResult {
  bool ok = false;
  int64_t event_time_s = 0;  // when ok
  std::string error;         // when not
};

class SpeedEngine {
 public:
  virtual ~SpeedEngine() = default;
  // Decodes messages[i] for every i with wanted[i] into the pending batch, in order; (*results)[i]
  // is set for those (and left alone for the others). `results` has messages.size() entries.
  virtual void Decode(std::span<const pipeline::RawMessage> messages,
                      std::span<const uint8_t> wanted, std::vector<DecodeResult>* results) = 0;
  // Aggregates the pending rows whose keep byte is set (all when `keep` is empty), counting late
  // rows by partition in `late`.
  virtual void Aggregate(std::span<const uint8_t> keep, std::vector<int64_t>* late) = 0;
  // Appends the pending rows whose keep byte is set (all when empty) to `writer`.
  virtual absl::Status AppendToLake(lake::LakeWriter* writer, std::span<const uint8_t> keep) = 0;
  virtual size_t pending_rows() const = 0;
  virtual void ClearBatch() = 0;
  // Moves every delta since the last call into `flush` (rows or metric_rows).
  virtual void TakeDeltas(pipeline::SpeedFlush* flush) = 0;
  virtual void DiscardDeltas() = 0;
  virtual void AdvanceWatermark(int64_t watermark_s) = 0;
  virtual void ResetWatermark() = 0;
  virtual int64_t WatermarkFor(const std::vector<int64_t>& max_event_times) const = 0;
  virtual int64_t watermark_s() const = 0;
};

// SPEC §1: SUM(bytes) per antenna, user and app over one window size, on EventBatch columns.
class TelecomEngine : public SpeedEngine {
 public:
  explicit TelecomEngine(window::WindowOptions windows);

  void Decode(std::span<const pipeline::RawMessage> messages, std::span<const uint8_t> wanted,
              std::vector<DecodeResult>* results) override;
  void Aggregate(std::span<const uint8_t> keep, std::vector<int64_t>* late) override;
  absl::Status AppendToLake(lake::LakeWriter* writer, std::span<const uint8_t> keep) override;
  size_t pending_rows() const override { return batch_.size(); }
  void ClearBatch() override { batch_.clear(); }
  void TakeDeltas(pipeline::SpeedFlush* flush) override;
  void DiscardDeltas() override { aggregator_.DiscardDeltas(); }
  void AdvanceWatermark(int64_t watermark_s) override { aggregator_.AdvanceWatermark(watermark_s); }
  void ResetWatermark() override { aggregator_.ResetWatermark(); }
  int64_t WatermarkFor(const std::vector<int64_t>& max_event_times) const override {
    return aggregator_.WatermarkFor(max_event_times);
  }
  int64_t watermark_s() const override { return aggregator_.watermark_s(); }

 private:
  pipeline::KeyDictionaries dictionaries_;
  json::EventDecoder decoder_;
  window::WindowAggregator aggregator_;
  pipeline::EventBatch batch_, filtered_;
};

// What a decoder reports about the record it last decoded, for bronze's metadata columns
// (SPEC §6.2): the members or fields the definition does not know, as a JSON object ("" for
// none), and the writer schema's registry id (-1 when there is none).
struct BronzeFields {
  std::string rescued;
  int32_t schema_id = -1;
};

// Any definition (SPEC §4) with a Kafka source: a decoder (JSON by default) into a RecordBatch of
// its schema, MetricAggregator over its metrics (none for a bronze ingestion); the lake writer
// must have been opened with the definition's LakeSchema (with metadata when the definition's
// lake has `metadata: true`).
class MetricEngine : public SpeedEngine {
 public:
  // `def` must outlive the engine. `decoder` replaces the JSON decoder; it then fills `*bronze`
  // (which must outlive the engine) after each record when the lake has metadata.
  explicit MetricEngine(const pipeline::Definition* def,
                        std::unique_ptr<pipeline::Decoder> decoder = nullptr,
                        const BronzeFields* bronze = nullptr);

  void Decode(std::span<const pipeline::RawMessage> messages, std::span<const uint8_t> wanted,
              std::vector<DecodeResult>* results) override;
  void Aggregate(std::span<const uint8_t> keep, std::vector<int64_t>* late) override;
  absl::Status AppendToLake(lake::LakeWriter* writer, std::span<const uint8_t> keep) override;
  size_t pending_rows() const override { return batch_.num_rows(); }
  void ClearBatch() override {
    batch_.Clear();
    meta_.ClearRows();
  }
  void TakeDeltas(pipeline::SpeedFlush* flush) override;
  void DiscardDeltas() override { aggregator_.DiscardDeltas(); }
  void AdvanceWatermark(int64_t watermark_s) override { aggregator_.AdvanceWatermark(watermark_s); }
  void ResetWatermark() override { aggregator_.ResetWatermark(); }
  int64_t WatermarkFor(const std::vector<int64_t>& max_event_times) const override {
    return aggregator_.WatermarkFor(max_event_times);
  }
  int64_t watermark_s() const override { return aggregator_.watermark_s(); }

 private:
  const pipeline::Definition* def_;
  pipeline::Schema schema_;
  pipeline::Dictionaries dictionaries_;
  std::unique_ptr<pipeline::Decoder> decoder_;
  BronzeFields own_bronze_;
  const BronzeFields* bronze_ = nullptr;  // with metadata
  lake::RowMetadata meta_;
  pipeline::RecordBatch batch_;
  window::MetricAggregator aggregator_;
  int64_t ingest_time_s_ = 0;  // event time of rows of a definition without event_time
};

}  // namespace lf::speed
