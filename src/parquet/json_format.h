#pragma once

// Rendering of Parquet values as JSON text, shared by parquet_tool and the lake's inspection
// commands (`lambdaflow lake head|schema`).

#include <string>
#include <string_view>

#include "common/json_text.h"
#include "parquet/column.h"
#include "parquet/reader.h"

namespace lf::parquet {

using lf::AppendJsonString;

// Appends row `i` of `c` as a JSON value: null, true/false, integers as numbers (timestamps as
// integers in the file's unit), doubles in shortest round-trip form (NaN and infinities as the
// strings "NaN", "Infinity", "-Infinity"), byte arrays as strings.
void AppendJsonValue(const ColumnData& c, size_t i, std::string* out);

// "STRING", "TIMESTAMP(MICROS,UTC)", "INTEGER(32,true)", ... or "" without a logical type.
std::string LogicalTypeName(const ColumnDescriptor& d);

}  // namespace lf::parquet
