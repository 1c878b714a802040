#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/commit_sink.h"
#include "pipeline/definition.h"
#include "postgres/connection.h"
#include "postgres/offsets.h"

namespace lf::postgres {

struct MetricSinkOptions {
  ConnTarget target;
  const pipeline::Definition* definition = nullptr;  // validated, wide layout; outlives the sink
  std::string pipeline;                              // progress namespace: the consumer group
  std::string topic;
};

// The exactly-once sink of a definition's metrics in the wide layout (SPEC §4, DESIGN.md): one
// transaction per flush locks and compare-and-sets the offsets, merges each metric's deltas by
// its kind — counts and sums add (integers saturate at the BIGINT range), min/max take
// LEAST/GREATEST, avg adds value_sum and value_count, count_distinct inserts its members into
// `<table>_members` and adds only those that were new — stores dead letters and data losses, and
// advances the offsets. Progress is lf_offsets sink "pg:<definition name>". One connection, one
// thread; a lost connection is reconnected once per call, otherwise Unavailable.
class PgMetricSink : public pipeline::SpeedCommitSink {
 public:
  // Connects and provisions the definition's tables when any is missing.
  static absl::StatusOr<std::unique_ptr<PgMetricSink>> Open(const MetricSinkOptions& options);

  absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> Load(
      const std::vector<int32_t>& partitions) override;
  absl::Status Commit(const pipeline::SpeedFlush& flush) override;

 private:
  PgMetricSink(MetricSinkOptions options, std::vector<std::string> upserts, PgConn conn);
  absl::Status CommitBody(const pipeline::SpeedFlush& flush);

  MetricSinkOptions options_;
  std::vector<std::string> upserts_;  // per metric: the statement of its merge
  OffsetsKey key_;
  PgConn conn_;
};

}  // namespace lf::postgres
