#include "avro/binary_encoder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::avro {
namespace {

using namespace std::string_literals;

TEST(RecordWriterTest, EncodesAsTheSpecSays) {
  RecordWriter w;
  w.Long(0);
  w.Long(-1);
  w.Long(1);
  w.Long(-64);
  w.Long(64);
  w.Int(-2147483648);
  w.String("foo");
  w.Bool(true);
  w.Double(1.0);
  w.Float(1.0f);
  // The spec's examples: 0 -> 00, -1 -> 01, 1 -> 02, -64 -> 7f, 64 -> 80 01; "foo" -> 06 66 6f 6f.
  EXPECT_EQ(w.body(),
            "\x00\x01\x02\x7f\x80\x01\xff\xff\xff\xff\x0f\x06"
            "foo\x01\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x80\x3f"s);
}

TEST(RecordWriterTest, ArraysMapsAndDecimals) {
  RecordWriter w;
  w.ArrayStart(2);
  w.Long(3);
  w.Long(27);
  w.ArrayEnd();
  w.MapStart(0);
  w.MapEnd();
  EXPECT_EQ(w.Take(), "\x04\x06\x36\x00\x00"s);  // the spec's array example
  EXPECT_EQ(RecordWriter::DecimalToBytes(0), "\x00"s);
  EXPECT_EQ(RecordWriter::DecimalToBytes(12345), "\x30\x39"s);
  EXPECT_EQ(RecordWriter::DecimalToBytes(-5), "\xfb"s);
  EXPECT_EQ(RecordWriter::DecimalToBytes(128), "\x00\x80"s);
  EXPECT_EQ(RecordWriter::DecimalToBytes(-129), "\xff\x7f"s);
}

TEST(ConfluentFrameTest, RoundTrips) {
  const std::string framed = ConfluentFrame(0x01020304, "body");
  EXPECT_EQ(framed,
            "\x00\x01\x02\x03\x04"
            "body"s);
  auto parsed = ParseConfluentFrame(framed);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->first, 0x01020304);
  EXPECT_EQ(parsed->second, "body");
  auto empty_body = ParseConfluentFrame(ConfluentFrame(7, ""));
  ASSERT_TRUE(empty_body.ok());
  EXPECT_EQ(empty_body->first, 7);
  EXPECT_TRUE(empty_body->second.empty());
}

TEST(ConfluentFrameTest, RefusesShortOrForeignMessages) {
  auto short_message = ParseConfluentFrame("\x00\x00\x01"s);
  ASSERT_FALSE(short_message.ok());
  EXPECT_THAT(std::string(short_message.status().message()),
              ::testing::HasSubstr("shorter than the 5-byte Confluent header"));
  auto wrong_magic = ParseConfluentFrame("{\"a\": 1}");
  ASSERT_FALSE(wrong_magic.ok());
  EXPECT_THAT(std::string(wrong_magic.status().message()),
              ::testing::HasSubstr("byte 0x7b, not the Confluent magic byte 0"));
}

}  // namespace
}  // namespace lf::avro
