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

}  // namespace
}  // namespace lf::postgres
