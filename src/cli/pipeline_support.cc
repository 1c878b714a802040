#include "cli/pipeline_support.h"

#include <algorithm>
#include <span>

#include "common/status.h"
#include "config/pipeline_loader.h"

namespace lf::cli {
namespace {

using pipeline::AggregateKind;
using pipeline::FieldType;

struct ExpectedMetric {
  const char* name;
  const char* group;
};
constexpr ExpectedMetric kSpeedMetrics[] = {
    {"antenna_bytes_total", "antenna_id"}, {"user_bytes_total", "id"}, {"app_bytes_total", "app"}};
constexpr ExpectedMetric kBatchMetrics[] = {{"antenna_bytes_total", "antenna_id"},
                                            {"user_bytes_total", "id"},
                                            {"user_email_bytes_total", "user_metadata.email"},
                                            {"app_bytes_total", "app"}};

absl::Status CheckMetrics(const std::vector<pipeline::MetricDef>& metrics,
                          std::span<const ExpectedMetric> expected, std::string_view what) {
  if (metrics.size() != expected.size()) {
    return FailedPrecondition("{} has {} metrics, the telecom shape {}", what, metrics.size(),
                              expected.size());
  }
  for (const ExpectedMetric& e : expected) {
    auto it = std::find_if(metrics.begin(), metrics.end(),
                           [&](const pipeline::MetricDef& m) { return m.name == e.name; });
    if (it == metrics.end()) return FailedPrecondition("{} lacks metric {}", what, e.name);
    if (it->aggregate != AggregateKind::kSum || it->argument != "bytes" ||
        it->group_by != std::vector<std::string>{e.group} || !it->where.empty()) {
      return FailedPrecondition("{}: metric {} is not sum(bytes) by [{}] without where", what,
                                e.name, e.group);
    }
    if (it->window != metrics[0].window) {
      return FailedPrecondition("{}: the metrics' windows differ", what);
    }
  }
  return absl::OkStatus();
}

absl::Status CheckShape(const pipeline::Definition& def) {
  if (def.source.kind != pipeline::SourceKind::kKafka ||
      def.source.format != pipeline::Format::kJson || !def.source.key_as.empty()) {
    return FailedPrecondition("its source is not Kafka JSON without key_as");
  }
  static constexpr std::pair<const char*, FieldType> kFields[] = {
      {"bytes", FieldType::kInt64},
      {"timestamp", FieldType::kTimestamp},
      {"app", FieldType::kString},
      {"id", FieldType::kString},
      {"antenna_id", FieldType::kString}};
  if (def.fields.size() != std::size(kFields)) {
    return FailedPrecondition(
        "it has {} fields, the telecom shape 5 (bytes, timestamp, app, id, "
        "antenna_id)",
        def.fields.size());
  }
  for (size_t i = 0; i < std::size(kFields); ++i) {
    const pipeline::FieldDef& f = def.fields[i];
    if (f.name != kFields[i].first || f.type != kFields[i].second || f.optional) {
      return FailedPrecondition("field {} is not {} {} (required)", i + 1, kFields[i].first,
                                pipeline::FieldTypeName(kFields[i].second));
    }
  }
  const pipeline::FieldDef& bytes = def.fields[0];
  if (!bytes.min || std::get<int64_t>(*bytes.min) != 0 || bytes.max) {
    return FailedPrecondition("field bytes is not bounded by min: 0 alone");
  }
  if (def.fields[1].unit != pipeline::TimeUnit::kSeconds || def.event_time != "timestamp") {
    return FailedPrecondition("its event time is not field timestamp in seconds");
  }
  LF_RETURN_IF_ERROR(CheckMetrics(def.metrics, kSpeedMetrics, "it"));
  if (!def.derived.empty()) return FailedPrecondition("it has derived metrics");
  if (def.postgres.layout != pipeline::Layout::kLong) {
    return FailedPrecondition("it uses the wide layout");
  }
  if (!def.lake.dataset.empty() &&
      (def.lake.partition != pipeline::LakePartition::kEventHour || def.lake.metadata)) {
    return FailedPrecondition("its lake is not partitioned by event_hour without metadata");
  }
  if (def.batch.enabled) {
    if (def.batch.every != std::chrono::hours(1)) {
      return FailedPrecondition("its batch does not run every 1h");
    }
    LF_RETURN_IF_ERROR(CheckMetrics(def.batch.metrics, kBatchMetrics, "its batch"));
    if (def.batch.metrics[0].window != std::chrono::hours(1)) {
      return FailedPrecondition("its batch metrics do not have 1h windows");
    }
    if (def.batch.lookups.size() != 1 || def.batch.lookups[0].name != "user_metadata" ||
        def.batch.lookups[0].key != "id" || def.batch.lookups[0].on != "id") {
      return FailedPrecondition("its batch does not look up user_metadata by id");
    }
    if (def.batch.limits.size() != 1 || def.batch.limits[0].metric != "user_bytes_total" ||
        def.batch.limits[0].limit != "user_metadata.quota" ||
        def.batch.limits[0].label != "user_metadata.email") {
      return FailedPrecondition(
          "its batch does not have the one quota limit on "
          "user_bytes_total");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pipeline::Definition> LoadDefinition(const std::string& file) {
  return config::LoadPipeline(file);
}

absl::Status CheckTelecomShape(const pipeline::Definition& def, std::string_view layer) {
  absl::Status st = CheckShape(def);
  if (st.ok()) return st;
  return FailedPrecondition(
      "{}: pipeline {} ({}): {}; this {} runs telecom-shaped definitions so far (see `lambdaflow "
      "pipeline explain` and the README's section on pipelines)",
      layer, def.name, def.file, Message(st), layer);
}

postgres::SchemaOptions TelecomTables(const pipeline::Definition& def) {
  postgres::SchemaOptions o;
  o.bytes_table = def.postgres.table;
  if (!def.batch.table.empty()) o.bytes_hourly_table = def.batch.table;
  if (!def.batch.lookups.empty()) o.user_metadata_table = def.batch.lookups[0].table;
  if (!def.batch.limits.empty()) o.user_quota_limit_table = def.batch.limits[0].table;
  return o;
}

}  // namespace lf::cli
