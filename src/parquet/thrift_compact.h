#pragma once

// The Thrift compact protocol, as much as Parquet's metadata needs: a writer that appends to a
// string and a reader that is safe on hostile input (every read is bounds-checked, nesting is
// limited, and container sizes are capped by the bytes that remain, so no input can make it
// allocate more than a small multiple of its own size).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace lf::parquet {

// Compact protocol wire types.
enum class CType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Appends compact-protocol encoded values to *out. Structs must be balanced: every
// StructBegin has its StructEnd (which writes the stop byte).
class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) {}

  void StructBegin();
  void StructEnd();
  // Field header for field `id` of wire type `type`. Booleans use FieldBool instead.
  void FieldBegin(int16_t id, CType type);
  void FieldBool(int16_t id, bool value);
  void FieldI32(int16_t id, int32_t v) { FieldBegin(id, CType::kI32), I32(v); }
  void FieldI64(int16_t id, int64_t v) { FieldBegin(id, CType::kI64), I64(v); }
  void FieldBinary(int16_t id, const std::string& v) { FieldBegin(id, CType::kBinary), Binary(v); }
  void ListBegin(CType elem, uint32_t size);

  void Byte(int8_t v) { out_->push_back(static_cast<char>(v)); }
  void I16(int16_t v) { Varint(ZigZag(v)); }
  void I32(int32_t v) { Varint(ZigZag(v)); }
  void I64(int64_t v) { Varint(ZigZag(v)); }
  void Double(double v);
  void Binary(const std::string& v);
  void Varint(uint64_t v);

 private:
  static uint64_t ZigZag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  std::string* out_;
  std::vector<int16_t> last_ids_;
  int16_t last_id_ = 0;
};

// A decoded field header. For booleans the value travels in the header (`bool_value`).
struct FieldHeader {
  CType type = CType::kStop;
  int16_t id = 0;
  bool bool_value = false;
};

// Reads compact-protocol values from a byte range it does not own (the range must outlive the
// reader). Errors: kOutOfRange when the input ends early ("truncated"), kInvalidArgument for
// malformed input. Messages name what was being read, without the file (callers add it).
class CompactReader {
 public:
  static constexpr int kMaxDepth = 32;

  CompactReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  absl::Status StructBegin();
  absl::Status StructEnd();
  // Reads the next field header of the current struct; type kStop ends the struct.
  absl::Status ReadFieldHeader(FieldHeader* h);
  // Reads a list (or set) header. The size is checked against the remaining bytes.
  absl::Status ReadListHeader(CType* elem, uint32_t* size);

  absl::Status ReadByte(int8_t* v);
  absl::Status ReadI16(int16_t* v);
  absl::Status ReadI32(int32_t* v);
  absl::Status ReadI64(int64_t* v);
  absl::Status ReadDouble(double* v);
  absl::Status ReadBinary(std::string* v);
  // A boolean list element (one byte).
  absl::Status ReadBoolElement(bool* v);
  absl::Status ReadVarint(uint64_t* v);

  // Skips a value of wire type `type` (a field whose header was just read, or a list element).
  // `header_bool` is unused; booleans in field headers carry no payload.
  absl::Status Skip(CType type);

 private:
  absl::Status SkipDepth(CType type, int depth);
  absl::Status Truncated(const char* what) const;

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::vector<int16_t> last_ids_;
  int16_t last_id_ = 0;
};

}  // namespace lf::parquet
