#include "ingest/confluent_avro_decoder.h"

#include <chrono>
#include <thread>

#include "avro/binary_encoder.h"
#include "common/shutdown.h"
#include "common/status.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace lf::ingest {

using pipeline::DecodeError;

ConfluentAvroDecoder::ConfluentAvroDecoder(const pipeline::Schema* fields, RegistryClient* registry,
                                           std::string* rescued, int32_t* schema_id)
    : fields_(fields), registry_(registry), rescued_(rescued), schema_id_(schema_id) {}

avro::AvroRecordDecoder* ConfluentAvroDecoder::DecoderFor(int32_t id, std::string* problem) {
  if (auto it = writers_.find(id); it != writers_.end()) {
    *problem = it->second.problem;
    return it->second.decoder.get();
  }
  absl::StatusOr<std::string> text = registry_->SchemaById(id);
  for (int attempt = 0; !text.ok() && absl::IsUnavailable(text.status()) && !ShutdownRequested();
       ++attempt) {
    if (attempt % 30 == 0) {
      spdlog::warn("{} (retrying every second; messages wait)", Message(text.status()));
    }
    SleepUnlessShutdown(std::chrono::seconds(1));
    text = registry_->SchemaById(id);
  }
  if (!text.ok() && absl::IsUnavailable(text.status())) {
    // Shutting down with the registry away: not remembered, the next run asks again.
    *problem = Message(text.status());
    return nullptr;
  }
  Writer w;
  if (!text.ok()) {
    w.problem = Message(text.status());
  } else if (auto schema = avro::Schema::Parse(*text); !schema.ok()) {
    w.problem = fmt::format("schema id {}: {}", id, Message(schema.status()));
  } else {
    w.schema = std::make_unique<avro::Schema>(std::move(*schema));
    auto decoder = avro::AvroRecordDecoder::Make(w.schema.get(), fields_);
    if (!decoder.ok()) {
      w.problem = fmt::format("schema id {}: {}", id, Message(decoder.status()));
    } else {
      w.decoder = std::move(*decoder);
      w.decoder->set_rescue(rescued_);
    }
  }
  const Writer& kept = writers_.emplace(id, std::move(w)).first->second;
  *problem = kept.problem;
  return kept.decoder.get();
}

bool ConfluentAvroDecoder::Decode(std::string_view payload, std::string_view key, int32_t partition,
                                  int64_t offset, pipeline::RecordBatch* out, DecodeError* error) {
  rescued_->clear();
  *schema_id_ = -1;
  auto frame = avro::ParseConfluentFrame(payload);
  if (!frame.ok()) {
    return pipeline::Refuse(
        error, DecodeError::Code::kMalformed, "",
        fmt::format("not in the Confluent Avro wire format: {}", Message(frame.status())));
  }
  const auto [id, body] = *frame;
  std::string problem;
  avro::AvroRecordDecoder* decoder = DecoderFor(id, &problem);
  if (!decoder) return pipeline::Refuse(error, DecodeError::Code::kMalformed, "", problem);
  *schema_id_ = id;
  return decoder->Decode(body, key, partition, offset, out, error);
}

}  // namespace lf::ingest
