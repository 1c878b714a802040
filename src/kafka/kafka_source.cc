#include "kafka/kafka_source.h"

#include "common/status.h"
#include "pipeline/commit_sink.h"
#include "spdlog/spdlog.h"

namespace lf::kafka {
namespace {

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

}  // namespace

KafkaSource::KafkaSource(Token, SourceOptions options, pipeline::PartitionListener* listener)
    : options_(std::move(options)), listener_(listener) {}

KafkaSource::~KafkaSource() {
  if (rk_ && !closed_) (void)Close();
}

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Open(
    const SourceOptions& options, pipeline::PartitionListener* listener) {
  auto source = std::make_unique<KafkaSource>(Token{}, options, listener);
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
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaSource::OnRebalance);
  LF_ASSIGN_OR_RETURN(source->rk_, NewClient(RD_KAFKA_CONSUMER, std::move(conf), "consumer"));
  rd_kafka_poll_set_consumer(source->rk_.get());
  source->queue_.reset(rd_kafka_queue_get_consumer(source->rk_.get()));

  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), options.topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto err = rd_kafka_subscribe(source->rk_.get(), topics.get()); err) {
    return Unavailable("kafka: subscribe to topic {} at {}: {}", options.topic, options.brokers,
                       rd_kafka_err2str(err));
  }
  return source;
}

void KafkaSource::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<KafkaSource*>(opaque)->Rebalance(err, partitions);
}

void KafkaSource::DropBatch() {
  // Messages polled but not yet handed out belong to the old assignment; the new assignment
  // restarts every partition from its committed offset, so they will be read again.
  batch_.clear();
  held_.clear();
}

void KafkaSource::Rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
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
    position_.clear();
    asked_ends_.clear();
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& e = partitions->elems[i];
      auto it = offsets->find(e.partition);
      int64_t start = it == offsets->end() ? pipeline::kNoOffset : it->second;
      e.offset = start == pipeline::kNoOffset ? RD_KAFKA_OFFSET_BEGINNING : start;
      position_[e.partition] = start;
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
    position_.clear();
    rd_kafka_assign(rk_.get(), nullptr);
  }
}

void KafkaSource::HandleOffsetReset(int32_t partition) {
  int64_t low = 0, high = 0;
  auto err = rd_kafka_query_watermark_offsets(rk_.get(), options_.topic.c_str(), partition, &low,
                                              &high, 5000);
  if (err) {
    spdlog::warn(
        "kafka: partition {}: offset out of range and watermarks unavailable ({}); retrying",
        partition, rd_kafka_err2str(err));
    return;
  }
  int64_t wanted = position_.count(partition) ? position_[partition] : pipeline::kNoOffset;
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
    listener_->OnOffsetReset(partition, low);
  }
  if (auto s = RestartPartition(partition, low); !s.ok()) {
    // Kept for the next Poll: the job resynchronises from its committed offsets.
    pending_error_ = s;
  }
}

absl::Status KafkaSource::RestartPartition(int32_t partition, int64_t offset) {
  ForgetBatchOf(partition);
  position_[partition] = offset;
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(position_.size())));
  for (const auto& [p, pos] : position_) {
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p)->offset =
        pos == pipeline::kNoOffset ? RD_KAFKA_OFFSET_BEGINNING : pos;
  }
  if (auto err = rd_kafka_assign(rk_.get(), list.get()); err) {
    return Unavailable("kafka: restart {}[{}] at offset {}: {}", options_.topic, partition, offset,
                       rd_kafka_err2str(err));
  }
  spdlog::info("kafka: {}[{}] restarted at offset {}", options_.topic, partition, offset);
  return absl::OkStatus();
}

absl::StatusOr<std::span<const pipeline::RawMessage>> KafkaSource::Poll(
    size_t max, std::chrono::milliseconds timeout) {
  DropBatch();
  if (max == 0) return std::span<const pipeline::RawMessage>(batch_);
  // Wait for the first message with consumer_poll (it also serves rebalances and keeps idle
  // latency low), then take whatever else is already queued in one call: per-message polling
  // costs about 0.2 us more per event (bench/README.md).
  raw_.resize(max);
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
  incoming_.clear();
  for (size_t i = 0; i < got; ++i) incoming_.emplace_back(raw_[i]);
  if (!pending_error_.ok()) {
    incoming_.clear();
    absl::Status e = pending_error_;
    pending_error_ = absl::OkStatus();
    return e;
  }
  for (KafkaMessage& m : incoming_) {
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        HandleOffsetReset(m->partition);
      } else if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk_.get(), why, sizeof why);
        return Unavailable("kafka: fatal consumer error: {}", why);
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("kafka: consumer: {}", rd_kafka_message_errstr(m.get()));
      }
      continue;
    }
    auto pos = position_.find(m->partition);
    if (pos == position_.end()) continue;  // not ours (any more)
    if (pos->second != pipeline::kNoOffset && m->offset < pos->second) continue;  // already applied
    pos->second = m->offset + 1;
    batch_.push_back(pipeline::RawMessage{
        m->partition, m->offset,
        std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0),
        std::string_view(static_cast<const char*>(m->key), m->key ? m->key_len : 0)});
    held_.push_back(std::move(m));
  }
  incoming_.clear();
  return std::span<const pipeline::RawMessage>(batch_);
}

void KafkaSource::ForgetBatchOf(int32_t partition) {
  // This partition's messages not yet handed out go; other partitions' stay (their positions
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
}

absl::Status KafkaSource::Seek(int32_t partition, int64_t offset) {
  ForgetBatchOf(partition);
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), partition)->offset =
      offset == pipeline::kNoOffset ? RD_KAFKA_OFFSET_BEGINNING : offset;
  position_[partition] = offset;
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

void KafkaSource::MirrorCommit(const std::map<int32_t, int64_t>& next_offsets) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [p, off] : next_offsets) {
    if (off < 0 || !position_.count(p)) continue;
    rd_kafka_topic_partition_list_add(list.get(), options_.topic.c_str(), p)->offset = off;
  }
  if (list->cnt > 0) rd_kafka_commit(rk_.get(), list.get(), /*async=*/1);
}

std::map<int32_t, int64_t> KafkaSource::Lag() {
  std::map<int32_t, int64_t> lag;
  for (const auto& [p, pos] : position_) {
    int64_t low = 0, high = 0;
    bool known =
        !rd_kafka_get_watermark_offsets(rk_.get(), options_.topic.c_str(), p, &low, &high) &&
        high >= 0;
    // Until the first fetch of a partition the cache is empty: ask its leader, once per
    // assignment, so an empty partition is known as such from the start (the watermark).
    if (!known && asked_ends_.insert(p).second) {
      known = !rd_kafka_query_watermark_offsets(rk_.get(), options_.topic.c_str(), p, &low, &high,
                                                500) &&
              high >= 0;
    }
    if (!known) {
      lag[p] = -1;
      continue;
    }
    lag[p] = std::max<int64_t>(0, high - std::max(pos, low));
  }
  return lag;
}

absl::Status KafkaSource::CheckReachable() {
  auto asked = std::chrono::steady_clock::now();
  rd_kafka_resp_err_t err;
  std::string what;
  if (position_.empty()) {
    // No assignment (none for us in the group, or the session was lost while the broker was
    // away): any broker answering a metadata request will do.
    const rd_kafka_metadata_t* md = nullptr;
    err = rd_kafka_metadata(rk_.get(), /*all_topics=*/0, nullptr, &md, 2000);
    if (md) rd_kafka_metadata_destroy(md);
    what = "the brokers";
  } else {
    int64_t low = 0, high = 0;
    int32_t partition = position_.begin()->first;
    err = rd_kafka_query_watermark_offsets(rk_.get(), options_.topic.c_str(), partition, &low,
                                           &high, 2000);
    what = fmt::format("the leader of {}[{}]", options_.topic, partition);
  }
  if (err) return Unavailable("kafka: {} did not answer: {}", what, rd_kafka_err2str(err));
  // librdkafka may hold a request (past its timeout) until the broker is back: an answer that
  // slow means the broker was away all the same.
  auto took = std::chrono::steady_clock::now() - asked;
  if (took > std::chrono::seconds(1)) {
    return Unavailable("kafka: {} took {} ms to answer", what,
                       std::chrono::duration_cast<std::chrono::milliseconds>(took).count());
  }
  return absl::OkStatus();
}

absl::Status KafkaSource::Close() {
  if (closed_ || !rk_) return absl::OkStatus();
  closed_ = true;
  DropBatch();
  // Leaves the group; the final revocation reaches the listener, which flushes.
  if (auto err = rd_kafka_consumer_close(rk_.get()); err) {
    return Unavailable("kafka: close consumer: {}", rd_kafka_err2str(err));
  }
  return absl::OkStatus();
}

}  // namespace lf::kafka
