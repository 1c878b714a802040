#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace lf::postgres
