#include "kafka/tcp_forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace lf::kafka {
namespace {

using ::testing::HasSubstr;

// A loopback listener on a free port; Port() tells which.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
  }
  ~Listener() { ::close(fd_); }
  uint16_t Port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }
  int Accept() const { return ::accept(fd_, nullptr, nullptr); }

 private:
  int fd_;
};

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

void WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    ASSERT_GT(n, 0);
    off += static_cast<size_t>(n);
  }
}

TEST(TcpForwarderTest, RelaysLargeStreamsBothWaysAndPropagatesClose) {
  Listener target;
  auto fwd = TcpForwarder::Start("127.0.0.1", 0, "127.0.0.1", target.Port());
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  ASSERT_NE((*fwd)->port(), 0);

  // The target echoes everything reversed-case-free: it sends back what it got, then closes.
  std::string sent(5 << 20, '\0');  // 5 MB: more than the relay's buffers
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>(i * 131 + (i >> 12));
  std::string echoed;
  std::thread server([&] {
    int c = target.Accept();
    std::string got;
    char buf[65536];
    while (got.size() < sent.size()) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    WriteAll(c, got);
    ::close(c);
  });
  int client = Connect((*fwd)->port());
  std::thread writer([&] { WriteAll(client, sent); });
  echoed = ReadAll(client);  // ends when the target's close is relayed
  writer.join();
  server.join();
  ::close(client);
  EXPECT_EQ(echoed.size(), sent.size());
  EXPECT_TRUE(echoed == sent);
}

TEST(TcpForwarderTest, ManyConnectionsAtOnce) {
  Listener target;
  auto fwd = TcpForwarder::Start("127.0.0.1", 0, "127.0.0.1", target.Port());
  ASSERT_TRUE(fwd.ok()) << fwd.status();
  constexpr int kConnections = 20;
  std::thread server([&] {
    std::vector<std::thread> handlers;
    for (int i = 0; i < kConnections; ++i) {
      int c = target.Accept();
      handlers.emplace_back([c] {
        char buf[64];
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n > 0) WriteAll(c, "re:" + std::string(buf, static_cast<size_t>(n)));
        ::close(c);
      });
    }
    for (auto& h : handlers) h.join();
  });
  std::vector<int> clients;
  for (int i = 0; i < kConnections; ++i) clients.push_back(Connect((*fwd)->port()));
  for (int i = 0; i < kConnections; ++i) WriteAll(clients[i], "c" + std::to_string(i));
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(ReadAll(clients[i]), "re:c" + std::to_string(i));
    ::close(clients[i]);
  }
  server.join();
}

TEST(TcpForwarderTest, UnreachableTargetClosesTheClient) {
  uint16_t dead_port;
  {
    Listener gone;
    dead_port = gone.Port();
  }
  auto fwd = TcpForwarder::Start("127.0.0.1", 0, "127.0.0.1", dead_port);
  ASSERT_TRUE(fwd.ok());
  int client = Connect((*fwd)->port());
  EXPECT_EQ(ReadAll(client), "");
  ::close(client);
}

TEST(TcpForwarderTest, BusyPortNamesTheAddress) {
  Listener taken;
  auto fwd = TcpForwarder::Start("127.0.0.1", taken.Port(), "127.0.0.1", 1);
  ASSERT_FALSE(fwd.ok());
  EXPECT_THAT(std::string(fwd.status().message()),
              HasSubstr("kafka: forwarder: listen 127.0.0.1:" + std::to_string(taken.Port())));
}

}  // namespace
}  // namespace lf::kafka
