#pragma once

// Writing Avro binary (spec: "Binary Encoding") for tests and the order generator, and the
// Confluent wire format around a message body (SPEC §6.4).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace lf::avro {

// Appends values in the binary encoding. It knows no schema: the caller writes a record's fields
// in schema order, which is all a record is on the wire. Nothing is checked.
class RecordWriter {
 public:
  void Null() {}
  void Bool(bool v) { out_.push_back(v ? 1 : 0); }
  void Int(int32_t v) { Long(v); }
  void Long(int64_t v);
  void Float(float v);
  void Double(double v);
  void String(std::string_view v) { Bytes(v); }
  void Bytes(std::string_view v);
  void Fixed(std::string_view v) { out_.append(v); }
  void Enum(int32_t index) { Int(index); }
  // The branch index of a union; the branch's value follows.
  void UnionBranch(int32_t index) { Long(index); }
  // An array or map is blocks of `count` items (a map item: String(key) then the value), then
  // End. Start(0) writes nothing.
  void ArrayStart(int64_t count) { Block(count); }
  void ArrayEnd() { out_.push_back(0); }
  void MapStart(int64_t count) { Block(count); }
  void MapEnd() { out_.push_back(0); }
  // A decimal's unscaled value as bytes: big-endian two's complement, shortest form.
  void DecimalBytes(int64_t unscaled) { Bytes(DecimalToBytes(unscaled)); }
  static std::string DecimalToBytes(int64_t unscaled);

  const std::string& body() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Block(int64_t count) {
    if (count > 0) Long(count);
  }

  std::string out_;
};

// Byte 0 = 0, bytes 1-4 the schema id big-endian, then `body`.
std::string ConfluentFrame(int32_t schema_id, std::string_view body);

// The schema id and the body of a Confluent-framed message (the body views `message`).
// InvalidArgument when the message is shorter than 5 bytes or its first byte is not 0.
absl::StatusOr<std::pair<int32_t, std::string_view>> ParseConfluentFrame(std::string_view message);

}  // namespace lf::avro
