#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_source.h"
#include "pipeline/record_source.h"

// PROTOTYPE (bench only): a copy of src/kafka/kafka_source.{h,cc} whose Poll takes messages from
// the consumer queue in bulk (rd_kafka_consume_batch_queue) and finds a message's partition
// position in a vector instead of a std::map. Everything else is unchanged. Proposed for
// src/kafka/kafka_source.cc; see bench/README.md "Proposed changes".

namespace lf::bench::proto {
using kafka::ConfigPairs;
using kafka::KafkaClient;
using kafka::KafkaMessage;
using kafka::SourceOptions;

struct RdKafkaQueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};

// A RecordSource over a librdkafka high-level consumer in a consumer group. Start offsets come
// from the PartitionListener (the offsets committed in PostgreSQL), never from the group: Kafka's
// group offsets are only a mirror for lag tools. Offsets the broker no longer has are reported
// through PartitionListener::OnDataLoss and skipped. Not thread-safe: one pipeline thread.
class BatchKafkaSource : public pipeline::RecordSource {
 public:
  // `listener` must outlive the source; it is called from inside Poll and Close.
  static absl::StatusOr<std::unique_ptr<BatchKafkaSource>> Open(
      const SourceOptions& options, pipeline::PartitionListener* listener);
  ~BatchKafkaSource() override;

  absl::StatusOr<std::span<const pipeline::RawMessage>> Poll(
      size_t max, std::chrono::milliseconds timeout) override;
  absl::Status Seek(int32_t partition, int64_t offset) override;
  void MirrorCommit(const std::map<int32_t, int64_t>& next_offsets) override;
  std::map<int32_t, int64_t> Lag() override;
  absl::Status Close() override;

 private:
  struct Token {};

 public:
  BatchKafkaSource(Token, SourceOptions options, pipeline::PartitionListener* listener);

 private:
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void Rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void HandleOffsetReset(int32_t partition);
  void DropBatch();

  SourceOptions options_;
  pipeline::PartitionListener* listener_;
  KafkaClient rk_;
  bool closed_ = false;
  absl::Status pending_error_;
  std::unique_ptr<rd_kafka_queue_t, RdKafkaQueueDeleter> queue_;  // the consumer queue
  std::vector<rd_kafka_message_t*> raw_;                          // consume_batch_queue output
  // Next offset expected per partition id; kUnassigned when not ours.
  std::vector<int64_t> next_;
  std::vector<KafkaMessage> held_;  // keeps payloads of batch_ alive until the next Poll
  std::vector<pipeline::RawMessage> batch_;
};

}  // namespace lf::bench::proto
