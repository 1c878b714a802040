#include "speed/engine.h"

#include <chrono>

#include "common/status.h"
#include "common/time.h"
#include "fmt/format.h"

namespace lf::speed {
namespace {

// Copies the rows of `in` whose `keep` byte is set into `out`.
void FilterRows(const pipeline::EventBatch& in, std::span<const uint8_t> keep,
                pipeline::EventBatch* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (!keep[i]) continue;
    out->bytes.push_back(in.bytes[i]);
    out->timestamp_s.push_back(in.timestamp_s[i]);
    for (int k = 0; k < pipeline::kKeyColumns; ++k) out->keys[k].push_back(in.keys[k][i]);
    out->partition.push_back(in.partition[i]);
    out->offset.push_back(in.offset[i]);
  }
}

}  // namespace

TelecomEngine::TelecomEngine(window::WindowOptions windows)
    : decoder_(&dictionaries_), aggregator_(windows, window::DeviceMetrics()) {
  decoder_.set_deferred(true);  // keys interned a poll at a time (InternPending)
}

void TelecomEngine::Decode(std::span<const pipeline::RawMessage> messages,
                           std::span<const uint8_t> wanted, std::vector<DecodeResult>* results) {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!wanted[i]) continue;
    const pipeline::RawMessage& m = messages[i];
    DecodeResult& r = (*results)[i];
    r.ok = decoder_.Decode(m.payload, m.partition, m.offset, &batch_, &r.error);
    if (r.ok) r.event_time_s = batch_.timestamp_s.back();
  }
  decoder_.InternPending(&batch_);
}

void TelecomEngine::Aggregate(std::span<const uint8_t> keep, std::vector<int64_t>* late) {
  if (keep.empty()) {
    aggregator_.Add(batch_, late);
  } else {
    FilterRows(batch_, keep, &filtered_);
    aggregator_.Add(filtered_, late);
  }
}

absl::Status TelecomEngine::AppendToLake(lake::LakeWriter* writer, std::span<const uint8_t> keep) {
  return writer->Append(batch_, dictionaries_, keep);
}

void TelecomEngine::TakeDeltas(pipeline::SpeedFlush* flush) {
  std::vector<window::Delta> deltas = aggregator_.TakeDeltas();
  const auto& metrics = aggregator_.metrics();
  flush->rows.reserve(deltas.size());
  // Key names are views into the interner's arena, which never moves or shrinks: the committer
  // can read them while this thread interns new keys.
  for (const window::Delta& d : deltas) {
    flush->rows.push_back(pipeline::WindowRow{d.window_start_s, metrics[d.metric].name,
                                              dictionaries_[metrics[d.metric].key].Name(d.key),
                                              d.value});
  }
}

MetricEngine::MetricEngine(const pipeline::Definition* def,
                           std::unique_ptr<pipeline::Decoder> decoder, const BronzeFields* bronze)
    : def_(def),
      schema_(def->fields),
      dictionaries_(schema_),
      decoder_(std::move(decoder)),
      batch_(&schema_, &dictionaries_),
      aggregator_(def) {
  if (!decoder_) {
    auto json = std::make_unique<json::JsonRecordDecoder>(&schema_);
    if (def->lake.metadata) json->set_rescue(&own_bronze_.rescued);
    decoder_ = std::move(json);
    bronze = &own_bronze_;
  }
  if (def->lake.metadata) {
    bronze_ = bronze ? bronze : &own_bronze_;
    meta_.topic = def->source.topic;
  }
}

void MetricEngine::Decode(std::span<const pipeline::RawMessage> messages,
                          std::span<const uint8_t> wanted, std::vector<DecodeResult>* results) {
  ingest_time_s_ = ToUnixSeconds(WallNow());
  pipeline::DecodeError error;
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!wanted[i]) continue;
    const pipeline::RawMessage& m = messages[i];
    DecodeResult& r = (*results)[i];
    r.ok = decoder_->Decode(m.payload, m.key, m.partition, m.offset, &batch_, &error);
    if (r.ok) {
      if (bronze_) {
        meta_.rescued.push_back(bronze_->rescued);
        meta_.schema_id.push_back(bronze_->schema_id);
      }
      r.event_time_s = aggregator_.EventTimeS(batch_, batch_.num_rows() - 1, ingest_time_s_);
    } else {
      r.error = std::move(error.message);
    }
  }
}

void MetricEngine::Aggregate(std::span<const uint8_t> keep, std::vector<int64_t>* late) {
  aggregator_.Add(batch_, keep, ingest_time_s_, late);
}

absl::Status MetricEngine::AppendToLake(lake::LakeWriter* writer, std::span<const uint8_t> keep) {
  if (bronze_) {
    meta_.ingested_at_us = ingest_time_s_ * 1'000'000;
    meta_.batch_id = fmt::format("{}-{}", def_->name, ingest_time_s_);
  }
  return writer->Append(batch_, schema_.IndexOf(def_->event_time), ingest_time_s_, keep,
                        bronze_ ? &meta_ : nullptr);
}

void MetricEngine::TakeDeltas(pipeline::SpeedFlush* flush) {
  aggregator_.TakeRows(&flush->metric_rows);
}

}  // namespace lf::speed
