#pragma once

// Decodes Avro binary record bodies (the part after the Confluent header, SPEC §6.4) straight into
// rows of a pipeline RecordBatch, resolving the writer's record against the definition's fields
// by name.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "avro/schema.h"
#include "pipeline/record_batch.h"

namespace lf::avro {

// Limits that make hostile input cheap to refuse (each breach is a kMalformed DecodeError).
inline constexpr int kMaxDepth = 64;                       // nested records/arrays/maps/unions
inline constexpr int64_t kMaxElements = int64_t{1} << 20;  // array items + map entries per datum
inline constexpr size_t kMaxDecimalBytes = 64;             // a decimal's unscaled value

// One writer schema (a record) bound to one definition. For each definition field:
// - found in the writer record by name: converted — int/long → int64; int/long/float/double →
//   float64; boolean → bool; string, enum symbol, uuid → string; bytes/fixed → string when valid
//   UTF-8; decimal → its text ("123.45") for a string field, its value for a float64 field;
//   timestamp-millis/-micros → timestamp; date → timestamp at midnight UTC; plain int/long →
//   timestamp in the field's unit; ISO-8601 string → timestamp. A union's null branch is null,
//   allowed for optional fields only (kMissing otherwise). Other pairs are kWrongType; numbers
//   are checked against min/max, timestamps against the years 1-9999 (kOutOfRange); strings may
//   not hold U+0000 (kWrongType).
// - absent from the writer: null when optional, kMissing otherwise.
// - taken from the message key (`from_key`): the key, which must be UTF-8.
// Writer fields the definition lacks go to the rescue target as one JSON object (records as
// objects, maps as objects, arrays, unions as their value, bytes and fixed as strings of code
// points 0-255, decimals as numbers, timestamps and dates as ISO-8601 text, NaN and infinities
// as strings), or are skipped when there is no target.
// Nothing read is trusted: every varint (at most 10 bytes), length, block count and byte size,
// enum and union index is checked against the schema and the bytes left, nesting is capped at
// kMaxDepth and elements at kMaxElements; a body with bytes after the record is kMalformed.
// Not thread-safe; one per pipeline thread.
class AvroRecordDecoder {
 public:
  // `writer` and `fields` must outlive the decoder. InvalidArgument when the writer's schema is
  // not a record.
  static absl::StatusOr<std::unique_ptr<AvroRecordDecoder>> Make(const Schema* writer,
                                                                 const pipeline::Schema* fields);

  // Appends exactly one row to *out, or none and fills *error.
  bool Decode(std::string_view body, std::string_view key, int32_t partition, int64_t offset,
              pipeline::RecordBatch* out, pipeline::DecodeError* error);
  bool Decode(std::string_view body, int32_t partition, int64_t offset, pipeline::RecordBatch* out,
              pipeline::DecodeError* error) {
    return Decode(body, {}, partition, offset, out, error);
  }

  // With a target, each Decode also writes the writer fields the definition lacks to it, as one
  // JSON object ("" when there are none): bronze's _rescued_data (SPEC §6.2).
  void set_rescue(std::string* target) { rescue_ = target; }

 private:
  using Slot = pipeline::FieldSlot;
  class Cursor;

  AvroRecordDecoder(const Schema* writer, const pipeline::Schema* fields);

  bool DecodeField(Cursor& in, const Node& node, size_t field, pipeline::DecodeError* error);
  // Reads one value of `node`; appends it as JSON to *json unless json is null (then it is only
  // checked and skipped).
  bool Render(Cursor& in, const Node& node, int depth, std::string* json,
              pipeline::DecodeError* error);
  bool Blocks(Cursor& in, const Node& node, int depth, std::string* json,
              pipeline::DecodeError* error);
  // The fewest bytes a value of `n` takes (saturating); lets a block count be checked against
  // the bytes left.
  uint64_t MinSize(const Node& n) const { return min_sizes_.at(&n); }
  uint64_t ComputeMinSize(const Node& n);

  const Schema* writer_;
  const pipeline::Schema* fields_;
  std::vector<int> target_;  // writer field → definition field, or -1
  int key_field_ = -1;
  std::vector<Slot> slots_;
  std::vector<std::string> text_;                        // decimal text per definition field
  std::unordered_map<const Node*, uint64_t> min_sizes_;  // every node reachable
  std::string scratch_;
  std::string* rescue_ = nullptr;
};

}  // namespace lf::avro
