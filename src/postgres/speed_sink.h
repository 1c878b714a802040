#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pipeline/commit_sink.h"
#include "postgres/connection.h"
#include "postgres/offsets.h"

namespace lf::postgres {

struct SpeedSinkOptions {
  ConnTarget target;
  std::string table = "bytes";                // window table (validated, quoted)
  std::string pipeline = "lambdaflow-speed";  // progress namespace: the consumer group
  std::string topic = "devices";
};

// The speed layer's exactly-once sink in PostgreSQL (see README.md). One connection; used from
// one thread. Reconnects once per call when the connection was lost; otherwise returns
// Unavailable and the caller retries later with the same flush.
class PgSpeedSink : public pipeline::SpeedCommitSink {
 public:
  // Connects, validates the table name and creates the tables the speed layer needs if missing.
  static absl::StatusOr<std::unique_ptr<PgSpeedSink>> Open(const SpeedSinkOptions& options);

  absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> Load(
      const std::vector<int32_t>& partitions) override;
  absl::Status Commit(const pipeline::SpeedFlush& flush) override;

 private:
  PgSpeedSink(SpeedSinkOptions options, std::string quoted_table, PgConn conn);
  // The statements of one flush, inside the caller's transaction.
  absl::Status CommitBody(const pipeline::SpeedFlush& flush);

  SpeedSinkOptions options_;
  std::string quoted_table_;
  OffsetsKey key_;
  PgConn conn_;
};

}  // namespace lf::postgres
