#include "postgres/sql_array.h"

#include "fmt/format.h"

namespace lf::postgres {

void SqlArray::AddInt(int64_t v) {
  Separator();
  fmt::format_to(std::back_inserter(text_), "{}", v);
}

void SqlArray::AddDouble(double v) {
  Separator();
  fmt::format_to(std::back_inserter(text_), "{}", v);
}

void SqlArray::AddText(std::string_view s) {
  Separator();
  text_.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') text_.push_back('\\');
    text_.push_back(c);
  }
  text_.push_back('"');
}

void SqlArray::AddBytea(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  Separator();
  // Element text \x<hex>; the backslash is escaped inside the quoted array element.
  text_ += "\"\\\\x";
  for (unsigned char c : bytes) {
    text_.push_back(kHex[c >> 4]);
    text_.push_back(kHex[c & 15]);
  }
  text_.push_back('"');
}

}  // namespace lf::postgres
