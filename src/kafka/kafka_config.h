#pragma once

// Owning handles for librdkafka's C objects and a helper that builds a client configuration from
// key/value pairs with readable errors. Shared by the producer, the embedded broker and the
// consumer so that every rd_kafka_* handle is released exactly once.

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace lf::kafka {

struct RdKafkaConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct RdKafkaDeleter {
  // Destroys the client; for a producer, undelivered messages are dropped, so flush first.
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct RdKafkaTopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct RdKafkaMessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};

using KafkaConf = std::unique_ptr<rd_kafka_conf_t, RdKafkaConfDeleter>;
using KafkaClient = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using KafkaTopic = std::unique_ptr<rd_kafka_topic_t, RdKafkaTopicDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, RdKafkaMessageDeleter>;

// librdkafka configuration properties in the order they are applied; a later key overrides an
// earlier one, so defaults go first and user overrides last.
using ConfigPairs = std::vector<std::pair<std::string, std::string>>;

// A new configuration with every pair applied and librdkafka's logs routed to spdlog. Errors name
// the key and librdkafka's reason: "kafka: config linger.ms=abc: Invalid value for configuration
// property ...". Values are never echoed for keys that look secret (sasl.password,
// ssl.key.password, ...).
absl::StatusOr<KafkaConf> MakeConfig(const ConfigPairs& pairs);

// Applies one property to `conf` (not owned); same error text as MakeConfig.
absl::Status SetConfig(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

// Creates a client of `type` from `conf`. librdkafka takes ownership of the configuration only on
// success; either way `conf` is consumed here. `what` names the client in errors
// ("kafka: create producer: ...").
absl::StatusOr<KafkaClient> NewClient(rd_kafka_type_t type, KafkaConf conf,
                                      const std::string& what);

}  // namespace lf::kafka
