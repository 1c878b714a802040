#include "sim/event_generator.h"

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::sim {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<EventGenerator> Make(GeneratorOptions o) {
  auto g = EventGenerator::Create(o);
  EXPECT_TRUE(g.ok()) << g.status();
  return std::move(g).value();
}

GeneratorOptions At9(uint64_t seed = 1) {
  GeneratorOptions o;
  o.seed = seed;
  o.start = ParseTime("2026-11-22T09:00:00Z").value();
  return o;
}

std::vector<std::string> Payloads(EventGenerator& g, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    g.Next();
    out.emplace_back(g.payload());
  }
  return out;
}

TEST(EventGeneratorTest, SameSeedSameStreamByteForByte) {
  auto a = Make(At9(42));
  auto b = Make(At9(42));
  EXPECT_EQ(Payloads(*a, 5000), Payloads(*b, 5000));
}

TEST(EventGeneratorTest, DifferentSeedDifferentStream) {
  auto a = Make(At9(1));
  auto b = Make(At9(2));
  EXPECT_NE(Payloads(*a, 100), Payloads(*b, 100));
}

TEST(EventGeneratorTest, PayloadIsTheSpecJsonShape) {
  auto g = Make(At9(7));
  const std::regex shape(
      R"re(\{"bytes":(0|[1-9][0-9]*),"timestamp":1795338000,"app":"(SKYPE|FACEBOOK|WHATSAPP|FACETIME|TELEGRAM|INSTAGRAM|YOUTUBE)","id":"00000000-0000-0000-0000-0000000000(0[1-9]|1[0-9]|20)","antenna_id":"00000000-0000-0000-0001-00000000000[1-5]"\})re");
  for (int i = 0; i < 20; ++i) {
    const Event& e = g->Next();
    std::string p(g->payload());
    EXPECT_TRUE(std::regex_match(p, shape)) << p;
    EXPECT_EQ(g->key(), e.id);
  }
}

TEST(EventGeneratorTest, DeviceAndAntennaIdsAreTwelveDigitNumbers) {
  EXPECT_EQ(FormatId(kDevicePrefix, 1), "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(FormatId(kDevicePrefix, 20), "00000000-0000-0000-0000-000000000020");
  EXPECT_EQ(FormatId(kAntennaPrefix, 5), "00000000-0000-0000-0001-000000000005");
  EXPECT_EQ(FormatId(kDevicePrefix, 999'999'999'999), "00000000-0000-0000-0000-999999999999");

  GeneratorOptions o = At9();
  o.devices = 1'234'567;
  o.antennas = 3000;
  auto g = Make(o);
  std::set<std::string> antennas;
  for (int i = 0; i < 1'234'567; ++i) {
    const Event& e = g->Next();
    if (i == 0) {
      EXPECT_EQ(e.id, "00000000-0000-0000-0000-000000000001");
    }
    if (i == 1'234'566) {
      EXPECT_EQ(e.id, "00000000-0000-0000-0000-000001234567");
    }
    if (i % 997 == 0) antennas.emplace(e.antenna_id);
  }
  for (const std::string& a : antennas) {
    int64_t k = std::stoll(a.substr(kAntennaPrefix.size()));
    EXPECT_GE(k, 1);
    EXPECT_LE(k, 3000);
  }
  EXPECT_GT(antennas.size(), 500u);  // spread over many antennas, not a handful
}

TEST(EventGeneratorTest, EachDeviceIsSpacedByTheInterval) {
  GeneratorOptions o = At9();
  o.devices = 7;
  o.interval = std::chrono::seconds(30);
  auto g = Make(o);
  std::map<std::string, std::vector<int64_t>> times;
  for (int i = 0; i < 7 * 100; ++i) {
    const Event& e = g->Next();
    times[std::string(e.id)].push_back(e.timestamp);
  }
  ASSERT_EQ(times.size(), 7u);
  const int64_t start = ToUnixSeconds(o.start);
  for (const auto& [id, ts] : times) {
    ASSERT_EQ(ts.size(), 100u) << id;
    EXPECT_EQ(ts.front(), start) << id;
    for (size_t i = 1; i < ts.size(); ++i) EXPECT_EQ(ts[i] - ts[i - 1], 30) << id;
  }
}

TEST(EventGeneratorTest, NEventsOverDDevicesSpanNOverDIntervals) {
  GeneratorOptions o = At9();  // 20 devices, 1s
  auto g = Make(o);
  int64_t first = 0, last = 0;
  for (int i = 0; i < 200'000; ++i) {
    const Event& e = g->Next();
    if (i == 0) first = e.timestamp;
    last = e.timestamp;
  }
  EXPECT_EQ(last - first, 200'000 / 20 - 1);  // 10 000 rounds of one second: 2 h 46 m 39 s
}

TEST(EventGeneratorTest, SubSecondIntervalsFloorToTheSecond) {
  GeneratorOptions o = At9();
  o.devices = 1;
  o.interval = std::chrono::milliseconds(400);
  auto g = Make(o);
  std::vector<int64_t> ts;
  for (int i = 0; i < 6; ++i) ts.push_back(g->Next().timestamp - ToUnixSeconds(o.start));
  EXPECT_EQ(ts, (std::vector<int64_t>{0, 0, 0, 1, 1, 2}));  // 0, .4, .8, 1.2, 1.6, 2.0 s
}

TEST(EventGeneratorTest, NextAtUsesTheGivenTimeAndTheSameDraws) {
  auto a = Make(At9(3));
  auto b = Make(At9(3));
  const Timestamp t = ParseTime("2030-01-01T00:00:00Z").value();
  for (int i = 0; i < 50; ++i) {
    const Event& x = a->Next();
    const Event& y = b->NextAt(t);
    EXPECT_EQ(y.timestamp, ToUnixSeconds(t));
    EXPECT_EQ(x.bytes, y.bytes);
    EXPECT_EQ(x.app, y.app);
    EXPECT_EQ(x.id, y.id);
  }
}

TEST(EventGeneratorTest, UsageIsSkewedSoSomeUsersExceedQuotasAndSomeDoNot) {
  // One event per second: an hour is 3600 events per device.
  auto g = Make(At9(1));
  std::map<std::string, int64_t> hourly;
  std::set<std::string_view> apps;
  for (int i = 0; i < 20 * 3600; ++i) {
    const Event& e = g->Next();
    ASSERT_GE(e.bytes, 0);
    hourly[std::string(e.id)] += e.bytes;
    apps.insert(e.app);
  }
  EXPECT_EQ(apps.size(), kApps.size());
  int64_t lo = INT64_MAX, hi = 0;
  int over_300k = 0, under_300k = 0;
  for (const auto& [id, b] : hourly) {
    lo = std::min(lo, b);
    hi = std::max(hi, b);
    (b > 300'000 ? over_300k : under_300k)++;
  }
  EXPECT_GT(hi, 10 * lo);  // heavy and light users
  EXPECT_GT(over_300k, 0);
  EXPECT_GT(under_300k, 0);
}

TEST(EventGeneratorTest, DeviceProfileDoesNotDependOnTheDeviceCount) {
  GeneratorOptions small = At9(9), big = At9(9);
  big.devices = 1000;
  EXPECT_EQ(Make(small)->MeanBytes(7), Make(big)->MeanBytes(7));
}

TEST(EventGeneratorTest, RejectsBadOptions) {
  GeneratorOptions o;
  o.devices = 0;
  EXPECT_THAT(std::string(EventGenerator::Create(o).status().message()),
              HasSubstr("sim: devices 0"));
  o = {};
  o.antennas = 1'000'000'000'000;
  EXPECT_THAT(std::string(EventGenerator::Create(o).status().message()),
              HasSubstr("sim: antennas"));
  o = {};
  o.interval = Micros(0);
  EXPECT_THAT(std::string(EventGenerator::Create(o).status().message()),
              HasSubstr("sim: interval"));
}

}  // namespace
}  // namespace lf::sim
