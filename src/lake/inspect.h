#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace lf::lake {

struct FileInfo {
  std::string path;  // absolute
  int64_t rows = 0;
  int64_t bytes = 0;
};

struct HourInfo {
  int64_t hour_s = 0;
  std::string dir;  // absolute
  bool success = false;
  std::vector<FileInfo> files;  // published files only (temporary ones are invisible)
  int64_t rows() const;
};

// The hours of `dataset` under `root` (only `hour_s` when given), oldest first, with their
// files' row counts read from the Parquet footers. A corrupt file is an error naming it.
absl::StatusOr<std::vector<HourInfo>> ListHours(const std::string& root, const std::string& dataset,
                                                std::optional<int64_t> hour_s = std::nullopt);

}  // namespace lf::lake
