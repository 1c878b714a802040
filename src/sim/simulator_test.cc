#include "sim/simulator.h"

#include "gtest/gtest.h"

namespace lf::sim {
namespace {

TEST(EffectiveRateTest, RealTimeByDefault) {
  SimulatorOptions o;  // 20 devices, 1 s interval, no --events
  ASSERT_TRUE(EffectiveRate(o).has_value());
  EXPECT_DOUBLE_EQ(*EffectiveRate(o), 20.0);
}

TEST(EffectiveRateTest, SpeedupAndIntervalScaleTheDefault) {
  SimulatorOptions o;
  o.generator.devices = 100;
  o.generator.interval = std::chrono::seconds(10);
  o.speedup = 60;
  EXPECT_DOUBLE_EQ(*EffectiveRate(o), 600.0);  // 100 devices per 10 s, 60x
}

TEST(EffectiveRateTest, EventsMeanAsFastAsPossibleUnlessARateIsGiven) {
  SimulatorOptions o;
  o.events = 1000;
  EXPECT_FALSE(EffectiveRate(o).has_value());
  o.rate = 250;
  EXPECT_DOUBLE_EQ(*EffectiveRate(o), 250.0);
}

}  // namespace
}  // namespace lf::sim
