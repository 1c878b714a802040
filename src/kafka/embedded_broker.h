#pragma once

// An embedded Kafka-protocol broker for local use: librdkafka's mock cluster (one broker, in
// memory) behind a TCP forwarder on a chosen bootstrap address.
//
// Limits, inherited from librdkafka 2.0.2's mock: everything is in memory and lost on exit; each
// partition retains about the last 5 MB of message sets (older ones are dropped and the low
// watermark moves up); no authentication, transactions only as far as the mock goes; metadata
// advertises the mock's own address (127.0.0.1 and an ephemeral port), so clients must run on the
// same machine even when the bootstrap address listens on another interface.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lf::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 8;
};

struct BrokerOptions {
  // host:port of the bootstrap address; port 0 picks a free port. Hosts are resolved with
  // getaddrinfo ("127.0.0.1", "0.0.0.0", "localhost", "[::1]").
  std::string listen = "127.0.0.1:9092";
  // Created at start. Topics that clients produce to without creating are auto-created by the mock.
  std::vector<TopicSpec> topics = {{"devices", 8}};
};

// Thread-safe to query; the mock and the forwarder run on their own threads until destruction.
class EmbeddedBroker {
 public:
  // Starts the mock cluster, creates the topics, starts the forwarder and checks that a client can
  // fetch metadata through it. Errors: "kafka: broker: listen 127.0.0.1:9092: Address already in
  // use", bad --listen text, bad topic specs.
  static absl::StatusOr<std::unique_ptr<EmbeddedBroker>> Start(const BrokerOptions& options);

  // Stops the forwarder (closing client connections), then the mock; all data is dropped.
  ~EmbeddedBroker();

  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // The bootstrap address clients use: the --listen host with the bound port ("127.0.0.1:40123").
  const std::string& address() const;
  // The mock's own address as advertised in metadata ("127.0.0.1:36541").
  const std::string& mock_address() const;

  struct State;  // private to embedded_broker.cc; use Start()
  explicit EmbeddedBroker(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

// Parses "host:port" or "[v6]:port" into its parts; the port must be 0..65535.
absl::Status SplitHostPort(const std::string& text, std::string* host, uint16_t* port);

}  // namespace lf::kafka
