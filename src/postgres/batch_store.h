#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/hour_result.h"
#include "postgres/connection.h"
#include "postgres/schema.h"

namespace lf::postgres {

struct BatchStoreOptions {
  ConnTarget target;
  SchemaOptions tables;
  std::string dataset = "devices";
};

// The batch layer's PostgreSQL side: reads user_metadata, replaces an hour's rows of
// bytes_hourly and user_quota_limit in one transaction, records runs in lf_batch_runs and keeps
// lf_lake_hours' re-run flag. One connection; one thread.
class PgBatchStore {
 public:
  // Connects, validates the table names, creates what is missing (EnsureBatchTables).
  static absl::StatusOr<std::unique_ptr<PgBatchStore>> Open(const BatchStoreOptions& options);

  // Device id -> email and hourly quota.
  absl::StatusOr<std::map<std::string, pipeline::UserInfo>> LoadUsers();

  // Events the lake's manifest says hour `hour_s` holds (-1 when the manifest does not know the
  // hour: a lake written by another tool).
  absl::StatusOr<int64_t> ManifestRows(int64_t hour_s);

  // In one transaction: deletes the hour's rows of bytes_hourly and user_quota_limit, inserts
  // `result`'s, records a successful run, and clears the hour's re-run flag if the manifest still
  // says `manifest_rows` (late data committed meanwhile keeps the flag set). Notifies lf_batch.
  // Continues the transaction Prepare(result.hour_s) began, or begins one.
  absl::Status Replace(const pipeline::HourResult& result, int64_t manifest_rows,
                       int64_t duration_ms);
  // Begins Replace's transaction early: takes the hour's lock and reads its bytes_hourly rows,
  // so that this can run on another thread while the hour is aggregated (the store is used by
  // one thread at a time). Replace then continues it; Abandon rolls it back. A failure leaves
  // nothing begun (Replace tries again).
  absl::Status Prepare(int64_t hour_s);
  // Rolls back a prepared transaction that Replace will not continue (the hour failed).
  void Abandon();

  // Records a failed run (its own transaction); the hour's previous results stay.
  absl::Status RecordFailure(int64_t hour_s, const std::string& error, int64_t duration_ms);

  // Hours to run: complete (_SUCCESS) without a successful run, or marked for a re-run.
  absl::StatusOr<std::vector<int64_t>> PendingHours();

 private:
  // Inside Replace's transaction: makes the hour's bytes_hourly rows (read by Prepare, under the
  // hour's lock) equal result.rows, writing only what differs (a re-run over unchanged data
  // reads the rows and writes nothing).
  absl::Status WriteHourly(const pipeline::HourResult& result);

  PgBatchStore(BatchStoreOptions options, std::string hourly, std::string quota, std::string users,
               PgConn conn);

  BatchStoreOptions options_;
  std::string hourly_, quota_, users_;  // quoted table names
  PgConn conn_;
  // The transaction Prepare began, for the hour prepared_hour_, and the rows it read.
  bool prepared_ = false;
  int64_t prepared_hour_ = 0;
  PgResult old_rows_;
};

}  // namespace lf::postgres
