#pragma once

// A librdkafka producer tuned for throughput, with delivery reports checked: a message that
// librdkafka gives up on is an error returned to the caller, never a silent loss.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kafka/kafka_config.h"

namespace lf::kafka {

struct ProducerOptions {
  // bootstrap.servers.
  std::string brokers = "127.0.0.1:9092";
  // librdkafka properties applied after the throughput defaults (linger.ms=10, lz4, idempotence,
  // murmur2_random partitioner, large local queue), so they win.
  ConfigPairs overrides;
};

// Not thread-safe: one thread calls Produce/Poll/Flush, and delivery reports are served on it.
class Producer {
 public:
  // Creates the client; nothing is sent until Produce. Errors: bad properties.
  static absl::StatusOr<std::unique_ptr<Producer>> Open(const ProducerOptions& options);

  // Does not flush: messages not yet delivered are dropped. Call Flush first.
  ~Producer();

  // Queues a copy of `value` for `topic`, partitioned by `key` (same key, same partition, in
  // order). While the local queue is full it serves delivery reports until there is room, so it
  // can block for as long as the broker is slow. Returns the first failed delivery seen so far, if
  // any ("kafka: deliver to devices [3]: Local: Message timed out"), or a local produce error.
  absl::Status Produce(const std::string& topic, std::string_view key, std::string_view value);

  // Serves pending delivery reports without waiting.
  void Poll();

  // Waits up to `timeout` for every queued message to be delivered. Errors when a delivery
  // failed or when messages are still queued at the deadline.
  absl::Status Flush(std::chrono::milliseconds timeout);

  // Messages acknowledged by the broker / given up on, as seen by served delivery reports.
  int64_t delivered() const { return delivered_; }
  int64_t failed() const { return failed_; }

  // The underlying handle, e.g. for metadata queries; owned by this producer.
  rd_kafka_t* handle() const { return rk_.get(); }

  struct Token {};  // restricts construction to Open()
  Producer(Token, KafkaClient rk);

 private:
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  absl::StatusOr<rd_kafka_topic_t*> Topic(const std::string& name);

  KafkaClient rk_;
  std::map<std::string, KafkaTopic, std::less<>> topics_;
  int64_t delivered_ = 0;
  int64_t failed_ = 0;
  int64_t since_poll_ = 0;
  absl::Status first_error_;
};

}  // namespace lf::kafka
