#include "postgres/local_server.h"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "common/status.h"
#include "common/subprocess.h"
#include "postgres/connection.h"
#include "spdlog/spdlog.h"

namespace lf::postgres {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> BinDir() {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(e.path() / "bin" / "pg_ctl", ec)) dirs.push_back(e.path() / "bin");
  if (dirs.empty()) {
    return NotFound(
        "postgres: no PostgreSQL server installed (/usr/lib/postgresql/*/bin/pg_ctl); "
        "run scripts/install-deps.sh or pass --pg");
  }
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename()) < std::stoi(b.parent_path().filename());
  });
  return dirs.back().string();
}

// Runs a server tool as the cluster's owner: `postgres` when we are root.
std::vector<std::string> AsOwner(std::vector<std::string> argv) {
  if (geteuid() != 0) return argv;
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// /proc/PID/cwd, or "" when the process is gone or not ours to inspect.
std::string CwdOf(pid_t pid) {
  std::error_code ec;
  auto cwd = fs::read_symlink(fmt::format("/proc/{}/cwd", pid), ec);
  return ec ? std::string() : cwd.string();
}

bool Alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Waits up to `timeout` for a process that is not our child to go away.
bool WaitGone(pid_t pid, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (Alive(pid)) {
    // A zombie is gone for our purpose (its parent has not reaped it yet).
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    auto close_paren = text.rfind(')');
    if (close_paren != std::string::npos && close_paren + 2 < text.size() &&
        text[close_paren + 2] == 'Z')
      return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// Before starting: deals with a postmaster.pid an earlier server left in `data`.
absl::Status ClearStaleServer(const std::string& data) {
  std::ifstream in(data + "/postmaster.pid");
  std::string line;
  if (!in || !std::getline(in, line)) return absl::OkStatus();
  pid_t pid = std::atoi(line.c_str());
  std::string canonical = fs::weakly_canonical(data).string();
  if (Alive(pid) && CwdOf(pid) == canonical) {
    // A postmaster of this very cluster (a postmaster and its backends work in the data
    // directory): left running by an earlier run whose supervisor could not stop it.
    spdlog::warn("postgres: a server of {} is still running (pid {}); stopping it first", data,
                 pid);
    kill(pid, SIGINT);
    if (!WaitGone(pid, std::chrono::seconds(60))) {
      kill(pid, SIGQUIT);
      if (!WaitGone(pid, std::chrono::seconds(10)))
        return Unavailable("postgres: the server of {} (pid {}) does not stop", data, pid);
    }
    return absl::OkStatus();
  }
  if (Alive(pid)) {
    // The server was killed and its process id now belongs to someone else: PostgreSQL would
    // refuse to start ("lock file already exists"). Remove the file once no backend of the old
    // server works in the directory any more.
    for (int i = 0; i < 100; ++i) {
      bool busy = false;
      for (const auto& e : fs::directory_iterator("/proc")) {
        pid_t p = std::atoi(e.path().filename().c_str());
        if (p > 0 && p != getpid() && CwdOf(p) == canonical) busy = true;
      }
      if (!busy) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    spdlog::info("postgres: removing the stale {}/postmaster.pid (pid {} is another process now)",
                 data, pid);
    std::error_code ec;
    fs::remove(data + "/postmaster.pid", ec);
  }
  // A dead pid: PostgreSQL itself recognises the file as stale.
  return absl::OkStatus();
}

// As root the server runs as `postgres`, which must be able to reach the cluster directory. When a
// parent of `requested` is closed to other users (e.g. under /root), the cluster lives under
// /var/lib/lambdaflow instead, at a path derived from `requested` so later runs find it again.
std::string ResolveClusterDir(const std::string& requested) {
  std::string dir = fs::absolute(requested).lexically_normal().string();
  if (geteuid() != 0) return dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto reachable =
      RunToCompletion({"runuser", "-u", "postgres", "--", "test", "-x", dir}, "/dev/null");
  if (reachable.ok() && *reachable == 0) return dir;
  std::string fallback =
      fmt::format("/var/lib/lambdaflow/pg-{:016x}", std::hash<std::string>{}(dir));
  spdlog::info("postgres: {} is not reachable by user postgres; the private cluster lives in {}",
               dir, fallback);
  return fallback;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalServer>> LocalServer::Start(const std::string& dir_arg) {
  LF_ASSIGN_OR_RETURN(std::string bin, BinDir());
  std::string dir = ResolveClusterDir(dir_arg);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("postgres: create {}: {}", dir, ec.message());
  std::string data = dir + "/data", log = dir + "/server.log";
  std::string user;
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (!pw)
      return NotFound(
          "postgres: running as root needs the system user 'postgres' (install postgresql)");
    if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Internal("postgres: chown {} to postgres: {}", dir, std::strerror(errno));
    }
    user = "postgres";
  }
  if (!fs::exists(data + "/PG_VERSION", ec)) {
    spdlog::info("postgres: creating a private cluster in {}", data);
    LF_ASSIGN_OR_RETURN(int rc,
                        RunToCompletion(AsOwner({bin + "/initdb", "-D", data, "-U", "lambdaflow",
                                                 "--auth=trust", "-E", "UTF8", "--locale=C"}),
                                        dir + "/initdb.log"));
    if (rc != 0)
      return Internal("postgres: initdb {} failed (exit {}); see {}/initdb.log", data, rc, dir);
  }
  LF_RETURN_IF_ERROR(ClearStaleServer(data));

  for (int attempt = 0; attempt < 5; ++attempt) {
    int port = FreePort();
    auto log_size = fs::exists(log, ec) ? fs::file_size(log, ec) : 0;
    LF_ASSIGN_OR_RETURN(
        pid_t pid,
        Spawn({bin + "/postgres", "-D", data, "-p", std::to_string(port), "-k", dir, "-c",
               "listen_addresses=127.0.0.1"},
              SpawnOptions{.log_path = log, .parent_death_signal = SIGINT, .user = user}));
    // Ready once it accepts connections; crash recovery after a kill may take a while.
    std::string ping = fmt::format("host=127.0.0.1 port={} dbname=postgres user=lambdaflow", port);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(ping.c_str()) == PQPING_OK) {
        ready = true;
        break;
      }
      if (ExitedStatus(pid) >= 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!ready) {
      lf::Stop(pid, std::chrono::seconds(10));
      std::ifstream in(log);
      in.seekg(static_cast<std::streamoff>(log_size));
      std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (tail.find("could not bind") != std::string::npos ||
          tail.find("Address already in use") != std::string::npos)
        continue;  // the free port was taken meanwhile: another one
      return Unavailable("postgres: the private cluster in {} did not start; see {}", data, log);
    }
    // From here on the server is stopped again if anything fails.
    std::unique_ptr<LocalServer> server(new LocalServer(
        pid, fmt::format("postgresql://lambdaflow@127.0.0.1:{}/lambdaflow", port), data, log));
    std::string admin = fmt::format("postgresql://lambdaflow@127.0.0.1:{}/postgres", port);
    LF_ASSIGN_OR_RETURN(ConnTarget target, ParseConnTarget(admin));
    LF_ASSIGN_OR_RETURN(PgConn conn, Connect(target));
    LF_ASSIGN_OR_RETURN(
        PgResult r, Query(conn.get(), "SELECT 1 FROM pg_database WHERE datname = 'lambdaflow'", {},
                          "check database lambdaflow"));
    if (PQntuples(r.get()) == 0)
      LF_RETURN_IF_ERROR(
          Exec(conn.get(), "CREATE DATABASE lambdaflow", "create database lambdaflow"));
    spdlog::info("postgres: private cluster {} running (pid {}, port {})", data, pid, port);
    return server;
  }
  return Unavailable("postgres: could not start the private cluster in {}; see {}", data, log);
}

LocalServer::~LocalServer() {
  if (auto st = Stop(); !st.ok()) spdlog::warn("{}", Message(st));
}

absl::Status LocalServer::Stop() {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  if (int s = ExitedStatus(pid_); s >= 0)
    return Unavailable("postgres: the private cluster in {} had exited (status {}); see {}", data_,
                       s, log_);
  kill(pid_, SIGINT);  // fast shutdown: open transactions roll back, then a checkpoint
  int s = WaitFor(pid_, std::chrono::seconds(60));
  if (s < 0) {
    spdlog::warn("postgres: no fast shutdown of {} within 60 s; immediate shutdown", data_);
    kill(pid_, SIGQUIT);
    s = WaitFor(pid_, std::chrono::seconds(10));
    if (s < 0) {
      kill(pid_, SIGKILL);
      WaitFor(pid_, std::chrono::seconds(10));
    }
  }
  return absl::OkStatus();
}

}  // namespace lf::postgres
