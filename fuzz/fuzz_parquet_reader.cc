// libFuzzer target: the Parquet reader (footer, schema, page headers, every encoding and codec)
// on arbitrary file contents, reading every supported column of every row group both
// materialized and as indexed byte arrays. Errors are fine; crashes, leaks, undefined behaviour
// and allocations beyond ReaderOptions' limits are not.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "parquet/reader.h"

namespace {

void ReadAll(const std::string& path, bool indexed) {
  lf::parquet::ReaderOptions options;
  // Small limits keep one input's work bounded (the fuzzer's RSS limit is 2 GB).
  options.max_row_group_rows = 1 << 16;
  options.max_page_bytes = 1 << 22;
  options.max_column_bytes = 1 << 24;
  options.max_footer_bytes = 1 << 20;
  options.byte_array_indices = indexed;
  auto reader = lf::parquet::ParquetReader::Open(path, options);
  if (!reader.ok()) return;
  const auto& columns = (*reader)->columns();
  for (int rg = 0; rg < (*reader)->num_row_groups(); ++rg) {
    for (int c = 0; c < static_cast<int>(columns.size()); ++c) {
      if (!columns[c].supported) continue;
      (void)(*reader)->ReadPageHeaders(rg, c);
      auto column = (*reader)->ReadColumn(rg, c);
      if (!column.ok()) continue;
      // Every row's value is reachable.
      if (column->physical == lf::parquet::Type::kByteArray ||
          column->physical == lf::parquet::Type::kFixedLenByteArray) {
        size_t total = 0;
        for (size_t i = 0; i < column->num_rows; ++i)
          if (!column->IsNull(i)) total += column->StringAt(i).size();
        if (total > (size_t{1} << 40)) __builtin_trap();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The reader works on a file descriptor: an anonymous in-memory file.
  static int fd = memfd_create("fuzz.parquet", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0) return 0;
  if (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  ReadAll(path, false);
  ReadAll(path, true);
  return 0;
}
