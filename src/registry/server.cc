#include "registry/server.h"

#include <atomic>
#include <thread>

#include "common/shutdown.h"
#include "common/status.h"
#include "httplib.h"
#include "spdlog/spdlog.h"

namespace lf::registry {
namespace {

void Send(httplib::Response& res, const HttpReply& reply) {
  res.status = reply.status;
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(reply.body, std::string(kRegistryContentType));
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  const Service* service;
  httplib::Server http;
  int port = 0;
  std::atomic<bool> stop{false};

  void Routes();
};

void Server::Impl::Routes() {
  const size_t workers = options.workers;
  http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http.set_keep_alive_max_count(100);
  http.set_keep_alive_timeout(options.keep_alive_timeout.count());
  http.set_read_timeout(std::chrono::seconds(10));
  http.set_payload_max_length(options.max_body_bytes);

  // Every path goes to the service, which does its own routing on the raw (still
  // percent-encoded) target, so a subject may hold any character, '/' included.
  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    Send(res, service->Handle({.method = req.method,
                               .target = req.target,
                               .content_type = req.get_header_value("Content-Type"),
                               .body = req.body}));
  };
  http.Get(".*", handle);
  http.Post(".*", handle);
  http.Put(".*", handle);
  http.Delete(".*", handle);
  http.Patch(".*", handle);
  // What cpp-httplib answers itself (a body over the limit, a malformed request, an unknown
  // method) still gets the API's JSON error shape.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    int code = res.status;
    Send(res, {code, fmt::format("{{\"error_code\":{},\"message\":\"HTTP {}\"}}", code, code)});
  });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Open(const ServerOptions& options,
                                                     const Service* service) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->service = service;
  impl->Routes();
  // SO_REUSEADDR only (cpp-httplib's default adds SO_REUSEPORT, which would let a second
  // registry bind the same port): a port in use is an error, a port in TIME_WAIT is not.
  impl->http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (options.port == 0) {
    impl->port = impl->http.bind_to_any_port(options.host);
    if (impl->port <= 0) return Unavailable("registry: cannot listen on {}:0", options.host);
  } else {
    if (!impl->http.bind_to_port(options.host, options.port))
      return Unavailable("registry: cannot listen on {}:{} (address in use or not local?)",
                         options.host, options.port);
    impl->port = options.port;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

absl::Status Server::Run() {
  std::thread listener([this] { impl_->http.listen_after_bind(); });
  while (!impl_->stop && !ShutdownRequested()) SleepUnlessShutdown(std::chrono::milliseconds(200));
  spdlog::info("registry: shutting down");
  impl_->stop = true;
  impl_->http.stop();
  listener.join();
  return absl::OkStatus();
}

void Server::Stop() {
  if (impl_) impl_->stop = true;
}

}  // namespace lf::registry
