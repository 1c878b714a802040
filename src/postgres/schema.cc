#include "postgres/schema.h"

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <thread>

#include "common/status.h"
#include "postgres/identifier.h"
#include "postgres/pipeline_schema.h"
#include "postgres/sql_array.h"
#include "spdlog/spdlog.h"

namespace lf::postgres {
namespace {

// Arbitrary constant: the advisory lock that serializes schema changes by Lambdaflow processes.
constexpr char kLock[] = "SELECT pg_advisory_xact_lock(7466230149)";

struct User {
  const char* suffix;
  const char* name;
  int64_t quota;
};
constexpr User kUsers[] = {
    {"01", "andres", 200000},   {"02", "paco", 300000},     {"03", "juan", 100000},
    {"04", "fede", 5000},       {"05", "gorka", 200000},    {"06", "luis", 200000},
    {"07", "eric", 300000},     {"08", "carlos", 100000},   {"09", "david", 300000},
    {"10", "juanchu", 300000},  {"11", "charo", 300000},    {"12", "delicidas", 1000000},
    {"13", "milagros", 200000}, {"14", "antonio", 1000000}, {"15", "sergio", 1000000},
    {"16", "maria", 1000000},   {"17", "cristina", 300000}, {"18", "lucia", 300000},
    {"19", "carlota", 200000},  {"20", "emilio", 200000},
};

using Columns = std::vector<std::pair<const char*, const char*>>;  // name (SQL), type

const Columns kWindowColumns = {
    {"timestamp", "TIMESTAMP"}, {"id", "TEXT"}, {"value", "BIGINT"}, {"type", "TEXT"}};
const Columns kQuotaColumns = {
    {"email", "TEXT"}, {"usage", "BIGINT"}, {"quota", "BIGINT"}, {"timestamp", "TIMESTAMP"}};
const Columns kUserColumns = {
    {"id", "TEXT"}, {"name", "TEXT"}, {"email", "TEXT"}, {"quota", "BIGINT"}};

// The internal tables, in creation order.
const std::vector<std::pair<const char*, Columns>>& InternalTableSpecs() {
  static const auto* specs = new std::vector<std::pair<const char*, Columns>>{
      {"lf_offsets",
       {{"pipeline", "TEXT NOT NULL"},
        {"sink", "TEXT NOT NULL"},
        {"topic", "TEXT NOT NULL"},
        {"partition", "INT NOT NULL"},
        {"next_offset", "BIGINT NOT NULL DEFAULT -1"},
        {"max_event_time_s", "BIGINT"},
        {"events", "BIGINT NOT NULL DEFAULT 0"},
        {"bad", "BIGINT NOT NULL DEFAULT 0"},
        {"late", "BIGINT NOT NULL DEFAULT 0"},
        {"lost", "BIGINT NOT NULL DEFAULT 0"},
        {"lag", "BIGINT"},
        {"updated_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"}}},
      {"lf_data_loss",
       {{"detected_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"},
        {"pipeline", "TEXT NOT NULL"},
        {"topic", "TEXT NOT NULL"},
        {"partition", "INT NOT NULL"},
        {"from_offset", "BIGINT NOT NULL"},
        {"to_offset", "BIGINT NOT NULL"},
        {"lost", "BIGINT NOT NULL"}}},
      {"dead_letters",
       {{"received_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"},
        {"topic", "TEXT"},
        {"partition", "INT"},
        {"\"offset\"", "BIGINT"},
        {"payload", "BYTEA"},
        {"error", "TEXT"},
        // Rows of landing files (the ingestion engine, SPEC §6.2): which pipeline, file and row.
        {"pipeline", "TEXT"},
        {"source_file", "TEXT"},
        {"source_row", "BIGINT"}}},
      {"lf_lake_files",
       {{"path", "TEXT NOT NULL"},
        {"dataset", "TEXT NOT NULL"},
        {"hour", "TIMESTAMP NOT NULL"},
        {"temp_path", "TEXT NOT NULL"},
        {"rows", "BIGINT NOT NULL"},
        {"bytes", "BIGINT NOT NULL"},
        {"pipeline", "TEXT"},
        {"committed_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"},
        {"published", "BOOLEAN NOT NULL DEFAULT false"}}},
      {"lf_lake_hours",
       {{"dataset", "TEXT NOT NULL"},
        {"hour", "TIMESTAMP NOT NULL"},
        {"files", "INT NOT NULL DEFAULT 0"},
        {"rows", "BIGINT NOT NULL DEFAULT 0"},
        {"success_at", "TIMESTAMPTZ"},
        {"needs_rerun", "BOOLEAN NOT NULL DEFAULT false"},
        {"late_rows", "BIGINT NOT NULL DEFAULT 0"},
        {"batched_at", "TIMESTAMPTZ"},
        {"updated_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"}}},
      {"lf_batch_runs",
       {{"hour", "TIMESTAMP NOT NULL"},
        {"started_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"},
        {"finished_at", "TIMESTAMPTZ"},
        {"status", "TEXT NOT NULL"},
        {"events", "BIGINT"},
        {"files", "INT"},
        {"unknown_devices", "INT"},
        {"duration_ms", "BIGINT"},
        {"error", "TEXT"}}},
      // The ingestion engine's manifest (SPEC §6.3): one row per landing file taken, committed
      // with its rows in bronze; a file is known by path, size and content.
      {"lf_ingested_files",
       {{"pipeline", "TEXT NOT NULL"},
        {"path", "TEXT NOT NULL"},
        {"size", "BIGINT NOT NULL"},
        {"mtime", "TIMESTAMPTZ"},
        {"sha256", "TEXT NOT NULL"},
        {"batch_id", "TEXT NOT NULL"},
        {"rows", "BIGINT NOT NULL DEFAULT 0"},
        {"bad_rows", "BIGINT NOT NULL DEFAULT 0"},
        {"status", "TEXT NOT NULL"},
        {"error", "TEXT"},
        {"ingested_at", "TIMESTAMPTZ NOT NULL DEFAULT now()"}}},
  };
  return *specs;
}

// CREATE TABLE IF NOT EXISTS plus ADD COLUMN IF NOT EXISTS for each column, so a seeds-era table
// missing a column gets it without losing rows. `storage` is a WITH clause for a new table.
std::string TableDdl(const std::string& table, const Columns& columns,
                     std::string_view storage = "") {
  std::string sql = fmt::format("CREATE TABLE IF NOT EXISTS {} (", table);
  for (size_t i = 0; i < columns.size(); ++i)
    sql += fmt::format("{}{} {}", i ? ", " : "", columns[i].first, columns[i].second);
  sql += fmt::format("){};\n", storage);
  for (const auto& [name, type] : columns)
    sql += fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {};\n", table, name, type);
  return sql;
}

// Adds a unique index unless present. Existing duplicate rows make that impossible without
// deleting data, so it is reported and skipped rather than failing provisioning.
absl::Status EnsureUniqueIndex(PGconn* conn, const std::string& raw_table, const std::string& table,
                               const char* suffix, const char* columns) {
  std::string index = DerivedName(raw_table, suffix);
  LF_RETURN_IF_ERROR(Exec(conn, "SAVEPOINT lf_index", "provision: savepoint"));
  auto st = Exec(
      conn, fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})", index, table, columns),
      fmt::format("provision: unique key on {} ({})", raw_table, columns));
  if (!st.ok()) {
    LF_RETURN_IF_ERROR(
        Exec(conn, "ROLLBACK TO SAVEPOINT lf_index", "provision: rollback to savepoint"));
    spdlog::warn("{} (the table keeps its rows; remove duplicate ({}) rows and provision again)",
                 Message(st), columns);
    return absl::OkStatus();
  }
  return Exec(conn, "RELEASE SAVEPOINT lf_index", "provision: release savepoint");
}

absl::Status InternalTables(PGconn* conn) {
  std::string sql;
  for (const auto& [table, columns] : InternalTableSpecs()) sql += TableDdl(table, columns);
  sql +=
      "CREATE UNIQUE INDEX IF NOT EXISTS lf_offsets_key ON lf_offsets (pipeline, sink, topic, "
      "partition);\n"
      "CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_source_key ON dead_letters (topic, "
      "partition, \"offset\");\n"
      "CREATE UNIQUE INDEX IF NOT EXISTS lf_lake_files_key ON lf_lake_files (path);\n"
      "CREATE UNIQUE INDEX IF NOT EXISTS lf_ingested_files_key ON lf_ingested_files (pipeline, "
      "path, size, sha256);\n"
      "CREATE UNIQUE INDEX IF NOT EXISTS lf_lake_hours_key ON lf_lake_hours (dataset, hour);\n"
      "CREATE INDEX IF NOT EXISTS lf_batch_runs_hour ON lf_batch_runs (hour);\n";
  return Exec(conn, sql,
              "provision: internal tables (lf_offsets, lf_data_loss, dead_letters, lf_lake_files, "
              "lf_lake_hours, lf_batch_runs, lf_ingested_files)");
}

absl::Status WindowTable(PGconn* conn, const std::string& raw, const std::string& quoted,
                         bool speed) {
  LF_RETURN_IF_ERROR(Exec(conn, TableDdl(quoted, kWindowColumns, speed ? kSpeedTableStorage : ""),
                          fmt::format("provision: table {}", raw)));
  return EnsureUniqueIndex(conn, raw, quoted, "window_key", "\"timestamp\", id, type");
}

// The lambda serving views: per hour the batch result where the batch has run, else the roll-up of
// the speed layer's 5-minute windows; and speed versus batch per hour, key and metric.
absl::Status Views(PGconn* conn, const std::string& bytes, const std::string& hourly) {
  std::string sql = fmt::format(R"(
CREATE OR REPLACE VIEW bytes_hourly_lambda AS
WITH speed AS (
  SELECT date_trunc('hour', "timestamp") AS "timestamp", id, sum(value)::bigint AS value, type
  FROM {0} GROUP BY 1, 2, 4),
batched AS (SELECT DISTINCT hour FROM lf_batch_runs WHERE status = 'ok')
SELECT b."timestamp", b.id, b.value, b.type, 'batch'::text AS layer
FROM {1} b WHERE b."timestamp" IN (SELECT hour FROM batched)
UNION ALL
SELECT s."timestamp", s.id, s.value, s.type, 'speed'::text AS layer
FROM speed s WHERE s."timestamp" NOT IN (SELECT hour FROM batched);

CREATE OR REPLACE VIEW speed_batch_diff AS
WITH speed AS (
  SELECT date_trunc('hour', "timestamp") AS "timestamp", id, type, sum(value)::bigint AS value
  FROM {0} GROUP BY 1, 2, 3),
batched AS (SELECT DISTINCT hour FROM lf_batch_runs WHERE status = 'ok'),
batch AS (SELECT "timestamp", id, type, value FROM {1}
          WHERE type <> 'user_email_bytes_total' AND "timestamp" IN (SELECT hour FROM batched))
SELECT COALESCE(b."timestamp", s."timestamp") AS "timestamp", COALESCE(b.id, s.id) AS id,
       COALESCE(b.type, s.type) AS type, s.value AS speed_value, b.value AS batch_value,
       COALESCE(s.value, 0) - COALESCE(b.value, 0) AS diff
FROM batch b FULL OUTER JOIN (SELECT * FROM speed WHERE "timestamp" IN (SELECT hour FROM batched)) s
  ON s."timestamp" = b."timestamp" AND s.id = b.id AND s.type = b.type;
)",
                                bytes, hourly);
  return Exec(conn, sql, "provision: views bytes_hourly_lambda and speed_batch_diff");
}

// One transaction holding the schema advisory lock.
absl::Status Serialized(PGconn* conn, const std::function<absl::Status()>& body) {
  return InTransaction(conn, "provision", [&]() -> absl::Status {
    LF_RETURN_IF_ERROR(Exec(conn, kLock, "provision: advisory lock"));
    return body();
  });
}

// What a process needs of the schema, checked with one catalog query, so that starting a
// process does no DDL (whose ACCESS EXCLUSIVE locks would queue behind, or deadlock with, the
// transactions of running or just-killed writers) unless something is missing.
class SchemaCheck {
 public:
  // Every column of `table` (as quoted SQL).
  void AddTable(const std::string& table, const Columns& columns) {
    for (const auto& [name, type] : columns) {
      std::string_view column = name;
      if (column.size() >= 2 && column.front() == '"') column = column.substr(1, column.size() - 2);
      tables_.AddText(table);
      columns_.AddText(column);
    }
  }
  // A unique index of `table` on exactly these columns, in order (comma-separated).
  void AddKey(const std::string& table, std::string_view columns) {
    key_tables_.AddText(table);
    key_columns_.AddText(columns);
  }
  // The internal tables and their unique keys.
  void AddInternal() {
    for (const auto& [table, columns] : InternalTableSpecs()) AddTable(table, columns);
    AddKey("lf_offsets", "pipeline,sink,topic,partition");
    AddKey("dead_letters", "topic,partition,offset");
    AddKey("lf_lake_files", "path");
    AddKey("lf_lake_hours", "dataset,hour");
  }
  // How many of the columns and keys are missing.
  absl::StatusOr<int64_t> Missing(PGconn* conn) {
    LF_ASSIGN_OR_RETURN(
        PgResult r,
        Query(conn,
              "SELECT (SELECT count(*) FROM unnest($1::text[], $2::text[]) AS w(t, c) WHERE NOT "
              "EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = to_regclass(w.t) AND "
              "a.attname = w.c AND a.attnum > 0 AND NOT a.attisdropped)) + (SELECT count(*) FROM "
              "unnest($3::text[], $4::text[]) AS k(t, c) WHERE NOT EXISTS (SELECT 1 FROM pg_index "
              "i WHERE i.indrelid = to_regclass(k.t) AND i.indisunique AND i.indpred IS NULL AND "
              "(SELECT string_agg(a.attname, ',' ORDER BY x.n) FROM unnest(i.indkey::int2[]) WITH "
              "ORDINALITY AS x(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND "
              "a.attnum = x.attnum) = k.c))",
              {tables_.Finish().c_str(), columns_.Finish().c_str(), key_tables_.Finish().c_str(),
               key_columns_.Finish().c_str()},
              "postgres: check the schema"));
    return static_cast<int64_t>(std::atoll(PQgetvalue(r.get(), 0, 0)));
  }

 private:
  SqlArray tables_, columns_, key_tables_, key_columns_;
};

// Runs schema DDL again when PostgreSQL broke a deadlock by cancelling it (a writer's transaction
// can hold locks the DDL needs while waiting for one the DDL holds).
absl::Status RetryingDeadlocks(const std::function<absl::Status()>& ddl) {
  for (int attempt = 1;; ++attempt) {
    absl::Status st = ddl();
    if (!absl::IsUnavailable(st) || attempt == 5) return st;
    spdlog::warn("{}; retrying", Message(st));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
  }
}

}  // namespace

absl::Status EnsureLakeTables(PGconn* conn) {
  SchemaCheck check;
  check.AddInternal();
  LF_ASSIGN_OR_RETURN(int64_t missing, check.Missing(conn));
  if (missing == 0) return absl::OkStatus();
  return RetryingDeadlocks([&] { return Serialized(conn, [&] { return InternalTables(conn); }); });
}

absl::Status EnsureSpeedTables(PGconn* conn, const std::string& table) {
  LF_ASSIGN_OR_RETURN(std::string quoted, QuoteTableName(table, "--table"));
  SchemaCheck check;
  check.AddInternal();
  check.AddTable(quoted, kWindowColumns);
  check.AddKey(quoted, "timestamp,id,type");
  LF_ASSIGN_OR_RETURN(int64_t missing, check.Missing(conn));
  if (missing == 0) return absl::OkStatus();
  return RetryingDeadlocks([&] {
    return Serialized(conn, [&]() -> absl::Status {
      LF_RETURN_IF_ERROR(InternalTables(conn));
      return WindowTable(conn, table, quoted, /*speed=*/true);
    });
  });
}

absl::Status EnsureBatchTables(PGconn* conn, const SchemaOptions& o) {
  LF_ASSIGN_OR_RETURN(std::string users,
                      QuoteTableName(o.user_metadata_table, "--user-metadata-table"));
  LF_ASSIGN_OR_RETURN(std::string hourly,
                      QuoteTableName(o.bytes_hourly_table, "--bytes-hourly-table"));
  LF_ASSIGN_OR_RETURN(std::string quota,
                      QuoteTableName(o.user_quota_limit_table, "--user-quota-limit-table"));
  SchemaCheck check;
  check.AddInternal();
  check.AddTable(hourly, kWindowColumns);
  check.AddTable(quota, kQuotaColumns);
  check.AddTable(users, kUserColumns);
  LF_ASSIGN_OR_RETURN(int64_t missing, check.Missing(conn));
  if (missing == 0) return absl::OkStatus();
  spdlog::info("batch: {} column(s) or key(s) missing; provisioning", missing);
  return RetryingDeadlocks([&] { return Provision(conn, o, /*views=*/false); });
}

absl::Status Provision(PGconn* conn, const SchemaOptions& o, bool views) {
  LF_ASSIGN_OR_RETURN(std::string users,
                      QuoteTableName(o.user_metadata_table, "--user-metadata-table"));
  LF_ASSIGN_OR_RETURN(std::string bytes, QuoteTableName(o.bytes_table, "--bytes-table"));
  LF_ASSIGN_OR_RETURN(std::string hourly,
                      QuoteTableName(o.bytes_hourly_table, "--bytes-hourly-table"));
  LF_ASSIGN_OR_RETURN(std::string quota,
                      QuoteTableName(o.user_quota_limit_table, "--user-quota-limit-table"));
  return Serialized(conn, [&]() -> absl::Status {
    LF_RETURN_IF_ERROR(InternalTables(conn));
    LF_RETURN_IF_ERROR(WindowTable(conn, o.bytes_table, bytes, /*speed=*/true));
    LF_RETURN_IF_ERROR(WindowTable(conn, o.bytes_hourly_table, hourly, /*speed=*/false));
    LF_RETURN_IF_ERROR(Exec(conn, TableDdl(quota, kQuotaColumns),
                            fmt::format("provision: table {}", o.user_quota_limit_table)));
    LF_RETURN_IF_ERROR(EnsureUniqueIndex(conn, o.user_quota_limit_table, quota, "hour_key",
                                         "\"timestamp\", email"));
    LF_RETURN_IF_ERROR(Exec(conn, TableDdl(users, kUserColumns),
                            fmt::format("provision: table {}", o.user_metadata_table)));
    LF_RETURN_IF_ERROR(EnsureUniqueIndex(conn, o.user_metadata_table, users, "id_key", "id"));
    if (views) LF_RETURN_IF_ERROR(Views(conn, bytes, hourly));
    // Adds the course's users that are missing; never overwrites a row someone changed.
    std::string values;
    for (const User& u : kUsers) {
      values += fmt::format("{}('00000000-0000-0000-0000-0000000000{}', '{}', '{}@gmail.com', {})",
                            values.empty() ? "" : ", ", u.suffix, u.name, u.name, u.quota);
    }
    return Exec(
        conn,
        fmt::format("INSERT INTO {0} (id, name, email, quota) SELECT v.id, v.name, v.email, "
                    "v.quota FROM (VALUES {1}) AS v(id, name, email, quota) WHERE NOT EXISTS "
                    "(SELECT 1 FROM {0} u WHERE u.id = v.id)",
                    users, values),
        fmt::format("provision: load {}", o.user_metadata_table));
  });
}

namespace {

absl::Status WriteCatalog(PGconn* conn, const pipeline::Definition& def) {
  const bool kafka = def.source.kind == pipeline::SourceKind::kKafka;
  const std::string lateness = std::to_string(def.lateness.count());
  const std::string every = std::to_string(def.batch.every.count());
  const std::string layout = def.postgres.layout == pipeline::Layout::kWide ? "wide" : "long";
  const std::string partition(pipeline::LakePartitionName(def.lake.partition));
  const std::string format(pipeline::FormatName(def.source.format));
  LF_RETURN_IF_ERROR(
      Query(conn,
            "INSERT INTO lf_pipelines (name, file, source, topic, format, layout, event_time, "
            "lateness_ms, lake_dataset, lake_partition, batch_every_s) VALUES ($1, $2, $3, $4, "
            "$5, $6, $7, $8, $9, $10, $11) ON CONFLICT (name) DO UPDATE SET file = "
            "EXCLUDED.file, source = EXCLUDED.source, topic = EXCLUDED.topic, format = "
            "EXCLUDED.format, layout = EXCLUDED.layout, event_time = EXCLUDED.event_time, "
            "lateness_ms = EXCLUDED.lateness_ms, lake_dataset = EXCLUDED.lake_dataset, "
            "lake_partition = EXCLUDED.lake_partition, batch_every_s = EXCLUDED.batch_every_s, "
            "provisioned_at = now()",
            {def.name.c_str(), def.file.c_str(), kafka ? "kafka" : "landing",
             kafka ? def.source.topic.c_str() : def.source.landing.c_str(), format.c_str(),
             layout.c_str(), def.event_time.empty() ? nullptr : def.event_time.c_str(),
             lateness.c_str(), def.lake.dataset.empty() ? nullptr : def.lake.dataset.c_str(),
             def.lake.dataset.empty() ? nullptr : partition.c_str(),
             def.batch.enabled ? every.c_str() : nullptr},
            fmt::format("provision: catalog row of pipeline {}", def.name))
          .status());
  LF_RETURN_IF_ERROR(Query(conn, "DELETE FROM lf_metrics WHERE pipeline = $1", {def.name.c_str()},
                           "provision: clear the catalog's metrics")
                         .status());
  int position = 0;
  auto add = [&](const char* kind, const std::string& name, std::chrono::seconds window,
                 const std::vector<std::string>& group_by, const std::string& aggregate,
                 const std::string& expr, const std::string& table,
                 std::string_view value_type) -> absl::Status {
    SqlArray groups;
    for (const std::string& g : group_by) groups.AddText(g);
    const std::string window_s = std::to_string(window.count());
    const std::string pos = std::to_string(position++);
    const std::string type(value_type);
    return Query(conn,
                 "INSERT INTO lf_metrics (pipeline, name, kind, window_s, group_by, aggregate, "
                 "expr, table_name, layout, value_type, position) VALUES ($1, $2, $3, $4, "
                 "$5::text[], $6, $7, $8, $9, $10, $11)",
                 {def.name.c_str(), name.c_str(), kind, window_s.c_str(), groups.Finish().c_str(),
                  aggregate.empty() ? nullptr : aggregate.c_str(),
                  expr.empty() ? nullptr : expr.c_str(), table.c_str(), layout.c_str(),
                  type.c_str(), pos.c_str()},
                 fmt::format("provision: catalog row of metric {}", name))
        .status();
  };
  const bool wide = def.postgres.layout == pipeline::Layout::kWide;
  for (const pipeline::MetricDef& m : def.metrics) {
    LF_RETURN_IF_ERROR(add("metric", m.name, m.window, m.group_by, pipeline::AggregateText(m), "",
                           wide ? m.table : def.postgres.table, pipeline::ValueSqlType(def, m)));
  }
  for (const pipeline::DerivedDef& d : def.derived) {
    LF_RETURN_IF_ERROR(
        add("derived", d.name, d.window, d.group_by, "", d.expr_text, d.name, "DOUBLE PRECISION"));
  }
  for (const pipeline::MetricDef& m : def.batch.metrics) {
    LF_RETURN_IF_ERROR(add("batch", m.name, m.window, m.group_by, pipeline::AggregateText(m), "",
                           wide ? m.table : def.batch.table, pipeline::ValueSqlType(def, m)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ProvisionPipeline(PGconn* conn, const pipeline::Definition& def) {
  std::vector<SqlStatement> ddl;
  if (def.postgres.layout == pipeline::Layout::kWide) {
    LF_ASSIGN_OR_RETURN(ddl, WidePipelineDdl(def));
  }
  return RetryingDeadlocks([&] {
    return Serialized(conn, [&]() -> absl::Status {
      LF_RETURN_IF_ERROR(InternalTables(conn));
      LF_RETURN_IF_ERROR(Exec(conn, CatalogDdl(),
                              "provision: catalog tables (lf_pipelines, "
                              "lf_metrics, lf_batch_units)"));
      for (const SqlStatement& s : ddl) {
        LF_RETURN_IF_ERROR(
            Exec(conn, s.sql, fmt::format("provision: pipeline {}: {}", def.name, s.what)));
      }
      return WriteCatalog(conn, def);
    });
  });
}

}  // namespace lf::postgres
