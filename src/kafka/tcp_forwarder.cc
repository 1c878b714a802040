#include "kafka/tcp_forwarder.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <thread>
#include <vector>

#include "common/status.h"
#include "spdlog/spdlog.h"

namespace lf::kafka {
namespace {

// Owns a file descriptor; -1 means none.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};
using AddrInfo = std::unique_ptr<addrinfo, AddrInfoDeleter>;

absl::StatusOr<AddrInfo> Resolve(const std::string& host, uint16_t port, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return InvalidArgument("kafka: forwarder: resolve {}: {}", host, gai_strerror(rc));
  return AddrInfo(res);
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Bytes read from one socket, waiting to be written to the other.
struct Pipe {
  std::vector<char> buf;
  size_t begin = 0;
  size_t end = 0;
  bool eof = false;  // the reading side closed; once drained, shut down the writing side
  size_t pending() const { return end - begin; }
};

struct Connection {
  Fd client;
  Fd upstream;
  Pipe to_upstream;
  Pipe to_client;
  bool dead = false;
};

constexpr size_t kBufferSize = 256 * 1024;

// Reads from `from` into `pipe` while there is room. Returns false when the connection must close.
bool Fill(int from, Pipe& pipe) {
  if (pipe.begin == pipe.end) pipe.begin = pipe.end = 0;
  if (pipe.end == pipe.buf.size()) return true;
  ssize_t n = ::read(from, pipe.buf.data() + pipe.end, pipe.buf.size() - pipe.end);
  if (n > 0) {
    pipe.end += static_cast<size_t>(n);
    return true;
  }
  if (n == 0) {
    pipe.eof = true;
    return true;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

bool Drain(int to, Pipe& pipe) {
  if (pipe.pending() == 0) return true;
  ssize_t n = ::send(to, pipe.buf.data() + pipe.begin, pipe.pending(), MSG_NOSIGNAL);
  if (n >= 0) {
    pipe.begin += static_cast<size_t>(n);
    // Emptied: start over at the front, so a full buffer never blocks reading forever.
    if (pipe.begin == pipe.end) pipe.begin = pipe.end = 0;
    return true;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

}  // namespace

struct TcpForwarder::State {
  Fd listener;
  Fd wake_read;
  Fd wake_write;
  uint16_t port = 0;
  std::string target_host;
  uint16_t target_port = 0;
  std::list<Connection> connections;
  std::thread thread;

  void Accept();
  void Run();
};

void TcpForwarder::State::Accept() {
  Fd client(::accept(listener.get(), nullptr, nullptr));
  if (client.get() < 0) return;
  // The target is the mock on loopback: a blocking connect completes or fails at once.
  auto addrs = Resolve(target_host, target_port, false);
  if (!addrs.ok()) return;
  Fd upstream;
  for (addrinfo* a = addrs->get(); a != nullptr; a = a->ai_next) {
    Fd s(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (s.get() >= 0 && ::connect(s.get(), a->ai_addr, a->ai_addrlen) == 0) {
      upstream = std::move(s);
      break;
    }
  }
  if (upstream.get() < 0) {
    spdlog::warn("kafka: forwarder: connect {}:{}: {}", target_host, target_port,
                 std::strerror(errno));
    return;
  }
  for (int fd : {client.get(), upstream.get()}) {
    SetNonBlocking(fd);
    SetNoDelay(fd);
  }
  Connection& c = connections.emplace_back();
  c.client = std::move(client);
  c.upstream = std::move(upstream);
  c.to_upstream.buf.resize(kBufferSize);
  c.to_client.buf.resize(kBufferSize);
}

void TcpForwarder::State::Run() {
  std::vector<pollfd> fds;
  std::vector<Connection*> owners;  // owners[i] is the connection of fds[2 + 2k]
  for (;;) {
    fds.clear();
    owners.clear();
    fds.push_back({wake_read.get(), POLLIN, 0});
    fds.push_back({listener.get(), POLLIN, 0});
    for (Connection& c : connections) {
      decltype(pollfd::events) client_events = 0, upstream_events = 0;
      if (!c.to_upstream.eof && c.to_upstream.end < c.to_upstream.buf.size())
        client_events |= POLLIN;
      if (c.to_client.pending() > 0) client_events |= POLLOUT;
      if (!c.to_client.eof && c.to_client.end < c.to_client.buf.size()) upstream_events |= POLLIN;
      if (c.to_upstream.pending() > 0) upstream_events |= POLLOUT;
      fds.push_back({c.client.get(), client_events, 0});
      fds.push_back({c.upstream.get(), upstream_events, 0});
      owners.push_back(&c);
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("kafka: forwarder: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;  // woken by the destructor
    for (size_t k = 0; k < owners.size(); ++k) {
      Connection& c = *owners[k];
      const pollfd& cl = fds[2 + 2 * k];
      const pollfd& up = fds[3 + 2 * k];
      bool ok = true;
      if (cl.revents & (POLLIN | POLLHUP | POLLERR)) ok = ok && Fill(c.client.get(), c.to_upstream);
      if (up.revents & (POLLIN | POLLHUP | POLLERR)) ok = ok && Fill(c.upstream.get(), c.to_client);
      ok = ok && Drain(c.upstream.get(), c.to_upstream) && Drain(c.client.get(), c.to_client);
      // Kafka connections are not half-closed in practice: either side closing ends the relay once
      // what it sent has been passed on.
      bool finished = (c.to_upstream.eof && c.to_upstream.pending() == 0) ||
                      (c.to_client.eof && c.to_client.pending() == 0);
      if (!ok || finished) c.dead = true;
    }
    connections.remove_if([](const Connection& c) { return c.dead; });
    if (fds[1].revents & POLLIN) Accept();
  }
}

absl::StatusOr<std::unique_ptr<TcpForwarder>> TcpForwarder::Start(const std::string& listen_host,
                                                                  uint16_t listen_port,
                                                                  const std::string& target_host,
                                                                  uint16_t target_port) {
  auto state = std::make_unique<State>();
  state->target_host = target_host;
  state->target_port = target_port;
  LF_ASSIGN_OR_RETURN(AddrInfo addrs, Resolve(listen_host, listen_port, true));
  std::string last_error = "no address";
  for (addrinfo* a = addrs.get(); a != nullptr; a = a->ai_next) {
    Fd s(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (s.get() < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s.get(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(s.get(), 128) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    getsockname(s.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    state->port =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    state->listener = std::move(s);
    break;
  }
  if (state->listener.get() < 0)
    return Unavailable("kafka: forwarder: listen {}:{}: {}", listen_host, listen_port, last_error);
  SetNonBlocking(state->listener.get());
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC) != 0)
    return Internal("kafka: forwarder: pipe: {}", std::strerror(errno));
  state->wake_read = Fd(wake[0]);
  state->wake_write = Fd(wake[1]);
  State* raw = state.get();
  state->thread = std::thread([raw] { raw->Run(); });
  return std::make_unique<TcpForwarder>(std::move(state));
}

TcpForwarder::TcpForwarder(std::unique_ptr<State> state) : state_(std::move(state)) {}

TcpForwarder::~TcpForwarder() {
  char byte = 0;
  (void)!::write(state_->wake_write.get(), &byte, 1);
  if (state_->thread.joinable()) state_->thread.join();
}

uint16_t TcpForwarder::port() const { return state_->port; }

}  // namespace lf::kafka
