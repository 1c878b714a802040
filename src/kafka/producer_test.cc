#include "kafka/producer.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::kafka {
namespace {

using ::testing::HasSubstr;

TEST(ProducerTest, FailedDeliveryIsAnErrorNotASilentLoss) {
  // Nothing listens on port 1: every message times out locally.
  auto producer = Producer::Open(
      {.brokers = "127.0.0.1:1",
       .overrides = {{"message.timeout.ms", "300"}, {"enable.idempotence", "false"}}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  for (int i = 0; i < 10; ++i) {
    absl::Status st = (*producer)->Produce("devices", "k", "v");
    if (!st.ok()) break;  // a report may already have been served
  }
  absl::Status st = (*producer)->Flush(std::chrono::seconds(10));
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("kafka: deliver to devices"));
  EXPECT_GT((*producer)->failed(), 0);
  EXPECT_EQ((*producer)->delivered(), 0);
  // Sticky: later produces report the failure too.
  EXPECT_FALSE((*producer)->Produce("devices", "k", "v").ok());
}

TEST(ProducerTest, OverridesAreValidated) {
  auto producer = Producer::Open({.brokers = "127.0.0.1:1", .overrides = {{"linger.ms", "x"}}});
  ASSERT_FALSE(producer.ok());
  EXPECT_THAT(std::string(producer.status().message()), HasSubstr("kafka: config linger.ms=x"));
}

}  // namespace
}  // namespace lf::kafka
