#include "common/failpoint.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>

#include <gtest/gtest.h>

namespace lf {
namespace {

TEST(FailpointTest, NamesOfTransactionSteps) {
  EXPECT_EQ(FailpointName("lake commit", "before_commit"), "lake_commit.before_commit");
  EXPECT_EQ(FailpointName("registry: register", "after_commit"), "registry_register.after_commit");
  EXPECT_EQ(FailpointName("flush", "before_commit"), "flush.before_commit");
}

// LF_FAILPOINTS is read once per process, at the first failpoint reached: this is the only test
// in the binary that reaches one.
TEST(FailpointTest, ArmedPointsActAtTheirHitAndMalformedEntriesAreIgnored) {
  ASSERT_EQ(setenv("LF_FAILPOINTS", "t.sleep=sleep@2:120,garbage,t.bad=kill@0,t.kill=kill@2", 1),
            0);
  using Clock = std::chrono::steady_clock;
  auto timed = [](const char* name) {
    auto start = Clock::now();
    Failpoint(name);
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  };
  EXPECT_LT(timed("t.sleep"), 100);  // hit 1: nothing
  EXPECT_GE(timed("t.sleep"), 120);  // hit 2: the stall
  EXPECT_LT(timed("t.sleep"), 100);  // hit 3: nothing again
  EXPECT_LT(timed("t.bad"), 100);    // kill@0 is malformed: never armed
  EXPECT_LT(timed("unarmed"), 100);
  Failpoint("t.kill");  // hit 1 of kill@2: survives
  EXPECT_EXIT(Failpoint("t.kill"), testing::KilledBySignal(SIGKILL), "failpoint t.kill: kill");
}

}  // namespace
}  // namespace lf
