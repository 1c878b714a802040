#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "pipeline/commit_sink.h"
#include "postgres/connection.h"
#include "postgres/offsets.h"

namespace lf::postgres {

struct LakeSinkOptions {
  ConnTarget target;
  std::string pipeline = "lambdaflow-speed";
  std::string topic = "devices";
  std::string dataset = "devices";
  // The speed sink's name in lf_offsets ("pg:bytes"): its rows tell which partitions are idle.
  std::string speed_sink = "pg:bytes";
};

// lf_lake_files, shared by the speed layer's lake and the ingestion engine's bronze: records
// closed (unpublished) files inside the caller's transaction; marks files renamed to their final
// names; lists the files of a dataset committed but not yet renamed.
absl::Status RecordLakeFiles(PGconn* c, const std::string& dataset, const std::string& pipeline,
                             const std::vector<pipeline::LakeFile>& files);
absl::Status MarkLakeFilesPublished(PGconn* c, const std::vector<pipeline::LakeFile>& files);
absl::StatusOr<std::vector<pipeline::LakeFile>> UnpublishedLakeFiles(PGconn* c,
                                                                     const std::string& dataset);

// The lake's manifest and offsets in PostgreSQL: lf_lake_files (one row per committed file),
// lf_lake_hours (per hour: files, rows, completion, re-run flag) and lf_offsets rows with sink
// "lake". One connection; one thread.
class PgLakeSink : public pipeline::LakeCommitSink {
 public:
  // Connects and creates the internal tables if missing.
  static absl::StatusOr<std::unique_ptr<PgLakeSink>> Open(const LakeSinkOptions& options);

  absl::StatusOr<std::map<int32_t, pipeline::CommittedPartition>> Load(
      const std::vector<int32_t>& partitions) override;
  absl::Status Commit(const pipeline::LakeFlush& flush) override;
  absl::Status MarkPublished(const std::vector<pipeline::LakeFile>& files) override;
  absl::StatusOr<std::vector<pipeline::LakeFile>> Unpublished() override;
  absl::StatusOr<std::vector<int64_t>> CompleteHours(int64_t lateness_s, int64_t idle_s) override;
  absl::StatusOr<std::vector<int64_t>> CompletedHours() override;

 private:
  PgLakeSink(LakeSinkOptions options, PgConn conn);
  // The statements of one lake commit, inside the caller's transaction.
  absl::Status CommitBody(const pipeline::LakeFlush& flush);

  LakeSinkOptions options_;
  OffsetsKey key_;
  PgConn conn_;
};

}  // namespace lf::postgres
