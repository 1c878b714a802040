#include "parquet/json_format.h"

#include <cmath>

#include "fmt/format.h"

namespace lf::parquet {

namespace {
void AppendDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    *out += "\"NaN\"";
  } else if (std::isinf(d)) {
    *out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    *out += fmt::format("{}", d);
  }
}

}  // namespace

void AppendJsonValue(const ColumnData& c, size_t i, std::string* out) {
  if (c.IsNull(i)) {
    *out += "null";
    return;
  }
  switch (c.physical) {
    case Type::kBoolean:
      *out += c.bools[i] ? "true" : "false";
      break;
    case Type::kInt32:
      *out += std::to_string(c.int32s[i]);
      break;
    case Type::kInt64:
      *out += std::to_string(c.int64s[i]);
      break;
    case Type::kFloat:
    case Type::kDouble:
      AppendDouble(c.doubles[i], out);
      break;
    default:
      AppendJsonString(c.StringAt(i), out);
      break;
  }
}

std::string LogicalTypeName(const ColumnDescriptor& d) {
  using K = LogicalType::Kind;
  switch (d.logical.kind) {
    case K::kNone:
      return "";
    case K::kString:
      return "STRING";
    case K::kTimestamp:
      return fmt::format("TIMESTAMP({},{})",
                         d.logical.unit == TimeUnit::kMillis   ? "MILLIS"
                         : d.logical.unit == TimeUnit::kMicros ? "MICROS"
                                                               : "NANOS",
                         d.logical.is_adjusted_to_utc ? "UTC" : "local");
    case K::kInteger:
      return fmt::format("INTEGER({},{})", d.logical.bit_width, d.logical.is_signed);
    case K::kDate:
      return "DATE";
    case K::kDecimal:
      return fmt::format("DECIMAL({},{})", d.logical.precision, d.logical.scale);
    default:
      return fmt::format("LOGICAL({})", static_cast<int>(d.logical.kind));
  }
}

}  // namespace lf::parquet
