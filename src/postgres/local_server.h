#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace lf::postgres {

// A private PostgreSQL server for `lambdaflow up`: a cluster under `dir` (initdb on first use,
// superuser `lambdaflow`, trust authentication, listening on 127.0.0.1 only, on a free port),
// run as user `postgres` when this process is root. Returns the connection URI of database
// `lambdaflow`. Starting a cluster that is already running returns its URI.
absl::StatusOr<std::string> StartLocalServer(const std::string& dir);

// Fast shutdown of the cluster under `dir` (no-op when it is not running).
absl::Status StopLocalServer(const std::string& dir);

}  // namespace lf::postgres
