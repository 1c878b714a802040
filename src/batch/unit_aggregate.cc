#include "batch/unit_aggregate.h"

#include "common/status.h"
#include "common/time.h"
#include "lake/inspect.h"
#include "parquet/reader.h"
#include "pipeline/record_batch.h"
#include "window/metric_aggregator.h"

namespace lf::batch {
namespace {

using pipeline::FieldType;

constexpr int64_t kSecondsPerHour = 3600;

// Microseconds per unit of an INT64 timestamp column.
absl::StatusOr<int64_t> MicrosPerUnit(const parquet::ColumnDescriptor& d, const std::string& path) {
  if (d.logical.kind != parquet::LogicalType::Kind::kTimestamp) return 1;  // unannotated: micros
  switch (d.logical.unit) {
    case parquet::TimeUnit::kMillis:
      return 1'000;
    case parquet::TimeUnit::kMicros:
      return 1;
    case parquet::TimeUnit::kNanos:
      break;
  }
  return DataLoss("batch: {}: nanosecond timestamps in column {} are not supported", path, d.name);
}

bool PhysicalFits(FieldType t, parquet::Type p) {
  switch (t) {
    case FieldType::kString:
      return p == parquet::Type::kByteArray;
    case FieldType::kInt64:
      return p == parquet::Type::kInt64 || p == parquet::Type::kInt32;
    case FieldType::kFloat64:
      return p == parquet::Type::kDouble;
    case FieldType::kBool:
      return p == parquet::Type::kBoolean;
    case FieldType::kTimestamp:
      return p == parquet::Type::kInt64;
  }
  return false;
}

// Appends the rows of one row group (columns in schema order) to `out`.
absl::Status AppendRows(const std::vector<parquet::ColumnData>& cols,
                        const std::vector<int64_t>& micros_per_unit, size_t n,
                        pipeline::RecordBatch* out) {
  const pipeline::Schema& schema = out->schema();
  for (size_t c = 0; c < cols.size(); ++c) {
    const parquet::ColumnData& d = cols[c];
    pipeline::Column& col = out->column(c);
    for (size_t i = 0; i < n; ++i) {
      const bool valid = !d.IsNull(i);
      col.valid.push_back(valid ? 1 : 0);
      switch (schema.field(c).type) {
        case FieldType::kString:
          col.ids.push_back(valid ? out->dictionaries().column(c).Intern(d.StringAt(i)) : 0);
          break;
        case FieldType::kFloat64:
          col.doubles.push_back(valid ? d.doubles[i] : 0);
          break;
        case FieldType::kBool:
          col.ints.push_back(valid && d.bools[i] ? 1 : 0);
          break;
        case FieldType::kInt64:
          col.ints.push_back(!valid                                ? 0
                             : d.physical == parquet::Type::kInt32 ? d.int32s[i]
                                                                   : d.int64s[i]);
          break;
        case FieldType::kTimestamp:
          col.ints.push_back(valid ? d.int64s[i] * micros_per_unit[c] : 0);
          break;
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    out->partition.push_back(0);
    out->offset.push_back(0);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<UnitResult> AggregateUnit(const std::string& root, const pipeline::Definition& def,
                                         int64_t unit_s) {
  if (!def.batch.lookups.empty()) {
    return FailedPrecondition(
        "batch: pipeline {}: look-ups run in the telecom pipeline only so far", def.name);
  }
  const int64_t every = def.batch.every.count();
  if (FloorDiv(unit_s, every) * every != unit_s) {
    return InvalidArgument("batch: {} is not the start of a {} unit",
                           FormatTime(FromUnixSeconds(unit_s)),
                           pipeline::WindowText(def.batch.every));
  }
  pipeline::Definition batch_def = def;
  batch_def.metrics = def.batch.metrics;
  pipeline::Schema schema(def.fields);
  pipeline::Dictionaries dicts(schema);
  pipeline::RecordBatch batch(&schema, &dicts);
  window::MetricAggregator aggregator(&batch_def);
  const int event_time = schema.IndexOf(def.event_time);
  UnitResult result;
  result.unit_s = unit_s;
  parquet::ReaderOptions options;
  std::vector<parquet::ColumnData> cols;
  for (int64_t hour = unit_s; hour < unit_s + every; hour += kSecondsPerHour) {
    auto hours = lake::ListHours(root, def.lake.dataset, hour);
    if (absl::IsNotFound(hours.status())) continue;
    LF_RETURN_IF_ERROR(hours.status());
    for (const lake::HourInfo& h : *hours) {
      for (const lake::FileInfo& f : h.files) {
        result.files.push_back(f.path);
        LF_ASSIGN_OR_RETURN(auto reader, parquet::ParquetReader::Open(f.path, options));
        std::vector<int> idx(schema.size());
        std::vector<int64_t> micros(schema.size(), 1);
        for (size_t c = 0; c < schema.size(); ++c) {
          const pipeline::FieldDef& field = schema.field(c);
          idx[c] = reader->FindColumn(field.name);
          if (idx[c] < 0) return DataLoss("batch: {} has no column '{}'", f.path, field.name);
          const parquet::ColumnDescriptor& d = reader->columns()[idx[c]];
          if (!PhysicalFits(field.type, d.physical)) {
            return DataLoss("batch: {}: column '{}' is not of the definition's type {}", f.path,
                            field.name, pipeline::FieldTypeName(field.type));
          }
          if (field.type == FieldType::kTimestamp) {
            LF_ASSIGN_OR_RETURN(micros[c], MicrosPerUnit(d, f.path));
          }
        }
        for (int rg = 0; rg < reader->num_row_groups(); ++rg) {
          LF_RETURN_IF_ERROR(reader->ReadRowGroup(rg, idx, &cols));
          const size_t n = static_cast<size_t>(reader->row_group_num_rows(rg));
          batch.Clear();
          LF_RETURN_IF_ERROR(AppendRows(cols, micros, n, &batch));
          for (size_t c = 0; c < schema.size(); ++c) {
            if (!schema.field(c).optional) {
              for (size_t i = 0; i < n; ++i) {
                if (!batch.column(c).valid[i]) {
                  return DataLoss("batch: {}: required column '{}' is null in row {}", f.path,
                                  schema.field(c).name, i);
                }
              }
            }
          }
          if (event_time >= 0) {
            for (size_t i = 0; i < n; ++i) {
              const int64_t t = FloorDiv(batch.column(event_time).ints[i], 1'000'000);
              if (t < h.hour_s || t >= h.hour_s + kSecondsPerHour) {
                return DataLoss("batch: {}: row {} has event time {} outside its hour {}", f.path,
                                i, FormatTime(FromUnixSeconds(t)),
                                FormatTime(FromUnixSeconds(h.hour_s)));
              }
            }
          }
          aggregator.Add(batch, {}, h.hour_s);
          result.events += static_cast<int64_t>(n);
        }
      }
    }
  }
  aggregator.TakeRows(&result.rows);
  return result;
}

}  // namespace lf::batch
