#include "parquet/encoding.h"

#include <algorithm>
#include <cstring>

#include "common/status.h"

namespace lf::parquet {

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

void PutUleb128(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

namespace {

// Appends `values` bit-packed LSB first with width bw; count is a multiple of 8 (padding values
// are supplied by the caller).
template <typename T>
void BitPack(const T* values, size_t count, int bw, std::string* out) {
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < count; ++i) {
    acc |= static_cast<uint64_t>(values[i]) << bits;
    bits += bw;
    while (bits >= 8) {
      out->push_back(static_cast<char>(acc & 0xFF));
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out->push_back(static_cast<char>(acc & 0xFF));
}

template <typename T>
void EmitLiterals(const T* values, size_t count, int bw, std::string* out) {
  if (count == 0) return;
  size_t groups = (count + 7) / 8;
  PutUleb128((groups << 1) | 1, out);
  size_t full = count / 8 * 8;
  BitPack(values, full, bw, out);
  if (full < count) {
    T tail[8] = {};
    std::copy(values + full, values + count, tail);
    BitPack(tail, 8, bw, out);
  }
}

template <typename T>
void EmitRepeat(T value, size_t count, int bw, std::string* out) {
  PutUleb128(count << 1, out);
  int bytes = (bw + 7) / 8;
  uint32_t v = value;
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

template <typename T>
void EncodeHybrid(std::span<const T> v, int bw, std::string* out) {
  const size_t n = v.size();
  size_t lit_start = 0, i = 0;
  // Runs are split so that no single run exceeds 2^31 - 1 values (the spec's limit).
  constexpr size_t kMaxRun = (size_t{1} << 31) - 8;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && v[j] == v[i] && j - i < kMaxRun) ++j;
    size_t run = j - i;
    if (run >= 8) {
      size_t pending = i - lit_start;
      if (pending % 8 != 0) {
        size_t pad = 8 - pending % 8;
        if (run - pad < 8) {
          i = j;  // too short once the literal group is completed: keep as literals
          continue;
        }
        i += pad;
        run -= pad;
      }
      if (i - lit_start > kMaxRun) {
        // Extremely long literal stretches are split into several bit-packed runs.
        for (size_t s = lit_start; s < i; s += kMaxRun) {
          EmitLiterals(v.data() + s, std::min(kMaxRun, i - s), bw, out);
        }
      } else {
        EmitLiterals(v.data() + lit_start, i - lit_start, bw, out);
      }
      EmitRepeat(v[i], run, bw, out);
      i = j;
      lit_start = i;
    } else {
      i = j;
    }
  }
  for (size_t s = lit_start; s < n; s += kMaxRun) {
    EmitLiterals(v.data() + s, std::min(kMaxRun, n - s), bw, out);
  }
}

uint64_t LoadLe64Partial(const uint8_t* p, size_t avail) {
  uint64_t w = 0;
  if (avail >= 8) {
    std::memcpy(&w, p, 8);
  } else {
    std::memcpy(&w, p, avail);
  }
  return w;
}

}  // namespace

void EncodeRleBitPacked(std::span<const uint32_t> values, int bit_width, std::string* out) {
  EncodeHybrid(values, bit_width, out);
}
void EncodeRleBitPacked(std::span<const uint8_t> values, int bit_width, std::string* out) {
  EncodeHybrid(values, bit_width, out);
}

void UnpackBits(const uint8_t* in, size_t in_bytes, int bw, uint64_t first, size_t n,
                uint32_t* out) {
  if (bw == 0) {
    std::fill(out, out + n, 0u);
    return;
  }
  const uint64_t mask = bw >= 32 ? 0xFFFFFFFFull : ((uint64_t{1} << bw) - 1);
  uint64_t bit = first * static_cast<uint64_t>(bw);
  for (size_t i = 0; i < n; ++i, bit += bw) {
    size_t byte = bit >> 3;
    uint64_t w = LoadLe64Partial(in + byte, in_bytes - byte);
    out[i] = static_cast<uint32_t>((w >> (bit & 7)) & mask);
  }
}

void UnpackBits64(const uint8_t* in, size_t in_bytes, int bw, uint64_t first, size_t n,
                  uint64_t* out) {
  if (bw == 0) {
    std::fill(out, out + n, uint64_t{0});
    return;
  }
  uint64_t bit = first * static_cast<uint64_t>(bw);
  for (size_t i = 0; i < n; ++i, bit += bw) {
    size_t byte = bit >> 3;
    int shift = bit & 7;
    unsigned __int128 w = LoadLe64Partial(in + byte, in_bytes - byte);
    if (shift + bw > 64 && byte + 8 < in_bytes) {
      w |= static_cast<unsigned __int128>(in[byte + 8]) << 64;
    }
    uint64_t v = static_cast<uint64_t>(w >> shift);
    if (bw < 64) v &= (uint64_t{1} << bw) - 1;
    out[i] = v;
  }
}

// ---------------------------------------------------------------------------------------------
// RLE/bit-packed hybrid decoding

namespace {
bool GetUleb(const uint8_t*& p, const uint8_t* end, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    uint8_t b = *p++;
    r |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;
}
}  // namespace

absl::Status RleBitPackedDecoder::NextRun() {
  uint64_t header;
  if (!GetUleb(data_, end_, &header)) {
    return DataLoss("rle/bit-packed data ends in a run header");
  }
  if (header & 1) {
    uint64_t count = (header >> 1) * 8;
    if (count == 0) return DataLoss("empty bit-packed run");
    uint64_t bytes = (header >> 1) * static_cast<uint64_t>(bit_width_);
    size_t avail = end_ - data_;
    if (bytes > avail) {
      // Some writers truncate the last run to the bytes actually needed; accept the values that
      // are wholly present.
      if (bit_width_ == 0) return DataLoss("bit-packed run of width 0");
      count = static_cast<uint64_t>(avail) * 8 / bit_width_;
      bytes = avail;
      if (count == 0) return DataLoss("bit-packed run of {} bytes but {} remain", bytes, avail);
    }
    packed_ = data_;
    packed_bytes_ = bytes;
    packed_left_ = count;
    packed_index_ = 0;
    data_ += bytes;
  } else {
    uint64_t count = header >> 1;
    if (count == 0) return DataLoss("empty rle run");
    int nbytes = (bit_width_ + 7) / 8;
    if (end_ - data_ < nbytes) return DataLoss("rle run value truncated");
    uint32_t v = 0;
    for (int i = 0; i < nbytes; ++i) v |= static_cast<uint32_t>(data_[i]) << (8 * i);
    data_ += nbytes;
    if (bit_width_ < 32 && (v >> bit_width_) != 0) {
      return DataLoss("rle run value {} exceeds bit width {}", v, bit_width_);
    }
    rle_value_ = v;
    rle_left_ = count;
  }
  return absl::OkStatus();
}

absl::Status RleBitPackedDecoder::Get(uint32_t* out, size_t n) {
  if (bit_width_ < 0 || bit_width_ > 32) {
    return InvalidArgument("rle/bit-packed bit width {} out of range", bit_width_);
  }
  while (n > 0) {
    if (rle_left_ > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(rle_left_, n));
      std::fill(out, out + k, rle_value_);
      out += k;
      n -= k;
      rle_left_ -= k;
    } else if (packed_left_ > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(packed_left_, n));
      UnpackBits(packed_, packed_bytes_, bit_width_, packed_index_, k, out);
      out += k;
      n -= k;
      packed_left_ -= k;
      packed_index_ += k;
    } else {
      if (data_ >= end_) return DataLoss("rle/bit-packed data ends with {} values missing", n);
      LF_RETURN_IF_ERROR(NextRun());
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Delta encodings

absl::Status DecodeDeltaBinaryPacked(const uint8_t* data, size_t size, size_t max_values,
                                     std::vector<int64_t>* out, size_t* consumed) {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  uint64_t block_size, miniblocks, total, first_zz;
  if (!GetUleb(p, end, &block_size) || !GetUleb(p, end, &miniblocks) || !GetUleb(p, end, &total) ||
      !GetUleb(p, end, &first_zz)) {
    return DataLoss("delta header truncated");
  }
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20)) {
    return DataLoss("delta block size {} invalid", block_size);
  }
  if (miniblocks == 0 || block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return DataLoss("delta miniblock count {} invalid for block size {}", miniblocks, block_size);
  }
  if (total > max_values) {
    return DataLoss("delta stream claims {} values, at most {} expected", total, max_values);
  }
  const uint64_t per_mb = block_size / miniblocks;
  uint64_t value = (first_zz >> 1) ^ (~(first_zz & 1) + 1);
  size_t base = out->size();
  out->reserve(base + total);
  if (total > 0) out->push_back(static_cast<int64_t>(value));
  uint64_t left = total > 0 ? total - 1 : 0;
  std::vector<uint64_t> deltas(per_mb);
  std::vector<uint8_t> widths(miniblocks);
  while (left > 0) {
    uint64_t min_zz;
    if (!GetUleb(p, end, &min_zz)) return DataLoss("delta block header truncated");
    uint64_t min_delta = (min_zz >> 1) ^ (~(min_zz & 1) + 1);
    if (static_cast<uint64_t>(end - p) < miniblocks) return DataLoss("delta bit widths truncated");
    std::memcpy(widths.data(), p, miniblocks);
    p += miniblocks;
    for (uint64_t m = 0; m < miniblocks && left > 0; ++m) {
      int bw = widths[m];
      if (bw > 64) return DataLoss("delta miniblock bit width {} > 64", bw);
      uint64_t bytes = per_mb * bw / 8;
      if (static_cast<uint64_t>(end - p) < bytes) return DataLoss("delta miniblock truncated");
      size_t k = static_cast<size_t>(std::min<uint64_t>(per_mb, left));
      UnpackBits64(p, bytes, bw, 0, k, deltas.data());
      for (size_t i = 0; i < k; ++i) {
        value += min_delta + deltas[i];  // wrapping arithmetic in the unsigned domain
        out->push_back(static_cast<int64_t>(value));
      }
      left -= k;
      p += bytes;
    }
  }
  *consumed = p - data;
  return absl::OkStatus();
}

absl::Status DecodeDeltaLengthByteArray(const uint8_t* data, size_t size, size_t count,
                                        ByteArrayOut out, size_t* consumed) {
  std::vector<int64_t> lengths;
  size_t used;
  LF_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, size, count, &lengths, &used));
  if (lengths.size() != count) {
    return DataLoss("delta-length byte array has {} lengths, {} expected", lengths.size(), count);
  }
  uint64_t total = 0;
  for (int64_t len : lengths) {
    if (len < 0) return DataLoss("negative byte array length {}", len);
    total += static_cast<uint64_t>(len);
    if (total > size - used) return DataLoss("byte array data truncated");
  }
  const char* p = reinterpret_cast<const char*>(data + used);
  out.bytes->append(p, total);
  uint64_t off = out.offsets->back();
  for (int64_t len : lengths) {
    off += len;
    out.offsets->push_back(off);
  }
  *consumed = used + total;
  return absl::OkStatus();
}

absl::Status DecodeDeltaByteArray(const uint8_t* data, size_t size, size_t count, ByteArrayOut out,
                                  uint64_t max_bytes) {
  std::vector<int64_t> prefixes;
  size_t used;
  LF_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, size, count, &prefixes, &used));
  if (prefixes.size() != count) {
    return DataLoss("delta byte array has {} prefix lengths, {} expected", prefixes.size(), count);
  }
  std::vector<uint64_t> suffix_offsets{0};
  std::string suffixes;
  size_t used2;
  LF_RETURN_IF_ERROR(DecodeDeltaLengthByteArray(data + used, size - used, count,
                                                {&suffix_offsets, &suffixes}, &used2));
  std::string prev;
  uint64_t produced = 0;
  for (size_t i = 0; i < count; ++i) {
    int64_t pre = prefixes[i];
    if (pre < 0 || static_cast<uint64_t>(pre) > prev.size()) {
      return DataLoss("delta byte array prefix length {} exceeds previous value length {}", pre,
                      prev.size());
    }
    prev.resize(pre);
    prev.append(suffixes, suffix_offsets[i], suffix_offsets[i + 1] - suffix_offsets[i]);
    produced += prev.size();
    if (produced > max_bytes) {
      return ResourceExhausted("delta byte array expands beyond {} bytes", max_bytes);
    }
    out.bytes->append(prev);
    out.offsets->push_back(out.offsets->back() + prev.size());
  }
  return absl::OkStatus();
}

absl::Status DecodeByteStreamSplit(const uint8_t* data, size_t size, size_t count, size_t width,
                                   uint8_t* out) {
  if (size != count * width) {
    return DataLoss("byte stream split of {} bytes, {} values of {} bytes expected", size, count,
                    width);
  }
  for (size_t k = 0; k < width; ++k) {
    const uint8_t* stream = data + k * count;
    for (size_t i = 0; i < count; ++i) out[i * width + k] = stream[i];
  }
  return absl::OkStatus();
}

}  // namespace lf::parquet
