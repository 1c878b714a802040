#include "postgres/local_server.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

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

// The port of a running cluster, from postmaster.pid (line 4), or 0.
int RunningPort(const std::string& data, const std::string& bin) {
  auto st = RunToCompletion(AsOwner({bin + "/pg_ctl", "-D", data, "status"}), "/dev/null");
  if (!st.ok() || *st != 0) return 0;
  std::ifstream pid(data + "/postmaster.pid");
  std::string line;
  for (int i = 0; i < 4 && std::getline(pid, line); ++i) {
  }
  return std::atoi(line.c_str());
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

absl::StatusOr<std::string> StartLocalServer(const std::string& dir_arg) {
  LF_ASSIGN_OR_RETURN(std::string bin, BinDir());
  std::string dir = ResolveClusterDir(dir_arg);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("postgres: create {}: {}", dir, ec.message());
  std::string data = dir + "/data", log = dir + "/server.log";
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (!pw)
      return NotFound(
          "postgres: running as root needs the system user 'postgres' (install postgresql)");
    if (chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Internal("postgres: chown {} to postgres: {}", dir, std::strerror(errno));
    }
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
  int port = RunningPort(data, bin);
  if (port == 0) {
    for (int attempt = 0; attempt < 5 && port == 0; ++attempt) {
      int candidate = FreePort();
      LF_ASSIGN_OR_RETURN(
          int rc,
          RunToCompletion(
              AsOwner({bin + "/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start", "-o",
                       fmt::format("-p {} -k {} -c listen_addresses=127.0.0.1", candidate, dir)}),
              dir + "/pg_ctl.log"));
      if (rc == 0) port = candidate;
    }
    if (port == 0)
      return Unavailable("postgres: could not start the private cluster in {}; see {}", data, log);
  }
  std::string admin = fmt::format("postgresql://lambdaflow@127.0.0.1:{}/postgres", port);
  LF_ASSIGN_OR_RETURN(ConnTarget target, ParseConnTarget(admin));
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(target));
  LF_ASSIGN_OR_RETURN(
      PgResult r, Query(conn.get(), "SELECT 1 FROM pg_database WHERE datname = 'lambdaflow'", {},
                        "check database lambdaflow"));
  if (PQntuples(r.get()) == 0)
    LF_RETURN_IF_ERROR(
        Exec(conn.get(), "CREATE DATABASE lambdaflow", "create database lambdaflow"));
  return fmt::format("postgresql://lambdaflow@127.0.0.1:{}/lambdaflow", port);
}

absl::Status StopLocalServer(const std::string& dir) {
  LF_ASSIGN_OR_RETURN(std::string bin, BinDir());
  std::string data = ResolveClusterDir(dir) + "/data";
  if (!fs::exists(data + "/postmaster.pid")) return absl::OkStatus();
  LF_ASSIGN_OR_RETURN(
      int rc, RunToCompletion(AsOwner({bin + "/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"}),
                              "/dev/null"));
  if (rc != 0)
    return Internal("postgres: stopping the private cluster in {} failed (exit {})", data, rc);
  return absl::OkStatus();
}

}  // namespace lf::postgres
