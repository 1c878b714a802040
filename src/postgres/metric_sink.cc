#include "postgres/metric_sink.h"

#include <algorithm>

#include "common/status.h"
#include "fmt/format.h"
#include "postgres/identifier.h"
#include "postgres/pipeline_schema.h"
#include "postgres/schema.h"
#include "postgres/sql_array.h"

namespace lf::postgres {
namespace {

using pipeline::AggregateKind;

// The merge statement of one metric. Parameters, all binary arrays (BinaryArray): $1 window
// starts (timestamp[]), then one text[] per group field, then the values: bigint[] or float8[]
// (avg: float8[] sums and bigint[] counts; count_distinct: text[] members).
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
      "SELECT u.w{} {{values}} FROM "
      "unnest($1::timestamp[]{}{{params}}) "
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
  // Each metric's rows in its unique key's order (window, then the group values as text): the
  // index fills page by page, and processes of one group lock shared rows in the same order.
  std::vector<std::vector<const pipeline::MetricRow*>> by_metric(def.metrics.size());
  for (const pipeline::MetricRow& r : flush.metric_rows) {
    if (r.metric < by_metric.size()) by_metric[r.metric].push_back(&r);
  }
  for (auto& rows : by_metric) {
    std::sort(rows.begin(), rows.end(),
              [](const pipeline::MetricRow* x, const pipeline::MetricRow* y) {
                if (x->window_start_s != y->window_start_s)
                  return x->window_start_s < y->window_start_s;
                return x->group < y->group;
              });
  }
  for (uint32_t mi = 0; mi < def.metrics.size(); ++mi) {
    if (by_metric[mi].empty()) continue;
    const pipeline::MetricDef& m = def.metrics[mi];
    const bool distinct = m.aggregate == AggregateKind::kCountDistinct;
    const bool integer = pipeline::HasIntegerValues(def, m);
    using T = BinaryArray::Type;
    BinaryArray starts(T::kTimestamp), counts(T::kInt8), floats(T::kFloat8),
        values(distinct ? T::kText : T::kInt8);
    std::vector<BinaryArray> groups(m.group_by.size(), BinaryArray(T::kText));
    auto add_row = [&](const pipeline::MetricRow& r) {
      starts.AddTimestamp(r.window_start_s);
      for (size_t g = 0; g < groups.size(); ++g) groups[g].AddText(r.group[g]);
    };
    std::vector<const std::string*> members;
    for (const pipeline::MetricRow* row : by_metric[mi]) {
      const pipeline::MetricRow& r = *row;
      if (distinct) {
        members.clear();
        for (const std::string& member : r.members) members.push_back(&member);
        std::sort(members.begin(), members.end(),
                  [](const std::string* a, const std::string* b) { return *a < *b; });
        for (const std::string* member : members) {
          add_row(r);
          values.AddText(*member);
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
    if (starts.empty()) continue;
    std::vector<std::string_view> params;
    params.push_back(starts.Finish());
    for (BinaryArray& g : groups) params.push_back(g.Finish());
    if (m.aggregate == AggregateKind::kAvg) {
      params.push_back(floats.Finish());
      params.push_back(counts.Finish());
    } else if (!integer && !distinct) {
      params.push_back(floats.Finish());
    } else {
      params.push_back(values.Finish());
    }
    LF_RETURN_IF_ERROR(QueryBinary(c, upserts_[mi], params,
                                   fmt::format("flush: merge metric {} into {}", m.name, m.table))
                           .status());
  }
  LF_RETURN_IF_ERROR(InsertDeadLetters(c, options_.topic, flush.dead_letters));
  LF_RETURN_IF_ERROR(RecordLosses(c, options_.pipeline, options_.topic, flush.losses));
  LF_RETURN_IF_ERROR(AdvanceOffsets(c, key_, flush.progress));
  return NotifySpeed(c, options_.pipeline);
}

}  // namespace lf::postgres
