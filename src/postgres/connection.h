#pragma once

#include <libpq-fe.h>

#include <functional>
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

// Query with every parameter in the binary wire format (e.g. BinaryArray's bytes); results
// come back as text.
absl::StatusOr<PgResult> QueryBinary(PGconn* conn, std::string_view sql,
                                     const std::vector<std::string_view>& params,
                                     std::string_view what);

// True when the error means the connection itself is gone (retry after reconnecting).
bool ConnectionLost(PGconn* conn);

// Reconnects `conn` once if it was lost; Unavailable (naming `target`, never its password) when
// that fails.
absl::Status EnsureConnected(PGconn* conn, const ConnTarget& target);

// Runs `body` between BEGIN and COMMIT. On any error it rolls back (when the connection is still
// up, so it stays usable) and returns the error; `what` names the action in errors. A connection
// found lost at BEGIN (nothing sent yet) is reset once and the transaction begun again.
absl::Status InTransaction(PGconn* conn, std::string_view what,
                           const std::function<absl::Status()>& body);

// InTransaction in two halves, for a transaction whose body is not one function (begun on one
// thread, finished on another, one at a time): BeginTransaction as InTransaction begins, then
// EndTransaction commits when `body_status` is OK and rolls back otherwise; returns the outcome.
absl::Status BeginTransaction(PGconn* conn, std::string_view what);
absl::Status EndTransaction(PGconn* conn, std::string_view what, absl::Status body_status);

}  // namespace lf::postgres
