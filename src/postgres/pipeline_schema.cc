#include "postgres/pipeline_schema.h"

#include "common/status.h"
#include "fmt/format.h"
#include "postgres/identifier.h"
#include "postgres/schema.h"

namespace lf::postgres {
namespace {

using pipeline::AggregateKind;
using pipeline::Definition;
using pipeline::MetricDef;

constexpr int64_t kSecondsPerHour = 3600;
constexpr int64_t kSecondsPerDay = 86400;

// "name" with embedded quotes doubled; the loader already refused anything but [A-Za-z0-9_].
std::string Q(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// 'text' with embedded quotes doubled.
std::string Literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string GroupColumnType(const Definition& def, const std::string& field) {
  if (const pipeline::FieldDef* f = def.Field(field)) {
    return std::string(pipeline::ColumnSqlType(f->type));
  }
  return "TEXT";  // a look-up column in the batch
}

std::string GroupColumns(const MetricDef& m, const std::string& prefix = "") {
  std::string out;
  for (const std::string& g : m.group_by) out += ", " + prefix + GroupColumn(g);
  return out;
}

// window_start, the group columns, value, updated_at (+ avg's sum and count). `speed`: a table the
// speed layer upserts into (kSpeedTableStorage).
std::string MetricTableSql(const Definition& def, const MetricDef& m, const std::string& table,
                           bool speed) {
  std::string sql =
      fmt::format("CREATE TABLE IF NOT EXISTS {} (\n  window_start TIMESTAMP NOT NULL", table);
  for (const std::string& g : m.group_by) {
    sql += fmt::format(",\n  {} {} NOT NULL", GroupColumn(g), GroupColumnType(def, g));
  }
  sql += fmt::format(",\n  value {} NOT NULL", pipeline::ValueSqlType(def, m));
  if (m.aggregate == AggregateKind::kAvg) {
    // avg merges exactly by keeping its parts: value = value_sum / value_count.
    sql += ",\n  value_sum DOUBLE PRECISION NOT NULL,\n  value_count BIGINT NOT NULL";
  }
  sql += ",\n  updated_at TIMESTAMPTZ NOT NULL DEFAULT now())";
  if (speed) sql += kSpeedTableStorage;
  return sql;
}

std::string UniqueKeySql(const MetricDef& m, const std::string& raw_table,
                         const std::string& table) {
  std::string columns = "window_start" + GroupColumns(m);
  return fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                     DerivedName(raw_table, "key"), table, columns);
}

// How speed windows roll up into a coarser batch window.
std::string RollUp(AggregateKind k) {
  switch (k) {
    case AggregateKind::kMin:
      return "min";
    case AggregateKind::kMax:
      return "max";
    default:
      return "sum";
  }
}

}  // namespace

std::string FloorSql(const std::string& ts, std::chrono::seconds window) {
  const int64_t s = window.count();
  if (s == kSecondsPerDay) return fmt::format("date_trunc('day', {})", ts);
  if (s == kSecondsPerHour) return fmt::format("date_trunc('hour', {})", ts);
  if (s == 60) return fmt::format("date_trunc('minute', {})", ts);
  return fmt::format(
      "(to_timestamp(floor(extract(epoch FROM {0}) / {1}) * {1}) AT TIME ZONE 'UTC')", ts, s);
}

std::string GroupColumn(const std::string& field) {
  size_t dot = field.find('.');
  return Q(dot == std::string::npos ? field : field.substr(dot + 1));
}

std::string MembersTable(const MetricDef& m) { return m.table + "_members"; }

std::string CatalogDdl() {
  return R"(CREATE TABLE IF NOT EXISTS lf_pipelines (
  name TEXT PRIMARY KEY,
  file TEXT,
  source TEXT NOT NULL,
  topic TEXT,
  format TEXT NOT NULL,
  layout TEXT NOT NULL,
  event_time TEXT,
  lateness_ms BIGINT NOT NULL,
  lake_dataset TEXT,
  lake_partition TEXT,
  batch_every_s INT,
  provisioned_at TIMESTAMPTZ NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS lf_metrics (
  pipeline TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  window_s INT NOT NULL,
  group_by TEXT[] NOT NULL,
  aggregate TEXT,
  expr TEXT,
  table_name TEXT NOT NULL,
  layout TEXT NOT NULL,
  value_type TEXT NOT NULL,
  position INT NOT NULL,
  PRIMARY KEY (pipeline, kind, name));
CREATE TABLE IF NOT EXISTS lf_batch_units (
  pipeline TEXT NOT NULL,
  unit_start TIMESTAMP NOT NULL,
  unit_s INT NOT NULL,
  status TEXT NOT NULL,
  rows BIGINT,
  finished_at TIMESTAMPTZ,
  error TEXT,
  duration_ms BIGINT,
  PRIMARY KEY (pipeline, unit_start));)";
}

absl::StatusOr<std::vector<SqlStatement>> WidePipelineDdl(const Definition& def) {
  if (def.postgres.layout != pipeline::Layout::kWide) {
    return InvalidArgument(
        "postgres: pipeline {} uses the long layout; its tables are made by "
        "the telecom provisioning",
        def.name);
  }
  std::vector<SqlStatement> out;
  for (const MetricDef& m : def.metrics) {
    LF_ASSIGN_OR_RETURN(std::string table, QuoteTableName(m.table, "metric table"));
    out.push_back({"table " + m.table, MetricTableSql(def, m, table, /*speed=*/true)});
    out.push_back({"unique key of " + m.table, UniqueKeySql(m, m.table, table)});
    if (m.aggregate == AggregateKind::kCountDistinct) {
      // The members already counted, so a replay or a second process adds each one once.
      const std::string raw = MembersTable(m);
      LF_ASSIGN_OR_RETURN(std::string members, QuoteTableName(raw, "members table"));
      std::string sql = fmt::format(
          "CREATE TABLE IF NOT EXISTS {} (\n  window_start TIMESTAMP NOT NULL", members);
      for (const std::string& g : m.group_by) {
        sql += fmt::format(",\n  {} {} NOT NULL", GroupColumn(g), GroupColumnType(def, g));
      }
      sql += ",\n  member TEXT NOT NULL)";
      out.push_back({"table " + raw, sql});
      out.push_back({"unique key of " + raw,
                     fmt::format("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} (window_start{}, "
                                 "member)",
                                 DerivedName(raw, "key"), members, GroupColumns(m))});
    }
  }
  for (const MetricDef& b : def.batch.metrics) {
    LF_ASSIGN_OR_RETURN(std::string table, QuoteTableName(b.table, "batch table"));
    out.push_back({"table " + b.table, MetricTableSql(def, b, table, /*speed=*/false)});
    out.push_back({"unique key of " + b.table, UniqueKeySql(b, b.table, table)});
  }
  // <metric>_lambda: per batch unit, the batch rows where the batch has run, else the speed rows
  // (rolled up to the batch window when it is coarser).
  for (const MetricDef& b : def.batch.metrics) {
    LF_ASSIGN_OR_RETURN(std::string batch_table, QuoteTableName(b.table, "batch table"));
    const std::string view = b.name + "_lambda";
    LF_ASSIGN_OR_RETURN(std::string quoted_view, QuoteTableName(view, "view"));
    const std::string unit = FloorSql("{t}.window_start", def.batch.every);
    auto unit_of = [&](const std::string& alias) {
      std::string s = unit;
      s.replace(s.find("{t}"), 3, alias);
      return s;
    };
    std::string sql = fmt::format(
        "CREATE OR REPLACE VIEW {} AS\n"
        "WITH done AS (SELECT unit_start FROM lf_batch_units WHERE pipeline = {} AND status = "
        "'ok')\n"
        "SELECT b.window_start{}, b.value, 'batch'::text AS layer FROM {} b\n"
        "  WHERE {} IN (SELECT unit_start FROM done)",
        quoted_view, Literal(def.name), GroupColumns(b, "b."), batch_table, unit_of("b"));
    if (const MetricDef* speed = def.Metric(b.name)) {
      LF_ASSIGN_OR_RETURN(std::string speed_table, QuoteTableName(speed->table, "metric table"));
      std::string rows;
      if (speed->window == b.window) {
        rows = fmt::format("SELECT s.window_start{}, s.value FROM {} s", GroupColumns(b, "s."),
                           speed_table);
      } else {
        std::string floor = FloorSql("s.window_start", b.window);
        rows = fmt::format(
            "SELECT {} AS window_start{}, {}(s.value)::{} AS value FROM {} s GROUP "
            "BY 1{}",
            floor, GroupColumns(b, "s."), RollUp(b.aggregate), pipeline::ValueSqlType(def, b),
            speed_table, GroupColumns(b, "s."));
      }
      sql += fmt::format(
          "\nUNION ALL\nSELECT r.window_start{}, r.value, 'speed'::text AS layer FROM ({}) r\n"
          "  WHERE {} NOT IN (SELECT unit_start FROM done)",
          GroupColumns(b, "r."), rows, unit_of("r"));
    }
    out.push_back({"view " + view, sql});
  }
  for (const pipeline::DerivedDef& d : def.derived) {
    LF_ASSIGN_OR_RETURN(std::string quoted_view, QuoteTableName(d.name, "view"));
    std::string keys, joins, group_cols;
    for (const std::string& g : d.group_by) group_cols += ", " + GroupColumn(g);
    for (size_t i = 0; i < d.metrics.size(); ++i) {
      const MetricDef* m = def.Metric(d.metrics[i]);
      LF_ASSIGN_OR_RETURN(std::string table, QuoteTableName(m->table, "metric table"));
      keys += fmt::format("{}SELECT window_start{} FROM {}", i ? " UNION " : "", group_cols, table);
      std::string on = fmt::format("t{0}.window_start = k.window_start", i);
      for (const std::string& g : d.group_by) {
        on += fmt::format(" AND t{0}.{1} = k.{1}", i, GroupColumn(g));
      }
      joins += fmt::format("\nLEFT JOIN {} t{} ON {}", table, i, on);
    }
    std::string value = pipeline::ExprSql(*d.expr, [&](const std::string& metric) {
      for (size_t i = 0; i < d.metrics.size(); ++i) {
        if (d.metrics[i] == metric) return fmt::format("COALESCE(t{}.value, 0)", i);
      }
      return std::string("NULL");
    });
    std::string k_groups;
    for (const std::string& g : d.group_by) k_groups += ", k." + GroupColumn(g);
    out.push_back(
        {"view " + d.name, fmt::format("CREATE OR REPLACE VIEW {} AS\nWITH k AS ({})\nSELECT "
                                       "k.window_start{}, {}::double precision AS value\nFROM k{}",
                                       quoted_view, keys, k_groups, value, joins)});
  }
  return out;
}

}  // namespace lf::postgres
