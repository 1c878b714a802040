#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/commit_sink.h"
#include "postgres/connection.h"

namespace lf::postgres {

// One landing file as the manifest records it (lf_ingested_files, SPEC §6.3).
struct IngestedFile {
  std::string path;  // relative to the landing root
  int64_t size = 0;
  int64_t mtime_s = 0;
  std::string sha256;  // hex
  int64_t rows = 0;    // rows written to bronze
  int64_t bad_rows = 0;
  std::string status = "ok";  // "ok", or "error" for a file unreadable as a whole
  std::string error;          // why, for "error"
};

// A bad row of a landing file, for dead_letters (SPEC §6.2).
struct FileDeadLetter {
  std::string source_file;
  int64_t source_row = 0;  // 1-based data row
  std::string payload;     // the row as in the file
  std::string error;
};

// The ingestion engine's state in PostgreSQL: the manifest of files taken, the bronze files
// (lf_lake_files) and the dead letters, written together in one transaction per batch of files.
// One connection; one thread.
class PgIngestStore {
 public:
  // Connects and creates the internal tables if missing.
  static absl::StatusOr<std::unique_ptr<PgIngestStore>> Open(const ConnTarget& target,
                                                             std::string pipeline,
                                                             std::string dataset);

  // "ok" or "error" when this file (path, size and content) was taken before; nullopt if not.
  absl::StatusOr<std::optional<std::string>> Taken(const std::string& path, int64_t size,
                                                   const std::string& sha256);
  // Records, atomically: the closed bronze files, the manifest rows of `files` under `batch_id`,
  // and the dead letters.
  absl::Status Commit(const std::string& batch_id, const std::vector<pipeline::LakeFile>& lake,
                      const std::vector<IngestedFile>& files,
                      const std::vector<FileDeadLetter>& dead_letters);
  absl::Status MarkPublished(const std::vector<pipeline::LakeFile>& files);
  absl::StatusOr<std::vector<pipeline::LakeFile>> Unpublished();

 private:
  PgIngestStore(ConnTarget target, std::string pipeline, std::string dataset, PgConn conn);

  ConnTarget target_;
  std::string pipeline_, dataset_;
  PgConn conn_;
};

}  // namespace lf::postgres
