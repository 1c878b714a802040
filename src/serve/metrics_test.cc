#include "serve/metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace lf::serve {
namespace {

TEST(MetricsWriterTest, WritesFamiliesAndEscapesLabels) {
  MetricsWriter m;
  m.Family("lambdaflow_events_total", "counter", "Events.\nSecond line \\ done");
  m.Sample("lambdaflow_events_total", {{"pipeline", "a\"b\\c\nd"}}, 12345678901);
  m.Family("lambdaflow_lag", "gauge", "Lag.");
  m.Sample("lambdaflow_lag", 0.5);
  m.Sample("lambdaflow_lag", {{"partition", "1"}}, NAN);
  EXPECT_EQ(m.text(),
            "# HELP lambdaflow_events_total Events.\\nSecond line \\\\ done\n"
            "# TYPE lambdaflow_events_total counter\n"
            "lambdaflow_events_total{pipeline=\"a\\\"b\\\\c\\nd\"} 12345678901\n"
            "# HELP lambdaflow_lag Lag.\n# TYPE lambdaflow_lag gauge\n"
            "lambdaflow_lag 0.5\nlambdaflow_lag{partition=\"1\"} NaN\n");
}

TEST(EventRateTest, SlopeOverTheWindow) {
  using std::chrono::seconds;
  EventRate rate(seconds(60));
  auto t0 = std::chrono::steady_clock::time_point() + seconds(1000);
  EXPECT_FALSE(rate.Rate().has_value());
  rate.Add(t0, 100);
  EXPECT_FALSE(rate.Rate().has_value());
  rate.Add(t0 + seconds(10), 600);
  ASSERT_TRUE(rate.Rate().has_value());
  EXPECT_DOUBLE_EQ(*rate.Rate(), 50.0);
  // Old samples fall out of the window: the slope follows the recent rate.
  for (int i = 1; i <= 20; ++i) rate.Add(t0 + seconds(10 + 10 * i), 600 + 10 * 10 * i);
  EXPECT_NEAR(*rate.Rate(), 10.0, 1e-9);
  // A lower total (table truncated) restarts.
  rate.Add(t0 + seconds(500), 5);
  EXPECT_FALSE(rate.Rate().has_value());
}

}  // namespace
}  // namespace lf::serve
