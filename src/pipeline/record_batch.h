#pragma once

// Records of any pipeline (SPEC §4) as typed columns, in the shape of Arrow's RecordBatch and
// DuckDB's DataChunk: a Schema (the definition's fields), one Column per field with a validity
// byte per row, strings as ids in per-column dictionaries (so the hot path keeps no per-record
// allocation), and the source coordinates as system columns. A Decoder (JSON now, CSV and Avro
// later) is bound to one schema and appends rows.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "pipeline/definition.h"
#include "pipeline/interner.h"

namespace lf::pipeline {

// The fields of a definition, in column order, with their look-up by name.
class Schema {
 public:
  explicit Schema(std::vector<FieldDef> fields);
  static Schema FromDefinition(const Definition& def) { return Schema(def.fields); }

  const std::vector<FieldDef>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  const FieldDef& field(size_t i) const { return fields_[i]; }
  // The column index of `name`, or -1.
  int IndexOf(std::string_view name) const;

 private:
  std::vector<FieldDef> fields_;
};

// One interner per string column (empty for other columns), shared by a decoder and every reader
// of its batches for the life of the pipeline: ids stay meaningful across batches.
class Dictionaries {
 public:
  explicit Dictionaries(const Schema& schema) : columns_(schema.size()) {}
  StringInterner& column(size_t i) { return columns_[i]; }
  const StringInterner& column(size_t i) const { return columns_[i]; }

 private:
  std::vector<StringInterner> columns_;
};

// The values of one field. Which vector is used follows the type: ints for int64, bool (0/1) and
// timestamp (microseconds since the epoch, UTC); doubles for float64; ids for string (in the
// column's dictionary). A null row holds 0 and valid = 0.
struct Column {
  FieldType type = FieldType::kString;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint32_t> ids;
  std::vector<uint8_t> valid;
};

// One field's value in a record being decoded: decoders fill one slot per field, then append the
// row with RecordBatch::AppendRow. `i` holds int64, bool (0/1) and timestamp (µs) values, `d`
// float64, `s` a string (which must stay alive until the row is appended).
struct FieldSlot {
  bool seen = false;
  bool valid = false;
  int64_t i = 0;
  double d = 0;
  std::string_view s;
};

class RecordBatch {
 public:
  // `schema` and `dictionaries` must outlive the batch.
  RecordBatch(const Schema* schema, Dictionaries* dictionaries);

  const Schema& schema() const { return *schema_; }
  Dictionaries& dictionaries() { return *dictionaries_; }
  const Dictionaries& dictionaries() const { return *dictionaries_; }
  size_t num_rows() const { return partition.size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  // The string of row `row` of string column `i` (empty for null).
  std::string_view String(size_t i, size_t row) const;

  // Appends one row: field i from slots[i] (null unless seen and valid; strings interned).
  void AppendRow(const std::vector<FieldSlot>& slots, int32_t partition, int64_t offset);

  // OK when every column has num_rows() values of its type, string ids exist in their
  // dictionaries, and required fields have no null; else Internal naming the column.
  absl::Status Validate() const;
  void Clear();

  // System columns: where each row came from.
  std::vector<int32_t> partition;
  std::vector<int64_t> offset;

 private:
  const Schema* schema_;
  Dictionaries* dictionaries_;
  std::vector<Column> columns_;
};

// Why a record was refused; `field` is empty when the record as a whole is bad.
struct DecodeError {
  enum class Code {
    kMalformed,   // not valid JSON / CSV / Avro
    kNotARecord,  // valid, but not an object (a JSON array, a number …)
    kMissing,     // a required field is absent or null
    kWrongType,   // a field has a value of another type
    kOutOfRange,  // a number outside its type, min/max, or a timestamp outside years 1..9999
    kDuplicate,   // a field appears twice
  };
  Code code = Code::kMalformed;
  std::string field;
  std::string message;  // the full reason, naming the field
};

// Fills *error and returns false: how decoders refuse a record.
bool Refuse(DecodeError* error, DecodeError::Code code, std::string_view field,
            std::string message);

// Checks an int64 or float64 value (slot.i or slot.d) against the field's min/max: true, or
// false with a kOutOfRange error naming the field and the bound.
bool CheckBounds(const FieldDef& field, const FieldSlot& slot, DecodeError* error);

// Turns one source record into one row of a RecordBatch bound to the decoder's schema. One per
// pipeline thread; not thread-safe. A refused record leaves the batch unchanged.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // `key` is the Kafka message key (for a `key_as` field); empty when there is none.
  virtual bool Decode(std::string_view payload, std::string_view key, int32_t partition,
                      int64_t offset, RecordBatch* out, DecodeError* error) = 0;
};

}  // namespace lf::pipeline
