#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lf::postgres {

// Builds a PostgreSQL array literal ("{1,2}", "{\"a\",\"b\"}") to bind as one text parameter
// and expand with unnest(): one statement per flush instead of one per row.
class SqlArray {
 public:
  SqlArray() { text_ = "{"; }
  void AddInt(int64_t v);
  // Shortest text that reads back as `v` (inf and nan as PostgreSQL's float8 input spells them).
  void AddDouble(double v);
  // Any bytes; quotes and backslashes are escaped. Must not contain NUL (text cannot hold it).
  void AddText(std::string_view s);
  void AddNull() {
    Separator();
    text_ += "NULL";
  }
  // Arbitrary bytes for a bytea[] (hex form).
  void AddBytea(std::string_view bytes);
  // The literal; the builder must not be used afterwards.
  const std::string& Finish() {
    text_.push_back('}');
    return text_;
  }
  bool empty() const { return count_ == 0; }

 private:
  void Separator() {
    if (count_++ > 0) text_.push_back(',');
  }
  std::string text_;
  size_t count_ = 0;
};

// Builds a one-dimensional PostgreSQL array in the binary wire format (what the server's
// array_recv reads), to bind as one binary parameter (QueryBinary). The server then copies the
// elements instead of parsing text: for a flush of 100 000 window rows the text literals cost
// more than a tenth of the upsert (bench/README.md). The SQL must cast the parameter to the
// same element type ($1::bigint[] for kInt8 ...): the server refuses any other.
class BinaryArray {
 public:
  // Element types by their PostgreSQL OIDs.
  enum class Type : uint32_t { kInt8 = 20, kText = 25, kFloat8 = 701, kTimestamp = 1114 };

  explicit BinaryArray(Type type);
  void AddInt(int64_t v);
  void AddDouble(double v);
  // Any bytes except NUL; the server checks that they are valid in its encoding.
  void AddText(std::string_view s);
  // A TIMESTAMP (without time zone) of `unix_seconds` UTC, i.e. to_timestamp(s) AT TIME ZONE
  // 'UTC'. Seconds beyond PostgreSQL's range (years 4713 BC to 294276 AD) are sent as a value
  // the server refuses, never as a wrapped-around time.
  void AddTimestamp(int64_t unix_seconds);
  void AddNull();
  // The array's bytes; the builder must not be used afterwards.
  std::string_view Finish();
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  void Element(const void* data, uint32_t length);
  void Put32(uint32_t v);
  void Put64(uint64_t v);

  Type type_;
  std::string bytes_;
  uint32_t count_ = 0;
  bool has_null_ = false;
};

}  // namespace lf::postgres
