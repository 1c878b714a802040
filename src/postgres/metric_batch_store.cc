#include "postgres/metric_batch_store.h"

#include "common/status.h"
#include "fmt/format.h"
#include "postgres/identifier.h"
#include "postgres/pipeline_schema.h"
#include "postgres/schema.h"
#include "postgres/sql_array.h"

namespace lf::postgres {
namespace {

using pipeline::AggregateKind;

}  // namespace

absl::StatusOr<std::unique_ptr<PgMetricBatchStore>> PgMetricBatchStore::Open(
    const ConnTarget& target, const pipeline::Definition* def) {
  if (def->postgres.layout != pipeline::Layout::kWide || !def->batch.enabled) {
    return InvalidArgument("batch: pipeline {} has no wide-layout batch section", def->name);
  }
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(target));
  SqlArray tables;
  for (const pipeline::MetricDef& m : def->batch.metrics) tables.AddText(m.table);
  LF_ASSIGN_OR_RETURN(
      PgResult r,
      Query(conn.get(),
            "SELECT count(*) FROM unnest($1::text[]) AS t(name) WHERE to_regclass(name) IS NULL "
            "OR to_regclass('lf_batch_units') IS NULL OR to_regclass('lf_lake_hours') IS NULL",
            {tables.Finish().c_str()}, "batch: check the pipeline's tables"));
  if (std::atoll(PQgetvalue(r.get(), 0, 0)) > 0) {
    LF_RETURN_IF_ERROR(ProvisionPipeline(conn.get(), *def));
  }
  return std::unique_ptr<PgMetricBatchStore>(new PgMetricBatchStore(target, def, std::move(conn)));
}

absl::Status PgMetricBatchStore::Replace(int64_t unit_s,
                                         const std::vector<pipeline::MetricRow>& rows,
                                         int64_t events, int64_t duration_ms) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), target_));
  return InTransaction(conn_.get(), "batch",
                       [&] { return ReplaceBody(unit_s, rows, events, duration_ms); });
}

absl::Status PgMetricBatchStore::ReplaceBody(int64_t unit_s,
                                             const std::vector<pipeline::MetricRow>& rows,
                                             int64_t events, int64_t duration_ms) {
  PGconn* c = conn_.get();
  const pipeline::Definition& def = *def_;
  const std::string from = std::to_string(unit_s);
  const std::string to = std::to_string(unit_s + def.batch.every.count());
  for (uint32_t mi = 0; mi < def.batch.metrics.size(); ++mi) {
    const pipeline::MetricDef& m = def.batch.metrics[mi];
    LF_ASSIGN_OR_RETURN(std::string table, QuoteTableName(m.table, "batch table"));
    LF_RETURN_IF_ERROR(
        Query(
            c,
            fmt::format("DELETE FROM {} WHERE window_start >= to_timestamp($1::bigint) AT TIME "
                        "ZONE 'UTC' AND window_start < to_timestamp($2::bigint) AT TIME ZONE 'UTC'",
                        table),
            {from.c_str(), to.c_str()}, fmt::format("batch: clear the unit in {}", m.table))
            .status());
    const bool integer = pipeline::HasIntegerValues(def, m);
    const bool avg = m.aggregate == AggregateKind::kAvg;
    SqlArray starts, ints, counts, floats;
    std::vector<SqlArray> groups(m.group_by.size());
    size_t n = 0;
    for (const pipeline::MetricRow& r : rows) {
      if (r.metric != mi) continue;
      ++n;
      starts.AddInt(r.window_start_s);
      for (size_t g = 0; g < groups.size(); ++g) groups[g].AddText(r.group[g]);
      const bool counted =
          m.aggregate == AggregateKind::kCount || m.aggregate == AggregateKind::kCountDistinct;
      if (counted) {
        ints.AddInt(r.count);
      } else if (avg) {
        floats.AddDouble(r.d);
        counts.AddInt(r.count);
      } else if (integer) {
        ints.AddInt(r.i);
      } else {
        floats.AddDouble(r.d);
      }
    }
    if (n == 0) continue;
    std::string cols, casts, params, names;
    int p = 2;
    for (size_t g = 0; g < m.group_by.size(); ++g) {
      cols += ", " + GroupColumn(m.group_by[g]);
      casts +=
          fmt::format(", u.g{}::{}", g, pipeline::ColumnSqlType(def.Field(m.group_by[g])->type));
      params += fmt::format(", ${}::text[]", p++);
      names += fmt::format(", g{}", g);
    }
    std::vector<std::string> texts;
    texts.push_back(starts.Finish());
    for (SqlArray& g : groups) texts.push_back(g.Finish());
    std::string sql;
    if (avg) {
      texts.push_back(floats.Finish());
      texts.push_back(counts.Finish());
      sql = fmt::format(
          "INSERT INTO {} (window_start{}, value, value_sum, value_count, updated_at) SELECT "
          "to_timestamp(u.w) AT TIME ZONE 'UTC'{}, u.s / NULLIF(u.c, 0), u.s, u.c, now() FROM "
          "unnest($1::bigint[]{}, ${}::float8[], ${}::bigint[]) AS u(w{}, s, c)",
          table, cols, casts, params, p, p + 1, names);
    } else {
      texts.push_back(integer ? ints.Finish() : floats.Finish());
      sql = fmt::format(
          "INSERT INTO {} (window_start{}, value, updated_at) SELECT to_timestamp(u.w) AT TIME "
          "ZONE 'UTC'{}, u.v, now() FROM unnest($1::bigint[]{}, ${}::{}[]) AS u(w{}, v)",
          table, cols, casts, params, p, integer ? "bigint" : "float8", names);
    }
    std::vector<const char*> values;
    for (const std::string& t : texts) values.push_back(t.c_str());
    LF_RETURN_IF_ERROR(
        Query(c, sql, values, fmt::format("batch: insert the unit's rows into {}", m.table))
            .status());
  }
  const std::string every = std::to_string(def.batch.every.count());
  const std::string ev = std::to_string(events), ms = std::to_string(duration_ms);
  LF_RETURN_IF_ERROR(
      Query(c,
            "INSERT INTO lf_batch_units (pipeline, unit_start, unit_s, status, rows, finished_at, "
            "error, duration_ms) VALUES ($1, to_timestamp($2::bigint) AT TIME ZONE 'UTC', $3, "
            "'ok', $4, now(), NULL, $5) ON CONFLICT (pipeline, unit_start) DO UPDATE SET status = "
            "'ok', rows = EXCLUDED.rows, finished_at = now(), error = NULL, duration_ms = "
            "EXCLUDED.duration_ms",
            {def.name.c_str(), from.c_str(), every.c_str(), ev.c_str(), ms.c_str()},
            "batch: record the unit in lf_batch_units")
          .status());
  return Query(c, "SELECT pg_notify('lf_speed', $1)", {def.name.c_str()}, "batch: notify").status();
}

absl::Status PgMetricBatchStore::RecordFailure(int64_t unit_s, const std::string& error) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), target_));
  const std::string from = std::to_string(unit_s);
  const std::string every = std::to_string(def_->batch.every.count());
  // A failure never hides an earlier success: the unit keeps status 'ok' and its rows.
  return Query(conn_.get(),
               "INSERT INTO lf_batch_units (pipeline, unit_start, unit_s, status, finished_at, "
               "error) VALUES ($1, to_timestamp($2::bigint) AT TIME ZONE 'UTC', $3, 'failed', "
               "now(), $4) ON CONFLICT (pipeline, unit_start) DO UPDATE SET error = "
               "EXCLUDED.error",
               {def_->name.c_str(), from.c_str(), every.c_str(), error.c_str()},
               "batch: record the failure in lf_batch_units")
      .status();
}

absl::StatusOr<std::vector<int64_t>> PgMetricBatchStore::PendingUnits() {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), target_));
  const std::string every = std::to_string(def_->batch.every.count());
  LF_ASSIGN_OR_RETURN(
      PgResult r,
      Query(conn_.get(),
            "WITH h AS (SELECT floor(extract(epoch FROM hour) / $2::bigint)::bigint * $2::bigint "
            "AS unit, hour, updated_at, success_at FROM lf_lake_hours WHERE dataset = $1), "
            "done_to AS (SELECT max(extract(epoch FROM hour))::bigint + 3600 AS t FROM h WHERE "
            "success_at IS NOT NULL), "
            "units AS (SELECT unit, max(updated_at) AS changed FROM h GROUP BY unit) "
            "SELECT u.unit FROM units u CROSS JOIN done_to d LEFT JOIN lf_batch_units b ON "
            "b.pipeline = $3 AND b.unit_start = to_timestamp(u.unit) "
            "AT TIME ZONE 'UTC' WHERE u.unit + $2::bigint <= d.t AND (b.status IS DISTINCT FROM "
            "'ok' OR u.changed > b.finished_at) ORDER BY u.unit",
            {def_->lake.dataset.c_str(), every.c_str(), def_->name.c_str()},
            "batch: find pending units"));
  std::vector<int64_t> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(std::atoll(PQgetvalue(r.get(), i, 0)));
  return out;
}

}  // namespace lf::postgres
