#include "postgres/batch_store.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "common/status.h"
#include "postgres/identifier.h"
#include "postgres/sql_array.h"
#include "spdlog/spdlog.h"

namespace lf::postgres {

absl::StatusOr<std::unique_ptr<PgBatchStore>> PgBatchStore::Open(const BatchStoreOptions& options) {
  LF_ASSIGN_OR_RETURN(std::string hourly,
                      QuoteTableName(options.tables.bytes_hourly_table, "--bytes-hourly-table"));
  LF_ASSIGN_OR_RETURN(std::string quota, QuoteTableName(options.tables.user_quota_limit_table,
                                                        "--user-quota-limit-table"));
  LF_ASSIGN_OR_RETURN(std::string users,
                      QuoteTableName(options.tables.user_metadata_table, "--user-metadata-table"));
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(options.target));
  LF_RETURN_IF_ERROR(EnsureBatchTables(conn.get(), options.tables));
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

absl::Status PgBatchStore::Prepare(int64_t hour_s) {
  Abandon();
  PGconn* c = conn_.get();
  LF_RETURN_IF_ERROR(BeginTransaction(c, "batch"));
  const std::string h = std::to_string(hour_s);
  const std::string& table = options_.tables.bytes_hourly_table;
  absl::StatusOr<PgResult> old = [&]() -> absl::StatusOr<PgResult> {
    // Runs of the same hour take turns: each sees the rows the previous one committed.
    LF_RETURN_IF_ERROR(
        Query(c, "SELECT pg_advisory_xact_lock(hashtext($2), ($1::bigint / 3600)::int)",
              {h.c_str(), table.c_str()}, fmt::format("batch: lock the hour of {}", table))
            .status());
    return Query(c,
                 fmt::format("SELECT type, id, value FROM {} WHERE \"timestamp\" = "
                             "to_timestamp($1::bigint) AT TIME ZONE 'UTC'",
                             hourly_),
                 {h.c_str()}, fmt::format("batch: read the hour's rows of {}", table));
  }();
  if (!old.ok()) return EndTransaction(c, "batch", old.status());  // rolls back
  prepared_ = true;
  prepared_hour_ = hour_s;
  old_rows_ = *std::move(old);
  return absl::OkStatus();
}

void PgBatchStore::Abandon() {
  if (!prepared_) return;
  prepared_ = false;
  old_rows_.reset();
  if (!ConnectionLost(conn_.get())) {
    absl::Status st = Exec(conn_.get(), "ROLLBACK", "batch: roll back the prepared hour");
    if (!st.ok()) spdlog::warn("{}", Message(st));
  }
}

absl::Status PgBatchStore::Replace(const pipeline::HourResult& result, int64_t manifest_rows,
                                   int64_t duration_ms) {
  PGconn* c = conn_.get();
  std::string h = std::to_string(result.hour_s);
  if (!prepared_ || prepared_hour_ != result.hour_s) LF_RETURN_IF_ERROR(Prepare(result.hour_s));
  prepared_ = false;  // from here on the transaction ends below, whatever happens
  absl::Status body = [&]() -> absl::Status {
    const std::string at = "to_timestamp($1::bigint) AT TIME ZONE 'UTC'";
    LF_RETURN_IF_ERROR(WriteHourly(result));
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
                unknown = std::to_string(result.unknown_devices), ms = std::to_string(duration_ms),
                rows = std::to_string(manifest_rows);
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
  }();
  old_rows_.reset();
  return EndTransaction(c, "batch", std::move(body));
}

absl::Status PgBatchStore::WriteHourly(const pipeline::HourResult& result) {
  PGconn* c = conn_.get();
  const std::string h = std::to_string(result.hour_s);
  const std::string at = "to_timestamp($1::bigint) AT TIME ZONE 'UTC'";
  const std::string& table = options_.tables.bytes_hourly_table;
  // (type, id) -> row of old_rows_; rows with a NULL key, and keys held twice (a table whose unique
  // key could not be created), are deleted and written again.
  // Keys view the result's memory, which old_rows_ keeps alive.
  using Key = std::pair<std::string_view, std::string_view>;
  enum class Seen { kOnce, kTwice, kHandled };  // kHandled: kept, updated or rewritten
  struct OldRow {
    int row;  // in old_rows_
    Seen seen;
  };
  absl::flat_hash_map<Key, OldRow> old_rows;
  bool delete_null_keys = false;
  SqlArray del_types, del_ids;
  PGresult* o = old_rows_.get();
  const int n_old = PQntuples(o);
  old_rows.reserve(n_old);
  auto field = [o](int row, int col) {
    return std::string_view(PQgetvalue(o, row, col), PQgetlength(o, row, col));
  };
  for (int i = 0; i < n_old; ++i) {
    if (PQgetisnull(o, i, 0) || PQgetisnull(o, i, 1)) {
      delete_null_keys = true;
      continue;
    }
    auto [it, added] = old_rows.emplace(Key(field(i, 0), field(i, 1)), OldRow{i, Seen::kOnce});
    if (!added) it->second.seen = Seen::kTwice;
  }
  SqlArray up_ids, up_types, up_values;
  size_t updates = 0, deletes = 0;
  std::vector<const pipeline::HourlyRow*> to_insert;
  for (const auto& r : result.rows) {
    auto it = old_rows.find(Key(r.type, r.id));
    if (it != old_rows.end() && it->second.seen == Seen::kOnce) {
      const int i = it->second.row;
      it->second.seen = Seen::kHandled;
      int64_t value;
      std::string_view text = field(i, 2);
      if (!PQgetisnull(o, i, 2) &&
          std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc() &&
          value == r.value) {
        continue;
      }
      up_ids.AddText(r.id);
      up_types.AddText(r.type);
      up_values.AddInt(r.value);
      ++updates;
      continue;
    }
    if (it != old_rows.end() && it->second.seen == Seen::kTwice) {  // duplicated: rewrite
      del_types.AddText(r.type);
      del_ids.AddText(r.id);
      ++deletes;
      it->second.seen = Seen::kHandled;
    }
    to_insert.push_back(&r);
  }
  // In the unique key's order: the index then grows at its right edge instead of everywhere.
  std::sort(to_insert.begin(), to_insert.end(),
            [](const pipeline::HourlyRow* a, const pipeline::HourlyRow* b) {
              return std::tie(a->id, a->type) < std::tie(b->id, b->type);
            });
  SqlArray ins_ids, ins_types, ins_values;
  for (const pipeline::HourlyRow* r : to_insert) {
    ins_ids.AddText(r->id);
    ins_types.AddText(r->type);
    ins_values.AddInt(r->value);
  }
  const size_t inserts = to_insert.size();
  for (const auto& [key, old_row] : old_rows) {
    if (old_row.seen == Seen::kHandled) continue;  // the others are not in the result
    del_types.AddText(key.first);
    del_ids.AddText(key.second);
    ++deletes;
  }
  if (delete_null_keys) {
    LF_RETURN_IF_ERROR(
        Query(
            c,
            fmt::format("DELETE FROM {} WHERE \"timestamp\" = {} AND (id IS NULL OR type IS NULL)",
                        hourly_, at),
            {h.c_str()}, fmt::format("batch: delete rows without a key from {}", table))
            .status());
  }
  if (deletes > 0) {
    LF_RETURN_IF_ERROR(
        Query(c,
              fmt::format("DELETE FROM {0} t USING unnest($2::text[], $3::text[]) AS d(y, i) "
                          "WHERE t.\"timestamp\" = {1} AND t.type = d.y AND t.id = d.i",
                          hourly_, at),
              {h.c_str(), del_types.Finish().c_str(), del_ids.Finish().c_str()},
              fmt::format("batch: delete rows from {}", table))
            .status());
  }
  if (updates > 0) {
    LF_RETURN_IF_ERROR(
        Query(c,
              fmt::format("UPDATE {0} t SET value = u.v FROM unnest($2::text[], $3::text[], "
                          "$4::bigint[]) AS u(y, i, v) WHERE t.\"timestamp\" = {1} AND t.type = "
                          "u.y AND t.id = u.i",
                          hourly_, at),
              {h.c_str(), up_types.Finish().c_str(), up_ids.Finish().c_str(),
               up_values.Finish().c_str()},
              fmt::format("batch: update rows of {}", table))
            .status());
  }
  if (inserts > 0) {
    LF_RETURN_IF_ERROR(
        Query(
            c,
            fmt::format("INSERT INTO {} (\"timestamp\", id, value, type) SELECT {}, u.i, u.v, u.t "
                        "FROM unnest($2::text[], $3::bigint[], $4::text[]) AS u(i, v, t)",
                        hourly_, at),
            {h.c_str(), ins_ids.Finish().c_str(), ins_values.Finish().c_str(),
             ins_types.Finish().c_str()},
            fmt::format("batch: insert into {}", table))
            .status());
  }
  spdlog::debug("batch: {}: {} rows kept, {} updated, {} inserted, {} deleted", table,
                result.rows.size() - inserts - updates, updates, inserts, deletes);
  return absl::OkStatus();
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
