#pragma once

// Parquet's value and level encodings (Encodings.md of apache/parquet-format): the RLE/bit-packed
// hybrid (levels, dictionary indices, booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT. Encoders append to a std::string; decoders read a byte
// range they do not own, check every access against its end, and never allocate more than the
// caller's stated maximum number of values.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace lf::parquet {

// Number of bits needed to represent `max_value` (0 for 0).
int BitWidth(uint64_t max_value);

void PutUleb128(uint64_t v, std::string* out);

// Appends the RLE/bit-packed hybrid encoding of `values` (each < 2^bit_width) without any length
// prefix. A final bit-packed run is padded with zeros to a multiple of 8 values.
void EncodeRleBitPacked(std::span<const uint32_t> values, int bit_width, std::string* out);
void EncodeRleBitPacked(std::span<const uint8_t> values, int bit_width, std::string* out);

// Decodes an RLE/bit-packed hybrid stream of the given bit width (0..32).
class RleBitPackedDecoder {
 public:
  RleBitPackedDecoder(const uint8_t* data, size_t size, int bit_width)
      : data_(data), end_(data + size), bit_width_(bit_width) {}

  // Decodes exactly `n` values into out[0..n). Errors when the stream ends first or is malformed;
  // the message says which ("rle run header", "bit-packed run", ...).
  absl::Status Get(uint32_t* out, size_t n);

 private:
  absl::Status NextRun();

  const uint8_t* data_;
  const uint8_t* end_;
  int bit_width_;
  // Current run: an RLE run of `rle_left_` copies of `rle_value_`, or a bit-packed run starting at
  // `packed_` with `packed_left_` values left, `packed_index_` already consumed.
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  const uint8_t* packed_ = nullptr;
  size_t packed_bytes_ = 0;
  uint64_t packed_left_ = 0;
  uint64_t packed_index_ = 0;
};

// Unpacks n little-endian bit-packed values of width bw (0..64) starting at value index `first`
// from [in, in + in_bytes). The caller guarantees (first + n) * bw <= in_bytes * 8.
void UnpackBits(const uint8_t* in, size_t in_bytes, int bw, uint64_t first, size_t n,
                uint32_t* out);
void UnpackBits64(const uint8_t* in, size_t in_bytes, int bw, uint64_t first, size_t n,
                  uint64_t* out);

// Decodes a DELTA_BINARY_PACKED stream. Fails when it holds more than `max_values` values.
// Appends the values to *out (as int64; int32 columns narrow them) and stores in *consumed the
// number of bytes the stream took.
absl::Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, size_t max_values,
                                     std::vector<int64_t>* out, size_t* consumed);

// Appends byte arrays to a flat (offsets, bytes) pair: value i is
// bytes[offsets[i], offsets[i + 1]). offsets already holds its leading entry.
struct ByteArrayOut {
  std::vector<uint64_t>* offsets;
  std::string* bytes;
};

// DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY with exactly `count` values. DELTA_BYTE_ARRAY
// fails rather than produce more than `max_bytes` bytes (prefixes let a small page expand
// without bound).
absl::Status DecodeDeltaLengthByteArray(const uint8_t* data, size_t size, size_t count,
                                        ByteArrayOut out, size_t* consumed);
absl::Status DecodeDeltaByteArray(const uint8_t* data, size_t size, size_t count, ByteArrayOut out,
                                  uint64_t max_bytes);

// BYTE_STREAM_SPLIT of `count` values of `width` bytes: size must be count * width.
// Writes count * width bytes to out.
absl::Status DecodeByteStreamSplit(const uint8_t* data, size_t size, size_t count, size_t width,
                                   uint8_t* out);

}  // namespace lf::parquet
