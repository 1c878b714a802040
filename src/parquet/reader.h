#pragma once

// Reads Parquet files written by Lambdaflow and by common tools (DuckDB, Arrow, Spark): flat
// schemas of primitive columns; PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE, DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT values; data pages v1 and v2;
// UNCOMPRESSED, SNAPPY, GZIP and ZSTD pages.
//
// Memory is bounded: the reader holds the footer, and while reading a column one page (plus its
// dictionary) at a time besides the values it returns. Corrupt, truncated or hostile files give
// an error naming the file and the part at fault (footer, row group, column, page), never a crash
// or an allocation beyond the limits in ReaderOptions.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "parquet/column.h"
#include "parquet/metadata.h"

namespace lf::parquet {

struct ReaderOptions {
  // Row groups with more rows are rejected (bounds the memory one column read may take).
  int64_t max_row_group_rows = int64_t{1} << 26;
  // Pages whose compressed or uncompressed size exceeds this are rejected.
  int64_t max_page_bytes = int64_t{256} << 20;
  // A column chunk whose decoded byte-array values exceed this many bytes is rejected (a tiny
  // dictionary-encoded or delta-prefixed page can otherwise expand without bound).
  int64_t max_column_bytes = int64_t{1} << 30;
  // Byte-array columns come back as a table of values plus one index per row (ColumnData::indexed)
  // instead of one materialized string per row: dictionary-encoded chunks then cost one small
  // integer per row, and callers can work per distinct value.
  bool byte_array_indices = false;
  // Check PageHeader.crc where a page has one.
  bool verify_checksums = true;
  // Footers longer than this are rejected.
  int64_t max_footer_bytes = int64_t{64} << 20;
};

// A leaf column of the file's schema.
struct ColumnDescriptor {
  std::string name;  // dotted path for nested leaves
  Type physical = Type::kInt64;
  int32_t type_length = 0;
  bool optional = false;
  LogicalType logical;  // kind kNone when absent
  std::optional<int32_t> converted_type;
  int max_definition_level = 0;
  int max_repetition_level = 0;
  // False for nested or repeated leaves, which this reader does not decode.
  bool supported = true;
};

// Not thread-safe; one reader per thread.
class ParquetReader {
  // Restricts construction to Open() while still allowing std::make_unique.
  class Key {
    friend class ParquetReader;
    Key() = default;
  };

 public:
  static absl::StatusOr<std::unique_ptr<ParquetReader>> Open(const std::string& path,
                                                             const ReaderOptions& options = {});
  ParquetReader(Key, std::string path, int fd, int64_t file_size, ReaderOptions options)
      : path_(std::move(path)), fd_(fd), file_size_(file_size), options_(options) {}
  ~ParquetReader();
  ParquetReader(const ParquetReader&) = delete;
  ParquetReader& operator=(const ParquetReader&) = delete;

  const std::string& path() const { return path_; }
  const FileMetaData& metadata() const { return metadata_; }
  const std::vector<ColumnDescriptor>& columns() const { return columns_; }
  int num_row_groups() const { return static_cast<int>(metadata_.row_groups.size()); }
  int64_t num_rows() const { return metadata_.num_rows; }
  int64_t row_group_num_rows(int row_group) const {
    return metadata_.row_groups[row_group].num_rows;
  }
  // Index of the column named `name`, or -1.
  int FindColumn(std::string_view name) const;

  // The chunk's min and max as integers, for INT32/INT64 columns with statistics (including
  // timestamps); nullopt when unavailable.
  std::optional<std::pair<int64_t, int64_t>> Int64MinMax(int row_group, int column) const;
  // The chunk's null count when the file records it.
  std::optional<int64_t> NullCount(int row_group, int column) const;
  // False only when the statistics prove that no value of `column` in `row_group` lies in
  // [lo, hi]; true when they are missing. For skipping row groups before reading them.
  bool RowGroupMayContain(int row_group, int column, int64_t lo, int64_t hi) const;

  // Reads one column chunk. Indices must be in range (see num_row_groups(), columns()).
  absl::StatusOr<ColumnData> ReadColumn(int row_group, int column);
  // The same into *out, replacing its contents but reusing its buffers (a loop over many chunks
  // then allocates nothing once the buffers have grown).
  absl::Status ReadColumn(int row_group, int column, ColumnData* out);
  // The page headers of one column chunk, in file order, without reading page data (for
  // inspection tools).
  absl::StatusOr<std::vector<PageHeader>> ReadPageHeaders(int row_group, int column);
  // Reads the listed columns of a row group (a projection), in the order given.
  absl::StatusOr<std::vector<ColumnData>> ReadRowGroup(int row_group, std::span<const int> columns);
  absl::Status ReadRowGroup(int row_group, std::span<const int> columns,
                            std::vector<ColumnData>* out);

 private:
  absl::Status ReadAt(int64_t offset, size_t size, uint8_t* out) const;
  // Validates the chunk's metadata and returns its byte range [*start, *end).
  absl::Status ChunkRange(int row_group, int column, int64_t* start, int64_t* end) const;
  // Reads and parses the page header at pos (chunk ends at end); *header_len gets its size.
  absl::Status ReadPageHeader(int64_t pos, int64_t end, PageHeader* ph, size_t* header_len,
                              std::vector<uint8_t>* buf) const;
  absl::Status Init();

  std::string path_;
  int fd_;
  int64_t file_size_;
  int64_t data_end_ = 0;  // first byte of the footer
  ReaderOptions options_;
  FileMetaData metadata_;
  std::vector<ColumnDescriptor> columns_;
  // Scratch buffers of ReadColumn, kept between calls.
  std::vector<uint8_t> header_buf_, body_, page_;
  std::vector<uint32_t> levels_;
};

}  // namespace lf::parquet
