#include "postgres/sql_array.h"

#include <gtest/gtest.h>

namespace lf::postgres {
namespace {

TEST(SqlArrayTest, Ints) {
  SqlArray a;
  a.AddInt(1);
  a.AddInt(-2);
  a.AddNull();
  EXPECT_EQ(a.Finish(), "{1,-2,NULL}");
}

TEST(SqlArrayTest, TextIsQuotedAndEscaped) {
  SqlArray a;
  a.AddText("plain");
  a.AddText("q\"uo\\te, {x}");
  a.AddText("NULL");
  EXPECT_EQ(a.Finish(), R"({"plain","q\"uo\\te, {x}","NULL"})");
}

TEST(SqlArrayTest, ByteaIsHex) {
  SqlArray a;
  a.AddBytea(std::string("\x00\xff{", 3));
  EXPECT_EQ(a.Finish(), R"({"\\x00ff7b"})");
}

TEST(SqlArrayTest, Doubles) {
  SqlArray a;
  a.AddDouble(2.5);
  a.AddDouble(0.1);
  a.AddDouble(-1e300);
  EXPECT_EQ(a.Finish(), "{2.5,0.1,-1e+300}");
}

TEST(SqlArrayTest, Empty) {
  SqlArray a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.Finish(), "{}");
}

// The wire format by hand (PostgreSQL's array_recv): ndim, has-nulls flag, element OID, length and
// lower bound of the dimension, then each element's length (-1: NULL) and big-endian bytes.
TEST(BinaryArrayTest, Int8Layout) {
  BinaryArray a(BinaryArray::Type::kInt8);
  a.AddInt(1);
  a.AddNull();
  a.AddInt(-2);
  EXPECT_EQ(a.size(), 3u);
  const std::string want(
      "\0\0\0\1"
      "\0\0\0\1"
      "\0\0\0\x14"
      "\0\0\0\3"
      "\0\0\0\1"
      "\0\0\0\x08"
      "\0\0\0\0\0\0\0\1"
      "\xff\xff\xff\xff"
      "\0\0\0\x08"
      "\xff\xff\xff\xff\xff\xff\xff\xfe",
      20 + 12 + 4 + 12);
  EXPECT_EQ(a.Finish(), want);
}

TEST(BinaryArrayTest, TextAndTimestampLayout) {
  BinaryArray t(BinaryArray::Type::kText);
  t.AddText("ab");
  EXPECT_EQ(t.Finish(), std::string("\0\0\0\1\0\0\0\0\0\0\0\x19\0\0\0\1\0\0\0\1"
                                    "\0\0\0\2ab",
                                    26));
  // 2000-01-01T00:00:01Z is one million microseconds after PostgreSQL's epoch.
  BinaryArray ts(BinaryArray::Type::kTimestamp);
  ts.AddTimestamp(946684801);
  EXPECT_EQ(ts.Finish().substr(20), std::string("\0\0\0\x08\0\0\0\0\0\x0f\x42\x40", 12));
}

TEST(BinaryArrayTest, EmptyHasNoDimensions) {
  BinaryArray a(BinaryArray::Type::kFloat8);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.Finish(), std::string("\0\0\0\0\0\0\0\0\0\0\x02\xbd", 12));  // OID 701
}

}  // namespace
}  // namespace lf::postgres
