// Encodings against the examples of Encodings.md and round trips of the RLE/bit-packed hybrid.

#include "parquet/encoding.h"

#include "parquet/compression.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::parquet {
namespace {

using ::testing::ElementsAre;

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(RleBitPackedTest, BitPackingMatchesSpecExample) {
  // Encodings.md: 0..7 with bit width 3 packs to 10001000 11000110 11111010.
  std::vector<uint32_t> v = {0, 1, 2, 3, 4, 5, 6, 7};
  std::string out;
  EncodeRleBitPacked(std::span<const uint32_t>(v), 3, &out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), (1 << 1) | 1);  // one group of 8, bit-packed
  EXPECT_EQ(static_cast<uint8_t>(out[1]), 0b10001000);
  EXPECT_EQ(static_cast<uint8_t>(out[2]), 0b11000110);
  EXPECT_EQ(static_cast<uint8_t>(out[3]), 0b11111010);
}

TEST(RleBitPackedTest, LongRunBecomesRleRun) {
  std::vector<uint32_t> v(1000, 5);
  std::string out;
  EncodeRleBitPacked(std::span<const uint32_t>(v), 3, &out);
  // varint(1000 << 1) = 2 bytes, value 1 byte.
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), (2000 & 0x7F) | 0x80);
  EXPECT_EQ(static_cast<uint8_t>(out[1]), 2000 >> 7);
  EXPECT_EQ(static_cast<uint8_t>(out[2]), 5);
}

TEST(RleBitPackedTest, DecodesHandBuiltRuns) {
  // RLE run: 4 x 300 at width 9 (two value bytes), then bit-packed 8 values at width 9.
  std::string s;
  s.push_back(4 << 1);
  s.push_back(static_cast<char>(300 & 0xFF));
  s.push_back(static_cast<char>(300 >> 8));
  std::vector<uint32_t> lit = {1, 2, 3, 4, 5, 6, 7, 511};
  std::string packed;
  EncodeRleBitPacked(std::span<const uint32_t>(lit), 9, &packed);
  s += packed;
  std::vector<uint32_t> got(12);
  RleBitPackedDecoder dec(U8(s), s.size(), 9);
  ASSERT_TRUE(dec.Get(got.data(), 12).ok());
  EXPECT_THAT(got, ElementsAre(300, 300, 300, 300, 1, 2, 3, 4, 5, 6, 7, 511));
  // Asking for more than the stream holds is an error, not a read past the end.
  EXPECT_FALSE(dec.Get(got.data(), 1).ok());
}

TEST(RleBitPackedTest, RandomRoundTrips) {
  std::mt19937 rng(42);
  for (int bw : {1, 2, 3, 7, 8, 13, 20, 32}) {
    for (int trial = 0; trial < 20; ++trial) {
      size_t n = rng() % 3000;
      std::vector<uint32_t> v(n);
      uint64_t maxv = bw == 32 ? 0xFFFFFFFFull : (1ull << bw) - 1;
      for (size_t i = 0; i < n;) {
        // Mix runs and noise.
        size_t run = rng() % 3 == 0 ? rng() % 50 + 1 : 1;
        uint32_t x = static_cast<uint32_t>(rng() % (maxv + 1));
        for (size_t k = 0; k < run && i < n; ++k) v[i++] = x;
      }
      std::string out;
      EncodeRleBitPacked(std::span<const uint32_t>(v), bw, &out);
      std::vector<uint32_t> got(n);
      RleBitPackedDecoder dec(U8(out), out.size(), bw);
      ASSERT_TRUE(dec.Get(got.data(), n).ok()) << "bw " << bw;
      ASSERT_EQ(got, v) << "bw " << bw << " n " << n;
    }
  }
}

TEST(RleBitPackedTest, RejectsGarbage) {
  std::string s = "\x02";  // RLE run of 1 with the value byte missing
  std::vector<uint32_t> got(1);
  EXPECT_FALSE(RleBitPackedDecoder(U8(s), s.size(), 8).Get(got.data(), 1).ok());
  std::string t = "\x02\x09";  // value 9 does not fit in 3 bits
  EXPECT_FALSE(RleBitPackedDecoder(U8(t), t.size(), 3).Get(got.data(), 1).ok());
  std::string u = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";  // varint too long
  EXPECT_FALSE(RleBitPackedDecoder(U8(u), u.size(), 3).Get(got.data(), 1).ok());
}

TEST(DeltaBinaryPackedTest, SpecExampleOne) {
  // 1, 2, 3, 4, 5: block 128, 4 miniblocks, 5 values, first 1; min delta 1, all widths 0.
  std::string s;
  PutUleb128(128, &s);
  PutUleb128(4, &s);
  PutUleb128(5, &s);
  PutUleb128(2, &s);  // zigzag(1)
  PutUleb128(2, &s);  // zigzag(1)
  s.append(4, '\0');
  s += "tail";
  std::vector<int64_t> v;
  size_t used;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(U8(s), s.size(), 100, &v, &used).ok());
  EXPECT_THAT(v, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(used, s.size() - 4);
}

TEST(DeltaBinaryPackedTest, SpecExampleTwo) {
  // 7, 5, 3, 1, 2, 3, 4, 5: deltas -2 -2 -2 1 1 1 1; min -2; relative 0 0 0 3 3 3 3 at width 2.
  std::string s;
  PutUleb128(128, &s);
  PutUleb128(4, &s);
  PutUleb128(8, &s);
  PutUleb128(14, &s);  // zigzag(7)
  PutUleb128(3, &s);   // zigzag(-2)
  s += std::string("\x02\x00\x00\x00", 4);
  std::string mini(8, '\0');  // 32 values x 2 bits
  mini[0] = static_cast<char>(0xC0);
  mini[1] = 0x3F;
  s += mini;
  std::vector<int64_t> v;
  size_t used;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(U8(s), s.size(), 100, &v, &used).ok());
  EXPECT_THAT(v, ElementsAre(7, 5, 3, 1, 2, 3, 4, 5));
  EXPECT_EQ(used, s.size());
  // A stream claiming more values than the caller allows is rejected before decoding.
  EXPECT_FALSE(DecodeDeltaBinaryPacked(U8(s), s.size(), 7, &v, &used).ok());
  // Truncated miniblock.
  EXPECT_FALSE(DecodeDeltaBinaryPacked(U8(s), s.size() - 3, 100, &v, &used).ok());
}

TEST(DeltaLengthByteArrayTest, SpecExample) {
  std::string s;
  PutUleb128(128, &s);
  PutUleb128(4, &s);
  PutUleb128(4, &s);
  PutUleb128(10, &s);  // first length 5
  PutUleb128(0, &s);   // min delta 0: deltas 0, 1, 0 -> relative 0 1 0 at width 1
  s += std::string("\x01\x00\x00\x00", 4);
  std::string mini(4, '\0');  // 32 values x 1 bit
  mini[0] = 0b010;
  s += mini;
  s += "HelloWorldFoobarABCDEF";
  std::vector<uint64_t> offsets{0};
  std::string bytes;
  size_t used;
  ASSERT_TRUE(DecodeDeltaLengthByteArray(U8(s), s.size(), 4, {&offsets, &bytes}, &used).ok());
  EXPECT_EQ(bytes, "HelloWorldFoobarABCDEF");
  EXPECT_THAT(offsets, ElementsAre(0, 5, 10, 16, 22));
  EXPECT_EQ(used, s.size());
  // Data shorter than the lengths claim.
  EXPECT_FALSE(DecodeDeltaLengthByteArray(U8(s), s.size() - 1, 4, {&offsets, &bytes}, &used).ok());
}

TEST(ByteStreamSplitTest, SpecExample) {
  const uint8_t in[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
  uint8_t out[12];
  ASSERT_TRUE(DecodeByteStreamSplit(in, 12, 3, 4, out).ok());
  const uint8_t want[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
  EXPECT_EQ(std::memcmp(out, want, 12), 0);
  EXPECT_FALSE(DecodeByteStreamSplit(in, 11, 3, 4, out).ok());
}

TEST(PageCrcTest, StandardCheckValue) {
  // The CRC-32 check value of "123456789" (the polynomial 0x04C11DB7 of parquet.thrift).
  const std::string s = "123456789";
  EXPECT_EQ(PageCrc(U8(s), s.size()), 0xCBF43926u);
}

TEST(CompressionTest, RoundTripsAndRejectsWrongSizes) {
  std::string raw;
  for (int i = 0; i < 5000; ++i) raw += "event-" + std::to_string(i % 37) + ";";
  for (Codec c : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    std::string packed;
    ASSERT_TRUE(Compress(c, U8(raw), raw.size(), 0, &packed).ok()) << CodecName(c);
    std::string back(raw.size(), '\0');
    ASSERT_TRUE(Decompress(c, U8(packed), packed.size(), reinterpret_cast<uint8_t*>(back.data()),
                           back.size())
                    .ok())
        << CodecName(c);
    EXPECT_EQ(back, raw) << CodecName(c);
    // A header that lies about the uncompressed size is an error, not an overflow.
    std::string small(raw.size() - 1, '\0');
    EXPECT_FALSE(Decompress(c, U8(packed), packed.size(), reinterpret_cast<uint8_t*>(small.data()),
                            small.size())
                     .ok())
        << CodecName(c);
  }
  std::string out(10, '\0');
  EXPECT_EQ(Decompress(Codec::kLzo, U8(raw), 10, reinterpret_cast<uint8_t*>(out.data()), 10).code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace lf::parquet
