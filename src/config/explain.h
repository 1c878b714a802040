#pragma once

// `lambdaflow pipeline explain`: what a definition creates and computes, in words and SQL.

#include <string>

#include "pipeline/definition.h"

namespace lf::config {

// The source and schema, the PostgreSQL tables, keys and views (their DDL for the wide layout),
// the lake layout, and for each metric the Spark SQL a Spark user would have written for it.
std::string ExplainPipeline(const pipeline::Definition& def);

// The Spark SQL of one metric over a view named after the source (`FROM <topic>`).
std::string SparkSql(const pipeline::Definition& def, const pipeline::MetricDef& m);

}  // namespace lf::config
