#pragma once

// A small TCP relay: accepts connections on a listen address and pipes bytes both ways to a fixed
// target. The embedded broker uses it to put librdkafka's mock (which binds an ephemeral port)
// behind the bootstrap address clients are given.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace lf::kafka {

class TcpForwarder {
 public:
  // Binds `listen_host:listen_port` (port 0 = any free port) and relays each accepted connection
  // to `target_host:target_port`, on one background thread. A connection whose target cannot be
  // reached is closed at once. Errors name the address: "kafka: forwarder: listen
  // 127.0.0.1:9092: Address already in use".
  static absl::StatusOr<std::unique_ptr<TcpForwarder>> Start(const std::string& listen_host,
                                                             uint16_t listen_port,
                                                             const std::string& target_host,
                                                             uint16_t target_port);

  // Stops the thread and closes the listener and every relayed connection.
  ~TcpForwarder();

  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  // The port actually bound (useful when 0 was asked for).
  uint16_t port() const;

  struct State;  // private to tcp_forwarder.cc; use Start()
  explicit TcpForwarder(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

}  // namespace lf::kafka
