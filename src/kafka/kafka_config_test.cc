#include "kafka/kafka_config.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kafka/embedded_broker.h"

namespace lf::kafka {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(KafkaConfigTest, AppliesPairsInOrder) {
  auto conf = MakeConfig({{"linger.ms", "5"}, {"linger.ms", "7"}, {"client.id", "x"}});
  ASSERT_TRUE(conf.ok()) << conf.status();
  char value[64];
  size_t size = sizeof value;
  ASSERT_EQ(rd_kafka_conf_get(conf->get(), "linger.ms", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "7");
}

TEST(KafkaConfigTest, BadValueNamesKeyAndReason) {
  auto conf = MakeConfig({{"linger.ms", "soon"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_EQ(conf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(conf.status().message()), HasSubstr("kafka: config linger.ms=soon: "));
}

TEST(KafkaConfigTest, UnknownKeyIsAnError) {
  auto conf = MakeConfig({{"no.such.property", "1"}});
  ASSERT_FALSE(conf.ok());
  EXPECT_THAT(std::string(conf.status().message()), HasSubstr("no.such.property"));
}

TEST(KafkaConfigTest, SecretValuesAreNotEchoed) {
  auto conf = MakeConfig({{"custom.password", "hunter2"}});  // unknown key: an error
  ASSERT_FALSE(conf.ok());
  EXPECT_THAT(std::string(conf.status().message()), HasSubstr("kafka: config custom.password=***"));
  EXPECT_THAT(std::string(conf.status().message()), Not(HasSubstr("hunter2")));
  auto plain = MakeConfig({{"custom.thing", "visible"}});
  ASSERT_FALSE(plain.ok());
  EXPECT_THAT(std::string(plain.status().message()), HasSubstr("custom.thing=visible"));
}

TEST(KafkaConfigTest, NewClientReportsBadConfigCombination) {
  // A transactional producer needs idempotence: librdkafka refuses at creation time.
  auto conf = MakeConfig({{"transactional.id", "t"}, {"enable.idempotence", "false"}});
  ASSERT_TRUE(conf.ok());
  auto rk = NewClient(RD_KAFKA_PRODUCER, std::move(conf).value(), "producer");
  ASSERT_FALSE(rk.ok());
  EXPECT_THAT(std::string(rk.status().message()), HasSubstr("kafka: create producer: "));
}

TEST(SplitHostPortTest, Parses) {
  std::string host;
  uint16_t port = 1;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:9092", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9092);
  ASSERT_TRUE(SplitHostPort("localhost:0", &host, &port).ok());
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(SplitHostPort("[::1]:80", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 80);
  for (const char* bad : {"9092", "host:", "host:70000", "host:12x", ":9092", "::1:80"}) {
    absl::Status st = SplitHostPort(bad, &host, &port);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_THAT(std::string(st.message()), HasSubstr("kafka: address")) << bad;
  }
}

}  // namespace
}  // namespace lf::kafka
