#pragma once

// `lambdaflow registry`: the Service over HTTP (cpp-httplib), bound to 127.0.0.1 by default.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "registry/service.h"

namespace lf::registry {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8081;  // 0: any free port (see Server::port())
  size_t max_body_bytes = 1 << 20;
  // cpp-httplib holds a worker per open connection (keep-alive included), so the pool is sized
  // for clients that open several; an idle keep-alive connection gives its worker back after
  // keep_alive_timeout.
  size_t workers = 32;
  std::chrono::seconds keep_alive_timeout{2};
};

class Server {
 public:
  // Binds the listening socket (errors name the address); serving starts with Run(). `service`
  // must outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Open(const ServerOptions& options,
                                                      const Service* service);
  ~Server();

  // The bound port (the real one when options.port was 0).
  int port() const;

  // Serves until ShutdownRequested() (SIGINT/SIGTERM) or Stop(); then stops accepting and waits
  // for the requests in flight.
  absl::Status Run();
  // Thread-safe.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lf::registry
