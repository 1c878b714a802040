#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "lake/layout.h"
#include "parquet/writer.h"
#include "pipeline/commit_sink.h"
#include "pipeline/event_batch.h"
#include "pipeline/record_batch.h"

namespace lf::lake {

struct LakeWriterOptions {
  std::string root;  // the lake directory (--storage)
  std::string dataset = "devices";
  parquet::WriterOptions parquet;
  // Unique per process run; names its files (part-<writer_id>-<seq>.parquet).
  std::string writer_id;
  // The files' columns; empty: the telecom event schema (parquet::LakeEventSchema). Set it (see
  // LakeSchema) to Append RecordBatches of that schema.
  parquet::Schema schema;
  // The directories rows go to (RecordBatch rows only; telecom EventBatches are by event hour).
  Partitioning partitioning = Partitioning::kEventHour;
  // The schema ends with the §6.2 metadata columns (LakeSchema(…, true)), filled from the
  // RowMetadata passed to Append.
  bool metadata = false;
  // Files and clocks (parquet.env is set to it); nullptr: Env::Default().
  Env* env = nullptr;
};

// Where the rows of a RecordBatch came from, for bronze's metadata columns (SPEC §6.2). Per-row
// vectors are parallel to the batch's rows.
struct RowMetadata {
  int64_t ingested_at_us = 0;
  std::string batch_id;
  // Landing files: the source file of each row (an index into `files`, paths relative to the
  // landing root) and its 1-based data row. Kafka rows: `files` empty; topic, and the batch's
  // partition and offset columns.
  std::vector<std::string> files;
  std::vector<uint32_t> file_index;
  std::vector<int64_t> source_row;
  std::string topic;
  std::vector<int32_t> schema_id;    // Avro: the writer schema's id per row; empty: null
  std::vector<std::string> rescued;  // per row: JSON of the unknown columns; empty string: null

  // Forgets the per-row values (after their rows were appended); `files` stays.
  void ClearRows();
};

// The number of metadata columns LakeSchema(…, true) appends.
inline constexpr size_t kMetadataColumns = 9;

// The Parquet columns of a definition's fields (SPEC §4: every field a typed column, in order;
// timestamps as TIMESTAMP(MICROS, UTC); optional fields nullable), then with `metadata` the §6.2
// columns _ingested_at, _source_file, _source_row, _topic, _partition, _offset, _schema_id,
// _batch_id, _rescued_data.
parquet::Schema LakeSchema(const pipeline::Schema& schema, bool metadata = false);

using LakeFile = pipeline::LakeFile;

// Writes events into one open Parquet file per event-time hour (see README.md). Not thread-safe.
class LakeWriter {
 public:
  // Creates the dataset directory if needed.
  static absl::StatusOr<std::unique_ptr<LakeWriter>> Open(const LakeWriterOptions& options);
  ~LakeWriter();

  // Appends the rows of `batch` whose `keep` byte is non-zero (all rows when `keep` is empty) to
  // the open file of their hour, opening it if needed.
  absl::Status Append(const pipeline::EventBatch& batch, const pipeline::KeyDictionaries& keys,
                      std::span<const uint8_t> keep = {});

  // Appends the rows of `batch` (of the schema given in the options) whose keep byte is set (all
  // when `keep` is empty) to the open file of their partition: by column `event_time_column`
  // (microseconds), or `ingest_time_s` for every row when it is -1 or the dataset is partitioned
  // by ingestion day. With options.metadata, `meta` fills the metadata columns (required then).
  absl::Status Append(const pipeline::RecordBatch& batch, int event_time_column,
                      int64_t ingest_time_s, std::span<const uint8_t> keep = {},
                      const RowMetadata* meta = nullptr);

  bool empty() const { return open_.empty(); }
  const std::string& root() const { return options_.root; }
  const std::string& dataset() const { return options_.dataset; }
  Env* env() const { return env_; }
  int64_t rows() const;
  // Estimated bytes of the open files (written plus buffered).
  int64_t bytes() const;
  // Hour starts of the open files.
  std::vector<int64_t> open_hours() const;
  std::chrono::steady_clock::time_point oldest_open() const { return oldest_; }

  // Writes every open file's footer and fsyncs it and its directory; they stay under temporary
  // names. On error the open files are discarded (deleted).
  absl::StatusOr<std::vector<LakeFile>> CloseAll();
  // Deletes every open file without publishing anything.
  void DiscardAll();

  // Renames closed files to their final names and fsyncs their directories. Idempotent: a file
  // already published is skipped; one missing under both names is an error naming it.
  static absl::Status Publish(const std::string& root, const std::vector<LakeFile>& files,
                              Env* env = nullptr);
  // Deletes closed, unpublished files (their commit failed).
  static void Discard(const std::string& root, const std::vector<LakeFile>& files,
                      Env* env = nullptr);
  // Creates <hour dir>/_SUCCESS (fsynced) if missing.
  static absl::Status MarkSuccess(const std::string& root, const std::string& dataset,
                                  int64_t hour_s, Env* env = nullptr);
  // Deletes temporary files under the dataset not listed in `keep` (relative temp paths) whose
  // writer is dead: a writer of this host whose process is gone, or any writer whose file was
  // not modified for a day. Their commit never happened, so their rows will be (or were)
  // written again. Returns how many were removed.
  static int RemoveOrphanTemps(const std::string& root, const std::string& dataset,
                               const std::vector<std::string>& keep, Env* env = nullptr);

 private:
  struct OpenFile;
  explicit LakeWriter(LakeWriterOptions options);

  LakeWriterOptions options_;
  Env* env_;
  std::map<int64_t, std::unique_ptr<OpenFile>> open_;  // by hour
  int64_t next_seq_ = 0;
  std::chrono::steady_clock::time_point oldest_;
  // Scratch columns for one hour's rows of a batch, reused.
  std::vector<int64_t> bytes_, micros_;
  std::vector<std::string_view> app_, id_, antenna_;
  std::vector<uint32_t> rows_by_hour_;
  // Scratch columns for RecordBatch rows, one per column.
  std::vector<std::vector<int64_t>> ints_;
  std::vector<std::vector<double>> doubles_;
  std::vector<std::vector<uint8_t>> bools_, valid_;
  std::vector<std::vector<std::string_view>> strings_;
  std::vector<std::vector<int32_t>> int32s_;

  // The open file of the partition starting at `start_s`, opened if needed.
  absl::StatusOr<OpenFile*> FileFor(int64_t start_s);
  // The metadata columns (from index `first`) of `rows` of `batch`.
  void FillMetadata(const pipeline::RecordBatch& batch, const RowMetadata& meta,
                    const std::vector<uint32_t>& rows, size_t first,
                    std::vector<parquet::ColumnView>& views);
};

// A writer id unique to this process run: "<host>-<pid>-<start ms>".
std::string MakeWriterId();

}  // namespace lf::lake
