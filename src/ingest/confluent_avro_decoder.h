#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "avro/binary_decoder.h"
#include "avro/schema.h"
#include "ingest/registry_client.h"
#include "pipeline/record_batch.h"

namespace lf::ingest {

// Kafka messages in the Confluent wire format (SPEC §6.4: byte 0 = 0, a 4-byte big-endian schema
// id, then Avro binary) into rows of a definition's schema: the writer schema comes from the
// registry by id (cached, with its decoder), fields resolve by name (avro::AvroRecordDecoder).
// After each record it leaves the writer schema's id and the fields the definition does not know
// (JSON) in *schema_id and *rescued. A message that is not in the wire format, names an unknown
// schema id or does not decode is refused with the reason. While the registry cannot be reached
// it waits (retrying each second) rather than refuse messages, unless shutdown is requested.
class ConfluentAvroDecoder : public pipeline::Decoder {
 public:
  // Everything given must outlive the decoder.
  ConfluentAvroDecoder(const pipeline::Schema* fields, RegistryClient* registry,
                       std::string* rescued, int32_t* schema_id);

  bool Decode(std::string_view payload, std::string_view key, int32_t partition, int64_t offset,
              pipeline::RecordBatch* out, pipeline::DecodeError* error) override;

 private:
  struct Writer {
    std::unique_ptr<avro::Schema> schema;
    std::unique_ptr<avro::AvroRecordDecoder> decoder;
    std::string problem;  // why the id cannot be used (unknown, not parsable, not a record)
  };
  // The decoder of writer schema `id`, or nullptr with *problem set.
  avro::AvroRecordDecoder* DecoderFor(int32_t id, std::string* problem);

  const pipeline::Schema* fields_;
  RegistryClient* registry_;
  std::string* rescued_;
  int32_t* schema_id_;
  std::map<int32_t, Writer> writers_;
};

}  // namespace lf::ingest
