#include "kafka/producer.h"

#include "common/status.h"

namespace lf::kafka {
namespace {

// Tuned on the embedded broker (see src/kafka/README.md): bigger batches and lz4 cut per-message
// cost; idempotence keeps retries from duplicating or reordering; murmur2 puts a key on the same
// partition as the Java client would.
const ConfigPairs kThroughputDefaults = {
    {"linger.ms", "10"},
    {"batch.num.messages", "10000"},
    {"batch.size", "1000000"},
    {"compression.codec", "lz4"},
    {"queue.buffering.max.messages", "1000000"},
    {"queue.buffering.max.kbytes", "1048576"},
    {"enable.idempotence", "true"},
    {"partitioner", "murmur2_random"},
};

// How many Produce calls may pass between two serves of delivery reports.
constexpr int64_t kPollEvery = 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<Producer>> Producer::Open(const ProducerOptions& options) {
  ConfigPairs pairs = kThroughputDefaults;
  pairs.emplace_back("bootstrap.servers", options.brokers);
  pairs.insert(pairs.end(), options.overrides.begin(), options.overrides.end());
  LF_ASSIGN_OR_RETURN(KafkaConf conf, MakeConfig(pairs));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::OnDelivery);
  LF_ASSIGN_OR_RETURN(KafkaClient rk, NewClient(RD_KAFKA_PRODUCER, std::move(conf), "producer"));
  return std::make_unique<Producer>(Token{}, std::move(rk));
}

Producer::Producer(Token, KafkaClient rk) : rk_(std::move(rk)) {}

Producer::~Producer() = default;

void Producer::OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque) {
  // Each message carries its producer as msg_opaque (set in Produce).
  auto* self = static_cast<Producer*>(msg->_private);
  if (self == nullptr) return;
  if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->delivered_;
    return;
  }
  ++self->failed_;
  if (self->first_error_.ok()) {
    self->first_error_ =
        Unavailable("kafka: deliver to {} [{}]: {}", msg->rkt ? rd_kafka_topic_name(msg->rkt) : "?",
                    msg->partition, rd_kafka_err2str(msg->err));
  }
}

absl::StatusOr<rd_kafka_topic_t*> Producer::Topic(const std::string& name) {
  auto it = topics_.find(name);
  if (it != topics_.end()) return it->second.get();
  KafkaTopic topic(rd_kafka_topic_new(rk_.get(), name.c_str(), nullptr));
  if (!topic)
    return InvalidArgument("kafka: produce to {}: {}", name,
                           rd_kafka_err2str(rd_kafka_last_error()));
  rd_kafka_topic_t* raw = topic.get();
  topics_.emplace(name, std::move(topic));
  return raw;
}

absl::Status Producer::Produce(const std::string& topic, std::string_view key,
                               std::string_view value) {
  if (!first_error_.ok()) return first_error_;
  LF_ASSIGN_OR_RETURN(rd_kafka_topic_t * rkt, Topic(topic));
  for (;;) {
    int rc = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                              const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                              this);
    if (rc == 0) break;
    rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      return Internal("kafka: produce to {}: {}", topic, rd_kafka_err2str(err));
    // Local queue full: serve delivery reports (which frees room) and try again.
    rd_kafka_poll(rk_.get(), 50);
    since_poll_ = 0;
    if (!first_error_.ok()) return first_error_;
  }
  if (++since_poll_ >= kPollEvery) Poll();
  return first_error_;
}

void Producer::Poll() {
  rd_kafka_poll(rk_.get(), 0);
  since_poll_ = 0;
}

absl::Status Producer::Flush(std::chrono::milliseconds timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
  LF_RETURN_IF_ERROR(first_error_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Unavailable("kafka: flush: {} message(s) still undelivered after {} ms: {}",
                       rd_kafka_outq_len(rk_.get()), timeout.count(), rd_kafka_err2str(err));
  return absl::OkStatus();
}

}  // namespace lf::kafka
