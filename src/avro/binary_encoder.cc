#include "avro/binary_encoder.h"

#include <cstring>

#include "common/status.h"

namespace lf::avro {
namespace {

constexpr char kConfluentMagic = 0;
constexpr size_t kConfluentHeaderSize = 5;

}  // namespace

void RecordWriter::Long(int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out_.push_back(static_cast<char>((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out_.push_back(static_cast<char>(z));
}

void RecordWriter::Float(float v) {
  uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
}

void RecordWriter::Double(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(bits >> (8 * i)));
}

void RecordWriter::Bytes(std::string_view v) {
  Long(static_cast<int64_t>(v.size()));
  out_.append(v);
}

std::string RecordWriter::DecimalToBytes(int64_t unscaled) {
  std::string be;
  for (int i = 7; i >= 0; --i)
    be.push_back(static_cast<char>(static_cast<uint64_t>(unscaled) >> (8 * i)));
  // Drop leading bytes that only repeat the sign.
  size_t start = 0;
  while (start + 1 < be.size()) {
    const auto b = static_cast<unsigned char>(be[start]);
    const auto next = static_cast<unsigned char>(be[start + 1]);
    if ((b == 0 && next < 0x80) || (b == 0xff && next >= 0x80)) {
      ++start;
    } else {
      break;
    }
  }
  return be.substr(start);
}

std::string ConfluentFrame(int32_t schema_id, std::string_view body) {
  std::string out;
  out.reserve(kConfluentHeaderSize + body.size());
  out.push_back(kConfluentMagic);
  const auto id = static_cast<uint32_t>(schema_id);
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(id >> (8 * i)));
  out.append(body);
  return out;
}

absl::StatusOr<std::pair<int32_t, std::string_view>> ParseConfluentFrame(std::string_view message) {
  if (message.size() < kConfluentHeaderSize) {
    return InvalidArgument("avro: message of {} bytes is shorter than the 5-byte Confluent header",
                           message.size());
  }
  if (message[0] != kConfluentMagic) {
    return InvalidArgument("avro: message starts with byte {:#04x}, not the Confluent magic byte 0",
                           static_cast<unsigned char>(message[0]));
  }
  uint32_t id = 0;
  for (size_t i = 1; i < kConfluentHeaderSize; ++i)
    id = (id << 8) | static_cast<unsigned char>(message[i]);
  return std::pair<int32_t, std::string_view>(static_cast<int32_t>(id),
                                              message.substr(kConfluentHeaderSize));
}

}  // namespace lf::avro
