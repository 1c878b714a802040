#include "proto/batch_kafka_source.h"

#include "common/status.h"
#include "pipeline/commit_sink.h"
#include "spdlog/spdlog.h"

namespace lf::bench::proto {
using namespace lf::kafka;  // NOLINT: prototype copy
constexpr int64_t kUnassigned = -2;
namespace {

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

}  // namespace

BatchKafkaSource::BatchKafkaSource(Token, SourceOptions options,
                                   pipeline::PartitionListener* listener)
    : options_(std::move(options)), listener_(listener) {}

BatchKafkaSource::~BatchKafkaSource() {
  if (rk_ && !closed_) (void)Close();
}

absl::StatusOr<std::unique_ptr<BatchKafkaSource>> BatchKafkaSource::Open(
    const SourceOptions& options, pipeline::PartitionListener* listener) {
  auto source = std::make_unique<BatchKafkaSource>(Token{}, options, listener);
  ConfigPairs pairs = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group},
      {"client.id", "lambdaflow-speed"},
      // Progress lives in PostgreSQL; the group's offsets are only mirrored for lag tools.
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // Surface offsets the broker no longer has instead of silently jumping.
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "false"},
      // A crashed member's partitions move on within seconds, not the default 45 s.
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "1000"},
      // Throughput: large prefetch queues, big fetches; latency stays low when idle.
      {"fetch.wait.max.ms", "100"},
      {"queued.min.messages", "500000"},
      {"max.partition.fetch.bytes", "4194304"},
      {"fetch.max.bytes", "67108864"},
  };
  for (const auto& kv : options.overrides) pairs.push_back(kv);
  LF_ASSIGN_OR_RETURN(KafkaConf conf, MakeConfig(pairs));
  rd_kafka_conf_set_opaque(conf.get(), source.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &BatchKafkaSource::OnRebalance);
  LF_ASSIGN_OR_RETURN(source->rk_, NewClient(RD_KAFKA_CONSUMER, std::move(conf), "consumer"));
  rd_kafka_poll_set_consumer(source->rk_.get());

  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), options.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(source->rk_.get(), topics.get()); err) {
    return Unavailable("kafka: subscribe to topic {} at {}: {}", options.topic, options.brokers,
                       rd_kafka_err2str(err));
  }
  return source;
}

void BatchKafkaSource::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<BatchKafkaSource*>(opaque)->Rebalance(err, partitions);
}

void BatchKafkaSource::DropBatch() {
  // Messages polled but not yet handed out belong to the old assignment; the new assignment
  // restarts every partition from its committed offset, so they will be read again.
  batch_.clear();
  held_.clear();
}

void BatchKafkaSource::Rebalance(rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions) {
  std::vector<int32_t> ids;
  for (int i = 0; i < partitions->cnt; ++i) ids.push_back(partitions->elems[i].partition);
  DropBatch();
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    auto offsets = listener_->OnAssigned(ids);
    if (!offsets.ok()) {
      pending_error_ = offsets.status();
      rd_kafka_assign(rk_.get(), nullptr);
      return;
    }
    next_.assign(next_.size(), kUnassigned);
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& e = partitions->elems[i];
      auto it = offsets->find(e.partition);
      int64_t start = it == offsets->end() ? pipeline::kNoOffset : it->second;
      e.offset = start == pipeline::kNoOffset ? RD_KAFKA_OFFSET_BEGINNING : start;
      if (static_cast<size_t>(e.partition) >= next_.size())
        next_.resize(e.partition + 1, kUnassigned);
      next_[e.partition] = start;
    }
    spdlog::info("kafka: assigned {} partition(s) of {}: {}", ids.size(), options_.topic,
                 fmt::join(ids, ","));
    if (auto e = rd_kafka_assign(rk_.get(), partitions); e) {
      pending_error_ =
          Unavailable("kafka: assign partitions of {}: {}", options_.topic, rd_kafka_err2str(e));
    }
  } else {
    spdlog::info("kafka: revoking {} partition(s) of {}", ids.size(), options_.topic);
    listener_->OnRevoked(ids);
    next_.assign(next_.size(), kUnassigned);
    rd_kafka_assign(rk_.get(), nullptr);
  }
}

void BatchKafkaSource::HandleOffsetReset(int32_t partition) {
  int64_t low = 0, high = 0;
  auto err = rd_kafka_query_watermark_offsets(rk_.get(), options_.topic.c_str(), partition, &low,
                                              &high, 5000);
  if (err) {
    spdlog::warn(
        "kafka: partition {}: offset out of range and watermarks unavailable ({}); retrying",
        partition, rd_kafka_err2str(err));
    return;
  }
  int64_t wanted = static_cast<size_t>(partition) < next_.size() && next_[partition] != kUnassigned
                       ? next_[partition]
                       : pipeline::kNoOffset;
  if (wanted != pipeline::kNoOffset && wanted < low) {
    spdlog::error(
        "kafka: DATA LOSS on {}[{}]: offsets {}..{} are no longer on the broker; skipping {} "
        "message(s)",
        options_.topic, partition, wanted, low - 1, low - wanted);
    listener_->OnDataLoss(partition, wanted, low);
  } else {
    spdlog::error(
        "kafka: {}[{}]: needed offset {} is beyond the end ({}): topic recreated or truncated? "
        "restarting the partition at its earliest offset {}",
        options_.topic, partition, wanted, high, low);
  }
  (void)Seek(partition, low);
}

absl::StatusOr<std::span<const pipeline::RawMessage>> BatchKafkaSource::Poll(
    size_t max, std::chrono::milliseconds timeout) {
  DropBatch();
  if (!queue_) queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  raw_.resize(max);
  // The first message may wait (and serves rebalances); the rest is taken in bulk from what is
  // already queued: consume_batch_queue with a timeout would wait for a full batch.
  size_t got = 0;
  if (rd_kafka_message_t* first =
          rd_kafka_consumer_poll(rk_.get(), static_cast<int>(timeout.count()))) {
    raw_[0] = first;
    got = 1;
    if (max > 1) {
      ssize_t n = rd_kafka_consume_batch_queue(queue_.get(), 0, raw_.data() + 1, max - 1);
      if (n > 0) got += static_cast<size_t>(n);
    }
  }
  if (!pending_error_.ok()) {
    for (size_t i = 0; i < got; ++i) rd_kafka_message_destroy(raw_[i]);
    absl::Status e = pending_error_;
    pending_error_ = absl::OkStatus();
    return e;
  }
  held_.reserve(got);
  batch_.reserve(got);
  for (size_t i = 0; i < got; ++i) {
    KafkaMessage m(raw_[i]);
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        HandleOffsetReset(m->partition);
      } else if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk_.get(), why, sizeof why);
        for (size_t j = i + 1; j < got; ++j) rd_kafka_message_destroy(raw_[j]);
        return Unavailable("kafka: fatal consumer error: {}", why);
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("kafka: consumer: {}", rd_kafka_message_errstr(m.get()));
      }
      continue;
    }
    if (static_cast<size_t>(m->partition) >= next_.size()) continue;  // not ours
    int64_t& pos = next_[m->partition];
    if (pos == kUnassigned) continue;                             // not ours (any more)
    if (pos != pipeline::kNoOffset && m->offset < pos) continue;  // already applied
    pos = m->offset + 1;
    batch_.push_back(pipeline::RawMessage{
        m->partition, m->offset,
        std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0)});
    held_.push_back(std::move(m));
  }
  return std::span<const pipeline::RawMessage>(batch_);
}

absl::Status BatchKafkaSource::Seek(int32_t partition, int64_t offset) {
  // Forget this partition's messages not yet handed out; other partitions' stay (their positions
  // already moved past them).
  size_t kept = 0;
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (batch_[i].partition == partition) continue;
    batch_[kept] = batch_[i];
    held_[kept] = std::move(held_[i]);
    ++kept;
  }
  batch_.resize(kept);
  held_.resize(kept);
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition)->offset =
      offset == pipeline::kNoOffset ? RD_KAFKA_OFFSET_BEGINNING : offset;
  if (static_cast<size_t>(partition) >= next_.size()) next_.resize(partition + 1, kUnassigned);
  next_[partition] = offset;
  rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_.get(), list.get(), 5000);
  if (error) {
    std::string why = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return Unavailable("kafka: seek {}[{}] to {}: {}", options_.topic, partition, offset, why);
  }
  if (list->elems[0].err) {
    return Unavailable("kafka: seek {}[{}] to {}: {}", options_.topic, partition, offset,
                       rd_kafka_err2str(list->elems[0].err));
  }
  return absl::OkStatus();
}

void BatchKafkaSource::MirrorCommit(const std::map<int32_t, int64_t>& next_offsets) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [p, off] : next_offsets) {
    if (off < 0 || static_cast<size_t>(p) >= next_.size() || next_[p] == kUnassigned) continue;
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p)->offset = off;
  }
  if (list->cnt > 0) rd_kafka_commit(rk_.get(), list.get(), /*async=*/1);
}

std::map<int32_t, int64_t> BatchKafkaSource::Lag() {
  std::map<int32_t, int64_t> lag;
  for (int32_t p = 0; p < static_cast<int32_t>(next_.size()); ++p) {
    const int64_t pos = next_[p];
    if (pos == kUnassigned) continue;
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(rk_.get(), options_.topic.c_str(), p, &low, &high) ||
        high < 0) {
      lag[p] = -1;
      continue;
    }
    lag[p] = std::max<int64_t>(0, high - std::max(pos, low));
  }
  return lag;
}

absl::Status BatchKafkaSource::Close() {
  if (closed_ || !rk_) return absl::OkStatus();
  closed_ = true;
  DropBatch();
  // Leaves the group; the final revocation reaches the listener, which flushes.
  if (auto err = rd_kafka_consumer_close(rk_.get()); err) {
    return Unavailable("kafka: close consumer: {}", rd_kafka_err2str(err));
  }
  return absl::OkStatus();
}

}  // namespace lf::bench::proto
