#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kafka/kafka_config.h"
#include "pipeline/record_source.h"

namespace lf::kafka {

struct SourceOptions {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "devices";
  std::string group = "lambdaflow-speed";
  // Extra librdkafka properties, applied last (tuning, security).
  ConfigPairs overrides;
};

// A RecordSource over a librdkafka high-level consumer in a consumer group. Start offsets come
// from the PartitionListener (the offsets committed in PostgreSQL), never from the group: Kafka's
// group offsets are only a mirror for lag tools. Offsets the broker no longer has are reported
// through PartitionListener::OnDataLoss and skipped. Not thread-safe: one pipeline thread.
class KafkaSource : public pipeline::RecordSource {
 public:
  // `listener` must outlive the source; it is called from inside Poll and Close.
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Open(const SourceOptions& options,
                                                           pipeline::PartitionListener* listener);
  ~KafkaSource() override;

  absl::StatusOr<std::span<const pipeline::RawMessage>> Poll(
      size_t max, std::chrono::milliseconds timeout) override;
  absl::Status Seek(int32_t partition, int64_t offset) override;
  void MirrorCommit(const std::map<int32_t, int64_t>& next_offsets) override;
  std::map<int32_t, int64_t> Lag() override;
  // Asks the leader of an assigned partition for its watermarks, or any broker for metadata when
  // nothing is assigned (at most 2 s).
  absl::Status CheckReachable() override;
  absl::Status Close() override;

 private:
  struct Token {};

 public:
  KafkaSource(Token, SourceOptions options, pipeline::PartitionListener* listener);

 private:
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void Rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void HandleOffsetReset(int32_t partition);
  // Restarts `partition` at `offset` after an offset reset. librdkafka stops a partition's fetcher
  // when auto.offset.reset=error fires, and a seek does not start it again, so the current
  // assignment is assigned again, every other partition at its own position.
  absl::Status RestartPartition(int32_t partition, int64_t offset);
  void ForgetBatchOf(int32_t partition);
  void DropBatch();

  SourceOptions options_;
  pipeline::PartitionListener* listener_;
  KafkaClient rk_;
  struct QueueDeleter {
    void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  };
  // The consumer's queue, for batch draining; released before rk_ (declared after it).
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue_;
  std::vector<rd_kafka_message_t*> raw_;  // scratch for one Poll
  std::vector<KafkaMessage> incoming_;
  bool closed_ = false;
  absl::Status pending_error_;
  // Next offset expected per assigned partition; kNoOffset: from the earliest, not yet known.
  std::map<int32_t, int64_t> position_;
  // Partitions whose end offsets Lag() asked the broker for since the last assignment.
  std::set<int32_t> asked_ends_;
  std::vector<KafkaMessage> held_;  // keeps payloads of batch_ alive until the next Poll
  std::vector<pipeline::RawMessage> batch_;
};

}  // namespace lf::kafka
