#include "common/time.h"

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(ParseDurationTest, Units) {
  EXPECT_EQ(*ParseDuration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(*ParseDuration("5s"), std::chrono::seconds(5));
  EXPECT_EQ(*ParseDuration("5m"), std::chrono::minutes(5));
  EXPECT_EQ(*ParseDuration("1h"), std::chrono::hours(1));
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseDuration("250us"), Micros(250));
}

TEST(ParseDurationTest, RejectsBadInput) {
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5").ok());
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("-5s").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999s").ok());
  EXPECT_NE(ParseDuration("5x").status().message().find("5x"), std::string_view::npos);
}

TEST(ParseTimeTest, Iso8601Forms) {
  auto t = *ParseTime("2026-11-22T09:00:00Z");
  EXPECT_EQ(ToUnixSeconds(t), 1795338000);
  EXPECT_EQ(*ParseTime("2026-11-22T10:00:00+01:00"), t);
  EXPECT_EQ(*ParseTime("2026-11-22T08:30:00-00:30"), t);
  EXPECT_EQ(*ParseTime("2026-11-22 09:00:00"), t);
  EXPECT_EQ(*ParseTime("2026-11-22T09:00Z"), t);
  EXPECT_EQ(*ParseTime("2026-11-22T09Z"), t);
  EXPECT_EQ(*ParseTime("@1795338000"), t);
  EXPECT_EQ(ParseTime("2026-11-22T09:00:00.25Z")->time_since_epoch().count() % 1'000'000, 250000);
  EXPECT_EQ(FormatTime(*ParseTime("2026-11-22")), "2026-11-22T00:00:00Z");
}

TEST(ParseTimeTest, RejectsBadInput) {
  EXPECT_FALSE(ParseTime("").ok());
  EXPECT_FALSE(ParseTime("2026-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseTime("2026-02-30T00:00:00Z").ok());
  EXPECT_FALSE(ParseTime("2026-11-22T25:00:00Z").ok());
  EXPECT_FALSE(ParseTime("2026-11-22T09:00:00Zjunk").ok());
  EXPECT_FALSE(ParseTime("yesterday").ok());
  EXPECT_NE(ParseTime("yesterday").status().message().find("yesterday"), std::string_view::npos);
}

// Found by fuzz_time: Unix seconds whose microseconds overflow int64 (undefined behaviour).
TEST(ParseTimeTest, UnixSecondsStayWithinYears1To9999) {
  EXPECT_FALSE(ParseTime("@133333333333333313").ok());
  EXPECT_FALSE(ParseTime("@-133333333333333313").ok());
  EXPECT_EQ(FormatTime(*ParseTime("@253402300799")), "9999-12-31T23:59:59Z");
  EXPECT_FALSE(ParseTime("@253402300800").ok());
  EXPECT_EQ(FormatTime(*ParseTime("@-62135596800")), "0001-01-01T00:00:00Z");
  EXPECT_FALSE(ParseTime("@-62135596801").ok());
}

TEST(FormatTest, RoundTrips) {
  EXPECT_EQ(FormatTime(*ParseTime("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(*ParseTime("2020-09-19T19:54:47Z")), "2020-09-19T19:54:47Z");
  EXPECT_EQ(FormatTime(*ParseTime("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(500)), "500ms");
}

TEST(FloorToTest, FloorsNegativeTimesDown) {
  auto five = std::chrono::minutes(5);
  EXPECT_EQ(FloorTo(FromUnixSeconds(301), five), FromUnixSeconds(300));
  EXPECT_EQ(FloorTo(FromUnixSeconds(300), five), FromUnixSeconds(300));
  EXPECT_EQ(FloorTo(FromUnixSeconds(-1), five), FromUnixSeconds(-300));
}

}  // namespace
}  // namespace lf
