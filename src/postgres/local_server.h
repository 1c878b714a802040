#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace lf::postgres {

// A private PostgreSQL server for `lambdaflow up`: a cluster under `dir` (initdb on first use,
// superuser `lambdaflow`, trust authentication, listening on 127.0.0.1 only, on a free port),
// run as user `postgres` when this process is root.
//
// The postmaster is a child of this process (not daemonized by pg_ctl) with SIGINT as its
// parent-death signal: when this process dies, however it dies, PostgreSQL does a fast shutdown
// instead of running on as an orphan. A postmaster.pid left by a killed server is handled: a
// postmaster of this cluster still running from an earlier run is stopped first, and a file whose
// process id now belongs to another process is removed; PostgreSQL recovers from its WAL.
class LocalServer {
 public:
  static absl::StatusOr<std::unique_ptr<LocalServer>> Start(const std::string& dir);
  ~LocalServer();

  // The connection URI of database `lambdaflow`.
  const std::string& uri() const { return uri_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_; }

  // Fast shutdown (SIGINT), immediate shutdown (SIGQUIT) after 60 s. Idempotent.
  absl::Status Stop();

 private:
  LocalServer(pid_t pid, std::string uri, std::string data, std::string log)
      : pid_(pid), uri_(std::move(uri)), data_(std::move(data)), log_(std::move(log)) {}

  pid_t pid_;
  std::string uri_, data_, log_;
  bool stopped_ = false;
};

}  // namespace lf::postgres
