#include "serve/server.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/shutdown.h"
#include "common/status.h"
#include "fmt/format.h"
#include "httplib.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/db_pool.h"
#include "serve/event_hub.h"
#include "serve/metrics.h"
#include "spdlog/spdlog.h"

namespace lf::serve {

namespace {

constexpr char kCookie[] = "lf_token";

// Equal in time independent of where the strings differ (the token is a secret).
bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || b.empty()) return false;  // the length is not the secret
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string CookieValue(const httplib::Request& req, std::string_view name) {
  std::string cookies = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    std::string_view part(cookies.data() + pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=')
      return std::string(part.substr(name.size() + 1));
    pos = end + 1;
  }
  return "";
}

void SetCommonHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

void JsonError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(fmt::format("{{\"error\":{}}}\n", JsonString(message)), "application/json");
}

// InvalidArgument is the caller's mistake (400); the rest is ours or the database's.
void Reply(httplib::Response& res, const absl::StatusOr<std::string>& body) {
  if (body.ok()) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(*body, "application/json");
    return;
  }
  const absl::Status& st = body.status();
  if (absl::IsInvalidArgument(st)) return JsonError(res, 400, Message(st));
  if (absl::IsNotFound(st)) return JsonError(res, 404, Message(st));
  spdlog::warn("serve: {}", Message(st));
  std::string message = Message(st);
  // A database without the tables is a setup step away from working, not a server bug.
  if (message.find("does not exist") != std::string::npos) {
    return JsonError(res, 503, message + " (run `lambdaflow provision --pg ...` first)");
  }
  JsonError(res, absl::IsUnavailable(st) ? 503 : 500, message);
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  DbPool pool;
  EventRate rate;
  EventHub hub;
  Watcher watcher;
  Api api;
  httplib::Server http;
  int port = 0;
  std::atomic<int> streams{0};
  std::atomic<bool> stop{false};

  explicit Impl(const ServerOptions& o)
      : options(o),
        pool(o.target, o.db_connections),
        watcher(WatcherOptions{o.target, o.poll_interval}, &hub, &rate),
        api(ApiOptions{o.lateness}, &pool, &rate) {}

  bool Authorized(const httplib::Request& req) const {
    if (options.auth_token.empty()) return true;
    std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0 && SecretEquals(auth.substr(7), options.auth_token))
      return true;
    return SecretEquals(CookieValue(req, kCookie), options.auth_token);
  }

  void Routes();
  void ServeEvents(const httplib::Request& req, httplib::Response& res);
};

void Server::Impl::Routes() {
  // Event streams hold a worker each; the pool is sized for them plus ordinary requests.
  const size_t workers = options.max_event_streams + 8;
  http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http.set_keep_alive_max_count(100);
  http.set_read_timeout(std::chrono::seconds(10));
  http.set_payload_max_length(64 * 1024);

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    SetCommonHeaders(res);
    if (req.path == "/healthz" || options.auth_token.empty())
      return httplib::Server::HandlerResponse::Unhandled;
    // `/?token=T`: a browser gets the token once (e.g. from the URL `serve` printed) and keeps
    // it as an HttpOnly cookie; the token is removed from the address bar by the redirect.
    if (req.has_param("token") && SecretEquals(req.get_param_value("token"), options.auth_token) &&
        req.path.rfind("/api/", 0) != 0) {
      res.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", kCookie,
                                               options.auth_token));
      res.set_redirect("/", 303);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (Authorized(req)) return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer realm=\"lambdaflow\"");
    JsonError(res, 401,
              "serve: unauthorized: send 'Authorization: Bearer <token>' or open /?token=<token>");
    return httplib::Server::HandlerResponse::Handled;
  });

  http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    if (auto st = api.Ping(); !st.ok()) {
      res.status = 503;
      res.set_content(fmt::format("unavailable: {}\n", Message(st)), "text/plain; charset=utf-8");
      return;
    }
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    auto text = api.Metrics();
    if (!text.ok()) {
      res.status = 503;
      std::string message = Message(text.status());
      std::replace(message.begin(), message.end(), '\n', ' ');  // one comment line
      res.set_content(fmt::format("# serve: {}\n", message), "text/plain; charset=utf-8");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/api/windows", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Windows(req.params));
  });
  http.Get("/api/hourly", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Hourly(req.params));
  });
  http.Get("/api/top", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Top(req.params));
  });
  http.Get("/api/quota", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Quota(req.params));
  });
  http.Get("/api/reconciliation", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Reconciliation(req.params));
  });
  http.Get("/api/health", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Health(req.params));
  });
  http.Get("/api/pipelines", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Pipelines(req.params));
  });
  http.Get("/api/metric", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Metric(req.params));
  });
  http.Get("/api/ingest", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Ingest(req.params));
  });
  http.Get("/api/events",
           [this](const httplib::Request& req, httplib::Response& res) { ServeEvents(req, res); });
  http.Get("/api/.*", [](const httplib::Request& req, httplib::Response& res) {
    JsonError(
        res, 404,
        "serve: no such endpoint (windows, hourly, top, quota, reconciliation, health, pipelines, "
        "metric, ingest, events)");
  });
  // Everything else is an embedded file or 404: the request path is only ever compared with the
  // names of the embedded table, so nothing outside it can be reached.
  http.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    const EmbeddedFile* f = FindAsset(req.path);
    if (!f) {
      res.status = 404;
      res.set_content("not found\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    if (f->path == "/index.html") {
      res.set_header(
          "Content-Security-Policy",
          "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    }
    res.set_content(f->data.data(), f->data.size(), std::string(f->content_type));
  });
}

void Server::Impl::ServeEvents(const httplib::Request& req, httplib::Response& res) {
  if (!req.params.empty()) return JsonError(res, 400, "serve: /api/events takes no parameters");
  if (streams.fetch_add(1) >= static_cast<int>(options.max_event_streams)) {
    streams.fetch_sub(1);
    return JsonError(res, 503, "serve: too many event streams");
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  auto last = std::make_shared<uint64_t>(hub.LastSeq());
  auto started = std::make_shared<bool>(false);
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, last, started](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
        if (!*started) {
          *started = true;
          return write(fmt::format("retry: 3000\nevent: hello\ndata: {{\"seq\":{}}}\n\n", *last));
        }
        // Wait in short slices so shutdown and closed connections end the stream promptly.
        auto deadline = std::chrono::steady_clock::now() + options.heartbeat;
        while (!stop && !hub.stopped() && sink.is_writable()) {
          if (auto e = hub.WaitNext(*last, std::chrono::milliseconds(500))) {
            *last = e->seq;
            return write(fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e->seq, e->name, e->data));
          }
          if (std::chrono::steady_clock::now() >= deadline) return write(": heartbeat\n\n");
        }
        sink.done();
        return false;
      },
      [this](bool) { streams.fetch_sub(1); });
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Open(const ServerOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  impl->Routes();
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second server bind the port a
  // running one holds (the kernel then splits connections between them). SO_REUSEADDR only: a
  // port in use is an error, a port in TIME_WAIT is not.
  impl->http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (options.port == 0) {
    impl->port = impl->http.bind_to_any_port(options.host);
    if (impl->port <= 0) return Unavailable("serve: cannot listen on {}:0", options.host);
  } else {
    if (!impl->http.bind_to_port(options.host, options.port))
      return Unavailable("serve: cannot listen on {}:{} (address in use or not local?)",
                         options.host, options.port);
    impl->port = options.port;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

absl::Status Server::Run() {
  impl_->watcher.Start();
  std::thread listener([this] { impl_->http.listen_after_bind(); });
  while (!impl_->stop && !ShutdownRequested()) SleepUnlessShutdown(std::chrono::milliseconds(200));
  spdlog::info("serve: shutting down");
  impl_->stop = true;
  impl_->hub.Stop();
  impl_->http.stop();
  listener.join();
  impl_->watcher.Stop();
  return absl::OkStatus();
}

void Server::Stop() {
  if (impl_) impl_->stop = true;
}

}  // namespace lf::serve
