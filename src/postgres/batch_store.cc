#include "postgres/batch_store.h"

#include <cstdlib>

#include "common/status.h"
#include "postgres/identifier.h"
#include "postgres/sql_array.h"

namespace lf::postgres {

absl::StatusOr<std::unique_ptr<PgBatchStore>> PgBatchStore::Open(const BatchStoreOptions& options) {
  LF_ASSIGN_OR_RETURN(std::string hourly,
                      QuoteTableName(options.tables.bytes_hourly_table, "--bytes-hourly-table"));
  LF_ASSIGN_OR_RETURN(std::string quota, QuoteTableName(options.tables.user_quota_limit_table,
                                                        "--user-quota-limit-table"));
  LF_ASSIGN_OR_RETURN(std::string users,
                      QuoteTableName(options.tables.user_metadata_table, "--user-metadata-table"));
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(options.target));
  LF_RETURN_IF_ERROR(Provision(conn.get(), options.tables, /*views=*/false));
  return std::unique_ptr<PgBatchStore>(new PgBatchStore(
      options, std::move(hourly), std::move(quota), std::move(users), std::move(conn)));
}

PgBatchStore::PgBatchStore(BatchStoreOptions options, std::string hourly, std::string quota,
                           std::string users, PgConn conn)
    : options_(std::move(options)),
      hourly_(std::move(hourly)),
      quota_(std::move(quota)),
      users_(std::move(users)),
      conn_(std::move(conn)) {}

absl::StatusOr<std::map<std::string, pipeline::UserInfo>> PgBatchStore::LoadUsers() {
  LF_ASSIGN_OR_RETURN(
      PgResult r, Query(conn_.get(),
                        fmt::format("SELECT id, email, quota FROM {} WHERE id IS NOT NULL", users_),
                        {}, fmt::format("batch: read {}", options_.tables.user_metadata_table)));
  std::map<std::string, pipeline::UserInfo> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    pipeline::UserInfo u;
    u.email = PQgetisnull(r.get(), i, 1) ? "" : PQgetvalue(r.get(), i, 1);
    u.quota = PQgetisnull(r.get(), i, 2) ? INT64_MAX : std::atoll(PQgetvalue(r.get(), i, 2));
    if (!u.email.empty()) out[PQgetvalue(r.get(), i, 0)] = u;
  }
  return out;
}

absl::StatusOr<int64_t> PgBatchStore::ManifestRows(int64_t hour_s) {
  std::string h = std::to_string(hour_s);
  LF_ASSIGN_OR_RETURN(PgResult r,
                      Query(conn_.get(),
                            "SELECT rows FROM lf_lake_hours WHERE dataset = $1 AND "
                            "hour = to_timestamp($2::bigint) AT TIME ZONE 'UTC'",
                            {options_.dataset.c_str(), h.c_str()}, "batch: read lf_lake_hours"));
  if (PQntuples(r.get()) == 0) return int64_t{-1};
  return static_cast<int64_t>(std::atoll(PQgetvalue(r.get(), 0, 0)));
}

absl::Status PgBatchStore::Replace(const pipeline::HourResult& result, int64_t manifest_rows,
                                   int64_t duration_ms) {
  PGconn* c = conn_.get();
  std::string h = std::to_string(result.hour_s);
  return InTransaction(c, "batch", [&]() -> absl::Status {
    const std::string at = "to_timestamp($1::bigint) AT TIME ZONE 'UTC'";
    LF_RETURN_IF_ERROR(
        Query(c, fmt::format("DELETE FROM {} WHERE \"timestamp\" = {}", hourly_, at), {h.c_str()},
              fmt::format("batch: replace the hour in {}", options_.tables.bytes_hourly_table))
            .status());
    if (!result.rows.empty()) {
      SqlArray ids, types, values;
      for (const auto& r : result.rows) {
        ids.AddText(r.id);
        types.AddText(r.type);
        values.AddInt(r.value);
      }
      LF_RETURN_IF_ERROR(
          Query(c,
                fmt::format(
                    "INSERT INTO {} (\"timestamp\", id, value, type) SELECT {}, u.i, u.v, u.t "
                    "FROM unnest($2::text[], $3::bigint[], $4::text[]) AS u(i, v, t)",
                    hourly_, at),
                {h.c_str(), ids.Finish().c_str(), values.Finish().c_str(), types.Finish().c_str()},
                fmt::format("batch: insert into {}", options_.tables.bytes_hourly_table))
              .status());
    }
    LF_RETURN_IF_ERROR(
        Query(c, fmt::format("DELETE FROM {} WHERE \"timestamp\" = {}", quota_, at), {h.c_str()},
              fmt::format("batch: replace the hour in {}", options_.tables.user_quota_limit_table))
            .status());
    if (!result.over_quota.empty()) {
      SqlArray emails, usage, quota;
      for (const auto& q : result.over_quota) {
        emails.AddText(q.email);
        usage.AddInt(q.usage);
        quota.AddInt(q.quota);
      }
      LF_RETURN_IF_ERROR(
          Query(
              c,
              fmt::format(
                  "INSERT INTO {} (email, usage, quota, \"timestamp\") SELECT u.e, u.s, u.q, {} "
                  "FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(e, s, q)",
                  quota_, at),
              {h.c_str(), emails.Finish().c_str(), usage.Finish().c_str(), quota.Finish().c_str()},
              fmt::format("batch: insert into {}", options_.tables.user_quota_limit_table))
              .status());
    }
    std::string events = std::to_string(result.events), files = std::to_string(result.files.size()),
                unknown = std::to_string(result.unknown_devices.size()),
                ms = std::to_string(duration_ms), rows = std::to_string(manifest_rows);
    LF_RETURN_IF_ERROR(
        Query(c,
              "INSERT INTO lf_batch_runs (hour, finished_at, status, events, files, "
              "unknown_devices, duration_ms) VALUES (to_timestamp($1::bigint) AT TIME ZONE 'UTC', "
              "now(), 'ok', $2, $3, $4, $5)",
              {h.c_str(), events.c_str(), files.c_str(), unknown.c_str(), ms.c_str()},
              "batch: record the run in lf_batch_runs")
            .status());
    LF_RETURN_IF_ERROR(
        Query(c,
              "UPDATE lf_lake_hours SET batched_at = now(), needs_rerun = needs_rerun AND rows <> "
              "$3::bigint "
              "WHERE dataset = $2 AND hour = to_timestamp($1::bigint) AT TIME ZONE 'UTC'",
              {h.c_str(), options_.dataset.c_str(), rows.c_str()}, "batch: update lf_lake_hours")
            .status());
    LF_RETURN_IF_ERROR(
        Query(c, "SELECT pg_notify('lf_batch', $1)", {h.c_str()}, "batch: notify").status());
    return absl::OkStatus();
  });
}

absl::Status PgBatchStore::RecordFailure(int64_t hour_s, const std::string& error,
                                         int64_t duration_ms) {
  std::string h = std::to_string(hour_s), ms = std::to_string(duration_ms);
  return Query(conn_.get(),
               "INSERT INTO lf_batch_runs (hour, finished_at, status, error, duration_ms) VALUES "
               "(to_timestamp($1::bigint) AT TIME ZONE 'UTC', now(), 'failed', $2, $3)",
               {h.c_str(), error.c_str(), ms.c_str()},
               "batch: record the failed run in lf_batch_runs")
      .status();
}

absl::StatusOr<std::vector<int64_t>> PgBatchStore::PendingHours() {
  LF_ASSIGN_OR_RETURN(
      PgResult r,
      Query(
          conn_.get(),
          "SELECT extract(epoch FROM h.hour)::bigint FROM lf_lake_hours h WHERE h.dataset = $1 AND "
          "((h.success_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lf_batch_runs b WHERE b.hour = "
          "h.hour "
          "AND b.status = 'ok')) OR h.needs_rerun) ORDER BY 1",
          {options_.dataset.c_str()}, "batch: find pending hours in lf_lake_hours"));
  std::vector<int64_t> hours;
  for (int i = 0; i < PQntuples(r.get()); ++i)
    hours.push_back(std::atoll(PQgetvalue(r.get(), i, 0)));
  return hours;
}

}  // namespace lf::postgres
