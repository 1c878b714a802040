#include "postgres/metric_sink.h"

#include "common/status.h"
#include "fmt/format.h"
#include "postgres/identifier.h"
#include "postgres/pipeline_schema.h"
#include "postgres/schema.h"
#include "postgres/sql_array.h"

namespace lf::postgres {
namespace {

using pipeline::AggregateKind;

// The merge statement of one metric. Parameters: $1 window starts (bigint[]), then one text[]
// per group field, then the values: bigint[] or float8[] (avg: float8[] sums and bigint[]
// counts; count_distinct: text[] members).
absl::StatusOr<std::string> UpsertSql(const pipeline::Definition& def,
                                      const pipeline::MetricDef& m) {
  LF_ASSIGN_OR_RETURN(std::string table, QuoteTableName(m.table, "metric table"));
  std::string cols, casts, params, names, conflict = "window_start";
  int n = 2;
  for (size_t g = 0; g < m.group_by.size(); ++g) {
    const pipeline::FieldDef* f = def.Field(m.group_by[g]);
    const std::string type(pipeline::ColumnSqlType(f->type));
    cols += ", " + GroupColumn(m.group_by[g]);
    casts += fmt::format(", u.g{}::{}", g, type);
    params += fmt::format(", ${}::text[]", n++);
    names += fmt::format(", g{}", g);
    conflict += ", " + GroupColumn(m.group_by[g]);
  }
  const bool integer = pipeline::HasIntegerValues(def, m);
  const std::string v_type = integer ? "bigint" : "float8";
  const std::string insert_rows = fmt::format(
      "SELECT to_timestamp(u.w) AT TIME ZONE 'UTC'{} {{values}} FROM "
      "unnest($1::bigint[]{}{{params}}) "
      "AS u(w{}{{names}})",
      casts, params, names);
  auto rows = [&](const std::string& values, const std::string& more_params,
                  const std::string& more_names) {
    std::string s = insert_rows;
    s.replace(s.find("{values}"), 8, values);
    s.replace(s.find("{params}"), 8, more_params);
    s.replace(s.find("{names}"), 7, more_names);
    return s;
  };
  switch (m.aggregate) {
    case AggregateKind::kCount:
    case AggregateKind::kSum:
    case AggregateKind::kMin:
    case AggregateKind::kMax: {
      std::string merge;
      if (m.aggregate == AggregateKind::kMin) {
        merge = "LEAST(t.value, EXCLUDED.value)";
      } else if (m.aggregate == AggregateKind::kMax) {
        merge = "GREATEST(t.value, EXCLUDED.value)";
      } else if (integer) {
        // Saturates at the BIGINT range instead of failing the flush.
        merge =
            "LEAST(GREATEST(t.value::numeric + EXCLUDED.value, -9223372036854775808), "
            "9223372036854775807)::bigint";
      } else {
        merge = "t.value + EXCLUDED.value";
      }
      return fmt::format(
          "INSERT INTO {} AS t (window_start{}, value, updated_at) {} "
          "ON CONFLICT ({}) DO UPDATE SET value = {}, updated_at = now()",
          table, cols, rows(", u.v, now()", fmt::format(", ${}::{}[]", n, v_type), ", v"), conflict,
          merge);
    }
    case AggregateKind::kAvg:
      return fmt::format(
          "INSERT INTO {} AS t (window_start{}, value, value_sum, value_count, updated_at) {} "
          "ON CONFLICT ({}) DO UPDATE SET value_sum = t.value_sum + EXCLUDED.value_sum, "
          "value_count = t.value_count + EXCLUDED.value_count, value = (t.value_sum + "
          "EXCLUDED.value_sum) / NULLIF(t.value_count + EXCLUDED.value_count, 0), "
          "updated_at = now()",
          table, cols,
          rows(", u.s / NULLIF(u.c, 0), u.s, u.c, now()",
               fmt::format(", ${}::float8[], ${}::bigint[]", n, n + 1), ", s, c"),
          conflict);
    case AggregateKind::kCountDistinct: {
      LF_ASSIGN_OR_RETURN(std::string members, QuoteTableName(MembersTable(m), "members table"));
      std::string group_cols;
      for (const std::string& g : m.group_by) group_cols += ", " + GroupColumn(g);
      return fmt::format(
          "WITH ins AS (INSERT INTO {} (window_start{}, member) {} ON CONFLICT DO NOTHING "
          "RETURNING window_start{}), added AS (SELECT window_start{}, count(*) AS n FROM ins "
          "GROUP BY window_start{}) "
          "INSERT INTO {} AS t (window_start{}, value, updated_at) SELECT window_start{}, n, now() "
          "FROM added ON CONFLICT ({}) DO UPDATE SET value = t.value + EXCLUDED.value, "
          "updated_at = now()",
          members, group_cols, rows(", u.v", fmt::format(", ${}::text[]", n), ", v"), group_cols,
          group_cols, group_cols, table, group_cols, group_cols, conflict);
    }
  }
  return Internal("postgres: unknown aggregate");
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgMetricSink>> PgMetricSink::Open(const MetricSinkOptions& options) {
  const pipeline::Definition& def = *options.definition;
  if (def.postgres.layout != pipeline::Layout::kWide) {
    return InvalidArgument("postgres: pipeline {} does not use the wide layout", def.name);
  }
  std::vector<std::string> upserts;
  for (const pipeline::MetricDef& m : def.metrics) {
    LF_ASSIGN_OR_RETURN(std::string sql, UpsertSql(def, m));
    upserts.push_back(std::move(sql));
  }
  LF_ASSIGN_OR_RETURN(PgConn conn, Connect(options.target));
  // Provisioning takes locks a running writer holds: only when something is missing.
  SqlArray tables;
  for (const pipeline::MetricDef& m : def.metrics) {
    tables.AddText(m.table);
    if (m.aggregate == AggregateKind::kCountDistinct) tables.AddText(MembersTable(m));
  }
  LF_ASSIGN_OR_RETURN(
      PgResult r,
      Query(conn.get(),
            "SELECT count(*) FROM unnest($1::text[]) AS t(name) WHERE to_regclass(name) IS NULL "
            "OR to_regclass('lf_offsets') IS NULL OR to_regclass('lf_metrics') IS NULL",
            {tables.Finish().c_str()}, "speed: check the pipeline's tables"));
  if (std::atoll(PQgetvalue(r.get(), 0, 0)) > 0) {
    LF_RETURN_IF_ERROR(ProvisionPipeline(conn.get(), def));
  }
  return std::unique_ptr<PgMetricSink>(
      new PgMetricSink(options, std::move(upserts), std::move(conn)));
}

PgMetricSink::PgMetricSink(MetricSinkOptions options, std::vector<std::string> upserts, PgConn conn)
    : options_(std::move(options)),
      upserts_(std::move(upserts)),
      key_{options_.pipeline, "pg:" + options_.definition->name, options_.topic},
      conn_(std::move(conn)) {}

absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> PgMetricSink::Load(
    const std::vector<int32_t>& partitions) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return LoadOffsets(conn_.get(), key_, partitions);
}

absl::Status PgMetricSink::Commit(const pipeline::SpeedFlush& flush) {
  LF_RETURN_IF_ERROR(EnsureConnected(conn_.get(), options_.target));
  return InTransaction(conn_.get(), "flush", [&] { return CommitBody(flush); });
}

absl::Status PgMetricSink::CommitBody(const pipeline::SpeedFlush& flush) {
  PGconn* c = conn_.get();
  LF_RETURN_IF_ERROR(LockAndCheckOffsets(c, key_, flush.progress));
  const pipeline::Definition& def = *options_.definition;
  for (uint32_t mi = 0; mi < def.metrics.size(); ++mi) {
    const pipeline::MetricDef& m = def.metrics[mi];
    const bool distinct = m.aggregate == AggregateKind::kCountDistinct;
    const bool integer = pipeline::HasIntegerValues(def, m);
    SqlArray starts, values, counts, floats;
    std::vector<SqlArray> groups(m.group_by.size());
    size_t rows = 0;
    auto add_row = [&](const pipeline::MetricRow& r) {
      starts.AddInt(r.window_start_s);
      for (size_t g = 0; g < groups.size(); ++g) groups[g].AddText(r.group[g]);
      ++rows;
    };
    for (const pipeline::MetricRow& r : flush.metric_rows) {
      if (r.metric != mi) continue;
      if (distinct) {
        for (const std::string& member : r.members) {
          add_row(r);
          values.AddText(member);
        }
        continue;
      }
      add_row(r);
      switch (m.aggregate) {
        case AggregateKind::kCount:
          values.AddInt(r.count);
          break;
        case AggregateKind::kAvg:
          floats.AddDouble(r.d);
          counts.AddInt(r.count);
          break;
        default:
          if (integer) {
            values.AddInt(r.i);
          } else {
            floats.AddDouble(r.d);
          }
          break;
      }
    }
    if (rows == 0) continue;
    std::vector<std::string> texts;
    texts.push_back(starts.Finish());
    for (SqlArray& g : groups) texts.push_back(g.Finish());
    if (m.aggregate == AggregateKind::kAvg) {
      texts.push_back(floats.Finish());
      texts.push_back(counts.Finish());
    } else if (!integer && !distinct) {
      texts.push_back(floats.Finish());
    } else {
      texts.push_back(values.Finish());
    }
    std::vector<const char*> params;
    for (const std::string& t : texts) params.push_back(t.c_str());
    LF_RETURN_IF_ERROR(Query(c, upserts_[mi], params,
                             fmt::format("flush: merge metric {} into {}", m.name, m.table))
                           .status());
  }
  LF_RETURN_IF_ERROR(InsertDeadLetters(c, options_.topic, flush.dead_letters));
  LF_RETURN_IF_ERROR(RecordLosses(c, options_.pipeline, options_.topic, flush.losses));
  LF_RETURN_IF_ERROR(AdvanceOffsets(c, key_, flush.progress));
  return NotifySpeed(c, options_.pipeline);
}

}  // namespace lf::postgres
