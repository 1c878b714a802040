#pragma once

// `lambdaflow serve`: the dashboard (embedded web/dist), the JSON API, Server-Sent Events at
// /api/events, Prometheus /metrics and /healthz, over cpp-httplib.

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "postgres/conninfo.h"

namespace lf::serve {

struct ServerOptions {
  postgres::ConnTarget target;
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Server::port())
  // When not empty, every request except /healthz needs `Authorization: Bearer <token>` or the
  // cookie lf_token=<token>; GET /?token=<token> sets that cookie and redirects to /.
  std::string auth_token;
  std::chrono::seconds lateness{60};
  std::chrono::seconds heartbeat{15};
  std::chrono::milliseconds poll_interval{2000};
  size_t db_connections = 6;
  size_t max_event_streams = 32;
};

class Server {
 public:
  // Binds the listening socket (errors name the address); serving starts with Run().
  static absl::StatusOr<std::unique_ptr<Server>> Open(const ServerOptions& options);
  ~Server();

  // The bound port (the real one when options.port was 0).
  int port() const;

  // Serves until ShutdownRequested() (SIGINT/SIGTERM) or Stop(); then closes event streams,
  // stops accepting and waits for requests in flight.
  absl::Status Run();
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lf::serve
