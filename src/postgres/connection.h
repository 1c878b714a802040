#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "postgres/conninfo.h"

namespace lf::postgres {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// Opens a connection. Errors name the target's display form, never the password.
absl::StatusOr<PgConn> Connect(const ConnTarget& target);

// Runs `sql` (no parameters; may hold several statements). `what` names the action in errors.
absl::Status Exec(PGconn* conn, std::string_view sql, std::string_view what);

// Runs `sql` with text parameters $1..$n (nullptr for SQL NULL) and returns its result when it
// succeeded (tuples or command OK).
absl::StatusOr<PgResult> Query(PGconn* conn, std::string_view sql,
                               const std::vector<const char*>& params, std::string_view what);

// True when the error means the connection itself is gone (retry after reconnecting).
bool ConnectionLost(PGconn* conn);

}  // namespace lf::postgres
