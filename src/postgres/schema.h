#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "pipeline/definition.h"
#include "postgres/connection.h"

namespace lf::postgres {

// The storage clause of a new table the speed layer upserts into (its window tables). Every
// flush updates the rows of the open windows; with half of each page free those updates stay on
// the page (heap-only tuples: no new index entry, old versions pruned on the page), so in a run
// of five 100 000-row upserts the table ended 19 MB instead of 45 MB and each update took about
// half as long (bench/README.md). Closed windows keep the free half.
inline constexpr std::string_view kSpeedTableStorage = " WITH (fillfactor = 50)";

// Table names of the product (SPEC §1.2–1.4); flags may rename them. Validated on use.
struct SchemaOptions {
  std::string user_metadata_table = "user_metadata";
  std::string bytes_table = "bytes";
  std::string bytes_hourly_table = "bytes_hourly";
  std::string user_quota_limit_table = "user_quota_limit";
};

// Creates every table, unique key and internal table, and loads the 20 users of SPEC §1.2.
// Idempotent. On a database that already has the seeds' original tables it adds only what is
// missing (columns, unique keys, users) and keeps every row. Serialized with an advisory lock so
// concurrent callers cannot race.
// `views`: also (re)create the serving views bytes_hourly_lambda and speed_batch_diff over these
// tables; other callers (the batch layer with tables of its own) leave the views alone.
absl::Status Provision(PGconn* conn, const SchemaOptions& options, bool views = true);

// What the batch layer needs: when every column of the internal tables and of the
// user_metadata, bytes_hourly and user_quota_limit tables exists (one catalog query), nothing;
// otherwise Provision(…, views=false).
absl::Status EnsureBatchTables(PGconn* conn, const SchemaOptions& options);

// The internal tables (offsets, data loss, dead letters) and one window table `table` with its
// unique key on (timestamp, id, type): what the speed layer needs to start. Idempotent.
absl::Status EnsureSpeedTables(PGconn* conn, const std::string& table);

// The lake's manifest tables (lf_lake_files, lf_lake_hours) and the internal tables. Idempotent.
absl::Status EnsureLakeTables(PGconn* conn);

// A pipeline definition's objects: for the wide layout its tables, keys and views
// (postgres/pipeline_schema.h); for either layout the internal tables, the catalog tables and the
// pipeline's catalog rows (lf_pipelines, lf_metrics: replaced, so a metric removed from the
// definition leaves the catalog). The long layout's tables are the telecom ones, made by
// Provision(). One serialized transaction; idempotent.
absl::Status ProvisionPipeline(PGconn* conn, const pipeline::Definition& def);

}  // namespace lf::postgres
