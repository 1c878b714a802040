#pragma once

// Writes one Parquet file: flat schema, required or optional primitive columns, data pages v1
// (or v2 on request),
// PLAIN for numbers and booleans, RLE_DICTIONARY for strings (falling back to PLAIN for the rest
// of a column chunk once its dictionary outgrows `dictionary_bytes`), RLE/bit-packed definition
// levels, per-chunk statistics, ZSTD/SNAPPY/GZIP/UNCOMPRESSED pages.
//
// The writer writes straight into the path it is given; making the file appear atomically
// (temporary name, Sync(), rename, directory fsync) is the caller's business.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "parquet/column.h"
#include "parquet/metadata.h"

namespace lf::parquet {

struct WriterOptions {
  Codec codec = Codec::kZstd;
  // Codec level; 0 means the codec's default (zstd 3, gzip 6).
  int compression_level = 0;
  // A row group ends when it holds this many rows...
  int64_t row_group_rows = 1'000'000;
  // ...or when its encoded (pre-compression) size reaches this many bytes.
  int64_t row_group_bytes = 128 << 20;
  // Target encoded size of a data page.
  int64_t page_bytes = 1 << 20;
  // Dictionary-encode string columns; a chunk's dictionary may grow to this many PLAIN bytes.
  bool dictionary = true;
  int64_t dictionary_bytes = 1 << 20;
  // Write DATA_PAGE_V2 pages (levels uncompressed ahead of the compressed values) instead of v1.
  bool data_page_v2 = false;
  // Write a CRC-32 of each page into its header (readers that check it detect corruption).
  bool page_checksums = true;
  // fsync the file in Close() before closing it.
  bool sync_on_close = false;
  std::string created_by = "lambdaflow version 0.1.0";
  // Where the file is written; nullptr: Env::Default().
  Env* env = nullptr;
};

class ColumnChunkWriter;

// Not thread-safe. Memory: the open row group's compressed pages and dictionaries.
class ParquetWriter {
  // Restricts construction to Open() while still allowing std::make_unique.
  class Key {
    friend class ParquetWriter;
    Key() = default;
  };

 public:
  // Creates (or truncates) `path` and validates the schema (non-empty, unique non-empty names).
  static absl::StatusOr<std::unique_ptr<ParquetWriter>> Open(const std::string& path,
                                                             const Schema& schema,
                                                             const WriterOptions& options = {});

  ParquetWriter(Key, std::string path, std::unique_ptr<WritableFile> file, Schema schema,
                WriterOptions options);
  // Closes the file without a footer if Close() was not called: the file stays invalid.
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  // Appends rows: `columns` has one view per schema column, in schema order, all with the same
  // number of rows. Null rows in a required column are an error. After an I/O error the writer
  // refuses further calls.
  absl::Status WriteBatch(std::span<const ColumnView> columns);

  // Ends the open row group (if it has rows) and writes it to the file.
  absl::Status FlushRowGroup();

  // Syncs (fdatasync) what has been written to the file so far.
  absl::Status Sync();

  // Flushes the last row group, writes the footer, syncs if options.sync_on_close, closes the
  // file. The writer is unusable afterwards.
  absl::Status Close();

  const std::string& path() const { return path_; }
  const Schema& schema() const { return schema_; }
  // Rows accepted so far (written or buffered).
  int64_t num_rows() const { return rows_flushed_ + rows_buffered_; }
  // Bytes written to the file so far (excludes the open row group).
  int64_t file_bytes() const { return offset_; }
  // Estimated size of the open row group once written.
  int64_t buffered_bytes() const;

 private:
  absl::Status WriteAll(const char* data, size_t size);
  absl::Status Fail(absl::Status s);

  std::string path_;
  std::unique_ptr<WritableFile> file_;  // null once closed
  Schema schema_;
  WriterOptions options_;
  std::vector<std::unique_ptr<ColumnChunkWriter>> columns_;
  std::vector<RowGroup> row_groups_;
  int64_t offset_ = 0;
  int64_t rows_flushed_ = 0;
  int64_t rows_buffered_ = 0;
  absl::Status failed_;
  bool closed_ = false;
};

}  // namespace lf::parquet
