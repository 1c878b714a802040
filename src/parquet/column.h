#pragma once

// The user-facing shape of Parquet data in Lambdaflow: flat schemas of primitive columns, the
// non-owning column views the writer takes, and the owning column data the reader returns.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parquet/metadata.h"

namespace lf::parquet {

// Column types the writer produces (physical type + annotation).
enum class ColumnType {
  kBoolean,          // BOOLEAN
  kInt32,            // INT32
  kInt64,            // INT64
  kDouble,           // DOUBLE
  kString,           // BYTE_ARRAY, STRING (UTF8)
  kTimestampMicros,  // INT64, TIMESTAMP(isAdjustedToUTC=true, MICROS)
};

struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kInt64;
  bool required = true;  // false: OPTIONAL, nulls allowed
};

using Schema = std::vector<ColumnSpec>;

// The lake's event schema (SPEC.md §1.5): bytes, timestamp, app, id, antenna_id, all required.
Schema LakeEventSchema();

// One column of a batch to write, not owned: exactly one of the value spans is used (the one for
// the column's type; timestamps use int64s) and holds one entry per row. `valid` is empty for
// "no nulls", otherwise one byte per row, 0 = null (the value at a null row is ignored).
// Everything referenced must stay alive until WriteBatch returns.
struct ColumnView {
  std::span<const int64_t> int64s;
  std::span<const int32_t> int32s;
  std::span<const double> doubles;
  std::span<const uint8_t> bools;  // 0 = false
  std::span<const std::string_view> strings;
  std::span<const uint8_t> valid;
};

// One column as read: values of the column's physical type, one slot per row (a null row holds a
// zero value or empty string). FLOAT is widened to double; FIXED_LEN_BYTE_ARRAY and INT96 are
// returned as byte strings.
//
// Byte strings read with ReaderOptions::byte_array_indices come back `indexed`: `offsets`/`bytes`
// then hold a table of values — entry 0 the empty string (for null rows), then the chunk's
// dictionary, then the values of any pages that are not dictionary-encoded — and row i's value is
// table entry indices[i]. Entries are not necessarily distinct. StringAt works in both forms.
struct ColumnData {
  Type physical = Type::kInt64;
  std::vector<int32_t> int32s;
  std::vector<int64_t> int64s;
  std::vector<double> doubles;
  std::vector<uint8_t> bools;
  // Byte arrays: value i is bytes[offsets[i], offsets[i + 1]); offsets has size() + 1 entries.
  // When `indexed`, these are the table's entries instead.
  std::vector<uint64_t> offsets{0};
  std::string bytes;
  bool indexed = false;
  std::vector<uint32_t> indices;  // one per row when `indexed`
  // Empty for a required column; otherwise one entry per row, 0 = null.
  std::vector<uint8_t> valid;
  size_t num_rows = 0;

  bool IsNull(size_t i) const { return !valid.empty() && valid[i] == 0; }
  std::string_view StringAt(size_t i) const { return Entry(indexed ? indices[i] : i); }
  // Byte-array entries: the values of the rows, or the table when `indexed`.
  size_t EntryCount() const { return offsets.size() - 1; }
  std::string_view Entry(size_t k) const {
    return std::string_view(bytes).substr(offsets[k], offsets[k + 1] - offsets[k]);
  }
};

}  // namespace lf::parquet
