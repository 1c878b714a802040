#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/commit_sink.h"
#include "pipeline/definition.h"
#include "postgres/connection.h"

namespace lf::postgres {

// The batch layer's store for a wide-layout definition (SPEC §4 `batch`): each unit (an hour or
// a day) replaces its rows of every `<metric>_batch` table and records itself in lf_batch_units,
// in one transaction, so the `_lambda` views switch to the batch rows atomically.
class PgMetricBatchStore {
 public:
  // `def` must outlive the store. Provisions the definition's tables when any is missing.
  static absl::StatusOr<std::unique_ptr<PgMetricBatchStore>> Open(const ConnTarget& target,
                                                                  const pipeline::Definition* def);

  // Deletes the unit's rows of every batch table, inserts `rows` (complete values), records the
  // unit as done with `events` and the time it took.
  absl::Status Replace(int64_t unit_s, const std::vector<pipeline::MetricRow>& rows, int64_t events,
                       int64_t duration_ms);
  // Records a failed run (the unit's previous rows stay as they were).
  absl::Status RecordFailure(int64_t unit_s, const std::string& error);
  // Units the lake has completed (a later hour is marked _SUCCESS, or the unit's last one is)
  // that have no batch result, or whose lake hours changed (late data) after their last run.
  absl::StatusOr<std::vector<int64_t>> PendingUnits();

 private:
  PgMetricBatchStore(ConnTarget target, const pipeline::Definition* def, PgConn conn)
      : target_(std::move(target)), def_(def), conn_(std::move(conn)) {}
  absl::Status ReplaceBody(int64_t unit_s, const std::vector<pipeline::MetricRow>& rows,
                           int64_t events, int64_t duration_ms);

  ConnTarget target_;
  const pipeline::Definition* def_;
  PgConn conn_;
};

}  // namespace lf::postgres
