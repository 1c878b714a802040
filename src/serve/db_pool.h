#pragma once

// A small pool of read-only PostgreSQL connections shared by the HTTP worker threads.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "postgres/connection.h"
#include "postgres/conninfo.h"

namespace lf::serve {

// `target` with the session settings every serve connection uses: read-only transactions (the
// server never writes), a statement timeout, and application_name=lambdaflow-serve.
postgres::ConnTarget ReadOnlyTarget(const postgres::ConnTarget& target);

// Thread-safe. Connections are opened lazily, at most `max_size` at a time; a connection whose
// query failed because the server went away is dropped instead of returned.
class DbPool {
 public:
  DbPool(const postgres::ConnTarget& target, size_t max_size)
      : target_(ReadOnlyTarget(target)), max_size_(max_size) {}

  // Runs `fn` with a connection (waiting while all are busy). Errors opening one are returned.
  absl::Status With(const std::function<absl::Status(PGconn*)>& fn);

  const postgres::ConnTarget& target() const { return target_; }

 private:
  postgres::ConnTarget target_;
  size_t max_size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<postgres::PgConn> idle_;
  size_t open_ = 0;
};

}  // namespace lf::serve
