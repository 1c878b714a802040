#include "lake/layout.h"

#include <gtest/gtest.h>

namespace lf::lake {
namespace {

constexpr int64_t k20261122T09 = 1795338000;

TEST(LayoutTest, SparkStyleHourDirectories) {
  EXPECT_EQ(HourDir("devices", k20261122T09), "devices/year=2026/month=11/day=22/hour=9");
  EXPECT_EQ(HourDir("devices", 0), "devices/year=1970/month=1/day=1/hour=0");
  EXPECT_EQ(HourDir("devices", -3600), "devices/year=1969/month=12/day=31/hour=23");
}

TEST(LayoutTest, HourOfFloors) {
  EXPECT_EQ(HourOf(k20261122T09 + 3599), k20261122T09);
  EXPECT_EQ(HourOf(k20261122T09), k20261122T09);
  EXPECT_EQ(HourOf(-1), -3600);
}

TEST(LayoutTest, ParseHourDirInvertsHourDir) {
  for (int64_t h : {int64_t{0}, k20261122T09, k20261122T09 + 14 * 3600, int64_t{-3600}}) {
    EXPECT_EQ(ParseHourDir(HourDir("devices", h) + "/part-x.parquet"), h);
  }
  EXPECT_FALSE(ParseHourDir("devices/year=2026/month=13/day=1/hour=0").has_value());
  EXPECT_FALSE(ParseHourDir("devices/year=2026/month=11/day=22").has_value());
  EXPECT_FALSE(ParseHourDir("devices/year=2026/month=11/day=22/hour=9x").has_value());
}

TEST(LayoutTest, TempNamesAreHidden) {
  std::string f = FinalFileName("w1", 3);
  EXPECT_EQ(f, "part-w1-00003.parquet");
  EXPECT_EQ(TempFileName(f), ".part-w1-00003.parquet.inprogress");
}

}  // namespace
}  // namespace lf::lake

namespace lf::lake {
namespace {

TEST(LayoutTest, DayPartitionsAreHiveStyleDates) {
  const int64_t t = 1795377600 + 3 * 3600 + 17;  // 2026-11-22T23:00:17Z
  EXPECT_EQ(PartitionStart(Partitioning::kEventDate, t), 1795305600);
  EXPECT_EQ(PartitionStart(Partitioning::kEventHour, t), 1795388400);
  EXPECT_EQ(PartitionDir("bronze/iot", Partitioning::kIngestDate, 1795305600),
            "bronze/iot/ingest_date=2026-11-22");
  EXPECT_EQ(PartitionDir("line", Partitioning::kEventDate, 1795305600),
            "line/event_date=2026-11-22");
  EXPECT_EQ(PartitionDir("d", Partitioning::kEventHour, 1795388400), HourDir("d", 1795388400));
  EXPECT_EQ(PartitionStart(Partitioning::kEventDate, -1), -86400);
  EXPECT_EQ(PartitionSeconds(Partitioning::kIngestDate), 86400);
}

}  // namespace
}  // namespace lf::lake
