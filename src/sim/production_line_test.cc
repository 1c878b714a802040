#include "sim/production_line.h"

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace lf::sim {
namespace {

struct Message {
  std::string key, payload, record;
  Timestamp time;
};

std::vector<Message> Simulate(uint64_t seed, int64_t units) {
  LineOptions o;
  o.seed = seed;
  o.start = FromUnixSeconds(1795377600);  // 2026-11-22T20:00:00Z
  o.units = units;
  ProductionLine line(o);
  std::vector<Message> out;
  while (!line.done()) {
    line.Next(std::nullopt);
    out.push_back({std::string(line.key()), std::string(line.payload()), std::string(line.record()),
                   *line.event_time()});
  }
  return out;
}

std::string Field(const std::string& json, const std::string& name) {
  std::smatch m;
  std::regex re("\"" + name + "\":\"([^\"]*)\"");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

TEST(ProductionLineTest, TimestampsHaveExactlyThreeDigitsOfMilliseconds) {
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  for (const Message& m : Simulate(3, 200)) {
    std::string ts = Field(m.payload, "unit_collection_pt_timestamp");
    ASSERT_TRUE(std::regex_match(ts, iso)) << ts;
  }
}

TEST(ProductionLineTest, UnitsPassEveryPointInOrderAndMessagesComeInEventTimeOrder) {
  auto messages = Simulate(4, 300);
  std::map<std::string, int> last_point;
  int produced = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (i > 0) {
      EXPECT_LE(messages[i - 1].time, m.time);
    }
    ASSERT_TRUE(m.key == "unit_collection_point" || m.key == "concern") << m.key;
    EXPECT_EQ(Field(m.record, "kind"), m.key);
    if (m.key != "unit_collection_point") continue;
    const std::string unit = Field(m.payload, "qls_unit_id");
    const int point = std::stoi(Field(m.payload, "collection_point_id").substr(2));
    EXPECT_EQ(point, last_point[unit] + 1) << unit;
    EXPECT_EQ(Field(m.payload, "zone_id"), "Z" + std::to_string((point + 1) / 2));
    last_point[unit] = point;
    if (point == 10) ++produced;
  }
  EXPECT_EQ(produced, 300);
}

TEST(ProductionLineTest, TheSameSeedGivesTheSameStream) {
  auto a = Simulate(9, 50), b = Simulate(9, 50), c = Simulate(10, 50);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].record, b[i].record);
  bool differs = a.size() != c.size();
  for (size_t i = 0; !differs && i < a.size(); ++i) differs = a[i].record != c[i].record;
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace lf::sim
