#include "postgres/sql_array.h"

#include <bit>
#include <cstring>
#include <limits>

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

namespace {

// The header: ndim, flags (1: has nulls), element type, then per dimension its length and lower
// bound. Every number is a big-endian int32.
constexpr size_t kHeaderBytes = 5 * 4;
constexpr size_t kFlagsAt = 4;
constexpr size_t kLengthAt = 12;
// TIMESTAMP's binary form counts microseconds from 2000-01-01T00:00:00.
constexpr int64_t kPostgresEpochUnixSeconds = 946'684'800;

void Store32(char* at, uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(at, &v, 4);
}

}  // namespace

BinaryArray::BinaryArray(Type type) : type_(type), bytes_(kHeaderBytes, '\0') {
  Store32(bytes_.data(), 1);
  Store32(bytes_.data() + 8, static_cast<uint32_t>(type));
  Store32(bytes_.data() + 16, 1);  // lower bound
}

void BinaryArray::Put32(uint32_t v) {
  char b[4];
  Store32(b, v);
  bytes_.append(b, 4);
}

void BinaryArray::Put64(uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  bytes_.append(reinterpret_cast<const char*>(&v), 8);
}

void BinaryArray::Element(const void* data, uint32_t length) {
  ++count_;
  Put32(length);
  bytes_.append(static_cast<const char*>(data), length);
}

void BinaryArray::AddInt(int64_t v) {
  ++count_;
  Put32(8);
  Put64(static_cast<uint64_t>(v));
}

void BinaryArray::AddDouble(double v) {
  ++count_;
  Put32(8);
  Put64(std::bit_cast<uint64_t>(v));
}

void BinaryArray::AddText(std::string_view s) {
  Element(s.data(), static_cast<uint32_t>(s.size()));
}

void BinaryArray::AddTimestamp(int64_t unix_seconds) {
  // INT64_MIN is never a valid TIMESTAMP (INT64_MIN and INT64_MAX mean -infinity/infinity, the
  // rest of the far range fails the server's range check), so an overflow is refused there.
  int64_t micros = 0;
  if (__builtin_sub_overflow(unix_seconds, kPostgresEpochUnixSeconds, &micros) ||
      __builtin_mul_overflow(micros, int64_t{1'000'000}, &micros) ||
      micros == std::numeric_limits<int64_t>::max()) {
    micros = std::numeric_limits<int64_t>::min() + 1;
  }
  ++count_;
  Put32(8);
  Put64(static_cast<uint64_t>(micros));
}

void BinaryArray::AddNull() {
  ++count_;
  has_null_ = true;
  Put32(0xFFFFFFFFu);  // length -1
}

std::string_view BinaryArray::Finish() {
  if (count_ == 0) {
    // An empty array has no dimensions.
    Store32(bytes_.data(), 0);
    bytes_.resize(12);
    return bytes_;
  }
  Store32(bytes_.data() + kFlagsAt, has_null_ ? 1 : 0);
  Store32(bytes_.data() + kLengthAt, count_);
  return bytes_;
}

}  // namespace lf::postgres
