#include "postgres/identifier.h"

#include <gtest/gtest.h>

namespace lf::postgres {
namespace {

TEST(QuoteTableNameTest, QuotesPlainNames) {
  EXPECT_EQ(*QuoteTableName("bytes", "--table"), "\"bytes\"");
  EXPECT_EQ(*QuoteTableName("metrics.Bytes_2", "--table"), "\"metrics\".\"Bytes_2\"");
}

TEST(QuoteTableNameTest, RefusesHostileOrOddNames) {
  for (const char* bad : {"bytes; drop table x", "", "1bytes", "by\"tes", "a.b.c", "a b", "bytes--",
                          ".bytes", "bytes.", "x'y"}) {
    auto r = QuoteTableName(bad, "--table");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(std::string(r.status().message()).find("--table"), std::string::npos) << bad;
  }
  EXPECT_FALSE(QuoteTableName(std::string(64, 'a'), "--table").ok());
}

TEST(DerivedNameTest, UsesTheLastPart) {
  EXPECT_EQ(DerivedName("s.bytes", "window_key"), "\"bytes_window_key\"");
}

}  // namespace
}  // namespace lf::postgres
