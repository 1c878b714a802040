#pragma once

// The PostgreSQL objects of a pipeline definition in the wide layout (SPEC §4): one table per
// metric with its unique key, side tables the exact merges need, the batch tables, the `_lambda`
// views, the derived views, and the catalog (lf_pipelines, lf_metrics) that serve reads.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/definition.h"

namespace lf::postgres {

struct SqlStatement {
  std::string what;  // "table units_per_zone", for messages and `pipeline explain`
  std::string sql;   // idempotent: IF NOT EXISTS / OR REPLACE
};

// The statements, in creation order. Identifiers come from a validated Definition and are quoted
// again here. InvalidArgument for the long layout (its tables are the telecom ones) or a table
// name that is not a plain SQL name.
absl::StatusOr<std::vector<SqlStatement>> WidePipelineDdl(const pipeline::Definition& def);

// The catalog tables themselves.
std::string CatalogDdl();

// SQL that floors TIMESTAMP expression `ts` to a multiple of `window` since the epoch (UTC).
std::string FloorSql(const std::string& ts, std::chrono::seconds window);

// The quoted SQL column of a group field; a batch look-up's "lookup.column" is "column".
std::string GroupColumn(const std::string& field);

// The name of the table of `m`'s count_distinct members: "<table>_members".
std::string MembersTable(const pipeline::MetricDef& m);

}  // namespace lf::postgres
