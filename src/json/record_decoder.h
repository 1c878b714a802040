#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pipeline/record_batch.h"
#include "simdjson.h"

namespace lf::json {

// Decodes JSON objects into rows of a RecordBatch of one schema (SPEC §4): each field by name
// (any order; unknown members ignored; a duplicate is an error), checked against its type —
// string; int64 (an integer); float64 (any number); bool; timestamp (a number in the field's
// unit, or ISO-8601 text) — and its min/max. A missing or null optional field is null; a missing
// required one is an error naming it. A `from_key` field takes the Kafka message key. One decoder
// per pipeline thread; buffers are reused, so no allocation per record once warm except the first
// sight of a new string.
class JsonRecordDecoder : public pipeline::Decoder {
 public:
  // `schema` must outlive the decoder.
  explicit JsonRecordDecoder(const pipeline::Schema* schema);

  bool Decode(std::string_view payload, std::string_view key, int32_t partition, int64_t offset,
              pipeline::RecordBatch* out, pipeline::DecodeError* error) override;

  // With a target, each Decode also writes the members the schema does not know to it, as one
  // JSON object ("" when there are none): bronze's _rescued_data (SPEC §6.2).
  void set_rescue(std::string* target) { rescue_ = target; }

 private:
  // One field's decoded value before the row is appended (the row is all or nothing).
  using Slot = pipeline::FieldSlot;

  int FieldIndex(std::string_view name) const;
  bool DecodeValue(size_t field, simdjson::ondemand::value value, pipeline::DecodeError* error);
  // Adds an unknown member to *rescue_.
  bool Rescue(std::string_view name, simdjson::ondemand::value value, pipeline::DecodeError* error);

  const pipeline::Schema* schema_;
  int key_field_ = -1;
  simdjson::ondemand::parser parser_;
  std::string buffer_;  // payload copy with simdjson's padding
  std::vector<Slot> slots_;
  std::vector<std::string> unescaped_;  // owned copies of string values, per field
  std::string* rescue_ = nullptr;
  // Checks rescued values: On-Demand skips over unknown ones (brackets counted, scalars not read).
  simdjson::dom::parser rescue_parser_;
};

}  // namespace lf::json
