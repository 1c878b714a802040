#include "pipeline/definition.h"

#include "fmt/format.h"

namespace lf::pipeline {

const FieldDef* Definition::Field(std::string_view field_name) const {
  for (const FieldDef& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

const MetricDef* Definition::Metric(std::string_view metric_name) const {
  for (const MetricDef& m : metrics) {
    if (m.name == metric_name) return &m;
  }
  return nullptr;
}

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "string";
    case FieldType::kInt64:
      return "int64";
    case FieldType::kFloat64:
      return "float64";
    case FieldType::kBool:
      return "bool";
    case FieldType::kTimestamp:
      return "timestamp";
  }
  return "?";
}

std::string_view AggregateName(AggregateKind k) {
  switch (k) {
    case AggregateKind::kCount:
      return "count";
    case AggregateKind::kSum:
      return "sum";
    case AggregateKind::kMin:
      return "min";
    case AggregateKind::kMax:
      return "max";
    case AggregateKind::kAvg:
      return "avg";
    case AggregateKind::kCountDistinct:
      return "count_distinct";
  }
  return "?";
}

int64_t TimeUnitMicros(TimeUnit u) {
  switch (u) {
    case TimeUnit::kSeconds:
      return 1'000'000;
    case TimeUnit::kMillis:
      return 1'000;
    case TimeUnit::kMicros:
      return 1;
  }
  return 1;
}

std::string_view TimeUnitName(TimeUnit u) {
  switch (u) {
    case TimeUnit::kSeconds:
      return "s";
    case TimeUnit::kMillis:
      return "ms";
    case TimeUnit::kMicros:
      return "us";
  }
  return "?";
}

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kJson:
      return "json";
    case Format::kCsv:
      return "csv";
    case Format::kAvro:
      return "avro";
  }
  return "?";
}

std::string_view LakePartitionName(LakePartition p) {
  switch (p) {
    case LakePartition::kEventHour:
      return "event_hour";
    case LakePartition::kEventDate:
      return "event_date";
    case LakePartition::kIngestDate:
      return "ingest_date";
  }
  return "?";
}

namespace {

std::optional<FieldType> ArgumentType(const Definition& def, const MetricDef& m) {
  if (m.argument.empty()) return std::nullopt;
  const FieldDef* f = def.Field(m.argument);
  if (f == nullptr) return std::nullopt;
  return f->type;
}

}  // namespace

bool HasIntegerValues(const Definition& def, const MetricDef& m) {
  switch (m.aggregate) {
    case AggregateKind::kCount:
    case AggregateKind::kCountDistinct:
      return true;
    case AggregateKind::kAvg:
      return false;
    case AggregateKind::kSum:
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      return ArgumentType(def, m) == FieldType::kInt64;
  }
  return false;
}

std::string_view ValueSqlType(const Definition& def, const MetricDef& m) {
  return HasIntegerValues(def, m) ? "BIGINT" : "DOUBLE PRECISION";
}

std::string_view ColumnSqlType(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "TEXT";
    case FieldType::kInt64:
      return "BIGINT";
    case FieldType::kFloat64:
      return "DOUBLE PRECISION";
    case FieldType::kBool:
      return "BOOLEAN";
    case FieldType::kTimestamp:
      return "TIMESTAMP";
  }
  return "TEXT";
}

std::string AggregateText(const MetricDef& m) {
  return fmt::format("{}({})", AggregateName(m.aggregate), m.argument);
}

std::string ExprSql(const Expr& e,
                    const std::function<std::string(const std::string&)>& metric_sql) {
  auto bin = [&](const char* op) {
    return fmt::format("({} {} {})", ExprSql(*e.left, metric_sql), op,
                       ExprSql(*e.right, metric_sql));
  };
  switch (e.kind) {
    case Expr::Kind::kNumber:
      return fmt::format("{}", e.number);
    case Expr::Kind::kMetric:
      return metric_sql(e.metric);
    case Expr::Kind::kAdd:
      return bin("+");
    case Expr::Kind::kSub:
      return bin("-");
    case Expr::Kind::kMul:
      return bin("*");
    case Expr::Kind::kDiv:
      // Divides as double precision, so 100 * a / b is not integer division.
      return fmt::format("({}::double precision / NULLIF({}, 0))", ExprSql(*e.left, metric_sql),
                         ExprSql(*e.right, metric_sql));
    case Expr::Kind::kNeg:
      return fmt::format("(-{})", ExprSql(*e.left, metric_sql));
  }
  return "NULL";
}

std::string WindowText(std::chrono::seconds window) {
  const int64_t s = window.count();
  if (s % 86400 == 0) return fmt::format("{}d", s / 86400);
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

}  // namespace lf::pipeline
