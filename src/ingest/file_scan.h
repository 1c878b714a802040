#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace lf::ingest {

// What one pass over a landing file tells before any of its rows is decoded: its size, its
// content hash (the manifest's identity of a file, with its path and size) and whether it is
// UTF-8 text throughout.
struct FileScan {
  int64_t size = 0;
  std::string sha256;  // lowercase hex
  bool utf8 = true;
  int64_t bad_utf8_at = -1;  // byte offset of the first invalid sequence
};

// Reads `path` once in bounded memory. An error only when the file cannot be read.
absl::StatusOr<FileScan> ScanFile(const std::string& path);

}  // namespace lf::ingest
