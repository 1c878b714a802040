#include "config/explain.h"

#include "common/status.h"
#include "fmt/format.h"
#include "postgres/pipeline_schema.h"

namespace lf::config {
namespace {

using pipeline::AggregateKind;
using pipeline::Definition;
using pipeline::FieldType;
using pipeline::MetricDef;

std::string Bq(const std::string& name) { return "`" + name + "`"; }

// Spark SQL string literal: backslash escapes, as Spark's parser reads them.
std::string SparkLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string SparkValue(const Definition& def, const std::string& field, const std::string& v) {
  const pipeline::FieldDef* f = def.Field(field);
  if (f == nullptr || f->type == FieldType::kString) return SparkLiteral(v);
  if (f->type == FieldType::kTimestamp) return "TIMESTAMP " + SparkLiteral(v);
  return v;
}

std::string SparkInterval(std::chrono::seconds w) {
  const int64_t s = w.count();
  auto unit = [](int64_t n, const char* one) {
    return fmt::format("{} {}{}", n, one, n == 1 ? "" : "s");
  };
  if (s % 86400 == 0) return unit(s / 86400, "day");
  if (s % 3600 == 0) return unit(s / 3600, "hour");
  if (s % 60 == 0) return unit(s / 60, "minute");
  return unit(s, "second");
}

std::string EventTimeSql(const Definition& def) {
  if (def.event_time.empty()) return "`timestamp` /* the Kafka record's time */";
  const pipeline::FieldDef* f = def.Field(def.event_time);
  switch (f->unit) {
    case pipeline::TimeUnit::kMillis:
      return fmt::format("timestamp_millis({})", Bq(f->name));
    case pipeline::TimeUnit::kMicros:
      return fmt::format("timestamp_micros({})", Bq(f->name));
    case pipeline::TimeUnit::kSeconds:
      break;
  }
  // CAST reads epoch seconds and ISO-8601 text alike.
  return fmt::format("CAST({} AS TIMESTAMP)", Bq(f->name));
}

std::string SparkAggregate(const MetricDef& m) {
  switch (m.aggregate) {
    case AggregateKind::kCount:
      return "COUNT(*)";
    case AggregateKind::kSum:
      return fmt::format("SUM({})", Bq(m.argument));
    case AggregateKind::kMin:
      return fmt::format("MIN({})", Bq(m.argument));
    case AggregateKind::kMax:
      return fmt::format("MAX({})", Bq(m.argument));
    case AggregateKind::kAvg:
      return fmt::format("AVG({})", Bq(m.argument));
    case AggregateKind::kCountDistinct:
      return fmt::format("COUNT(DISTINCT {})", Bq(m.argument));
  }
  return "?";
}

std::string SourceName(const Definition& def) {
  if (def.source.kind == pipeline::SourceKind::kKafka) return def.source.topic;
  return def.name;
}

std::string FieldLine(const pipeline::FieldDef& f) {
  std::string notes;
  auto add = [&](const std::string& s) { notes += (notes.empty() ? "" : ", ") + s; };
  add(f.optional ? "optional" : "required");
  if (f.type == FieldType::kTimestamp) {
    add(fmt::format("numbers in {}, or ISO-8601 text", pipeline::TimeUnitName(f.unit)));
  }
  auto bound = [](const pipeline::Bound& b) {
    return std::visit([](auto v) { return fmt::format("{}", v); }, b);
  };
  if (f.min) add("min " + bound(*f.min));
  if (f.max) add("max " + bound(*f.max));
  if (f.from_key) add("from the Kafka message key");
  return fmt::format("    {:<28} {:<10} {}\n", f.name, pipeline::FieldTypeName(f.type), notes);
}

std::string Indent(const std::string& text, const std::string& prefix) {
  std::string out = prefix;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

std::string LakeColumns(const Definition& def) {
  std::string out;
  for (const pipeline::FieldDef& f : def.fields) {
    std::string type;
    switch (f.type) {
      case FieldType::kString:
        type = "BYTE_ARRAY (UTF-8)";
        break;
      case FieldType::kInt64:
        type = "INT64";
        break;
      case FieldType::kFloat64:
        type = "DOUBLE";
        break;
      case FieldType::kBool:
        type = "BOOLEAN";
        break;
      case FieldType::kTimestamp:
        type = "INT64 TIMESTAMP(MICROS, UTC)";
        break;
    }
    out += fmt::format("    {:<28} {}{}\n", f.name, type, f.optional ? ", optional" : "");
  }
  if (def.lake.metadata) {
    out +=
        "    + _ingested_at, _source_file, _source_row, _topic, _partition, _offset, "
        "_schema_id, _batch_id, _rescued_data\n";
  }
  return out;
}

std::string LakePath(const Definition& def) {
  switch (def.lake.partition) {
    case pipeline::LakePartition::kEventHour:
      return "year=YYYY/month=M/day=D/hour=H";
    case pipeline::LakePartition::kEventDate:
      return "event_date=YYYY-MM-DD";
    case pipeline::LakePartition::kIngestDate:
      return "ingest_date=YYYY-MM-DD";
  }
  return "";
}

std::string GroupText(const MetricDef& m) {
  return m.group_by.empty() ? "no group" : fmt::format("by [{}]", fmt::join(m.group_by, ", "));
}

}  // namespace

std::string SparkSql(const Definition& def, const MetricDef& m) {
  const std::string window =
      fmt::format("window({}, '{}')", EventTimeSql(def), SparkInterval(m.window));
  std::string select = "SELECT window.start AS window_start";
  std::string group = "GROUP BY " + window;
  std::vector<std::string> where;
  std::string joins;
  for (const std::string& g : m.group_by) {
    const size_t dot = g.find('.');
    std::string column = Bq(g);
    if (dot != std::string::npos) {
      // A batch look-up column: joined as Spark would (a broadcast join on the look-up table).
      const std::string lookup = g.substr(0, dot);
      column = Bq(lookup) + "." + Bq(g.substr(dot + 1));
      for (const pipeline::LookupDef& l : def.batch.lookups) {
        if (l.name == lookup && joins.find(" AS " + Bq(lookup)) == std::string::npos) {
          joins += fmt::format("\nJOIN {} AS {} ON {}.{} = {}", Bq(l.table), Bq(lookup), Bq(lookup),
                               Bq(l.key), Bq(l.on));
        }
      }
    }
    select += ", " + column;
    group += ", " + column;
    const pipeline::FieldDef* f = def.Field(g);
    if (f != nullptr && f->optional) where.push_back(column + " IS NOT NULL");
  }
  select += fmt::format(", {} AS value", SparkAggregate(m));
  for (const pipeline::Condition& c : m.where) {
    switch (c.kind) {
      case pipeline::Condition::Kind::kEquals:
        where.push_back(fmt::format("{} = {}", Bq(c.field), SparkValue(def, c.field, c.values[0])));
        break;
      case pipeline::Condition::Kind::kIn: {
        std::string list;
        for (const std::string& v : c.values) {
          list += (list.empty() ? "" : ", ") + SparkValue(def, c.field, v);
        }
        where.push_back(fmt::format("{} IN ({})", Bq(c.field), list));
        break;
      }
      case pipeline::Condition::Kind::kPresent:
        where.push_back(Bq(c.field) + (c.present ? " IS NOT NULL" : " IS NULL"));
        break;
    }
  }
  std::string sql = select + "\nFROM " + Bq(SourceName(def)) + joins;
  if (!where.empty()) sql += fmt::format("\nWHERE {}", fmt::join(where, "\n  AND "));
  sql += "\n" + group;
  return sql;
}

std::string ExplainPipeline(const Definition& def) {
  std::string out = fmt::format("pipeline {}  ({})\n", def.name, def.file);
  if (def.source.kind == pipeline::SourceKind::kKafka) {
    out +=
        fmt::format("  source: Kafka topic {}, {} messages; consumer group {}{}\n",
                    def.source.topic, pipeline::FormatName(def.source.format), def.DefaultGroup(),
                    def.source.key_as.empty()
                        ? ""
                        : fmt::format("; the message key is field {}", def.source.key_as));
  } else {
    out += fmt::format("  source: landing files {}, {}\n", def.source.landing,
                       pipeline::FormatName(def.source.format));
  }
  out += def.event_time.empty()
             ? "  event time: the time of ingestion\n"
             : fmt::format("  event time: field {}; lateness {}\n", def.event_time,
                           pipeline::WindowText(
                               std::chrono::duration_cast<std::chrono::seconds>(def.lateness)));
  out += "  fields (lake column order):\n";
  for (const pipeline::FieldDef& f : def.fields) out += FieldLine(f);

  out += "\nPostgreSQL\n";
  if (def.postgres.layout == pipeline::Layout::kLong) {
    out += fmt::format(
        "  table {} (timestamp TIMESTAMP, id TEXT, value BIGINT, type TEXT), unique key "
        "(timestamp, id, type)\n",
        def.postgres.table);
    for (const MetricDef& m : def.metrics) {
      out += fmt::format("    rows type = '{}', id = {}, timestamp = start of its {} window\n",
                         m.name, m.group_by[0], pipeline::WindowText(m.window));
    }
    if (def.batch.enabled && !def.batch.table.empty()) {
      out += fmt::format(
          "  table {} (timestamp TIMESTAMP, id TEXT, value BIGINT, type TEXT), "
          "unique key (timestamp, id, type): the batch layer's rows\n",
          def.batch.table);
      for (const MetricDef& m : def.batch.metrics) {
        out += fmt::format("    rows type = '{}', id = {}\n", m.name, m.group_by[0]);
      }
    }
    for (const pipeline::LimitDef& l : def.batch.limits) {
      out += fmt::format(
          "  table {} ({} TEXT, usage BIGINT, {} BIGINT, timestamp TIMESTAMP): "
          "rows where {} exceeds {}\n",
          l.table, l.label.substr(l.label.find('.') + 1), l.limit.substr(l.limit.find('.') + 1),
          l.metric, l.limit);
    }
    for (const pipeline::LookupDef& l : def.batch.lookups) {
      out += fmt::format("  look-up table {} (key {} = event field {})\n", l.table, l.key, l.on);
    }
  } else {
    auto ddl = postgres::WidePipelineDdl(def);
    if (!ddl.ok()) {
      out += fmt::format("  (cannot render: {})\n", Message(ddl.status()));
    } else {
      for (const postgres::SqlStatement& s : *ddl) {
        out += fmt::format("  -- {}\n{};\n", s.what, Indent(s.sql, "  "));
      }
    }
  }
  out +=
      "  and the internal tables lf_offsets, lf_data_loss, dead_letters, lf_pipelines, "
      "lf_metrics\n";

  if (!def.lake.dataset.empty()) {
    out += fmt::format("\nLake\n  <storage>/{}/{}/part-*.parquet, every valid event once:\n",
                       def.lake.dataset, LakePath(def));
    out += LakeColumns(def);
  }

  out += "\nMetrics\n";
  for (const MetricDef& m : def.metrics) {
    out += fmt::format("  {}: {} windows, {}, {}\n", m.name, pipeline::WindowText(m.window),
                       GroupText(m), pipeline::AggregateText(m));
    out += "    Spark SQL:\n" + Indent(SparkSql(def, m), "      ") + "\n";
    if (m.aggregate == AggregateKind::kCountDistinct) {
      out +=
          "      -- (Structured Streaming refuses COUNT(DISTINCT) on a stream; Lambdaflow keeps "
          "it exact)\n";
    }
  }
  for (const pipeline::DerivedDef& d : def.derived) {
    out += fmt::format("  {} (derived): {}, over {} windows\n", d.name, d.expr_text,
                       pipeline::WindowText(d.window));
  }
  if (def.batch.enabled) {
    out += fmt::format("\nBatch (every {})\n", pipeline::WindowText(def.batch.every));
    for (const MetricDef& m : def.batch.metrics) {
      out += fmt::format("  {}: {} windows, {}, {}\n", m.name, pipeline::WindowText(m.window),
                         GroupText(m), pipeline::AggregateText(m));
      out += "    Spark SQL:\n" + Indent(SparkSql(def, m), "      ") + "\n";
    }
  }
  return out;
}

}  // namespace lf::config
