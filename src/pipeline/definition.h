#pragma once

// A pipeline definition (SPEC §4) as plain option structs: what `config/` builds from a YAML
// file, already validated, and what the layers read. Nothing here knows YAML or any file format;
// a Definition that did not come from config::LoadPipeline must be validated by its maker.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace lf::pipeline {

enum class FieldType { kString, kInt64, kFloat64, kBool, kTimestamp };

// The unit a timestamp field's numbers are in (ISO-8601 text is always accepted as well).
enum class TimeUnit { kSeconds, kMillis, kMicros };

// A number bound: int64 fields keep exact integers, float64 fields doubles.
using Bound = std::variant<int64_t, double>;

struct FieldDef {
  std::string name;
  FieldType type = FieldType::kString;
  TimeUnit unit = TimeUnit::kSeconds;  // only meaningful for kTimestamp
  bool optional = false;               // missing or null allowed
  std::optional<Bound> min, max;       // only for kInt64 / kFloat64
  bool from_key = false;               // filled from the Kafka message key (source.kafka.key_as)
};

enum class AggregateKind { kCount, kSum, kMin, kMax, kAvg, kCountDistinct };

// A `where` condition on one field. Values are kept in canonical text of the field's type
// ("42", "true", "2026-11-22T09:00:00Z"), already checked to convert.
struct Condition {
  enum class Kind { kEquals, kIn, kPresent };
  std::string field;
  Kind kind = Kind::kEquals;
  std::vector<std::string> values;  // kEquals: one; kIn: one or more
  bool present = true;              // kPresent
};

struct MetricDef {
  std::string name;
  std::chrono::seconds window{300};   // divides a day, or is exactly one day
  std::vector<std::string> group_by;  // 0-4 field names (batch: may be "lookup.column")
  AggregateKind aggregate = AggregateKind::kCount;
  std::string argument;  // the aggregated field; empty for count()
  std::vector<Condition> where;
  std::string table;  // wide layout: the table (default: the name)
};

// `+ - * / ( )`, numbers and metric names; a small tree.
struct Expr {
  enum class Kind { kNumber, kMetric, kAdd, kSub, kMul, kDiv, kNeg };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string metric;
  std::unique_ptr<Expr> left, right;  // kNeg uses left only
};

struct DerivedDef {
  std::string name;
  std::string expr_text;
  std::shared_ptr<const Expr> expr;
  std::vector<std::string> metrics;  // the metrics it names, in order of first use
  std::chrono::seconds window{0};    // shared by those metrics
  std::vector<std::string> group_by;
};

enum class SourceKind { kKafka, kLanding };
enum class Format { kJson, kCsv, kAvro };

struct SourceDef {
  SourceKind kind = SourceKind::kKafka;
  std::string topic;    // kafka
  std::string key_as;   // kafka: the key becomes this string field; empty = key ignored
  std::string landing;  // landing: a glob relative to the landing root, e.g. "iot_sensors/*.csv"
  Format format = Format::kJson;
};

enum class Layout { kWide, kLong };
enum class LakePartition { kEventHour, kEventDate, kIngestDate };

struct PostgresSinkDef {
  Layout layout = Layout::kWide;
  std::string table;  // long: the one table; wide: unused
};

struct LakeSinkDef {
  std::string dataset;  // empty: no lake sink; else "name" or "bronze/name"
  LakePartition partition = LakePartition::kEventHour;
  bool metadata = false;  // the §6.2 metadata columns
};

// A static table joined by the batch layer (telecom: user_metadata by device id).
struct LookupDef {
  std::string name;   // how metrics refer to it: "<name>.<column>"
  std::string table;  // the PostgreSQL table
  std::string key;    // its key column
  std::string on;     // the event field matched against the key
  std::vector<std::pair<std::string, FieldType>> columns;  // the columns metrics may use
};

// Rows where a batch metric's value exceeds a look-up column (telecom: user_quota_limit).
struct LimitDef {
  std::string name;
  std::string table;   // default: the name
  std::string metric;  // a batch metric
  std::string limit;   // "<lookup>.<column>", numeric
  std::string label;   // "<lookup>.<column>", the row's first column
};

struct BatchDef {
  bool enabled = false;
  std::chrono::seconds every{3600};  // 1h or 1d
  std::vector<MetricDef> metrics;
  std::string table;  // long layout: batch.sink.table
  std::vector<LookupDef> lookups;
  std::vector<LimitDef> limits;
};

struct Definition {
  std::string file;  // where it was loaded from (for messages)
  std::string name;
  SourceDef source;
  std::vector<FieldDef> fields;  // lake column order
  std::string event_time;        // a timestamp field, or empty: time of ingestion
  std::chrono::milliseconds lateness{60'000};
  std::vector<MetricDef> metrics;
  std::vector<DerivedDef> derived;
  PostgresSinkDef postgres;
  LakeSinkDef lake;
  BatchDef batch;

  // nullptr when absent.
  const FieldDef* Field(std::string_view name) const;
  const MetricDef* Metric(std::string_view name) const;
  // The consumer group used when no --group is given: "lambdaflow-<name>".
  std::string DefaultGroup() const { return "lambdaflow-" + name; }
};

std::string_view FieldTypeName(FieldType t);
std::string_view AggregateName(AggregateKind k);
std::string_view TimeUnitName(TimeUnit u);
// Microseconds in one unit of a numeric timestamp.
int64_t TimeUnitMicros(TimeUnit u);
// The timestamps a record may carry: the years 1 to 9999, in microseconds since the epoch.
inline constexpr int64_t kMinTimestampMicros = -62135596800LL * 1'000'000;  // 0001-01-01
inline constexpr int64_t kMaxTimestampMicros = 253402300799LL * 1'000'000;  // 9999-12-31T23:59:59
std::string_view FormatName(Format f);
std::string_view LakePartitionName(LakePartition p);

// The PostgreSQL type of a metric's `value` (SPEC §4): BIGINT for count, count_distinct and int64
// sum/min/max; DOUBLE PRECISION for avg and float64.
std::string_view ValueSqlType(const Definition& def, const MetricDef& m);
// The PostgreSQL type of a field used as a group column.
std::string_view ColumnSqlType(FieldType t);
// True when the metric's values are integers (the long layout needs it).
bool HasIntegerValues(const Definition& def, const MetricDef& m);
// "sum(bytes)", "count()".
std::string AggregateText(const MetricDef& m);
// SQL for `e`, each metric written as metric_sql(name); a division is NULL where its divisor is 0.
std::string ExprSql(const Expr& e,
                    const std::function<std::string(const std::string&)>& metric_sql);
// "5m", "1h", "1d".
std::string WindowText(std::chrono::seconds window);

}  // namespace lf::pipeline
