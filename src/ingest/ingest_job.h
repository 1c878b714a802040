#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ingest/landing.h"
#include "ingest/landing_decoder.h"
#include "lake/lake_writer.h"
#include "pipeline/definition.h"
#include "pipeline/record_batch.h"
#include "postgres/ingest_store.h"

namespace lf::ingest {

struct IngestOptions {
  std::string landing;  // the landing root
  std::string storage;  // the lake root (bronze goes under it)
  std::chrono::milliseconds settle{2000};
  bool keep_files = false;  // leave taken files in the landing (the manifest still skips them)
  // A batch (one commit: bronze files, manifest rows, dead letters) closes at this many rows or
  // files, or when no settled file is left.
  int64_t batch_rows = 1'000'000;
  size_t batch_files = 1000;
};

struct IngestTotals {
  int64_t files = 0;        // taken into bronze (status ok)
  int64_t error_files = 0;  // unreadable as a whole (moved to _error)
  int64_t skipped = 0;      // already in the manifest (a rerun after a crash, or --keep-files)
  int64_t rows = 0, bad_rows = 0, bytes = 0;
  int64_t batches = 0;
};

// Takes the settled landing files of one definition (SPEC §6.3) into its bronze dataset, each
// file exactly once: per batch, the rows go to hidden Parquet files, then one transaction records
// those files, the files' manifest rows and their dead letters; then the Parquet files are
// renamed into place and the landing files moved to _processed/ (or _error/). A restart publishes
// what was committed and not yet renamed, drops what was not committed, and skips (and moves)
// files the manifest already has. Not thread-safe.
class IngestJob {
 public:
  IngestJob(const pipeline::Definition* def, IngestOptions options,
            std::unique_ptr<postgres::PgIngestStore> store);

  // Finishes what an earlier run left: publishes committed bronze files, removes uncommitted
  // ones. Call once before Poll.
  absl::Status Recover();
  // Takes every file settled now, in batches; returns how many files it handled (taken,
  // refused or skipped).
  absl::StatusOr<int64_t> Poll();
  // With `once`: the files present at the first Poll, which --once waits for.
  void RememberInitial(bool once) { once_ = once; }
  // --once: every file present at the first Poll was handled (or is gone).
  bool InitialDone() const { return initial_listed_ && initial_.empty(); }

  const IngestTotals& totals() const { return totals_; }
  const std::string& name() const { return def_->name; }

 private:
  struct Pending;  // the batch being built
  absl::Status CommitBatch(Pending& batch);
  absl::Status FlushRows();

  const pipeline::Definition* def_;
  IngestOptions options_;
  std::unique_ptr<postgres::PgIngestStore> store_;
  pipeline::Schema schema_;
  pipeline::Dictionaries dictionaries_;
  pipeline::RecordBatch batch_;
  lake::RowMetadata meta_;
  LandingDecoder decoder_;
  std::unique_ptr<lake::LakeWriter> writer_;
  SettleTracker settle_;
  std::string writer_id_;
  int64_t next_batch_ = 0;
  int64_t ingest_time_s_ = 0;
  IngestTotals totals_;
  // Files known to be in the manifest (path → size, mtime), so --keep-files does not hash them
  // on every scan.
  std::map<std::string, std::pair<int64_t, int64_t>> known_;
  bool once_ = false, initial_listed_ = false;
  std::set<std::string> initial_;
};

}  // namespace lf::ingest
