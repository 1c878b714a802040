#include "kafka/embedded_broker.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must follow rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <charconv>

#include "common/status.h"
#include "kafka/kafka_config.h"
#include "kafka/tcp_forwarder.h"
#include "spdlog/spdlog.h"

namespace lf::kafka {
namespace {

struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* m) const { rd_kafka_mock_cluster_destroy(m); }
};
using MockCluster = std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};

// Asks for cluster metadata through `bootstrap` to prove that a client can reach the mock there.
absl::Status CheckReachable(const std::string& bootstrap) {
  LF_ASSIGN_OR_RETURN(KafkaConf conf, MakeConfig({{"bootstrap.servers", bootstrap}}));
  LF_ASSIGN_OR_RETURN(KafkaClient rk,
                      NewClient(RD_KAFKA_PRODUCER, std::move(conf), "broker self-check client"));
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 1, nullptr, &raw, 10000);
  std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter> md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Unavailable("kafka: broker: self-check metadata via {}: {}", bootstrap,
                       rd_kafka_err2str(err));
  return absl::OkStatus();
}

}  // namespace

absl::Status SplitHostPort(const std::string& text, std::string* host, uint16_t* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size())
    return InvalidArgument("kafka: address {}: want host:port", text);
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || (h.find(':') != std::string::npos && text.front() != '['))
    return InvalidArgument("kafka: address {}: want host:port (IPv6 as [addr]:port)", text);
  unsigned value = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || value > 65535)
    return InvalidArgument("kafka: address {}: bad port", text);
  *host = h;
  *port = static_cast<uint16_t>(value);
  return absl::OkStatus();
}

struct EmbeddedBroker::State {
  // Declaration order is teardown order reversed: the forwarder stops first, then the mock, then
  // the client that owns the mock's bookkeeping.
  KafkaClient owner;
  MockCluster cluster;
  std::unique_ptr<TcpForwarder> forwarder;
  std::string address;
  std::string mock_address;
};

absl::StatusOr<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(
    const BrokerOptions& options) {
  std::string host;
  uint16_t port = 0;
  LF_RETURN_IF_ERROR(SplitHostPort(options.listen, &host, &port));
  for (const TopicSpec& t : options.topics) {
    if (t.name.empty() || t.name.size() > 249 ||
        t.name.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            std::string::npos)
      return InvalidArgument("kafka: broker: topic '{}': want 1-249 of [a-zA-Z0-9._-]", t.name);
    if (t.partitions < 1 || t.partitions > 10000)
      return InvalidArgument("kafka: broker: topic {}: partitions {} not in 1..10000", t.name,
                             t.partitions);
  }

  auto state = std::make_unique<State>();
  // The mock needs a client handle for its bookkeeping; this producer is never used otherwise.
  // Notices are hidden: it has no bootstrap.servers on purpose and would say so.
  LF_ASSIGN_OR_RETURN(KafkaConf conf, MakeConfig({{"log_level", "4"}}));
  LF_ASSIGN_OR_RETURN(state->owner,
                      NewClient(RD_KAFKA_PRODUCER, std::move(conf), "broker mock owner"));
  state->cluster.reset(rd_kafka_mock_cluster_new(state->owner.get(), 1));
  if (!state->cluster) return Internal("kafka: broker: create mock cluster failed");
  state->mock_address = rd_kafka_mock_cluster_bootstraps(state->cluster.get());
  for (const TopicSpec& t : options.topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(state->cluster.get(), t.name.c_str(), t.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return Internal("kafka: broker: create topic {}: {}", t.name, rd_kafka_err2str(err));
  }

  std::string mock_host;
  uint16_t mock_port = 0;
  // A one-broker mock lists exactly one "host:port".
  LF_RETURN_IF_ERROR(SplitHostPort(state->mock_address, &mock_host, &mock_port));
  LF_ASSIGN_OR_RETURN(state->forwarder, TcpForwarder::Start(host, port, mock_host, mock_port));
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  state->address = shown_host + ":" + std::to_string(state->forwarder->port());
  // A wildcard listener is reached through loopback for the self-check.
  std::string check = (host == "0.0.0.0" || host == "::")
                          ? "127.0.0.1:" + std::to_string(state->forwarder->port())
                          : state->address;
  LF_RETURN_IF_ERROR(CheckReachable(check));
  spdlog::info("kafka: broker: mock at {}, bootstrap at {}", state->mock_address, state->address);
  return std::make_unique<EmbeddedBroker>(std::move(state));
}

EmbeddedBroker::EmbeddedBroker(std::unique_ptr<State> state) : state_(std::move(state)) {}

EmbeddedBroker::~EmbeddedBroker() = default;

const std::string& EmbeddedBroker::address() const { return state_->address; }
const std::string& EmbeddedBroker::mock_address() const { return state_->mock_address; }

}  // namespace lf::kafka
