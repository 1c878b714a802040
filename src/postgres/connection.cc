#include "postgres/connection.h"

#include "common/failpoint.h"

#include "common/status.h"
#include "spdlog/spdlog.h"

namespace lf::postgres {
namespace {

std::string LastError(PGconn* conn) {
  std::string e = PQerrorMessage(conn);
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  return e;
}

absl::Status ResultError(PGconn* conn, PGresult* r, std::string_view what) {
  std::string msg = r ? PQresultErrorMessage(r) : LastError(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view sqlstate = state ? state : "";
  std::string text = fmt::format("postgres: {}: {}", what, msg);
  if (PQstatus(conn) != CONNECTION_OK) return absl::UnavailableError(text);
  // 40001 serialization failure, 40P01 deadlock: retryable. (Aborted is reserved for a failed
  // compare-and-set of offsets.)
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::UnavailableError(text);
  return absl::InternalError(text);
}

}  // namespace

absl::StatusOr<PgConn> Connect(const ConnTarget& target) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : target.params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConn conn(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (!conn) return Unavailable("postgres: connect to {}: out of memory", target.display);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Unavailable("postgres: connect to {}: {}", target.display, LastError(conn.get()));
  }
  // Keep notices (e.g. "relation already exists, skipping") out of the user's terminal.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

absl::Status Exec(PGconn* conn, std::string_view sql, std::string_view what) {
  PgResult r(PQexec(conn, std::string(sql).c_str()));
  auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ResultError(conn, r.get(), what);
  return absl::OkStatus();
}

absl::StatusOr<PgResult> Query(PGconn* conn, std::string_view sql,
                               const std::vector<const char*>& params, std::string_view what) {
  PgResult r(PQexecParams(conn, std::string(sql).c_str(), static_cast<int>(params.size()), nullptr,
                          params.data(), nullptr, nullptr, 0));
  auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ResultError(conn, r.get(), what);
  return r;
}

absl::StatusOr<PgResult> QueryBinary(PGconn* conn, std::string_view sql,
                                     const std::vector<std::string_view>& params,
                                     std::string_view what) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats(params.size(), 1);
  values.reserve(params.size());
  lengths.reserve(params.size());
  for (std::string_view p : params) {
    // The server takes at most 1 GB per value; past INT_MAX libpq could not even say the length.
    if (p.size() >= (size_t{1} << 30)) {
      return InvalidArgument(
          "postgres: {}: a parameter of {} bytes is over PostgreSQL's 1 GB limit", what, p.size());
    }
    values.push_back(p.data());
    lengths.push_back(static_cast<int>(p.size()));
  }
  PgResult r(PQexecParams(conn, std::string(sql).c_str(), static_cast<int>(params.size()), nullptr,
                          values.data(), lengths.data(), formats.data(), 0));
  auto st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ResultError(conn, r.get(), what);
  return r;
}

bool ConnectionLost(PGconn* conn) { return PQstatus(conn) != CONNECTION_OK; }

absl::Status EnsureConnected(PGconn* conn, const ConnTarget& target) {
  if (!ConnectionLost(conn)) return absl::OkStatus();
  PQreset(conn);
  if (ConnectionLost(conn)) {
    return Unavailable("postgres: connection to {} lost and reconnect failed: {}", target.display,
                       LastError(conn));
  }
  spdlog::info("postgres: reconnected to {}", target.display);
  return absl::OkStatus();
}

absl::Status BeginTransaction(PGconn* conn, std::string_view what) {
  absl::Status begun = Exec(conn, "BEGIN", fmt::format("{}: begin", what));
  if (!begun.ok() && ConnectionLost(conn)) {
    // The server dropped a connection that still looked open (it restarted, or ended idle
    // sessions); libpq finds out only now. Nothing of this transaction was sent, so connecting
    // again and beginning anew is safe, and spares the caller a failed commit (at shutdown, its
    // last one).
    PQreset(conn);
    if (!ConnectionLost(conn)) {
      spdlog::info("postgres: reconnected to {}:{}/{} (the server had closed the connection)",
                   PQhost(conn), PQport(conn), PQdb(conn));
      begun = Exec(conn, "BEGIN", fmt::format("{}: begin", what));
    }
  }
  return begun;
}

absl::Status EndTransaction(PGconn* conn, std::string_view what, absl::Status body_status) {
  absl::Status st = std::move(body_status);
  if (st.ok()) {
    // The torture tests crash or stall here: everything written, nothing committed yet.
    Failpoint(FailpointName(what, "before_commit"));
    st = Exec(conn, "COMMIT", fmt::format("{}: commit", what));
    if (st.ok()) Failpoint(FailpointName(what, "after_commit"));
  }
  if (!st.ok() && !ConnectionLost(conn))
    (void)Exec(conn, "ROLLBACK", fmt::format("{}: rollback", what));  // its error: st's cause
  return st;
}

absl::Status InTransaction(PGconn* conn, std::string_view what,
                           const std::function<absl::Status()>& body) {
  LF_RETURN_IF_ERROR(BeginTransaction(conn, what));
  return EndTransaction(conn, what, body());
}

}  // namespace lf::postgres
